/** Runs `tslb run` inside a lab node, the way the demo and the systemd unit do. */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Lab, LabNode } from './lab.ts'
import { TSLB } from './cli.ts'

export interface RunningTslb {
  readonly child: ChildProcess
  readonly socket: string
  readonly configFile: string
  output (): string
  stop (): Promise<void>
}

export async function runTslbOn (lab: Lab, node: LabNode, config: string): Promise<RunningTslb> {
  const dir = mkdtempSync(join(tmpdir(), `tslb-${node}-`))
  const configFile = join(dir, 'tslb.cfg')
  const socket = join(dir, 'master.sock')
  writeFileSync(configFile, config)
  const child = lab.spawn(node, [TSLB, 'run', '-f', configFile, '-L', node, '-S', socket], {
    env: { ...process.env, TSLB_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { out += b.toString() })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`tslb on ${node} not serving after 20 s:\n${out}`)) }, 20_000)
    const poll = setInterval(() => {
      if (out.includes('"worker serving"')) {
        clearInterval(poll)
        clearTimeout(timer)
        resolve()
      }
    }, 50)
    child.once('exit', code => {
      clearInterval(poll)
      clearTimeout(timer)
      reject(new Error(`tslb on ${node} exited (${code ?? 'signal'}):\n${out}`))
    })
  })
  return {
    child,
    socket,
    configFile,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}
