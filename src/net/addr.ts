/**
 * IP addresses as bytes: parse, format (RFC 5952 for IPv6), compare numerically (keepalived
 * compares with ntohl, i.e. network byte order = lexicographic order of the bytes).
 */
import { isIPv4, isIPv6 } from 'node:net'
import { IpAddressError } from './errors.ts'

/** 4 bytes for IPv4, 16 for IPv6; undefined when the text is not an address. */
export function parseIp (text: string): Uint8Array | undefined {
  const zone = text.indexOf('%')
  const t = zone >= 0 ? text.slice(0, zone) : text
  if (isIPv4(t)) return parseV4(t)
  if (isIPv6(t)) return parseV6(t)
  return undefined
}

/** Like parseIp, but throws IpAddressError; `family` checks the result's family. */
export function ipBytes (text: string, family?: 4 | 6): Uint8Array {
  const b = parseIp(text)
  if (b === undefined) throw new IpAddressError(`'${text}' is not an IP address`)
  if (family !== undefined && b.length !== (family === 4 ? 4 : 16)) throw new IpAddressError(
    `'${text}' is not an IPv${family} address`)
  return b
}

function parseV4 (t: string): Uint8Array {
  return Uint8Array.from(t.split('.').map(Number))
}

function parseV6 (t: string): Uint8Array {
  let text = t
  const lastColon = text.lastIndexOf(':')
  const dotted = text.slice(lastColon + 1)
  if (dotted.includes('.')) {
    // An embedded IPv4 tail (::ffff:198.18.0.1) becomes two hex groups.
    const v4 = parseV4(dotted)
    const hi = ((v4[0] as number) << 8 | (v4[1] as number)).toString(16)
    const lo = ((v4[2] as number) << 8 | (v4[3] as number)).toString(16)
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`
  }
  const [left = '', right] = text.split('::')
  const groupsOf = (s: string): number[] => s === '' ? [] : s.split(':').map(h => parseInt(h, 16))
  const head = groupsOf(left)
  const tail = right === undefined ? [] : groupsOf(right)
  const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail]
  const out = new Uint8Array(16)
  for (let i = 0; i < 8; i++) {
    const g = groups[i] ?? 0
    out[2 * i] = g >> 8
    out[2 * i + 1] = g & 0xff
  }
  return out
}

/** Dotted quad, or RFC 5952 canonical IPv6 text. */
export function formatIp (b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
  if (b.length !== 16) throw new IpAddressError(`an IP address has 4 or 16 bytes, not ${b.length}`)
  const g: number[] = []
  for (let i = 0; i < 8; i++) g.push((b[2 * i] as number) << 8 | (b[2 * i + 1] as number))
  // Longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1; let bestLen = 0
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i }
    i = j
  }
  const hex = g.map(x => x.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`
}

/** Canonical text of an address (for comparisons of configured text), or undefined. */
export function canonicalIp (text: string): string | undefined {
  const b = parseIp(text)
  return b === undefined ? undefined : formatIp(b)
}

/**
 * Numeric comparison as keepalived's inet_sockaddrcmp/inet_inaddrcmp: -1, 0, 1; 0 when the
 * families differ (keepalived's "simple sanity").
 */
export function compareIp (a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  if (a.length !== b.length) return 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number; const y = b[i] as number
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

export function equalIp (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareIp(a, b) === 0
}

/** IPv4 224.0.0.0/4 or IPv6 ff00::/8. */
export function isMulticast (b: Uint8Array): boolean {
  if (b.length === 4) return ((b[0] as number) & 0xf0) === 0xe0
  return b[0] === 0xff
}
