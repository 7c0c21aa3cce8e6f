/**
 * keepalived's `vrrp_sync_group`, track files (`vrrp_track_file` here, keepalived 2.2's
 * `track_file` block) and `vrrp_track_process` sections, with keepalived's keyword names and
 * defaults (2.2.7's parser: a track file's weight 1, a tracked process's weight 0, quorum 1).
 */
import type { NotifyScript, VrrpSyncGroup, VrrpTrackFile, VrrpTrackProcess } from '../model.ts'
import { ValueError } from '../errors.ts'
import { parseInteger, parseSeconds } from '../values.ts'

function one (kw: string, args: readonly string[]): string {
  if (args.length !== 1) throw new ValueError(`'${kw}' expects exactly one argument`)
  return args[0] as string
}

function none (kw: string, args: readonly string[]): void {
  if (args.length > 0) throw new ValueError(`'${kw}' takes no argument`)
}

/** `weight W [reverse]`. */
function weightReverse (args: readonly string[], min: number, max: number): { weight: number, reverse: boolean } {
  const [w, dir, extra] = args
  if (w === undefined || extra !== undefined || (dir !== undefined && dir !== 'reverse')) {
    throw new ValueError("'weight' expects W [reverse]")
  }
  return { weight: parseInteger(w.replace(/^\+/, ''), 'weight', min, max), reverse: dir === 'reverse' }
}

/**
 * `notify* "COMMAND ARGS" [USER [GROUP]]`, as keepalived reads it: the first word is the command
 * (quote a command that has arguments), the next ones the user and group it runs as.
 */
export function parseNotifyScript (keyword: string, args: readonly string[]): NotifyScript {
  const [command, user, group] = args
  if (command === undefined || command.trim() === '' || args.length > 3) throw new ValueError(
    `'${keyword}' expects "COMMAND ARGS" [USER [GROUP]] (quote a command that has arguments, as in keepalived)`)
  return { command, ...(user === undefined ? {} : { user }), ...(group === undefined ? {} : { group }) }
}

export function newVrrpSyncGroup (name: string, loc: VrrpSyncGroup['loc']): VrrpSyncGroup {
  return { name, loc, members: [], notify: {}, trackingWeight: false }
}

export function applyVrrpSyncGroupKeyword (g: VrrpSyncGroup, keyword: string, args: readonly string[]): boolean {
  switch (keyword) {
    case 'group':
      if (args.length === 0) throw new ValueError("'group' expects one or more vrrp_instance names")
      g.members.push(...args)
      return true
    case 'notify_master': case 'notify_backup': case 'notify_fault': case 'notify_stop': case 'notify': {
      const key = keyword === 'notify' ? 'any' : keyword.slice('notify_'.length) as keyof VrrpSyncGroup['notify']
      g.notify[key] = parseNotifyScript(keyword, args)
      return true
    }
    case 'sync_group_tracking_weight': none(keyword, args); g.trackingWeight = true; return true
    default: return false
  }
}

export function newVrrpTrackFile (name: string, loc: VrrpTrackFile['loc']): VrrpTrackFile {
  return { name, loc, weight: 1, reverse: false }
}

export function applyVrrpTrackFileKeyword (f: VrrpTrackFile, keyword: string, args: readonly string[]): boolean {
  switch (keyword) {
    case 'file': f.file = one(keyword, args); return true
    case 'weight': Object.assign(f, weightReverse(args, -254, 254)); return true
    case 'init_file': {
      let value = 0
      let overwrite = false
      for (const a of args) {
        if (a === 'overwrite') overwrite = true
        else value = parseInteger(a, 'init_file value', -254, 254)
      }
      f.init = { value, overwrite }
      return true
    }
    default: return false
  }
}

export function newVrrpTrackProcess (name: string, loc: VrrpTrackProcess['loc']): VrrpTrackProcess {
  return {
    name, loc, params: [], paramMatch: 'none', fullCommand: false, weight: 0, reverse: false,
    quorum: 1, quorumMax: Number.MAX_SAFE_INTEGER, forkDelay: 0, terminateDelay: 0, interval: 1000
  }
}

export function applyVrrpTrackProcessKeyword (p: VrrpTrackProcess, keyword: string, args: readonly string[]): boolean {
  switch (keyword) {
    case 'process': {
      const [name, ...params] = args
      if (name === undefined) throw new ValueError("'process' expects a process name [and parameters]")
      p.process = name
      p.params = params
      if (params.length > 0) {
        if (p.paramMatch === 'none') p.paramMatch = 'exact'
        p.fullCommand = true
      }
      return true
    }
    case 'param_match': {
      const m = args[0]
      if (args.length > 1 || (m !== undefined && m !== 'initial' && m !== 'partial')) {
        throw new ValueError("'param_match' expects nothing, 'initial' or 'partial'")
      }
      p.paramMatch = m ?? 'exact'
      p.fullCommand = true
      return true
    }
    case 'weight': Object.assign(p, weightReverse(args, -254, 254)); return true
    case 'quorum': p.quorum = parseInteger(one(keyword, args), 'quorum', 1, 65535); return true
    case 'quorum_max': {
      p.quorumMax = parseInteger(one(keyword, args), 'quorum_max', 0, 65535)
      if (p.quorumMax === 0) p.quorum = 0
      return true
    }
    case 'fork_delay': p.forkDelay = delay(keyword, args); return true
    case 'terminate_delay': p.terminateDelay = delay(keyword, args); return true
    case 'delay': p.forkDelay = p.terminateDelay = delay(keyword, args); return true
    case 'full_command': none(keyword, args); p.fullCommand = true; return true
    case 'interval':
      p.interval = parseSeconds(one(keyword, args), 'interval')
      if (p.interval < 10) throw new ValueError("'interval' must be at least 0.01 s")
      return true
    default: return false
  }
}

function delay (kw: string, args: readonly string[]): number {
  const ms = parseSeconds(one(kw, args), kw)
  if (ms > 3_600_000) throw new ValueError(`'${kw}' must be at most 3600 seconds`)
  return ms
}

export const VRRP_SYNC_GROUP_KEYWORDS = [
  'group', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify', 'sync_group_tracking_weight'
]
export const VRRP_TRACK_FILE_KEYWORDS = ['file', 'weight', 'init_file']
export const VRRP_TRACK_PROCESS_KEYWORDS = [
  'process', 'param_match', 'weight', 'quorum', 'quorum_max', 'fork_delay', 'terminate_delay', 'delay', 'full_command',
    'interval'
]
