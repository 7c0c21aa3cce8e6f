/**
 * Sample converters (`FETCH,NAME(ARGS)`), each a small pure function from one sample to another
 * (undefined: no sample, as HAProxy's converter failing). Samples are strings here: integers in
 * decimal, addresses in text form, binary as latin1. Arguments were checked at load
 * (`config/acl.ts`, `CONVERTERS` in `config/enforcement.ts`); `map*` entries were read at load
 * and, bound to an engine's store (`patterns.ts`), follow the runtime API's changes.
 */
import { timingSafeEqual } from 'node:crypto'
import { BlockList, isIP } from 'node:net'
import type { ConverterCall } from '../../config/model.ts'
import { crc32, djb2, fullHash, type HashFunction, sdbm, wt6 } from '../balance/hash.ts'
import { tableConverter } from './counter-samples.ts'
import { addItem, base64url, base64urlDecode, be2dec, be2hex, bytesOf, digest, hmac, iif, jsonEscape, urlDecode,
  urlEncode } from './converters-bytes.ts'
import { type Converter, leadingInt } from './converter.ts'
import { type PatternFile, patternFileOf } from './patterns.ts'

export type { Converter } from './converter.ts'

function arith (op: (a: number, b: number) => number, arg: string): Converter {
  const b = Number(arg)
  return v => String(op(leadingInt(v), b))
}

/** 1-based field `index` (negative: from the end) of `count` fields; `word` skips empty fields. */
function fields (index: number, delims: string, count: number, words: boolean): Converter {
  const set = new Set(delims)
  return v => {
    // Each field's [start, end) in `v`; the answer is the original text from the first to the last one picked.
    let spans: [number, number][] = []
    let start = 0
    for (let i = 0; i <= v.length; i++) {
      if (i < v.length && !set.has(v[i] as string)) continue
      spans.push([start, i])
      start = i + 1
    }
    if (words) spans = spans.filter(([a, b]) => b > a)
    const first = index > 0 ? index - 1 : spans.length + index
    if (first < 0 || first >= spans.length) return undefined
    const n = count === 0 ? (index > 0 ? spans.length - first : first + 1) : count
    const lo = index > 0 ? first : Math.max(0, first - n + 1)
    const hi = index > 0 ? Math.min(spans.length, first + n) - 1 : first
    if (!words) return spans.slice(lo, hi + 1).map(([a, b]) => v.slice(a, b)).join(delims[0] ?? '')
    return v.slice((spans[lo] as [number, number])[0], (spans[hi] as [number, number])[1])
  }
}

function regsub (pattern: string, subst: string, flags: string): Converter {
  const re = new RegExp(pattern, [...new Set(flags.replace(/[^ig]/g, ''))].join(''))
  const expand = (m: string[]): string => subst.replace(/\\([0-9])|\\\\/g, (all, n?: string) => n === undefined ? '\\'
    : m[Number(n)] ?? '')
  return v => v.replace(re, (...m: unknown[]) => expand(m.slice(0, -2) as string[]))
}

