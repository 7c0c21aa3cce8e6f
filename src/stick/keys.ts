/**
 * Stick-table keys: normalisation per table type, the forms HAProxy prints in `show table`, the
 * bytes the peers protocol sends, the order HAProxy walks its key tree in, and the quirky parsers
 * its CLI uses for `show/clear/set table NAME key K`.
 *
 * Internal key ("key id"), chosen so that a `Map` holds it without a heap object where possible:
 * - ip: the address as a 32-bit integer (a.b.c.d = a<<24|b<<16|c<<8|d), stored `| 0` so that it
 *   is a V8 small integer;
 * - integer: the unsigned 32-bit value, stored `| 0` likewise;
 * - ipv6: a 16-character string, one character per byte (latin1);
 * - string: the key bytes, one character per byte, at most `maxLen` bytes (HAProxy: key_size - 1),
 *   cut at the first NUL as HAProxy's C strings are;
 * - binary: exactly `len` bytes, one character per byte, zero-padded or truncated.
 *
 * Strings given as keys are byte strings, as elsewhere in tslb (HTTP heads are decoded latin1);
 * a string holding a character above U+00FF is taken as text and encoded UTF-8.
 * @module
 */
import type { StickTableSpec } from '../config/model.ts'

export type StickKeyType = StickTableSpec['type']
/** The normalised key of an entry (see the module comment). */
export type StickKeyId = number | string
/** What callers may pass as a key. */
export type StickKeyInput = string | number | bigint | Uint8Array

const EMPTY = ''

/** A byte string (one char per byte) from a string that may hold characters beyond U+00FF. */
export function toByteString (s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8').toString('latin1')
  }
  return s
}

function bytesToString (b: Uint8Array, start = 0, end = b.length): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1')
}

/* ------------------------------------------------------------------------------------------ */
/* Addresses                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** Dotted-quad IPv4 as `inet_pton(AF_INET)` accepts it (no leading zeros); the u32 or undefined. */
export function parseIPv4 (s: string): number | undefined {
  let value = 0
  let parts = 0
  let i = 0
  while (true) {
    const start = i
    let octet = 0
    while (i < s.length) {
      const c = s.charCodeAt(i) - 48
      if (c < 0 || c > 9) break
      octet = octet * 10 + c
      i++
    }
    const n = i - start
    if (n === 0 || n > 3 || octet > 255 || (n > 1 && s.charCodeAt(start) === 48)) return undefined
    value = value * 256 + octet
    parts++
    if (i === s.length) break
    if (parts === 4 || s.charCodeAt(i) !== 46) return undefined
    i++
  }
  return parts === 4 ? value : undefined
}

/** IPv6 text as `inet_pton(AF_INET6)` accepts it (with `::` and a trailing dotted quad). */
export function parseIPv6 (s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45) return undefined
  const dbl = s.indexOf('::')
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return undefined
  const head = dbl === -1 ? s : s.slice(0, dbl)
  const tail = dbl === -1 ? EMPTY : s.slice(dbl + 2)
  const headParts = head === EMPTY ? [] : head.split(':')
  const tailParts = tail === EMPTY ? [] : tail.split(':')
  const words: number[] = []
  const tailWords: number[] = []
  const lastIsHead = dbl === -1
  if (!parseWords(headParts, words, lastIsHead)) return undefined
  if (!parseWords(tailParts, tailWords, !lastIsHead)) return undefined
  const total = words.length + tailWords.length
  if (dbl === -1 ? total !== 8 : total > 7) return undefined
  const out = new Uint8Array(16)
  for (let i = 0; i < words.length; i++) {
    out[2 * i] = (words[i] as number) >> 8
    out[2 * i + 1] = (words[i] as number) & 0xff
  }
  const base = 8 - tailWords.length
  for (let i = 0; i < tailWords.length; i++) {
    out[2 * (base + i)] = (tailWords[i] as number) >> 8
    out[2 * (base + i) + 1] = (tailWords[i] as number) & 0xff
  }
  return out
}

