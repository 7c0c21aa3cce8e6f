/**
 * A server's and a backend's status as HAProxy 2.6 words it: the `status` column of `show stat`
 * ("UP", "UP 1/3", "DOWN", "DOWN 1/2", "NOLB", "DRAIN", "MAINT", "no check"), the state label of
 * the Prometheus exporter, the colour class of the stats page, and the numeric states of
 * `show servers state`.
 */
import type { Backend } from '../backend.ts'
import type { ServerState } from '../server-state.ts'
import type { CheckReport, CheckStatusCode } from './providers.ts'

/** HAProxy's `enum healthcheck_status` numbers (`show servers state` srv_check_status). */
export const CHECK_STATUS_NUMBER: Record<CheckStatusCode, number> = {
  UNK: 0, INI: 1, HANA: 4, SOCKERR: 5, L4OK: 6, L4TOUT: 7, L4CON: 8, L6OK: 9, L6TOUT: 10, L6RSP: 11,
  L7TOUT: 12, L7RSP: 13, L7OK: 15, L7OKC: 16, L7STS: 17, PROCERR: 18, PROCTOUT: 19, PROCOK: 20
}

/** HAProxy's check_statuses[] descriptions (`check_desc`). */
export const CHECK_STATUS_DESC: Record<CheckStatusCode, string> = {
  UNK: 'Unknown', INI: 'Initializing', HANA: 'Health analyze', SOCKERR: 'Socket error',
  L4OK: 'Layer4 check passed', L4TOUT: 'Layer4 timeout', L4CON: 'Layer4 connection problem',
  L6OK: 'Layer6 check passed', L6TOUT: 'Layer6 timeout', L6RSP: 'Layer6 invalid response',
  L7TOUT: 'Layer7 timeout', L7RSP: 'Layer7 invalid response', L7OK: 'Layer7 check passed',
  L7OKC: 'Layer7 check conditionally passed', L7STS: 'Layer7 wrong status',
  PROCERR: 'External check error', PROCTOUT: 'External check timeout', PROCOK: 'External check passed'
}

/** CHK_RES_*: 0 unknown, 2 failed, 3 passed, 4 conditionally passed. */
export function checkResult (code: CheckStatusCode): number {
  switch (code) {
    case 'UNK': case 'INI': return 0
    case 'L4OK': case 'L6OK': case 'L7OK': case 'PROCOK': return 3
    case 'L7OKC': return 4
    default: return 2
  }
}

/** The finished-check statuses, in HAProxy's order: the `state` labels of haproxy_server_check_status. */
export const CHECK_STATE_LABELS: readonly CheckStatusCode[] = [
  'HANA', 'SOCKERR', 'L4OK', 'L4TOUT', 'L4CON', 'L6OK', 'L6TOUT', 'L6RSP', 'L7TOUT', 'L7RSP', 'L7OK', 'L7OKC', 'L7STS',
    'PROCERR', 'PROCTOUT', 'PROCOK'
]

/** Whether a check reached layer 5-7 (check_code is meaningful). */
export function hasLayer7Data (code: CheckStatusCode): boolean {
  return CHECK_STATUS_NUMBER[code] > 14
}

/** Whether the check finished at least once (check_duration is meaningful). */
export function checkFinished (code: CheckStatusCode): boolean {
  return CHECK_STATUS_NUMBER[code] >= 3
}

export type PromServerState = 'DOWN' | 'UP' | 'MAINT' | 'DRAIN' | 'NOLB'
export const PROM_SERVER_STATES: readonly PromServerState[] = ['DOWN', 'UP', 'MAINT', 'DRAIN', 'NOLB']

export interface ServerStatus {
  /** The `status` column. */
  readonly text: string
  readonly state: PromServerState
  /** Stats page row class: active_up, backup_down, maintain, active_draining, active_no_check, ... */
  readonly css: string
  /** srv_op_state: 0 stopped, 2 running, 3 stopping (NOLB). */
  readonly opState: number
  /** srv_admin_state flags: 0x01 forced maint, 0x04 maint from the configuration, 0x08 forced drain. */
  readonly adminState: number
}

/**
 * `configMaint`: the server is in maintenance because the configuration says `disabled` and no
 * runtime command changed it since (HAProxy reports that as admin state 5).
 */
export function serverStatus (s: ServerState, check: CheckReport | undefined, configMaint = false): ServerStatus {
  const group = s.backup ? 'backup' : 'active'
  const adminState = s.admin === 'maint' ? (configMaint ? 0x05 : 0x01) : s.admin === 'drain' ? 0x08 : 0
  if (s.admin === 'maint') return { text: 'MAINT', state: 'MAINT', css: 'maintain', opState: 0, adminState }
  if (s.healthy) {
    const goingDown = check !== undefined && check.health < check.rise + check.fall - 1
    if (check?.nolb === true) {
      const text = goingDown ? `NOLB ${check.health - check.rise + 1}/${check.fall}` : 'NOLB'
      return { text, state: 'NOLB', css: `${group}_nolb`, opState: 3, adminState }
    }
    if (s.admin === 'drain') {
      const text = goingDown ? `DRAIN ${check.health - check.rise + 1}/${check.fall}` : 'DRAIN'
      return { text, state: 'DRAIN', css: `${group}_draining`, opState: 2, adminState }
    }
    if (check === undefined) return { text: 'no check', state: 'UP', css: `${group}_no_check`, opState: 2, adminState }
    if (goingDown) return { text: `UP ${check.health - check.rise + 1}/${check.fall}`, state: 'UP',
      css: `${group}_going_down`, opState: 2, adminState }
    return { text: 'UP', state: 'UP', css: `${group}_up`, opState: 2, adminState }
  }
  if (check !== undefined && check.health > 0) {
    return { text: `DOWN ${check.health}/${check.rise}`, state: 'DOWN', css: `${group}_going_up`, opState: 0,
      adminState }
  }
  return { text: 'DOWN', state: 'DOWN', css: `${group}_down`, opState: 0, adminState }
}

/** A server that takes new traffic (HAProxy's srv_currently_usable): UP, ready, weight above 0. */
export function isUsable (s: ServerState): boolean {
  return s.usable && s.weight > 0
}

export interface BackendWeights {
  /** Usable active / backup servers. */
  readonly act: number
  readonly bck: number
  /** Total effective weight of the group that serves traffic (0: backend DOWN). */
  readonly weight: number
  /** Same, with the user weights (for tslb they are the same numbers). */
  readonly uweight: number
  readonly up: boolean
}

/** The backend's servers as its balancer sees them: the active group, else the backups. */
export function backendWeights (be: Backend): BackendWeights {
  let act = 0
  let bck = 0
  let wAct = 0
  let wBck = 0
  let firstBackup: ServerState | undefined
  for (const s of be.servers) {
    if (!isUsable(s)) continue
    if (s.backup) {
      bck++
      wBck += s.weight
      firstBackup ??= s
    } else {
      act++
      wAct += s.weight
    }
  }
  const weight = act > 0 ? wAct : wBck
  const allBackups = be.config.options.allbackups === true
  const uweight = act > 0 ? wAct : allBackups ? wBck : firstBackup?.weight ?? 0
  return { act, bck, weight, uweight, up: weight > 0 || be.servers.length === 0 }
}

/** Servers whose admin state a runtime command changed (so a config `disabled` no longer counts). */
export const adminChangedAtRuntime = new WeakSet<ServerState>()

/** The configuration put the server in maintenance and nothing changed that since. */
export function isConfigMaint (s: ServerState): boolean {
  return s.config.disabled === true && s.admin === 'maint' && !adminChangedAtRuntime.has(s)
}
