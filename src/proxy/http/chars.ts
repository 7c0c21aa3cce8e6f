/**
 * Byte classification tables for the HTTP/1.1 codec (RFC 9110 §5.6, RFC 9112 §2–§7). One
 * `Uint8Array(256)` per class, indexed by byte value: a lookup per byte in the hot loops instead of
 * range tests or regular expressions.
 * @module
 */

export const CR = 0x0d
export const LF = 0x0a
export const SP = 0x20
export const HT = 0x09
export const COLON = 0x3a
export const COMMA = 0x2c
export const SEMI = 0x3b
export const DQUOTE = 0x22
export const BACKSLASH = 0x5c
export const HASH = 0x23

function table (pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256)
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0
  return t
}

const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39

/** tchar (RFC 9110 §5.6.2): what header names, methods and transfer codings are made of. */
export const TOKEN = table(c => isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)))

/**
 * Bytes allowed inside a field value (RFC 9110 §5.5): field-vchar (VCHAR / obs-text), SP, HTAB.
 * Everything else (NUL, CR, LF, other CTLs, DEL) ends the value scan and is then diagnosed.
 */
export const VALUE = table(c => c === HT || (c >= 0x20 && c !== 0x7f))

/**
 * Bytes allowed in a request-target: VCHAR only (no SP, no CTL, no obs-text), and no '#': a fragment is never sent
 * (RFC 9110 §7.1); HAProxy 2.6 refuses it too (CVE-2023-45539).
 */
export const TARGET = table(c => c >= 0x21 && c <= 0x7e && c !== HASH)

/** Reason-phrase bytes (RFC 9112 §4): HTAB / SP / VCHAR / obs-text. */
export const REASON = VALUE

/**
 * Characters of a uri-host reg-name / IPv4 (RFC 3986 unreserved, pct-encoded and sub-delims), minus
 * ',' which HAProxy rejects in a Host as ambiguous (a list separator).
 */
export const HOST = table(c => isAlpha(c) || isDigit(c) || "-._~%!$&'()*+;=".includes(String.fromCharCode(c)))

/** Inside an IP-literal: IPv6 (hex, ':', '.') and IPvFuture ('v', unreserved, sub-delims, ':'). */
export const HOST_IP_LITERAL = table(c => HOST[c] === 1 || c === COLON)

/** URI scheme characters after the first ALPHA (RFC 3986 §3.1). */
export const SCHEME = table(c => isAlpha(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e)

/** Hex digit value, or -1. */
export const HEX = new Int8Array(256).fill(-1)
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c
  HEX[0x61 + c] = 10 + c
}

/**
 * ASCII lower-casing for comparisons against lower-case literals. Only letters change; the
 * mapping never makes a non-letter equal to a letter.
 */
export const LOWER = new Uint8Array(256)
for (let c = 0; c < 256; c++) LOWER[c] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c

/** True when `buf[start, end)` equals `lower` (an ASCII lower-case literal) ignoring ASCII case. */
export function bytesEqualLower (buf: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false
  for (let i = 0; i < lower.length; i++) {
    if (LOWER[buf[start + i] as number] !== lower.charCodeAt(i)) return false
  }
  return true
}

/** True when string `s` equals `lower` (an ASCII lower-case literal) ignoring ASCII case. */
export function stringEqualLower (s: string, lower: string): boolean {
  if (s.length !== lower.length) return false
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(i)
    if (c >= 0x41 && c <= 0x5a) c |= 0x20
    if (c !== lower.charCodeAt(i)) return false
  }
  return true
}

/** True when every character of `s` is a tchar (and `s` is not empty). */
export function isToken (s: string): boolean {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff || TOKEN[c] !== 1) return false
  }
  return true
}

/** Node's Buffer has a latin1 slicer without toString()'s encoding dispatch; it is not in @types/node. */
interface Latin1Buffer extends Buffer {
  latin1Slice (start: number, end: number): string
}

/** `buf[start, end)` as a latin1 string: one char per byte, so bytes round-trip exactly. */
export function latin1 (buf: Buffer, start: number, end: number): string {
  return (buf as Latin1Buffer).latin1Slice(start, end)
}

interface Latin1WritableBuffer extends Buffer {
  latin1Write (s: string, offset: number, length?: number): number
}

/** Writes `s` (chars <= 0xff) at `offset` of `buf` one byte per char; returns the bytes written. */
export function writeLatin1 (buf: Buffer, s: string, offset: number): number {
  return (buf as Latin1WritableBuffer).latin1Write(s, offset, s.length)
}
