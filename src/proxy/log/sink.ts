/**
 * Where a proxy's traffic log lines go, per its `log` lines (and `log global`), in the bytes HAProxy
 * 2.6 sends (syslog.ts): unix datagram sockets (`/dev/log`, `unix@PATH`), UDP (`ADDR[:PORT]`),
 * and `stdout`/`stderr` with a `format` (written as is). `stdout`/`stderr` without a `format` go
 * through the process logger (pino: JSON for journald). A proxy with no log target logs nothing,
 * as HAProxy does.
 */
import { createSocket, type Socket } from 'node:dgram'
import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import { hostname } from 'node:os'
import type { GlobalSettings, LogTarget, Proxy } from '../../config/model.ts'
import { countDroppedLogLine, safeDestination, type Logger } from '../../util/log.ts'
import { FACILITIES, LEVELS } from '../../config/keywords/log.ts'
import { DEFAULT_LOG_LEN, formatLogLine, type SyslogHeader } from './syslog.ts'

/** One log line; `severity` is a syslog level number (0 emerg … 7 debug), info (6) when omitted. */
export type LogLine = (line: string, severity?: number) => void

/** The log function of a proxy without any log target: callers skip formatting the line. */
export const NO_LOG: LogLine = () => {}

const DROP_WARNING_INTERVAL_MS = 60_000
const INFO = LEVELS.indexOf('info')
const WARNING = LEVELS.indexOf('warning')
/**
 * The pid syslog lines carry: the worker's, or the one `tslb haproxy` (without -W) was started as (TSLB_LOG_PID), as
 * HAProxy's single process.
 */
const LOG_PID = /^\d+$/.test(process.env.TSLB_LOG_PID ?? '') ? Number(process.env.TSLB_LOG_PID) : process.pid

/** The `unix-dgram` addon's socket, as far as tslb uses it. */
interface UnixDgramSocket {
  send (buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error) => void): void
  on (event: 'error', fn: (err: Error) => void): void
  close (): void
}
const requireAddon = createRequire(import.meta.url)

/** Writes one formatted line; the transports below. */
type Send = (bytes: Buffer) => void

export class LogSinks {
  private udp4: Socket | undefined
  private udp6: Socket | undefined
  private unix: UnixDgramSocket | undefined
  private readonly logger: Logger
  private readonly tag: string
  /** Lines a transport could not take (socket missing or full, send refused): HAProxy drops them too. */
  dropped = 0
  private lastWarning = -Infinity

  /**
   * Sends to unix sockets for this thread when set: the `unix-dgram` addon loads on the main thread only, so proxy
   * threads 2..N hand their lines to thread 1 (threads/pool.ts), which sends them with `sendUnix`.
   */
  private readonly unixRelay: ((path: string, bytes: Uint8Array) => void) | undefined

  constructor (logger: Logger, tag = 'tslb', unixRelay?: (path: string, bytes: Uint8Array) => void) {
    this.logger = logger
    this.tag = tag
    this.unixRelay = unixRelay
  }

  /** One datagram to a unix socket (a proxy thread's line, relayed). */
  sendUnix (path: string, bytes: Buffer): void {
    const socket = this.unix ??= this.openUnix()
    socket.send(bytes, 0, bytes.length, path, err => { if (err !== undefined) this.lost(err) })
  }

  /** The log function for `proxy`: its own `log` lines, then the global ones with `log global`. */
  forProxy (proxy: Proxy, global: GlobalSettings): LogLine {
    const targets = [...proxy.logs, ...(proxy.logGlobal === true ? global.logs : [])]
    const senders = targets.map(t => this.sender(t, global))
    if (senders.length === 0) return NO_LOG
    if (senders.length === 1) return senders[0] as LogLine
    return (line, severity) => { for (const s of senders) s(line, severity) }
  }

