/**
 * The peers protocol varint, exactly HAProxy's `intencode()` / `intdecode()` (v2.6.0 src/peers.c
 * 492–566):
 *
 * ```
 * enc(i): if i < 0xF0 { emit i; return }
 *         emit (i & 0xFF) | 0xF0; i = (i - 0xF0) >> 4
 *         while i >= 0x80 { emit (i & 0xFF) | 0x80; i = (i - 0x80) >> 7 }
 *         emit i
 * dec:    i = b0; if b0 >= 0xF0 { shift = 4; do { c = next; i += c << shift; shift += 7 } while c >= 0x80 }
 * ```
 *
 * The decoder adds the *full* byte (flag bits included), which the encoder's subtractions undo.
 * Boundaries (`PEER_ENC_nBYTES_MIN`): 2 bytes from 240, 3 from 2288, 4 from 264432, 5 from
 * 33818864, ..., 10 from 1161999626690365680. The mapping between byte strings and values is a
 * bijection, so there is no non-canonical encoding: "overlong" only means more than 10 bytes or a
 * value of 2^64 or more, which HAProxy would silently wrap and we refuse.
 *
 * Numbers below 2^53 take a float-exact fast path; bigint is used above it.
 * @module
 */
import { PEERS_ENCODE_CODES, PEERS_PROTOCOL_CODES, PeersEncodeError, PeersProtocolError } from './errors.ts'

/** At most 10 bytes (`PEER_ENC_MAX_BYTES`). */
export const VARINT_MAX_BYTES = 10
export const U64_MAX = (1n << 64n) - 1n

/** Smallest value taking n bytes, n = 1..10 (index 0 unused). */
export const VARINT_MIN_BY_LENGTH: readonly bigint[] = (() => {
  const mins = [0n, 0n, 0xf0n]
  for (let n = 3, bits = 11n; n <= VARINT_MAX_BYTES; n++, bits += 7n) mins.push((1n << bits) | (mins[n - 1] as bigint))
  return mins
})()

const TWO53 = 2 ** 53

function rangeError (value: number | bigint): PeersEncodeError {
  return new PeersEncodeError(PEERS_ENCODE_CODES.RANGE, `varint value out of range [0, 2^64-1]: ${String(value)}`)
}

/** Validates and returns the value as a number when < 2^53, else as a bigint. */
function normalize (value: number | bigint): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw rangeError(value)
    if (value < TWO53) return value
    if (value >= 2 ** 64) throw rangeError(value)
    return BigInt(value)
  }
  if (value < 0n || value > U64_MAX) throw rangeError(value)
  return value < BigInt(TWO53) ? Number(value) : value
}

/** Number of bytes `value` takes once encoded. */
export function varintLength (value: number | bigint): number {
  const v = normalize(value)
  if (typeof v === 'number') {
    if (v < 0xf0) return 1
    let n = 2
    let i = Math.floor((v - 0xf0) / 16)
    while (i >= 0x80) {
      i = Math.floor((i - 0x80) / 128)
      n++
    }
    return n
  }
  let n = 2
  let i = (v - 0xf0n) >> 4n
  while (i >= 0x80n) {
    i = (i - 0x80n) >> 7n
    n++
  }
  return n
}

/**
 * Writes `value` at `offset` and returns the offset after it. The caller guarantees room for
 * {@link varintLength} bytes (10 at most).
 */
export function writeVarint (target: Uint8Array, offset: number, value: number | bigint): number {
  const v = normalize(value)
  let o = offset
  if (typeof v === 'number') {
    if (v < 0xf0) {
      target[o] = v
      return o + 1
    }
    target[o++] = (v % 256) | 0xf0
    let i = Math.floor((v - 0xf0) / 16)
    while (i >= 0x80) {
      target[o++] = (i % 256) | 0x80
      i = Math.floor((i - 0x80) / 128)
    }
    target[o++] = i
    return o
  }
  target[o++] = Number(v & 0xffn) | 0xf0
  let i = (v - 0xf0n) >> 4n
  while (i >= 0x80n) {
    target[o++] = Number(i & 0xffn) | 0x80
    i = (i - 0x80n) >> 7n
  }
  target[o++] = Number(i)
  return o
}

