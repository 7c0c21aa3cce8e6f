/**
 * Checks of the external scripts a configuration runs (vrrp_script `script`, notify_*): their
 * users exist, and keepalived's script security for those that run as root (see
 * util/script-security.ts): refused with `enable_script_security`, a warning without, as
 * keepalived logs "Unsafe permissions found for script". Checked for the user that loads the
 * configuration (tslb's own user when no script_user / user is set).
 */
import type { Diagnostics } from './context.ts'
import type { Config, Location, NotifyScript, NotifyScripts } from './model.ts'
import { splitCommand } from '../util/command-words.ts'
import { lookupGroup, lookupUser } from '../util/script-env.ts'
import { systemLstat, unsafeScriptReason, type Lstat } from '../util/script-security.ts'
import { realpathSync } from 'node:fs'

export interface ScriptCheckEnv {
  /** uid and gid of the process that will run the scripts. */
  readonly uid: number
  readonly gid: number
  readonly lstat: Lstat
  readonly realpath: (p: string) => string
  readonly lookupUser: (user: string) => { readonly uid: number, readonly gid: number } | undefined
  readonly lookupGroup: (group: string) => number | undefined
}

export const systemScriptCheckEnv: ScriptCheckEnv = {
  uid: process.getuid?.() ?? 0,
  gid: process.getgid?.() ?? 0,
  lstat: systemLstat,
  realpath: realpathSync,
  lookupUser: u => lookupUser(u),
  lookupGroup: g => lookupGroup(g)
}

interface ScriptRef {
  readonly what: string
  readonly command: string
  readonly user: string | undefined
  readonly group: string | undefined
  readonly loc: Location
}

const NOTIFY_KINDS: readonly (keyof NotifyScripts)[] = ['master', 'backup', 'fault', 'stop', 'any']

function notifyKeyword (kind: string): string {
  return kind === 'any' ? 'notify' : `notify_${kind}`
}

/** The command and who runs it: the script's own user and group, else `script_user`. */
function notifyRunsAs (s: NotifyScript, g: Config['global']): Pick<ScriptRef, 'command' | 'user' | 'group'> {
  return s.user === undefined ? { command: s.command, user: g.scriptUser?.user, group: g.scriptUser?.group }
    : { command: s.command, user: s.user, group: s.group }
}

export function validateScripts (config: Config, diag: Diagnostics, env: ScriptCheckEnv = systemScriptCheckEnv): void {
  const g = config.global
  const refs: ScriptRef[] = []
  for (const s of config.vrrpScripts) {
    if (s.script?.kind !== 'exec') continue
    const who = s.user === undefined ? { user: g.scriptUser?.user, group: g.scriptUser?.group } : { user: s.user,
      group: s.group }
    refs.push({ what: `vrrp_script '${s.name}'`, command: s.script.command, ...who, loc: s.loc })
  }
  for (const v of config.vrrpInstances) {
    for (const kind of NOTIFY_KINDS) {
      const script = v.notify[kind]
      if (script === undefined) continue
      refs.push({ what: `vrrp_instance '${v.name}' ${notifyKeyword(kind)}`, ...notifyRunsAs(script, g), loc: v.loc })
    }
  }
  for (const sg of config.vrrpSyncGroups) {
    for (const kind of NOTIFY_KINDS) {
      const script = sg.notify[kind]
      if (script === undefined) continue
      refs.push({ what: `vrrp_sync_group '${sg.name}' ${notifyKeyword(kind)}`, ...notifyRunsAs(script, g),
        loc: sg.loc })
    }
  }
  for (const r of refs) {
    let uid = env.uid
    let gid = env.gid
    if (r.user !== undefined) {
      const u = env.lookupUser(r.user)
      if (u === undefined) { diag.error(r.loc, `${r.what}: user '${r.user}' does not exist`); continue }
      uid = u.uid
      gid = u.gid
      if (r.group !== undefined) {
        const gg = env.lookupGroup(r.group)
        if (gg === undefined) { diag.error(r.loc, `${r.what}: group '${r.group}' does not exist`); continue }
        gid = gg
      }
    }
    if (uid !== 0 && gid !== 0) continue
    const argv0 = splitCommand(r.command)[0]
    if (argv0 === undefined) continue
    const reason = unsafeScriptReason(argv0, env.lstat, env.realpath)
    if (reason === undefined) continue
    if (reason === 'missing') {
      if (g.enableScriptSecurity === true) diag.error(r.loc,
        `${r.what}: script '${argv0}' not found (enable_script_security)`)
      continue
    }
    if (g.enableScriptSecurity === true) {
      diag.error(r.loc, `${r.what}: script '${argv0}' refused (enable_script_security): ${reason}, and it runs as root`)
    } else {
      diag.warn(r.loc,
        (`${r.what}: unsafe permissions for script '${argv0}' run as root: ${reason} ('enable_script_security' ` +
          `would refuse it)`))
    }
  }
}
