/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt), versions 1 (text) and 2 (binary): a strict
 * decoder that works on a growing buffer, and the encoders `send-proxy` / `send-proxy-v2` use.
 * Pure: no sockets, no clock.
 */
import { formatIp, parseIp } from '../../net/addr.ts'
import { ProxyHeaderError, ProxyHeaderMissingError } from '../errors.ts'
import { crc32c } from './crc32c.ts'

export interface Endpoint {
  readonly address: string
  readonly port: number
}

export interface Tlv {
  readonly type: number
  readonly value: Buffer
}

export interface ProxyHeader {
  readonly version: 1 | 2
  /**
   * The addresses the header carries; undefined for v1 `UNKNOWN`, a v2 `LOCAL` command, or a v2
   * family without IP addresses (the connection's own addresses then stand).
   */
  readonly source?: Endpoint
  readonly destination?: Endpoint
  readonly tlvs: readonly Tlv[]
}

export type DecodeResult =
  | { readonly done: false }
  | { readonly done: true, readonly header: ProxyHeader, readonly length: number }

const V1_PREFIX = Buffer.from('PROXY ')
/** A v1 line is at most 107 bytes with its CRLF. */
const V1_MAX = 107
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])
const V2_FIXED = 16
const PP2_TYPE_CRC32C = 0x03
const PP2_TYPE_NOOP = 0x04

const INCOMPLETE: DecodeResult = { done: false }

/** Whether `buf` could still be the start of `sig`. */
function startsLike (buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length)
  return buf.subarray(0, n).equals(sig.subarray(0, n))
}

/**
 * Decodes the header at the start of `buf`. `{ done: false }`: more bytes are needed. Throws
 * ProxyHeaderError as soon as the bytes cannot be a valid header.
 */
export function decodeProxyHeader (buf: Buffer): DecodeResult {
  if (buf.length === 0) return INCOMPLETE
  if (startsLike(buf, V2_SIGNATURE) && buf[0] === 0x0d) return decodeV2(buf)
  if (startsLike(buf, V1_PREFIX)) return decodeV1(buf)
  throw new ProxyHeaderMissingError()
}

function decodeV1 (buf: Buffer): DecodeResult {
  const limit = Math.min(buf.length, V1_MAX)
  const cr = buf.subarray(0, limit).indexOf(0x0d)
  const lf = buf.subarray(0, limit).indexOf(0x0a)
  if (lf >= 0 && (cr < 0 || lf < cr)) throw new ProxyHeaderError('PROXY v1 line not ended by CRLF')
  if (cr < 0 || cr + 1 >= limit) {
    if (buf.length >= V1_MAX) throw new ProxyHeaderError('PROXY v1 line longer than 107 bytes')
    return INCOMPLETE
  }
  if (buf[cr + 1] !== 0x0a) throw new ProxyHeaderError('PROXY v1 line not ended by CRLF')
  const line = buf.subarray(0, cr).toString('latin1')
  const words = line.split(' ')
  const proto = words[1]
  if (proto === 'UNKNOWN') return { done: true, header: { version: 1, tlvs: [] }, length: cr + 2 }
  if (proto !== 'TCP4' && proto !== 'TCP6') throw new ProxyHeaderError(`PROXY v1: unknown protocol '${proto ?? ''}'`)
  if (words.length !== 6) throw new ProxyHeaderError('PROXY v1: expected 4 fields after the protocol')
  const family = proto === 'TCP4' ? 4 : 16
  const [, , src = '', dst = '', sport = '', dport = ''] = words
  return {
    done: true,
    header: {
      version: 1,
      source: { address: v1Address(src, family), port: v1Port(sport) },
      destination: { address: v1Address(dst, family), port: v1Port(dport) },
      tlvs: []
    },
    length: cr + 2
  }
}

function v1Address (text: string, size: 4 | 16): string {
  const b = parseIp(text)
  if (b?.length !== size || text.includes('%')) throw new ProxyHeaderError(
    `PROXY v1: '${text}' is not an IPv${size === 4 ? 4 : 6} address`)
  return size === 4 ? text : v6Text(b)
}

function v1Port (text: string): number {
  if (!/^(0|[1-9]\d{0,4})$/.test(text) || Number(text) > 65535) throw new ProxyHeaderError(
    `PROXY v1: '${text}' is not a port`)
  return Number(text)
}

