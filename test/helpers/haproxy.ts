/** HAProxy 2.6 from Debian's package, the peer of the interop tests. */
import { execFileSync } from 'node:child_process'
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
