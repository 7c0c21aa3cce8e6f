/**
 * The hash functions of `hash-type` as HAProxy 2.6 defines them (src/hash.c), its avalanche
 * modifier (full_hash() in include/haproxy/intops.h), and the source-address key of
 * `balance source` (get_server_sh() in src/backend.c). All results are unsigned 32-bit integers.
 *
 * Keys are strings whose characters are bytes (Node decodes HTTP heads as latin1); a key holding
 * a character above U+00FF is hashed as its UTF-8 encoding.
 */
import type { HashType } from '../../config/model.ts'

/** Hashes the bytes `s[start..end)` (each character one byte). */
export type HashFunction = (s: string, start: number, end: number) => number

/** sdbm: hash = c + (hash << 6) + (hash << 16) - hash, i.e. hash * 65599 + c. */
export function sdbm (s: string, start = 0, end = s.length): number {
  let h = 0
  for (let i = start; i < end; i++) h = (Math.imul(h, 65599) + (s.charCodeAt(i) & 0xff)) | 0
  return h >>> 0
}

/** djb2 (Bernstein's "times 33"): hash = hash * 33 + c, from 5381. */
export function djb2 (s: string, start = 0, end = s.length): number {
  let h = 5381
  for (let i = start; i < end; i++) h = (Math.imul(h, 33) + (s.charCodeAt(i) & 0xff)) | 0
  return h >>> 0
}

/** wt6, HAProxy's own: two rotating 32-bit states with data-dependent rotation counts. */
export function wt6 (s: string, start = 0, end = s.length): number {
  let h0 = 0xa53c965a
  let h1 = 0x5ca6953a
  let step0 = 6
  let step1 = 18
  for (let i = start; i < end; i++) {
    let t = s.charCodeAt(i) & 0xff
    h0 = ~(h0 ^ t)
    h1 = ~(h1 + t)
    // A rotation by 0 leaves the value as is (x86 masks the `32 - 0` shift count, as JS does).
    t = (h1 << step0) | (h1 >>> (32 - step0))
    h1 = (h0 << step1) | (h0 >>> (32 - step1))
    h0 = t
    t = ((h0 >>> 16) ^ h1) & 0xffff
    step0 = t & 0x1f
    step1 = t >>> 11
  }
  return (h0 ^ h1) >>> 0
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c
  }
  return table
})()

/** The CRC-32 of Ethernet, gzip and PNG (reflected polynomial 0xEDB88320). */
export function crc32 (s: string, start = 0, end = s.length): number {
  let c = -1
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ s.charCodeAt(i)) & 0xff] as number) ^ (c >>> 8)
  return ~c >>> 0
}

export const HASH_FUNCTIONS: Readonly<Record<HashType['function'], HashFunction>> = { sdbm, djb2, wt6, crc32 }

/**
 * The `avalanche` modifier: one of Bob Jenkins' full-avalanche integer hashes, then a multiply by
 * 3221225473 to spread the result over the 32-bit space (HAProxy's full_hash()). Consistent
 * hashing also places server nodes on the ring with it.
 */
export function fullHash (a: number): number {
  a = (a + 0x7ed55d16 + (a << 12)) | 0
  a = (a ^ 0xc761c23c) ^ (a >>> 19)
  a = (a + 0x165667b1 + (a << 5)) | 0
  a = ((a + 0xd3a2646c) | 0) ^ (a << 9)
  a = (a + 0xfd7046c5 + (a << 3)) | 0
  a = (a ^ 0xb55a4f09) ^ (a >>> 16)
  return Math.imul(a, 3221225473 | 0) >>> 0
}

/** Hashes `key[start..end)` with `fn`, as UTF-8 if the key holds a character beyond one byte. */
export function hashKey (fn: HashFunction, key: string, start = 0, end = key.length): number {
  for (let i = start; i < end; i++) {
    if (key.charCodeAt(i) > 0xff) {
      const bytes = Buffer.from(key.slice(start, end), 'utf8').toString('latin1')
      return fn(bytes, 0, bytes.length)
    }
  }
  return fn(key, start, end)
}

const v6Head = new Uint16Array(8)
const v6Tail = new Uint16Array(8)