function parseWords (parts: readonly string[], out: number[], mayEndWithIPv4: boolean): boolean {
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p] as string
    if (mayEndWithIPv4 && p === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part)
      if (v4 === undefined) return false
      out.push(v4 >>> 16, v4 & 0xffff)
      continue
    }
    if (part.length === 0 || part.length > 4 || !/^[0-9a-fA-F]+$/.test(part)) return false
    out.push(parseInt(part, 16))
  }
  return true
}

/** `inet_ntop(AF_INET)`. */
export function formatIPv4 (v: number): string {
  const u = v >>> 0
  return `${u >>> 24}.${(u >>> 16) & 0xff}.${(u >>> 8) & 0xff}.${u & 0xff}`
}

/** `inet_ntop(AF_INET6)` as glibc formats: longest zero run (2+ words) as `::`, `::a.b.c.d` and `::ffff:a.b.c.d`. */
export function formatIPv6 (b: Uint8Array): string {
  const w: number[] = []
  for (let i = 0; i < 8; i++) w.push(((b[2 * i] as number) << 8) | (b[2 * i + 1] as number))
  let bestBase = -1
  let bestLen = 0
  let curBase = -1
  let curLen = 0
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase === -1) { curBase = i; curLen = 1 } else curLen++
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) { bestBase = curBase; bestLen = curLen }
      curBase = -1
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) { bestBase = curBase; bestLen = curLen }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1
  let out = ''
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':'
      continue
    }
    if (i !== 0) out += ':'
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += `${b[12] as number}.${b[13] as number}.${b[14] as number}.${b[15] as number}`
      return out
    }
    out += (w[i] as number).toString(16)
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':'
  return out
}

/** The IPv4 address of an IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291), or undefined. */
function v6ToV4 (b: Uint8Array): number | undefined {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined
  if (b[10] !== 0xff || b[11] !== 0xff) return undefined
  return (((b[12] as number) << 24) | ((b[13] as number) << 16) | ((b[14] as number) << 8) | (b[15] as number)) >>> 0
}

function v4ToV6 (v: number): string {
  const u = v >>> 0
  return '\0\0\0\0\0\0\0\0\0\0\xff\xff' + String.fromCharCode(u >>> 24, (u >>> 16) & 0xff, (u >>> 8) & 0xff, u & 0xff)
}

/* ------------------------------------------------------------------------------------------ */
/* Normalisation                                                                               */
/* ------------------------------------------------------------------------------------------ */

export interface KeyShape {
  readonly type: StickKeyType
  /** string: most bytes kept (key_size - 1); binary: exact length; others: the fixed size. */
  readonly maxLen: number
}

/**
 * The key id of `input` for a table of this shape, or `undefined` when the input cannot be a key
 * of this type (HAProxy: the sample does not convert, the rule is skipped):
 * - ip: IPv4 text, IPv4-mapped IPv6 text, a u32 number, 4 bytes, or 16 bytes of a mapped address;
 * - ipv6: IPv6 text, IPv4 text (mapped to ::ffff:a.b.c.d, as HAProxy converts an IPv4 sample),
 *   16 bytes, 4 bytes (mapped);
 * - integer: a number or bigint (low 32 bits, as HAProxy's `(unsigned int)` cast of a sample),
 *   decimal text with an optional sign, 4 bytes big-endian;
 * - string: text or bytes, truncated to `maxLen` bytes, cut at a NUL;
 * - binary: bytes or a byte string, zero-padded or truncated to `maxLen` bytes.
 */
