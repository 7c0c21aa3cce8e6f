/**
 * What the statistics code reads besides the engine: optional providers the other subsystems
 * plug in (health checks, stick tables, peers, VRRP), and the configuration for the process-wide
 * values. Every provider is optional; without one the outputs say what HAProxy says when the
 * feature is not configured.
 */
import type { Config } from '../../config/model.ts'
import type { Backend } from '../backend.ts'
import type { ServerState } from '../server-state.ts'
import type { ServerCheckStatus } from '../health/checker.ts'
import type { CertStore } from '../tls/cert-store.ts'

/** A runtime API access level (`stats socket ... level`), in increasing order of rights. */
export type CliLevel = 'user' | 'operator' | 'admin'

/**
 * HAProxy's health-check status codes (`check_status`), as the stats, the `show servers state`
 * numbers and the Prometheus `state` labels use them.
 */
export type CheckStatusCode =
  | 'UNK' | 'INI' | 'HANA' | 'SOCKERR' | 'L4OK' | 'L4TOUT' | 'L4CON' | 'L6OK' | 'L6TOUT' | 'L6RSP'
  | 'L7TOUT' | 'L7RSP' | 'L7OK' | 'L7OKC' | 'L7STS' | 'PROCERR' | 'PROCTOUT' | 'PROCOK'

/** The last health check of a server, as the health-check module reports it. */
export interface CheckReport {
  /** The last check's result code ('INI' before the first check completes). */
  readonly status: CheckStatusCode
  /** A check is running now (the stats prefix the status with `* `). */
  readonly inProgress?: boolean
  /** Layer-7 status code of the last check (HTTP status), when the check got that far. */
  readonly code?: number
  /** Duration of the last check in milliseconds. */
  readonly durationMs?: number
  /** Free text of the last check (`last_chk`), e.g. 'Connection refused' or 'HTTP status check returned code <503>'. */
  readonly desc?: string
  /** HAProxy's check health counter: 0..rise-1 while DOWN, rise..rise+fall-1 while UP. */
  readonly health: number
  readonly rise: number
  readonly fall: number
  /** Failed checks since start (`chkfail`). */
  readonly failedChecks?: number
  /** UP to DOWN transitions since start (`chkdown`). */
  readonly downTransitions?: number
  /** UP but not taking new traffic (`http-check disable-on-404` got a 404): HAProxy's NOLB. */
  readonly nolb?: boolean
  /** Epoch ms of the last UP/DOWN transition; the stats' own tracking is used when absent. */
  readonly lastChangeMs?: number
  /** Total time spent DOWN in ms; the stats' own tracking is used when absent. */
  readonly downtimeMs?: number
}

/** Summary of one stick table, for Prometheus (`haproxy_sticktable_size`/`_used`). */
export interface TableSummary {
  readonly name: string
  /** ip, ipv6, integer, string or binary. */
  readonly type: string
  readonly size: number
  readonly used: number
}

export type TableAction = 'show' | 'clear' | 'set'

/**
 * Stick tables for `show table`, `clear table` and `set table` (src/stick's `runTableCommand`
 * fits as is). `args` are the words after "table": the table name (absent for a bare
 * `show table`), then `key KEY` or `data.TYPE OP VALUE` filters. `level` is the CLI session's
 * current level. The answer is in HAProxy's format and ends with a newline, without the empty
 * line the CLI adds after every answer.
 */
export interface TablesProvider {
  run (action: TableAction, args: readonly string[], level: CliLevel): string
  /** Sizes for the Prometheus exporter. */
  summary? (): readonly TableSummary[]
}

export interface StatsProviders {
  /** The configuration: proxy order and ids, `global` values (maxconn, node, description). */
  readonly config?: Config
  /** Health-check state of a server; undefined when the server has no check. */
  readonly checkStatus?: (backend: Backend, server: ServerState) => CheckReport | undefined
  readonly tables?: TablesProvider
  /**
   * `show peers [dict|-] [SECTION]`: the dump for the given section (all when undefined), or
   * undefined when no such section exists ("No such peers").
   */
  readonly peers?: (section: string | undefined, dict: boolean) => string | undefined
  /** The worker's certificates (`show/set/commit/abort/new/del ssl cert`); none: an empty store. */
  readonly certs?: CertStore
  /** `show vrrp` (tslb addition): the VRRP instances' state. */
  readonly vrrp?: () => string
  /** Product version shown by `show info`, the stats page and Prometheus; package.json's by default. */
  readonly version?: string
  /** Epoch ms the worker started (Uptime, Start_time_sec); module load time by default. */
  readonly startedAt?: number
  /** With `nbthread` above 1: the other proxy threads' figures, added to this thread's (threads/stats-share.ts). */
  readonly threads?: ThreadStats | undefined
}

/** What a stats row and `show info` add from the other proxy threads. */
export interface ThreadStats {
  readonly count: number
  /** A row's values (by field position) with the other threads' added. */
  mergeRow (kind: 'F' | 'B' | 'S', iid: number, sid: number, values: readonly (number | string | undefined)[]):
  (number | string | undefined)[]
  /** `show info` values (by position) with the other threads' added. */
  mergeInfo (values: readonly (number | string | undefined)[]): (number | string | undefined)[]
}

export const LEVEL_RANK: Record<CliLevel, number> = { user: 1, operator: 2, admin: 3 }

/** The per-server check state the health-check module publishes, as far as the stats read it. */
export type HealthStatusLike = Pick<ServerCheckStatus, 'checked' | 'nolb' | 'lastCheck' | 'lastCheckDesc' |
  'checkCode' | 'checkDuration' |
'inProgress' | 'health' | 'rise' | 'fall' | 'failedChecks' | 'downTransitions' | 'lastChange' | 'downtime'>

/** Adapts the health-check module's server status to a CheckReport (undefined: no check). */
export function checkReportFrom (st: HealthStatusLike | undefined): CheckReport | undefined {
  if (st === undefined || !st.checked) return undefined
  return {
    status: st.lastCheck ?? 'INI',
    inProgress: st.inProgress,
    code: st.checkCode,
    durationMs: st.checkDuration,
    desc: st.lastCheckDesc,
    health: st.health,
    rise: st.rise,
    fall: st.fall,
    failedChecks: st.failedChecks,
    downTransitions: st.downTransitions,
    nolb: st.nolb,
    lastChangeMs: st.lastChange,
    downtimeMs: st.downtime
  }
}