/**
 * The key `balance source` hashes: the address's 32-bit big-endian words XORed together (the
 * IPv4 address itself; the four words of an IPv6 address). An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, what a dual-stack listener reports for an IPv4 client) counts as the IPv4
 * address, so one client hashes alike on either listener. Brackets and a zone (%eth0) are
 * ignored. undefined when `addr` is not an IP address (HAProxy cannot hash those either).
 */
export function sourceKey (addr: string): number | undefined {
  let start = 0
  let end = addr.length
  if (addr.charCodeAt(0) === 0x5b /* [ */ && addr.charCodeAt(end - 1) === 0x5d /* ] */) { start = 1; end-- }
  const zone = addr.indexOf('%', start)
  if (zone >= 0 && zone < end) end = zone
  const colon = addr.indexOf(':', start)
  if (colon < 0 || colon >= end) {
    const v4 = parseIPv4(addr, start, end)
    return v4 < 0 ? undefined : v4
  }
  const g = parseIPv6(addr, start, end)
  if (g === undefined) return undefined
  const w0 = word(g, 0)
  const w1 = word(g, 1)
  const w2 = word(g, 2)
  const w3 = word(g, 3)
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return w3
  return (w0 ^ w1 ^ w2 ^ w3) >>> 0
}

function word (g: Uint16Array, i: number): number {
  return (((g[2 * i] as number) << 16) | (g[2 * i + 1] as number)) >>> 0
}

/** Dotted-quad `s[start..end)` as an unsigned 32-bit integer, -1 if malformed. */
export function parseIPv4 (s: string, start: number, end: number): number {
  let value = 0
  let part = 0
  let digits = 0
  let parts = 0
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x2e
    if (c === 0x2e) {
      if (digits === 0 || parts === 4) return -1
      value = value * 256 + part
      parts++
      part = 0
      digits = 0
    } else if (c >= 0x30 && c <= 0x39) {
      part = part * 10 + c - 0x30
      if (++digits > 3 || part > 255) return -1
    } else {
      return -1
    }
  }
  return parts === 4 ? value : -1
}

function hexDigit (c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  c |= 0x20
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10
  return -1
}

let v6HeadLen = 0
let v6TailLen = 0
let v6Compressed = false

function v6Push (v: number): boolean {
  if (v6HeadLen + v6TailLen >= 8) return false
  if (v6Compressed) v6Tail[v6TailLen++] = v
  else v6Head[v6HeadLen++] = v
  return true
}

/** The eight 16-bit groups of IPv6 text `s[start..end)`, undefined if malformed (shared buffer). */
function parseIPv6 (s: string, start: number, end: number): Uint16Array | undefined {
  v6HeadLen = 0
  v6TailLen = 0
  v6Compressed = false
  let i = start
  if (s.charCodeAt(i) === 0x3a) {
    if (s.charCodeAt(i + 1) !== 0x3a) return undefined
    v6Compressed = true
    i += 2
  }
  while (i < end) {
    let j = i
    let v = 0
    while (j < end) {
      const d = hexDigit(s.charCodeAt(j))
      if (d < 0) break
      v = v * 16 + d
      j++
    }
    if (j < end && s.charCodeAt(j) === 0x2e) {
      const v4 = parseIPv4(s, i, end)
      if (v4 < 0 || !v6Push(v4 >>> 16) || !v6Push(v4 & 0xffff)) return undefined
      break
    }
    if (j === i || j - i > 4 || !v6Push(v)) return undefined
    if (j === end) break
    if (s.charCodeAt(j) !== 0x3a) return undefined
    if (s.charCodeAt(j + 1) === 0x3a) {
      if (v6Compressed) return undefined
      v6Compressed = true
      i = j + 2
    } else {
      i = j + 1
      if (i === end) return undefined
    }
  }
  const head = v6HeadLen
  const tail = v6TailLen
  if (v6Compressed ? head + tail > 7 : head !== 8) return undefined
  for (let k = head; k < 8; k++) v6Head[k] = 0
  for (let k = 0; k < tail; k++) v6Head[8 - tail + k] = v6Tail[k] as number
  return v6Head
}
