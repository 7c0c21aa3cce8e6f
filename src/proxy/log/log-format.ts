/**
 * Custom log lines (`log-format`, configuration.txt §8.2.6), compiled once per proxy from the
 * nodes config/log-format.ts parsed: each node a small function of the record, as HAProxy's
 * build_logline() writes them (a missing string is `-`, `+Q` quotes, `+X` writes hexadecimal).
 */
import { hostname } from 'node:os'
import type { LogFormatFlags, LogFormatNode } from '../../config/log-format.ts'
import type { SampleSource } from '../acl/sample.ts'
import { compileSample } from '../rules/format.ts'
import { haproxyDate, type HttpLog } from './format.ts'
import { hashEncode } from './captures.ts'
import { expand6 } from '../acl/converters.ts'

/** What a custom log line may show: the httplog fields and what only custom formats print. */
export interface LogRecord extends HttpLog {
  readonly http: boolean
  /** The bind is `ssl` (`%ft` adds `~`). */
  readonly tls?: boolean
  readonly frontendIp?: string
  readonly frontendPort?: number
  readonly serverIp?: string
  readonly serverPort?: number
  readonly sourceIp?: string
  readonly sourcePort?: number
  /** Bytes from the client. */
  readonly bytesUploaded?: number
  /** `unique-id-format`'s value (`%ID`). */
  readonly uniqueId?: string
  /** The request (HTTP) or session (TCP) counter of the process (`%rt`). */
  readonly requestCounter?: number
  readonly tlsCipher?: string
  readonly tlsVersion?: string
  /** What `%[…]` reads. */
  readonly sample?: SampleSource
}

type Part = (r: LogRecord) => string
/** `mandatory`: a missing string is written `-` (log lines; a unique id leaves it empty). */
type Flags = LogFormatFlags & { readonly mandatory: boolean }

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const p2 = (n: number): string => String(n).padStart(2, '0')

