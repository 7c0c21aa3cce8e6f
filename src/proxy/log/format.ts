/**
 * HAProxy's tcplog and httplog line formats (configuration.txt §8.2.2 and §8.2.3), so tools that
 * parse HAProxy logs read tslb's unchanged.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

/** `22/Nov/2026:03:40:00.123`, local time, as HAProxy's %t. */
export function haproxyDate (ms: number): string {
  const d = new Date(ms)
  return `${pad(d.getDate())}/${MONTHS[d.getMonth()] ?? ''}/${d.getFullYear()}:${pad(d.getHours())}:${pad(
    d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

export function clientAddress (ip: string, port: number): string {
  const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip
  return `${plain}:${port}`
}

export interface SessionLog {
  readonly clientIp: string
  readonly clientPort: number
  readonly acceptedAt: number
  readonly frontend: string
  readonly backend: string
  readonly server: string
  /** Timers in ms, -1 when the phase never happened. */
  readonly tw: number
  readonly tc: number
  readonly tt: number
  readonly bytesRead: number
  /** `option logasap`: logged before the end, Tt and the bytes so far get a '+' prefix. */
  readonly early?: boolean
  /** Two-letter termination state, e.g. `--`, `CD`, `SC`. */
  readonly termination: string
  readonly actconn: number
  readonly feconn: number
  readonly beconn: number
  readonly srvConn: number
  readonly retries: number
  readonly srvQueue: number
  readonly backendQueue: number
}

export interface HttpLog extends SessionLog {
  readonly tq: number
  readonly tr: number
  readonly status: number
  readonly requestLine: string
  readonly capturedRequest?: string
  readonly capturedResponse?: string
}

function plus (l: SessionLog): string {
  return l.early === true ? '+' : ''
}

function tail (l: SessionLog): string {
  return `${l.actconn}/${l.feconn}/${l.beconn}/${l.srvConn}/${l.retries > 0 ? `+${l.retries}` :
    '0'} ${l.srvQueue}/${l.backendQueue}`
}

/** `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq` */
export function formatTcpLog (l: SessionLog): string {
  return (`${clientAddress(l.clientIp, l.clientPort)} [${haproxyDate(l.acceptedAt)}] ` +
    `${l.frontend} ${l.backend}/${l.server} `) +
    `${l.tw}/${l.tc}/${plus(l)}${l.tt} ${plus(l)}${l.bytesRead} ${l.termination} ${tail(l)}`
}

/** `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r` */
export function formatHttpLog (l: HttpLog): string {
  const captures =
    `${l.capturedRequest === undefined ? '' : ` {${l.capturedRequest}}`}${l.capturedResponse === undefined ? '' :
      ` {${l.capturedResponse}}`}`
  return (`${clientAddress(l.clientIp, l.clientPort)} [${haproxyDate(l.acceptedAt)}] ` +
    `${l.frontend} ${l.backend}/${l.server} `) +
    (`${l.tq}/${l.tw}/${l.tc}/${l.tr}/${plus(l)}${l.tt} ${l.status} ${plus(l)}${l.bytesRead} - - ` +
      `${l.termination.padEnd(4, '-')} ${tail(l)}${captures} "${l.requestLine}"`)
}

/** A connection that failed before its session started (HAProxy's `sess_log_embryonic`). */
export function formatEmbryonicLog (ip: string, port: number, acceptedAt: number, frontend: string, listener: string,
  message: string): string {
  return `${clientAddress(ip, port)} [${haproxyDate(acceptedAt)}] ${frontend}/${listener}: ${message}`
}