function decodeV2 (buf: Buffer): DecodeResult {
  if (buf.length < V2_FIXED) return INCOMPLETE
  const verCmd = buf[12] as number
  if (verCmd >> 4 !== 2) throw new ProxyHeaderError(`PROXY v2: unsupported version ${verCmd >> 4}`)
  const command = verCmd & 0x0f
  if (command > 1) throw new ProxyHeaderError(`PROXY v2: unknown command ${command}`)
  const fam = buf[13] as number
  const len = buf.readUInt16BE(14)
  const total = V2_FIXED + len
  if (buf.length < total) return INCOMPLETE
  const body = buf.subarray(V2_FIXED, total)
  let addrLen = 0
  let endpoints: { source: Endpoint, destination: Endpoint } | undefined
  switch (fam) {
    case 0x00: break
    case 0x11: case 0x12: addrLen = 12; break
    case 0x21: case 0x22: addrLen = 36; break
    case 0x31: case 0x32: addrLen = 216; break
    default: throw new ProxyHeaderError(`PROXY v2: unknown address family 0x${fam.toString(16)}`)
  }
  if (len < addrLen) throw new ProxyHeaderError('PROXY v2: address block shorter than its family')
  if (addrLen === 12 || addrLen === 36) {
    const a = addrLen === 12 ? 4 : 16
    endpoints = {
      source: { address: ipText(body.subarray(0, a)), port: body.readUInt16BE(2 * a) },
      destination: { address: ipText(body.subarray(a, 2 * a)), port: body.readUInt16BE(2 * a + 2) }
    }
  }
  const tlvs = decodeTlvs(buf, V2_FIXED + addrLen, total)
  // LOCAL: the connection was made by the proxy itself (a health check); its addresses are ignored.
  const header: ProxyHeader = command === 1 && endpoints !== undefined ? { version: 2, ...endpoints, tlvs } :
    { version: 2, tlvs }
  return { done: true, header, length: total }
}

function decodeTlvs (buf: Buffer, start: number, end: number): Tlv[] {
  const tlvs: Tlv[] = []
  for (let at = start; at < end;) {
    if (at + 3 > end) throw new ProxyHeaderError('PROXY v2: truncated TLV')
    const type = buf[at] as number
    const len = buf.readUInt16BE(at + 1)
    if (at + 3 + len > end) throw new ProxyHeaderError('PROXY v2: TLV longer than the header')
    const value = buf.subarray(at + 3, at + 3 + len)
    if (type === PP2_TYPE_CRC32C) {
      if (len !== 4) throw new ProxyHeaderError('PROXY v2: CRC32C TLV is not 4 bytes')
      const copy = Buffer.from(buf.subarray(0, end))
      copy.fill(0, at + 3, at + 7)
      if (crc32c(copy) !== value.readUInt32BE(0)) throw new ProxyHeaderError('PROXY v2: bad CRC32C')
    }
    if (type !== PP2_TYPE_NOOP) tlvs.push({ type, value: Buffer.from(value) })
    at += 3 + len
  }
  return tlvs
}

/** v4-mapped IPv6 addresses count as IPv4, as the kernel reports a v4 client on a dual-stack socket. */
function unmapped (address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address
}

/** Both addresses in one family: IPv4 when both are, else IPv6 (an IPv4 one mapped). */
function sameFamily (src: Endpoint, dst: Endpoint): { v4: boolean, src: Uint8Array, dst: Uint8Array } | undefined {
  const s = parseIp(unmapped(src.address))
  const d = parseIp(unmapped(dst.address))
  if (s === undefined || d === undefined) return undefined
  if (s.length === 4 && d.length === 4) return { v4: true, src: s, dst: d }
  const widen = (b: Uint8Array): Uint8Array => b.length === 16 ? b :
    Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...b])
  return { v4: false, src: widen(s), dst: widen(d) }
}

/** As inet_ntop writes it: a v4-mapped IPv6 address ends in a dotted quad. */
function v6Text (b: Uint8Array): string {
  const mapped = b.subarray(0, 12).every((x, i) => x === (i < 10 ? 0 : 0xff))
  return mapped ? `::ffff:${formatIp(b.subarray(12))}` : formatIp(b)
}

function ipText (b: Uint8Array): string {
  return b.length === 4 ? formatIp(b) : v6Text(b)
}

/** `PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n`, or `PROXY UNKNOWN\r\n` without usable addresses. */
export function encodeProxyV1 (src: Endpoint | undefined, dst: Endpoint | undefined): Buffer {
  const f = src === undefined || dst === undefined ? undefined : sameFamily(src, dst)
  if (f === undefined || src === undefined || dst === undefined) return Buffer.from('PROXY UNKNOWN\r\n')
  return Buffer.from(
    `PROXY ${f.v4 ? 'TCP4' : 'TCP6'} ${ipText(f.src)} ${ipText(f.dst)} ${src.port} ${dst.port}\r\n`, 'latin1')
}

/** The v2 header, PROXY command over TCP, or LOCAL without usable addresses. No TLV. */
export function encodeProxyV2 (src: Endpoint | undefined, dst: Endpoint | undefined): Buffer {
  const f = src === undefined || dst === undefined ? undefined : sameFamily(src, dst)
  if (f === undefined || src === undefined || dst === undefined) {
    return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])])
  }
  const a = f.v4 ? 4 : 16
  const out = Buffer.alloc(V2_FIXED + 2 * a + 4)
  V2_SIGNATURE.copy(out, 0)
  out[12] = 0x21
  out[13] = f.v4 ? 0x11 : 0x21
  out.writeUInt16BE(2 * a + 4, 14)
  out.set(f.src, V2_FIXED)
  out.set(f.dst, V2_FIXED + a)
  out.writeUInt16BE(src.port, V2_FIXED + 2 * a)
  out.writeUInt16BE(dst.port, V2_FIXED + 2 * a + 2)
  return out
}
