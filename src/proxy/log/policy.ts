/**
 * Which traffic lines are sent and at what severity: `option dontlog-normal` and
 * `option log-separate-errors`, as HAProxy 2.6's strm_log() decides (an error is a termination
 * state other than `-`/`L`, a retry, or an HTTP status ≥ 500).
 */
import { LEVELS } from '../../config/keywords/log.ts'

export interface LogPolicy {
  /** `option dontlog-normal`: only errors are logged. */
  readonly dontLogNormal: boolean
  /** `option log-separate-errors`: errors are logged at `err` instead of `info`. */
  readonly separateErrors: boolean
}

export interface LoggedOutcome {
  /** The termination state; its first letter tells who ended the session. */
  readonly termination: string
  readonly retries: number
  /** HTTP status (HTTP sessions only). */
  readonly status?: number
}

const INFO = LEVELS.indexOf('info')
const ERR = LEVELS.indexOf('err')

export function isErrorOutcome (o: LoggedOutcome): boolean {
  const who = o.termination[0] ?? '-'
  return (who !== '-' && who !== 'L') || o.retries > 0 || (o.status !== undefined && o.status >= 500)
}

/** The severity to log `o` at, undefined when it is not logged. */
export function trafficSeverity (policy: LogPolicy | undefined, o: LoggedOutcome): number | undefined {
  if (policy === undefined || (!policy.dontLogNormal && !policy.separateErrors)) return INFO
  const err = isErrorOutcome(o)
  if (!err && policy.dontLogNormal) return undefined
  return err && policy.separateErrors ? ERR : INFO
}