function ipmask (mask4: string, mask6: string | undefined): Converter {
  const bits4 = isIP(mask4) === 4 ? mask4.split('.').reduce((n, o) => n + Number(o).toString(2).replace(/0/g,
    '').length, 0)
    : Number(mask4.replace(/^\//, ''))
  // The IPv6 mask: a prefix length, or a mask written as an address (`ffff:ffff::`).
  const words6 = mask6 === undefined ? undefined : isIP(mask6) === 6 ? expand6(mask6)
    : prefixWords(Number(mask6.replace(/^\//, '')))
  return v => {
    const plain = v.slice(0, 7).toLowerCase() === '::ffff:' && isIP(v.slice(7)) === 4 ? v.slice(7) : v
    const family = isIP(plain)
    if (family === 4) {
      const n = plain.split('.').reduce((a, o) => (a * 256) + Number(o), 0)
      const mask = bits4 === 0 ? 0 : (0xffffffff << (32 - bits4)) >>> 0
      const m = (n & mask) >>> 0
      return [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join('.')
    }
    if (family === 6 && words6 !== undefined) {
      return compress6(expand6(plain).map((w, i) => w & (words6[i] ?? 0)))
    }
    return undefined
  }
}

function prefixWords (bits: number): number[] {
  return Array.from({ length: 8 }, (_, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16))
    return keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff
  })
}

/** The eight 16-bit words of an IPv6 address in text form. */
export function expand6 (a: string): number[] {
  const [head = '', tail] = a.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const fill = Array<string>(8 - h.length - t.length).fill('0')
  return [...h, ...(tail === undefined ? [] : fill), ...t].map(x => parseInt(x, 16))
}

function compress6 (w: number[]): string {
  const text = w.map(x => x.toString(16))
  let best = -1
  let len = 0
  for (let i = 0; i < 8; i++) {
    let j = i
    while (j < 8 && w[j] === 0) j++
    if (j - i > len && j - i > 1) { best = i; len = j - i }
  }
  if (best < 0) return text.join(':')
  return `${text.slice(0, best).join(':')}::${text.slice(best + len).join(':')}`
}

function hash (fn: HashFunction, avalanche: string | undefined): Converter {
  const full = avalanche !== undefined && avalanche !== '0'
  return v => {
    const bytes = Buffer.from(v, 'utf8').toString('latin1')
    const h = fn(bytes, 0, bytes.length)
    return String(full ? fullHash(h) : h)
  }
}

/** map_* lookups over the entries read at load: first match in file order, longest prefix for map_ip. */
function map (kind: string, entries: readonly (readonly [string, string])[], dflt: string | undefined): Converter {
  const miss = (): string | undefined => dflt
  switch (kind) {
    case 'map': case 'map_str': {
      const table = new Map<string, string>()
      for (const [k, val] of entries) if (!table.has(k)) table.set(k, val)
      return v => table.get(v) ?? miss()
    }
    case 'map_beg': return v => entries.find(([k]) => v.startsWith(k))?.[1] ?? miss()
    case 'map_end': return v => entries.find(([k]) => v.endsWith(k))?.[1] ?? miss()
    case 'map_sub': return v => entries.find(([k]) => v.includes(k))?.[1] ?? miss()
    case 'map_reg': case 'map_regm': {
      const res = entries.map(([k, val]) => [new RegExp(k), val] as const)
      if (kind === 'map_reg') return v => res.find(([re]) => re.test(v))?.[1] ?? miss()
      // map_regm: the value's \N take the groups of the match.
      return v => {
        for (const [re, val] of res) {
          const m = re.exec(v)
          if (m !== null) return val.replace(/\\([0-9])/g, (_, n: string) => m[Number(n)] ?? '')
        }
        return miss()
      }
    }
    case 'map_int': return v => entries.find(([k]) => Number(k) === leadingInt(v))?.[1] ?? miss()
    default: {
      // map_ip: the most specific network holding the address.
      const nets = entries.map(([k, val]) => {
        const [addr = '', len] = k.split('/')
        const family = isIP(addr)
        const bits = len === undefined ? (family === 4 ? 32 : 128) : Number(len)
        const list = new BlockList()
        if (family !== 0) list.addSubnet(addr, bits, family === 4 ? 'ipv4' : 'ipv6')
        return { list, bits, val, family }
      }).sort((a, b) => b.bits - a.bits)
      return v => {
        const plain = v.startsWith('::ffff:') && isIP(v.slice(7)) === 4 ? v.slice(7) : v
        const family = isIP(plain)
        if (family === 0) return miss()
        const type = family === 4 ? 'ipv4' : 'ipv6'
        return nets.find(n => n.family === family && n.list.check(plain, type))?.val ?? miss()
      }
    }
  }
}

/** A map converter over a runtime-changeable file: its lookup structure is rebuilt after a change. */
function liveMap (kind: string, file: PatternFile, dflt: string | undefined): Converter {
  let version = -1
  let lookup: Converter = () => dflt
  return (v, vars) => {
    if (version !== file.version) {
      lookup = map(kind, file.entries.map(e => [e.key, e.value ?? ''] as const), dflt)
      version = file.version
    }
    return lookup(v, vars)
  }
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December']

/**
 * strftime(3) over epoch seconds, in UTC (`utime`) or the process's time zone (`ltime`); directives checked at load.
 */
export function strftime (format: string, seconds: number, utc: boolean): string {
  const d = new Date(seconds * 1000)
  const get = (local: () => number, u: () => number): number => utc ? u() : local()
  const year = get(() => d.getFullYear(), () => d.getUTCFullYear())
  const month = get(() => d.getMonth(), () => d.getUTCMonth())
  const day = get(() => d.getDate(), () => d.getUTCDate())
  const hour = get(() => d.getHours(), () => d.getUTCHours())
  const wday = get(() => d.getDay(), () => d.getUTCDay())
  const offset = utc ? 0 : -d.getTimezoneOffset()
  const p2 = (n: number): string => String(n).padStart(2, '0')
  const yday = Math.floor((Date.UTC(year, month, day) - Date.UTC(year, 0, 1)) / 86_400_000) + 1
  return format.replace(/%(.)/g, (_, c: string) => {
    switch (c) {
      case 'a': return DAYS[wday] as string
      case 'A': return LONG_DAYS[wday] as string
      case 'b': return MONTHS[month] as string
      case 'B': return LONG_MONTHS[month] as string
      case 'd': return p2(day)
      case 'e': return String(day).padStart(2, ' ')
      case 'H': return p2(hour)
      case 'I': return p2(hour % 12 === 0 ? 12 : hour % 12)
      case 'j': return String(yday).padStart(3, '0')
      case 'm': return p2(month + 1)
      case 'M': return p2(get(() => d.getMinutes(), () => d.getUTCMinutes()))
      case 'p': return hour < 12 ? 'AM' : 'PM'
      case 'S': return p2(get(() => d.getSeconds(), () => d.getUTCSeconds()))
      case 's': return String(seconds)
      case 'y': return p2(year % 100)
      case 'Y': return String(year)
      case 'z': return `${offset < 0 ? '-' : '+'}${p2(Math.floor(Math.abs(offset) / 60))}${p2(Math.abs(offset) % 60)}`
      case 'Z': return utc ? 'GMT' : (Intl.DateTimeFormat('en', { timeZoneName: 'short' }).formatToParts(d)
        .find(x => x.type === 'timeZoneName')?.value ?? '')
      default: return '%'
    }
  })
}

/** HAProxy's strcmp: the difference of the first differing bytes, else of the lengths. */
function byteDifference (a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number)
  return a.length - b.length
}

/** The converter a call names, ready to run. */
export function compileConverter (call: ConverterCall): Converter {
  const [a0 = '', a1, a2] = call.args
  switch (call.name) {
    case 'lower': return v => v.toLowerCase()
    case 'upper': return v => v.toUpperCase()
    case 'length': return v => String(v.length)
    case 'field': return fields(Number(a0), a1 ?? '', Number(a2 ?? 1), false)
    case 'word': return fields(Number(a0), a1 ?? '', Number(a2 ?? 1), true)
    case 'regsub': return regsub(a0, a1 ?? '', a2 ?? '')
    case 'base64': return v => bytesOf(v).toString('base64')
    case 'b64dec': return v => /^[A-Za-z0-9+/]*={0,2}$/.test(v) ? Buffer.from(v,
      'base64').toString('latin1') : undefined
    case 'hex': return v => bytesOf(v).toString('hex').toUpperCase()
    case 'url_dec': return urlDecode(a0 !== '' && a0 !== '0')
    case 'url_enc': return urlEncode
    case 'json': return jsonEscape(a0)
    case 'sha1': return digest('sha1')
    case 'sha2': return digest(`sha${a0 === '' ? '256' : a0}`)
    case 'digest': return digest(a0)
    case 'hmac': return hmac(a0, a1 ?? '')
    case 'be2hex': return be2hex(a0, Number(a1 ?? 1), a2 !== undefined && a2 !== '0')
    case 'be2dec': return be2dec(a0, Number(a1 ?? 1), a2 !== undefined && a2 !== '0')
    case 'ub64enc': return base64url
    case 'ub64dec': return base64urlDecode
    case 'iif': return iif(a0, a1 ?? '')
    case 'add_item': return addItem(a0, a1, a2 ?? '')
    case 'ipmask': return ipmask(a0, a1)
    case 'bool': return v => leadingInt(v) !== 0 ? '1' : '0'
    case 'not': return v => leadingInt(v) === 0 ? '1' : '0'
    case 'add': return arith((a, b) => a + b, a0)
    case 'sub': return arith((a, b) => a - b, a0)
    case 'mul': return arith((a, b) => a * b, a0)
    // HAProxy: a division by zero gives the largest signed 64-bit integer; a modulo by zero 0.
    case 'div': return arith((a, b) => b === 0 ? Number.MAX_SAFE_INTEGER : Math.trunc(a / b), a0)
    case 'mod': return arith((a, b) => b === 0 ? 0 : a % b, a0)
    case 'bytes': {
      const off = Number(a0)
      const len = a1 === undefined ? undefined : Number(a1)
      return v => off > v.length ? undefined : v.slice(off, len === undefined ? undefined : off + len)
    }
    case 'concat': return (v, vars) => `${v}${a0}${a1 === undefined || a1 === '' ? '' : vars?.(a1) ?? ''}${a2 ?? ''}`
    case 'strcmp': return (v, vars) => {
      const other = vars?.(a0)
      return other === undefined ? undefined : String(byteDifference(Buffer.from(v), Buffer.from(other)))
    }
    case 'secure_memcmp': return (v, vars) => {
      const other = vars?.(a0)
      if (other === undefined) return undefined
      const a = Buffer.from(v)
      const b = Buffer.from(other)
      return a.length === b.length && timingSafeEqual(a, b) ? '1' : '0'
    }
    case 'ltime': case 'utime': {
      const offset = a1 === undefined ? 0 : Number(a1)
      const utc = call.name === 'utime'
      return v => /^-?\d+$/.test(v) ? strftime(a0, Number(v) + offset, utc) : undefined
    }
    case 'crc32': return hash(crc32, call.args[0])
    case 'djb2': return hash(djb2, call.args[0])
    case 'sdbm': return hash(sdbm, call.args[0])
    case 'wt6': return hash(wt6, call.args[0])
    default:
      if (call.name.startsWith('map')) {
        const file = patternFileOf(call)
        return file === undefined ? map(call.name, call.entries ?? [], a1) : liveMap(call.name, file, a1)
      }
      {
        const table = tableConverter(call.name, call.args)
        if (table !== undefined) return table
      }
      throw new TypeError(`converter '${call.name}' has no implementation`)
  }
}

/** A chain of converters; a step without a sample ends it without one. */
export function compileChain (calls: readonly ConverterCall[] | undefined): Converter | undefined {
  if (calls === undefined || calls.length === 0) return undefined
  const steps = calls.map(compileConverter)
  return (v, vars) => {
    let cur: string | undefined = v
    for (const s of steps) {
      if (cur === undefined) return undefined
      cur = s(cur, vars)
    }
    return cur
  }
}
