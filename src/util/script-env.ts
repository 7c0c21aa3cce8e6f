/**
 * How tslb starts the external commands it does not own (vrrp_script checks, notify scripts) and
 * the ones it does (nft, tc for reload strategies): with a clean, documented environment instead
 * of the supervisor's, and for scripts without the supervisor's ambient capabilities.
 */
import { readFileSync } from 'node:fs'

/**
 * The whole environment of every command tslb runs. keepalived 2.2.7 passes its own environment
 * on and sets no variable of its own for notify scripts (their details are arguments); tslb
 * passes only these, so nothing of the supervisor's (NOTIFY_SOCKET, TSLB_*, credentials in the
 * unit's Environment=) reaches a script.
 */
export const COMMAND_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C'
})

/** util-linux `setpriv`, to clear the ambient and inheritable capability sets before the script runs. */
export const SETPRIV = '/usr/bin/setpriv'

export interface CapabilitySets {
  readonly inheritable: bigint
  readonly ambient: bigint
}

/** The CapInh / CapAmb masks of /proc/PID/status text. */
export function heldCapabilities (status: string): CapabilitySets {
  const mask = (name: string): bigint => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status)
    return m === null ? 0n : BigInt(`0x${m[1] as string}`)
  }
  return { inheritable: mask('CapInh'), ambient: mask('CapAmb') }
}

/**
 * argv to run a script: wrapped in `setpriv` to drop the ambient and inheritable capabilities
 * when this process holds some (tslb under its systemd unit: CAP_NET_ADMIN, CAP_NET_RAW…,
 * which an exec'd script would otherwise keep), unless `keep` (the configuration asks).
 */
export function scriptArgv (argv: readonly string[], caps: CapabilitySets, keep: boolean): string[] {
  if (keep || (caps.ambient === 0n && caps.inheritable === 0n)) return [...argv]
  return [SETPRIV, '--ambient-caps=-all', '--inh-caps=-all', '--', ...argv]
}

let ownCaps: CapabilitySets | undefined

/** This process's inheritable and ambient sets (read once: they do not change). */
export function ownCapabilities (): CapabilitySets {
  if (ownCaps === undefined) {
    let text = ''
    try { text = readFileSync('/proc/self/status', 'utf8') } catch { /* not Linux: nothing held */ }
    ownCaps = heldCapabilities(text)
  }
  return ownCaps
}

export interface UserIds {
  readonly uid: number
  readonly gid: number
}

/** uid/gid of a user name (or numeric uid) from /etc/passwd; undefined when unknown. */
export function lookupUser (user: string, passwdFile = '/etc/passwd'): UserIds | undefined {
  for (const [name, , uid, gid] of readDb(passwdFile)) {
    if (uid === undefined || gid === undefined) continue
    if (name === user || uid === user) return { uid: Number(uid), gid: Number(gid) }
  }
  return undefined
}

/** gid of a group name (or numeric gid) from /etc/group; undefined when unknown. */
export function lookupGroup (group: string, groupFile = '/etc/group'): number | undefined {
  for (const [name, , gid] of readDb(groupFile)) {
    if (gid !== undefined && (name === group || gid === group)) return Number(gid)
  }
  return undefined
}

function readDb (file: string): string[][] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(l => l !== '' && !l.startsWith('#')).map(l => l.split(':'))
  } catch {
    return []
  }
}