export function normalizeKey (shape: KeyShape, input: StickKeyInput): StickKeyId | undefined {
  switch (shape.type) {
    case 'ip': {
      if (typeof input === 'number') return Number.isInteger(input) && input >= -0x80000000 && input <= 0xffffffff ?
        input | 0 : undefined
      if (typeof input === 'bigint') return input >= 0n && input <= 0xffffffffn ? Number(input) | 0 : undefined
      if (typeof input === 'string') {
        const v4 = parseIPv4(input)
        if (v4 !== undefined) return v4 | 0
        const v6 = parseIPv6(input)
        const m = v6 === undefined ? undefined : v6ToV4(v6)
        return m === undefined ? undefined : m | 0
      }
      if (input.length === 4) return (((input[0] as number) << 24) | ((input[1] as number) << 16) | ((input[
        2] as number) << 8) | (input[3] as number))
      if (input.length === 16) {
        const m = v6ToV4(input)
        return m === undefined ? undefined : m | 0
      }
      return undefined
    }
    case 'ipv6': {
      if (typeof input === 'number') return Number.isInteger(input) && input >= -0x80000000 && input <= 0xffffffff ?
        v4ToV6(input) : undefined
      if (typeof input === 'bigint') return undefined
      if (typeof input === 'string') {
        const v6 = parseIPv6(input)
        if (v6 !== undefined) return bytesToString(v6)
        const v4 = parseIPv4(input)
        return v4 === undefined ? undefined : v4ToV6(v4)
      }
      if (input.length === 16) return bytesToString(input)
      if (input.length === 4) return v4ToV6(((input[0] as number) << 24) | ((input[1] as number) << 16) | ((input[
        2] as number) << 8) | (input[3] as number))
      return undefined
    }
    case 'integer': {
      if (typeof input === 'number') {
        if (!Number.isFinite(input)) return undefined
        const t = Math.trunc(input)
        return Number.isSafeInteger(t) ? Number(BigInt.asUintN(32, BigInt(t))) | 0 : undefined
      }
      if (typeof input === 'bigint') return Number(BigInt.asUintN(32, input)) | 0
      if (typeof input === 'string') {
        if (!/^[+-]?[0-9]+$/.test(input)) return undefined
        return Number(BigInt.asUintN(32, BigInt(input))) | 0
      }
      if (input.length === 4) return (((input[0] as number) << 24) | ((input[1] as number) << 16) | ((input[
        2] as number) << 8) | (input[3] as number))
      return undefined
    }
    case 'string': {
      let s: string
      if (typeof input === 'string') s = toByteString(input)
      else if (input instanceof Uint8Array) s = bytesToString(input)
      else return undefined
      const nul = s.indexOf('\0')
      const end = Math.min(nul === -1 ? s.length : nul, shape.maxLen)
      return end === s.length ? s : s.slice(0, end)
    }
    case 'binary': {
      let s: string
      if (typeof input === 'string') s = toByteString(input)
      else if (input instanceof Uint8Array) s = bytesToString(input)
      else return undefined
      if (s.length >= shape.maxLen) return s.length === shape.maxLen ? s : s.slice(0, shape.maxLen)
      return s + '\0'.repeat(shape.maxLen - s.length)
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Output                                                                                      */
/* ------------------------------------------------------------------------------------------ */

const HEX = '0123456789ABCDEF'

/** `dump_text()` (src/tools.c): printable ASCII as is; space, `=`, `\` and \t\n\r\e escaped; others \xHH. */
export function dumpText (s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0) break
    if (c > 0x20 && c < 0x7f && c !== 0x5c && c !== 0x3d) out += s[i]
    else if (c === 0x20) out += '\\ '
    else if (c === 0x3d) out += '\\='
    else if (c === 0x5c) out += '\\\\'
    else if (c === 0x09) out += '\\t'
    else if (c === 0x0a) out += '\\n'
    else if (c === 0x0d) out += '\\r'
    else if (c === 0x1b) out += '\\e'
    else out += '\\x' + HEX.charAt((c >> 4) & 0xf) + HEX.charAt(c & 0xf)
  }
  return out
}

/** `dump_binary()`: every byte as two upper-case hex digits. */
export function dumpBinary (s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    out += HEX.charAt((c >> 4) & 0xf) + HEX.charAt(c & 0xf)
  }
  return out
}

/** The key as `show table` prints it after `key=`. */
export function formatKey (type: StickKeyType, key: StickKeyId): string {
  switch (type) {
    case 'ip': return formatIPv4(key as number)
    case 'integer': return String((key as number) >>> 0)
    case 'ipv6': return formatIPv6(Buffer.from(key as string, 'latin1'))
    case 'string': return dumpText(key as string)
    case 'binary': return dumpBinary(key as string)
  }
}

