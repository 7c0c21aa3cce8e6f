/**
 * Where a proxy's traffic log lines go, per its `log` lines (or `log global`):
 * `stdout`/`stderr` through pino, `ADDR[:PORT]` as RFC 3164 syslog over UDP.
 * A proxy with no log target logs nothing, as HAProxy does.
 */
import { createSocket, type Socket } from 'node:dgram'
import { isIP } from 'node:net'
import type { GlobalSettings, LogTarget, Proxy } from '../../config/model.ts'
import { countDroppedLogLine, type Logger } from '../../util/log.ts'
import { FACILITIES, LEVELS } from '../../config/keywords/log.ts'

/** One log line; `severity` is a syslog level number (0 emerg … 7 debug), info (6) when omitted. */
export type LogLine = (line: string, severity?: number) => void

/** The log function of a proxy without any log target: callers skip formatting the line. */
export const NO_LOG: LogLine = () => {}

const DROP_WARNING_INTERVAL_MS = 60_000
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const INFO = LEVELS.indexOf('info')
const WARNING = LEVELS.indexOf('warning')
/**
 * The pid syslog lines carry: the worker's, or the one `tslb haproxy` (without -W) was started as (TSLB_LOG_PID), as
 * HAProxy's single process.
 */
const LOG_PID = /^\d+$/.test(process.env.TSLB_LOG_PID ?? '') ? Number(process.env.TSLB_LOG_PID) : process.pid

function syslogDate (d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${MONTHS[d.getMonth()] ?? ''} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(
    d.getMinutes())}:${p(d.getSeconds())}`
}

export class LogSinks {
  private udp4: Socket | undefined
  private udp6: Socket | undefined
  private readonly logger: Logger
  private readonly tag: string
  private dropped = 0
  private lastWarning = -Infinity

  constructor (logger: Logger, tag = 'tslb') {
    this.logger = logger
    this.tag = tag
  }

  /** The log function for `proxy`, honouring `log global` and `option dontlognull` elsewhere. */
  forProxy (proxy: Proxy, global: GlobalSettings): LogLine {
    const targets = [...proxy.logs, ...(proxy.logGlobal === true ? global.logs : [])]
    const senders = targets.map(t => this.sender(t, global.logTag ?? this.tag))
    if (senders.length === 0) return NO_LOG
    if (senders.length === 1) return senders[0] as LogLine
    return (line, severity) => { for (const s of senders) s(line, severity) }
  }

  private sender (t: LogTarget, tag: string): LogLine {
    if (t.target === 'stdout' || t.target === 'stderr' || t.target.startsWith('/') || t.target.startsWith('unix@')) {
      // Unix syslog sockets go to stdout too: under systemd that is the journal.
      const traffic = this.logger.child({ type: 'traffic' })
      return (line, severity = INFO) => {
        if (severity <= WARNING) traffic.warn(line)
        else traffic.info(line)
      }
    }
    const { host, port } = splitHostPort(t.target.replace(/^udp[46]?@/, ''))
    const family = isIP(host)
    // HAProxy: a line less important than the target's level is not sent; `minlevel` raises the
    // level of more important ones to it.
    const max = t.level === undefined ? LEVELS.length - 1 : LEVELS.indexOf(t.level)
    const min = t.minLevel === undefined ? 0 : LEVELS.indexOf(t.minLevel)
    const facility = FACILITIES.indexOf(t.facility) * 8
    const socket = family === 6 ? (this.udp6 ??= this.open('udp6')) : (this.udp4 ??= this.open('udp4'))
    return (line, severity = INFO) => {
      if (severity > max) return
      const msg = Buffer.from(
        `<${facility + Math.max(severity, min)}>${syslogDate(new Date())} ${tag}[${LOG_PID}]: ${line}`)
      try {
        socket.send(msg, port, host, err => { if (err !== null) this.lost(err) })
      } catch (err) {
        this.lost(err)
      }
    }
  }

  /** A traffic line the syslog target did not take: counted, and said at most once a minute. */
  private lost (err: unknown): void {
    countDroppedLogLine()
    this.dropped++
    const now = Date.now()
    if (now - this.lastWarning < DROP_WARNING_INTERVAL_MS) return
    this.lastWarning = now
    this.logger.warn({ err: err instanceof Error ? err.message : String(err), dropped: this.dropped },
      'syslog send failed: traffic log lines dropped')
  }

  private open (type: 'udp4' | 'udp6'): Socket {
    const s = createSocket(type)
    s.on('error', err => { this.lost(err) })
    s.unref()
    return s
  }

  close (): void {
    this.udp4?.close()
    this.udp6?.close()
  }
}

function splitHostPort (text: string): { host: string, port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text)
  if (m !== null) return { host: m[1] as string, port: m[2] === undefined ? 514 : Number(m[2]) }
  const last = text.lastIndexOf(':')
  return { host: text.slice(0, last), port: Number(text.slice(last + 1)) }
}