  private sender (t: LogTarget, global: GlobalSettings): LogLine {
    // HAProxy: a line less important than the target's level is not sent; `minlevel` raises the
    // level of more important ones to it.
    const max = t.level === undefined ? LEVELS.length - 1 : LEVELS.indexOf(t.level)
    const min = t.minLevel === undefined ? 0 : LEVELS.indexOf(t.minLevel)
    const sampled = sampler(t.sample)
    if ((t.target === 'stdout' || t.target === 'stderr') && t.format === undefined) {
      const traffic = this.logger.child({ type: 'traffic' })
      return (line, severity = INFO) => {
        if (severity > max || !sampled()) return
        if (Math.max(severity, min) <= WARNING) traffic.warn(line)
        else traffic.info(line)
      }
    }
    const head: SyslogHeader = {
      format: t.format,
      facility: FACILITIES.indexOf(t.facility),
      tag: global.logTag ?? this.tag,
      pid: LOG_PID,
      hostname: global.logSendHostname === undefined ? undefined : global.logSendHostname === '' ?
        hostname() : global.logSendHostname,
      len: t.len ?? DEFAULT_LOG_LEN
    }
    const send = this.transport(t.target)
    return (line, severity = INFO) => {
      if (severity > max || !sampled()) return
      const us = (performance.timeOrigin + performance.now()) * 1000
      send(formatLogLine(head, Math.max(severity, min), line, new Date(Math.floor(us / 1000)), Math.floor(us % 1000)))
    }
  }

  private transport (target: string): Send {
    if (target === 'stdout' || target === 'stderr') {
      // Guarded as the process log is: a reader that stops or a closed pipe costs lines, never memory or the process.
      const stream = safeDestination(target === 'stdout' ? process.stdout : process.stderr)
      return bytes => { stream.write(bytes.toString()) }
    }
    if (target.startsWith('/') || target.startsWith('unix@')) {
      const path = target.replace(/^unix@/, '')
      const relay = this.unixRelay
      if (relay !== undefined) return bytes => { relay(path, bytes) }
      return bytes => { this.sendUnix(path, bytes) }
    }
    const { host, port } = splitHostPort(target.replace(/^(udp[46]?|ipv[46])@/, ''))
    const socket = isIP(host) === 6 ? (this.udp6 ??= this.openUdp('udp6')) : (this.udp4 ??= this.openUdp('udp4'))
    return bytes => {
      try {
        socket.send(bytes, port, host, err => { if (err !== null) this.lost(err) })
      } catch (err) {
        this.lost(err)
      }
    }
  }

  /** A traffic line a target did not take: counted, and said at most once a minute. */
  private lost (err: unknown): void {
    countDroppedLogLine()
    this.dropped++
    const now = Date.now()
    if (now - this.lastWarning < DROP_WARNING_INTERVAL_MS) return
    this.lastWarning = now
    this.logger.warn({ err: err instanceof Error ? err.message : String(err), dropped: this.dropped },
      'syslog send failed: traffic log lines dropped')
  }

  private openUdp (type: 'udp4' | 'udp6'): Socket {
    const s = createSocket(type)
    s.on('error', err => { this.lost(err) })
    s.unref()
    return s
  }

  private openUnix (): UnixDgramSocket {
    const addon = requireAddon('unix-dgram') as { createSocket (type: 'unix_dgram'): UnixDgramSocket }
    const s = addon.createSocket('unix_dgram')
    s.on('error', err => { this.lost(err) })
    return s
  }

  close (): void {
    this.udp4?.close()
    this.udp6?.close()
    this.unix?.close()
  }
}

/** `log … sample RANGES:SIZE`: true for the lines to send, counting every line offered. */
function sampler (sample: LogTarget['sample']): () => boolean {
  if (sample === undefined) return () => true
  let n = 0
  return () => {
    const pos = n % sample.size + 1
    n++
    return sample.ranges.some(([lo, hi]) => pos >= lo && pos <= hi)
  }
}

function splitHostPort (text: string): { host: string, port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text)
  if (m !== null) return { host: m[1] as string, port: m[2] === undefined ? 514 : Number(m[2]) }
  const last = text.lastIndexOf(':')
  return { host: text.slice(0, last), port: Number(text.slice(last + 1)) }
}