/**
 * The key bytes the peers protocol carries: ip 4 bytes and integer 4 bytes big-endian, ipv6 16,
 * string its bytes (without NUL; the codec prefixes the length), binary exactly `len` bytes.
 */
export function keyBytes (type: StickKeyType, key: StickKeyId): Buffer {
  if (type === 'ip' || type === 'integer') {
    const b = Buffer.allocUnsafe(4)
    b.writeUInt32BE((key as number) >>> 0, 0)
    return b
  }
  return Buffer.from(key as string, 'latin1')
}

function bswap32 (v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff)) >>> 0
}

/**
 * The order of HAProxy's key tree, which `show table` walks: memcmp of the stored key bytes.
 * Integer keys are stored in host order (little-endian on x86/arm64), so 256 comes before 1.
 */
export function keyComparator (type: StickKeyType): (a: StickKeyId, b: StickKeyId) => number {
  switch (type) {
    case 'ip': return (a, b) => ((a as number) >>> 0) - ((b as number) >>> 0)
    case 'integer': return (a, b) => bswap32(a as number) - bswap32(b as number)
    default: return (a, b) => (a < b ? -1 : a > b ? 1 : 0)
  }
}

/* ------------------------------------------------------------------------------------------ */
/* The runtime API's key parsers                                                               */
/* ------------------------------------------------------------------------------------------ */

/**
 * `inetaddr_host()` (src/tools.c), which `show/clear/set table ... key` uses for ip tables: up to
 * four dot-separated groups, the last three digits of each, no validation; "junk" is 0.0.0.0 and
 * 1.2.3.999 carries into the next byte as HAProxy's packed arithmetic does.
 */
export function inetaddrHost (text: string): number {
  let value = 0
  let shift = 24
  let i = 0
  while (true) {
    const start = i
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++
    let v = 0
    for (let d = Math.max(start, i - 3); d < i; d++) v = v * 10 + (text.charCodeAt(d) - 48)
    value += v * 2 ** shift
    if (shift === 0 || text.charCodeAt(i) !== 46) break
    shift -= 8
    i++
  }
  return value % 2 ** 32
}

/**
 * `strtoul(s, &end, 10)` plus HAProxy's checks for integer keys: leading blanks and a sign are
 * allowed, trailing junk is ignored ("12abc" is 12), no digit, overflow, or a value beyond
 * 0xffffffff (so any negative one but -0) is invalid.
 */
export function strtoulKey (text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/.exec(text)
  if (m === null) return undefined
  let v = BigInt(m[2] as string)
  if (v > 0xffffffffffffffffn) return undefined
  if (m[1] === '-') v = BigInt.asUintN(64, -v)
  return v > 0xffffffffn ? undefined : Number(v)
}

/**
 * `strl2llrc()` (src/tools.c): a signed decimal 64-bit integer, digits only after an optional
 * '-' ("-" alone is 0); empty, other characters or overflow are invalid.
 */
export function strl2llrc (s: string): bigint | undefined {
  if (s.length === 0) return undefined
  const MAX = 0x7fffffffffffffffn
  const MIN = -0x8000000000000000n
  let i = 0n
  if (s.charCodeAt(0) !== 45) {
    for (let k = 0; k < s.length; k++) {
      const j = s.charCodeAt(k) - 48
      if (j > 9 || j < 0) return undefined
      if (i > MAX / 10n) return undefined
      i *= 10n
      if (i + BigInt(j) > MAX) return undefined
      i += BigInt(j)
    }
  } else {
    for (let k = 1; k < s.length; k++) {
      const j = s.charCodeAt(k) - 48
      if (j > 9 || j < 0) return undefined
      if (i < MIN / 10n) return undefined
      i *= 10n
      if (i - BigInt(j) < MIN) return undefined
      i -= BigInt(j)
    }
  }
  return i
}