function gmtDate (ms: number): string {
  const d = new Date(ms)
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()] ?? ''}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:` +
    `${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`
}

function localDate (ms: number): string {
  const d = new Date(ms)
  const off = -d.getTimezoneOffset()
  const zone = `${off < 0 ? '-' : '+'}${p2(Math.floor(Math.abs(off) / 60))}${p2(Math.abs(off) % 60)}`
  return `${p2(d.getDate())}/${MONTHS[d.getMonth()] ?? ''}/${d.getFullYear()}:${p2(d.getHours())}:` +
    `${p2(d.getMinutes())}:${p2(d.getSeconds())} ${zone}`
}

/** What `%r` and its parts encode besides control characters and bytes from 127 (HAProxy's url_encode_map). */
const URL_SPECIALS: ReadonlySet<string> = new Set(['"', '#'])

function escaped (v: string): string {
  return v.replace(/["\\\]]/g, c => `\\${c}`)
}

/** A string field: `-` when missing (nothing when quoted), in quotes with +Q, escaped with +E. */
function text (flags: Flags, get: (r: LogRecord) => string | undefined): Part {
  return r => {
    const v = get(r)
    const body = v === undefined || v === '' ? (flags.quote || !flags.mandatory ? '' : '-') : flags.escape ? escaped(v)
      : v
    return flags.quote ? `"${body}"` : body
  }
}

/** A request-line part, encoded as %r is; `<BADREQ>` without a request line. */
type RequestLineParts = readonly [method: string, target: string, version: string] | undefined

/** The last request line split: a format with %HM, %HU and %HV splits it once per log line, not three times. */
let lastLine = ''
let lastParts: RequestLineParts

function requestLineParts (line: string): RequestLineParts {
  if (line !== lastLine) {
    const m = line === '<BADREQ>' ? null : /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line)
    lastParts = m === null ? undefined : [m[1] as string, m[2] as string, m[3] ?? 'HTTP/0.9']
    lastLine = line
  }
  return lastParts
}

function requestPart (flags: Flags, pick: (method: string, target: string, version: string) => string): Part {
  return r => {
    const p = requestLineParts(r.requestLine)
    const v = p === undefined ? '<BADREQ>' : pick(...p)
    const body = hashEncode(v, URL_SPECIALS)
    return flags.quote ? `"${body}"` : body
  }
}

function hex (n: number, width: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(width, '0')
}

function ip (flags: Flags, get: (r: LogRecord) => string | undefined): Part {
  const plain = text(flags, r => {
    const v = get(r)
    return v === undefined ? undefined : v.startsWith('::ffff:') ? v.slice(7) : v
  })
  if (!flags.hex) return plain
  return r => {
    const v = get(r)
    if (v === undefined) return plain(r)
    const four = v.startsWith('::ffff:') ? v.slice(7) : v
    if (/^\d+\.\d+\.\d+\.\d+$/.test(four)) return four.split('.').map(o => hex(Number(o), 2)).join('')
    return expand6(v).map(w => hex(w, 4)).join('')
  }
}

function port (flags: Flags, get: (r: LogRecord) => number | undefined): Part {
  return r => {
    const v = get(r)
    if (v === undefined) return flags.quote ? '""' : '-'
    return flags.hex ? hex(v, 4) : String(v)
  }
}

function counter (flags: Flags, get: (r: LogRecord) => number): Part {
  return r => flags.hex ? hex(get(r), 4) : String(get(r))
}

const plus = (r: LogRecord): string => r.early === true ? '+' : ''
const th = (): number => 0
const ti = (): number => 0
const tq = (r: LogRecord): number => r.tq < 0 ? -1 : th() + ti() + r.tq

/** The capture block's entries, one per captured header (`%hrl`, `%hsl`). */
function captureList (flags: Flags, get: (r: LogRecord) => string | undefined): Part {
  return r => {
    const block = get(r)
    if (block === undefined) return ''
    return block.split('|').map(v => flags.quote ? `"${v}"` : v === '' ? '-' : v).join(' ')
  }
}

function captureBlock (flags: Flags, get: (r: LogRecord) => string | undefined): Part {
  return r => {
    const block = get(r)
    if (block === undefined) return ''
    return flags.quote ? `"{${block}}"` : `{${block}}`
  }
}

const PID = process.pid
const HOST = hostname()

function variable (name: string, f: Flags): Part {
  switch (name) {
    case 'ci': return ip(f, r => r.clientIp)
    case 'cp': return port(f, r => r.clientPort)
    case 'fi': return ip(f, r => r.frontendIp)
    case 'fp': return port(f, r => r.frontendPort)
    case 'bi': return ip(f, r => r.sourceIp)
    case 'bp': return port(f, r => r.sourcePort)
    case 'si': return ip(f, r => r.serverIp)
    case 'sp': return port(f, r => r.serverPort)
    case 't': return r => haproxyDate(r.acceptedAt)
    case 'tr': return r => haproxyDate(r.acceptedAt + th() + ti())
    case 'T': return r => gmtDate(r.acceptedAt)
    case 'trg': return r => gmtDate(r.acceptedAt + th() + ti())
    case 'Tl': return r => localDate(r.acceptedAt)
    case 'trl': return r => localDate(r.acceptedAt + th() + ti())
    case 'Ts': return r => f.hex ? hex(Math.floor(r.acceptedAt / 1000), 4) : String(Math.floor(r.acceptedAt / 1000))
    case 'ms': return r => f.hex ? hex(r.acceptedAt % 1000, 2) : String(r.acceptedAt % 1000).padStart(3, '0')
    case 'f': return text(f, r => r.frontend)
    case 'ft': return r => {
      const v = `${r.frontend}${r.tls === true ? '~' : ''}`
      return f.quote ? `"${v}"` : v
    }
    case 'b': return text(f, r => r.backend)
    case 's': return text(f, r => r.server)
    case 'sslc': return text(f, r => r.tlsCipher)
    case 'sslv': return text(f, r => r.tlsVersion)
    case 'Th': return () => String(th())
    case 'Ti': return () => String(ti())
    case 'TR': return r => String(r.tq)
    case 'Tq': return r => String(tq(r))
    case 'Tw': return r => String(r.tw)
    case 'Tc': return r => String(r.tc)
    case 'Tr': return r => String(r.tr)
    case 'Td': return r => {
      const parts = [tq(r), r.tw, r.tc, r.tr]
      return parts.some(x => x < 0) ? '-1' : String(r.tt - parts.reduce((a, b) => a + b, 0))
    }
    case 'Ta': return r => `${plus(r)}${r.tt - th() - ti()}`
    case 'Tt': return r => `${plus(r)}${r.tt}`
    case 'Tu': return r => `${plus(r)}${r.tt - ti()}`
    case 'ST': return r => String(r.status)
    case 'B': return r => `${plus(r)}${r.bytesRead}`
    case 'U': return r => String(r.bytesUploaded ?? 0)
    case 'CC': case 'CS': return text(f, () => undefined)
    case 'ts': return r => r.termination.slice(0, 2)
    case 'tsc': return r => r.termination.padEnd(4, '-')
    case 'ac': return r => String(r.actconn)
    case 'fc': return r => String(r.feconn)
    case 'bc': return r => String(r.beconn)
    case 'sc': return r => String(r.srvConn)
    case 'rc': return r => r.retries > 0 ? `+${r.retries}` : '0'
    case 'sq': return r => String(r.srvQueue)
    case 'bq': return r => String(r.backendQueue)
    case 'hr': return captureBlock(f, r => r.capturedRequest)
    case 'hs': return captureBlock(f, r => r.capturedResponse)
    case 'hrl': return captureList(f, r => r.capturedRequest)
    case 'hsl': return captureList(f, r => r.capturedResponse)
    case 'r': return requestPart(f, (m, t, v) => `${m} ${t} ${v}`)
    case 'HM': return requestPart(f, m => m)
    case 'HU': return requestPart(f, (_m, t) => t)
    case 'HP': return requestPart(f, (_m, t) => t.split('?')[0] as string)
    case 'HPO': return requestPart(f, (_m, t) => pathOnly(t))
    case 'HQ': return requestPart(f, (_m, t) => t.includes('?') ? t.slice(t.indexOf('?')) : '')
    case 'HV': return requestPart(f, (_m, _t, v) => v)
    case 'rt': return counter(f, r => r.requestCounter ?? 0)
    case 'pid': return counter(f, () => PID)
    case 'H': return text(f, () => HOST)
    case 'ID': return text(f, r => r.uniqueId)
    default: throw new TypeError(`log-format variable '${name}' has no implementation`)
  }
}

/** The path of a target without scheme, authority and query (`%HPO`). */
function pathOnly (target: string): string {
  let path = target
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/.exec(path)
  if (scheme !== null) path = path.slice(scheme[0].length)
  const q = path.indexOf('?')
  return q < 0 ? path : path.slice(0, q)
}

/**
 * The line a record gives, for a proxy whose format parsed to `nodes`. `mandatory`: missing
 * strings are `-` (log-format); a unique-id-format leaves them empty.
 */
export function compileLogFormat (nodes: readonly LogFormatNode[], mandatory = true): (r: LogRecord) => string {
  /** Lines made before this one (`%lc`: the frontend's log counter). */
  let made = 0
  const parts: { sep: boolean, part: Part }[] = nodes.map(n => {
    if (n.kind === 'separator') return { sep: true, part: () => ' ' }
    if (n.kind === 'text') {
      const t = n.text
      return { sep: false, part: () => t }
    }
    const flags = { ...n.flags, mandatory }
    if (n.kind === 'var' && n.name === 'lc') return { sep: false, part: counter(flags, () => made) }
    if (n.kind === 'var') return { sep: false, part: variable(n.name, flags) }
    const sample = compileSample(n.expr)
    const show = text(flags, r => r.sample === undefined ? undefined : sample(r.sample))
    return { sep: false, part: show }
  })
  return r => {
    let out = ''
    let lastSpace = true
    for (const { sep, part } of parts) {
      if (sep) {
        if (!lastSpace) out += ' '
        lastSpace = true
        continue
      }
      out += part(r)
      lastSpace = false
    }
    made++
    return out
  }
}