/** The encoding of `value` (a number up to 2^64-1 that is an integer, or a bigint). */
export function encodeVarint (value: number | bigint): Buffer {
  const tmp = Buffer.allocUnsafe(VARINT_MAX_BYTES)
  const end = writeVarint(tmp, 0, value)
  return Buffer.from(tmp.subarray(0, end))
}

function overflow (): PeersProtocolError {
  return new PeersProtocolError(PEERS_PROTOCOL_CODES.VARINT_OVERFLOW,
    'varint longer than 10 bytes or larger than 2^64-1')
}

/**
 * Length in bytes of the varint at `offset`, or 0 when `end` comes first (need more bytes).
 * Throws VARINT_OVERFLOW when a 10th byte still has its continuation bit.
 */
export function varintSpan (buf: Uint8Array, offset: number, end: number): number {
  if (offset >= end) return 0
  if ((buf[offset] as number) < 0xf0) return 1
  let len = 1
  for (;;) {
    if (offset + len >= end) return 0
    const c = buf[offset + len] as number
    len++
    if (c < 0x80) return len
    if (len === VARINT_MAX_BYTES) throw overflow()
  }
}

/** Value of a complete varint of `len` bytes as a bigint; throws when >= 2^64. */
function bigValue (buf: Uint8Array, offset: number, len: number): bigint {
  let v = BigInt(buf[offset] as number)
  let shift = 4n
  for (let k = 1; k < len; k++, shift += 7n) v += BigInt(buf[offset + k] as number) << shift
  if (v > U64_MAX) throw overflow()
  return v
}

/** Value as a float: exact when the true value is <= 2^53-1, otherwise >= 2^53 (never below). */
function approxValue (buf: Uint8Array, offset: number, len: number): number {
  let v = buf[offset] as number
  let scale = 16
  for (let k = 1; k < len; k++, scale *= 128) v += (buf[offset + k] as number) * scale
  return v
}

export interface VarintBig {
  readonly value: bigint
  /** Bytes consumed. */
  readonly length: number
}

export interface VarintNumber {
  readonly value: number
  /** Bytes consumed. */
  readonly length: number
}

/**
 * Decodes the varint at `offset` (bytes up to `end` only). `null`: truncated, need more bytes.
 * Throws {@link PeersProtocolError} VARINT_OVERFLOW for more than 10 bytes or a value >= 2^64.
 */
export function decodeVarint (buf: Uint8Array, offset = 0, end = buf.length): VarintBig | null {
  const len = varintSpan(buf, offset, end)
  if (len === 0) return null
  if (len < 8) return { value: BigInt(approxValue(buf, offset, len)), length: len }
  return { value: bigValue(buf, offset, len), length: len }
}

/**
 * Like {@link decodeVarint} with a number result, for values the caller knows are small (lengths,
 * ids). Throws VARINT_RANGE when the value exceeds 2^53-1.
 */
export function decodeVarintNumber (buf: Uint8Array, offset = 0, end = buf.length): VarintNumber | null {
  const len = varintSpan(buf, offset, end)
  if (len === 0) return null
  const v = approxValue(buf, offset, len)
  if (v > Number.MAX_SAFE_INTEGER) {
    bigValue(buf, offset, len) // overflow beats range
    throw new PeersProtocolError(PEERS_PROTOCOL_CODES.VARINT_RANGE,
      'varint larger than 2^53-1 where a small number is expected')
  }
  return { value: v, length: len }
}

/**
 * Value of a complete varint of `len` bytes (from {@link varintSpan}): a number when it is below
 * 2^53, a bigint otherwise. Throws VARINT_OVERFLOW when >= 2^64.
 */
export function varintValue (buf: Uint8Array, offset: number, len: number): number | bigint {
  const v = approxValue(buf, offset, len)
  if (v <= Number.MAX_SAFE_INTEGER) return v
  return bigValue(buf, offset, len)
}
