/** HAProxy 2.6 from Debian's package, the peer of the interop tests. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { connect } from 'node:net'
import { existsSync } from 'node:fs'

export const HAPROXY = '/usr/sbin/haproxy'

export function haproxyVersion (): string | undefined {
  if (!existsSync(HAPROXY)) return undefined
  try {
    return /HAProxy version (\S+)/.exec(execFileSync(HAPROXY, ['-v']).toString())?.[1]
  } catch {
    return undefined
  }
}

/** A node:test `skip` value: false with HAProxy 2.6 installed, else why the test cannot run. */
export function haproxy26Skip (): string | false {
  const version = haproxyVersion()
  return version === undefined ? 'no /usr/sbin/haproxy' : version.startsWith('2.6') ? false : `HAProxy ${version}, not 2.6`
}

export interface RunningHaproxy {
  readonly child: ChildProcess
  /** What it wrote on stdout and stderr so far. */
  readonly output: () => string
}

/** `haproxy -db -f FILE`, resolved once `port` on 127.0.0.1 accepts a connection (that sends nothing). */
export async function startHaproxy (file: string, port: number, timeoutMs = 5000): Promise<RunningHaproxy> {
  const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { out += b.toString() })
  const end = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true) })
      s.on('error', () => { resolve(false) })
    })
    if (ok) break
    if (Date.now() > end) {
      child.kill()
      throw new Error(`haproxy did not listen: ${out}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { child, output: () => out }
}
