/**
 * The bytes HAProxy 2.6 sends for one log line, per `log … format F` (captured from HAProxy 2.6.12
 * on a unix datagram socket): a header, the message, a newline, the whole cut to `len` bytes.
 * Pure: the time, pid and host name are passed in.
 */
import type { LogFormat } from '../../config/keywords/log.ts'

/** HAProxy's default `len`. */
export const DEFAULT_LOG_LEN = 1024

export interface SyslogHeader {
  /** undefined: the default (rfc3164 without a host name unless `log-send-hostname`). */
  readonly format: LogFormat | undefined
  /** Facility number (0..23). */
  readonly facility: number
  readonly tag: string
  readonly pid: number
  /** `log-send-hostname` (its argument, or the host name). */
  readonly hostname: string | undefined
  readonly len: number
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

const p2 = (n: number): string => String(n).padStart(2, '0')

/** `Dec  7 12:44:05`, local time. */
export function rfc3164Date (d: Date): string {
  return `${MONTHS[d.getMonth()] ?? ''} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(
    d.getMinutes())}:${p2(d.getSeconds())}`
}

/** `2026-12-07T12:44:05.314389+00:00`, local time with its offset, microseconds (`us` within the millisecond). */
export function isoDate (d: Date, us = 0): string {
  const off = -d.getTimezoneOffset()
  const sign = off < 0 ? '-' : '+'
  const abs = Math.abs(off)
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(
    d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds() * 1000 + us).padStart(6, '0')}` +
    `${sign}${p2(Math.floor(abs / 60))}:${p2(abs % 60)}`
}

function header (h: SyslogHeader, severity: number, d: Date, us: number): string {
  const pri = `<${h.facility * 8 + severity}>`
  switch (h.format) {
    case undefined: return `${pri}${rfc3164Date(d)} ${h.hostname === undefined ? '' : `${h.hostname} `}${h.tag}[${
      h.pid}]: `
    case 'rfc3164': return `${pri}${rfc3164Date(d)} ${h.hostname ?? 'localhost'} ${h.tag}[${h.pid}]: `
    case 'local': return `${pri}${rfc3164Date(d)} ${h.tag}[${h.pid}]: `
    case 'rfc5424': return `${pri}1 ${isoDate(d, us)} ${h.hostname ?? '-'} ${h.tag} ${h.pid} - - `
    case 'priority': return pri
    case 'short': return `<${severity}>`
    case 'timed': return `<${severity}>${isoDate(d, us)} `
    case 'iso': return `${isoDate(d, us)} `
    case 'raw': return ''
  }
}

/** One datagram (or stdout line): header and message cut to `len` bytes, then `\n` (as HAProxy 2.6 sends it). */
export function formatLogLine (h: SyslogHeader, severity: number, message: string, d: Date, us = 0): Buffer {
  const body = Buffer.from(header(h, severity, d, us) + message, 'utf8')
  return Buffer.concat([body.length <= h.len ? body : body.subarray(0, h.len), NEWLINE])
}

const NEWLINE = Buffer.from('\n')
