/**
 * Health-check result codes and the log-line pieces HAProxy 2.6 builds from them.
 *
 * The codes and descriptions are HAProxy's `check_statuses[]` (src/check.c): the short name is
 * what the stats page shows in `check_status`, the description what it shows in `check_desc`
 * and what the logs print after `reason:`. The text helpers reproduce `srv_append_status()`
 * (src/server.c) and `chunk_asciiencode()` (src/chunk.c).
 * @module
 */

/** HAProxy's HCHK_STATUS_* short names, as the stats show them. */
export type CheckStatusCode =
  | 'UNK' | 'INI' | 'SOCKERR'
  | 'L4OK' | 'L4TOUT' | 'L4CON'
  | 'L6OK' | 'L6TOUT' | 'L6RSP'
  | 'L7TOUT' | 'L7RSP'
  | 'L7OK' | 'L7OKC' | 'L7STS'

/** What a finished check means for the server's health: HAProxy's CHK_RES_*. */
export type CheckResult = 'failed' | 'passed' | 'condpass'

interface StatusInfo {
  readonly result: CheckResult | undefined
  readonly description: string
  /** HCHK_STATUS_L57DATA and above: the log and the stats carry the check's code (HTTP status). */
  readonly hasCode: boolean
}

const STATUSES: Readonly<Record<CheckStatusCode, StatusInfo>> = {
  UNK: { result: undefined, description: 'Unknown', hasCode: false },
  INI: { result: undefined, description: 'Initializing', hasCode: false },
  SOCKERR: { result: 'failed', description: 'Socket error', hasCode: false },
  L4OK: { result: 'passed', description: 'Layer4 check passed', hasCode: false },
  L4TOUT: { result: 'failed', description: 'Layer4 timeout', hasCode: false },
  L4CON: { result: 'failed', description: 'Layer4 connection problem', hasCode: false },
  L6OK: { result: 'passed', description: 'Layer6 check passed', hasCode: false },
  L6TOUT: { result: 'failed', description: 'Layer6 timeout', hasCode: false },
  L6RSP: { result: 'failed', description: 'Layer6 invalid response', hasCode: false },
  L7TOUT: { result: 'failed', description: 'Layer7 timeout', hasCode: false },
  L7RSP: { result: 'failed', description: 'Layer7 invalid response', hasCode: false },
  L7OK: { result: 'passed', description: 'Layer7 check passed', hasCode: true },
  L7OKC: { result: 'condpass', description: 'Layer7 check conditionally passed', hasCode: true },
  L7STS: { result: 'failed', description: 'Layer7 wrong status', hasCode: true }
}

/** "Layer4 connection problem" for L4CON, ...: the stats' `check_desc` and the logs' `reason:`. */
export function statusDescription (code: CheckStatusCode): string {
  return STATUSES[code].description
}

export function statusResult (code: CheckStatusCode): CheckResult | undefined {
  return STATUSES[code].result
}

export function statusHasCode (code: CheckStatusCode): boolean {
  return STATUSES[code].hasCode
}

/** HAProxy keeps HCHK_DESC_LEN - 1 = 127 bytes of a check's info text. */
export const MAX_DESC_LENGTH = 127

/**
 * `chunk_asciiencode(msg, desc, '"')`: non-printable and non-ASCII bytes, `<`, `>` and the quote
 * become `<XX>` (upper-case hex), so the info text cannot break the log line.
 */
export function asciiEncode (text: string): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) & 0xff
    if (c < 0x20 || c > 0x7e || c === 0x3c || c === 0x3e || c ===
      0x22) out += `<${c.toString(16).toUpperCase().padStart(2, '0')}>`
    else out += text[i] as string
  }
  return out
}

/** One finished check as `srv_append_status()` reads it from `struct check`. */
export interface CheckReport {
  readonly status: CheckStatusCode
  readonly code: number
  readonly desc: string
  readonly duration: number
}

/** The server counts `srv_append_status()` prints after a state change. */
export interface TransitionCounts {
  readonly down: boolean
  readonly active: number
  readonly backup: number
  /** Sessions on the server (`cur_sess`); printed for a server going down. */
  readonly sessions: number
  /** Streams moved to or from the queue by the change. */
  readonly xferred: number
  /** The server's own queue (`s->queue.length`). */
  readonly queued: number
}

/**
 * `srv_append_status(msg, s, check, xferred, forced)`: `, reason: …, code: …, info: "…", check
 * duration: Nms` when a check is given, then, when counts are given, the servers left or online.
 */
export function appendStatus (check: CheckReport | undefined, counts: TransitionCounts | undefined): string {
  let out = ''
  if (check !== undefined) {
    out += `, reason: ${statusDescription(check.status)}`
    if (statusHasCode(check.status)) out += `, code: ${check.code}`
    if (check.desc !== '') out += `, info: "${asciiEncode(check.desc)}"`
    if (check.duration >= 0) out += `, check duration: ${check.duration}ms`
  }
  if (counts !== undefined) {
    const onBackup = counts.backup > 0 && counts.active === 0 ? ' Running on backup.' : ''
    if (counts.down) {
      out += (`. ${counts.active} active and ${counts.backup} backup servers ` +
        (`left.${onBackup} ${counts.sessions} sessions active, ${counts.xferred} requeued, ` +
          `${counts.queued} remaining in queue`))
    } else {
      out += (`. ${counts.active} active and ${counts.backup} backup servers ` +
        `online.${onBackup} ${counts.xferred} sessions requeued, ${counts.queued} total in queue`)
    }
  }
  return out
}

/**
 * glibc's strerror() text for the errors a check connection meets: HAProxy prints it as the
 * check's info ("Connection refused"). libuv's own messages are lower-case and differ.
 */
const STRERROR: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ECONNABORTED: 'Software caused connection abort',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  EHOSTDOWN: 'Host is down',
  ENETUNREACH: 'Network is unreachable',
  ENETDOWN: 'Network is down',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EADDRINUSE: 'Address already in use',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EPIPE: 'Broken pipe',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  ENOBUFS: 'No buffer space available',
  ENOMEM: 'Cannot allocate memory',
  EINVAL: 'Invalid argument',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EPROTO: 'Protocol error'
}

/** The strerror() text of a Node socket error, or its message when the code is not a known errno. */
export function strerror (err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== undefined) {
      const text = STRERROR[code]
      if (text !== undefined) return text
    }
    return err.message
  }
  return String(err)
}
