/**
 * VRRP advertisement codec, pure: VRRPv2 (RFC 3768 §5) and VRRPv3 (RFC 5798 §5), IPv4 and IPv6,
 * byte-compatible with keepalived 2.2.7 (vrrp_build_vrrp_v2/v3, vrrp_build_ip4).
 *
 *   v2:  0x21 | VRID | Prio | Count | AuthType | AdverInt(s) | Checksum | n×IPv4 | AuthData[8]
 *        checksum over the VRRP message only, no pseudo-header.
 *   v3:  0x31 | VRID | Prio | Count | rsvd:4 MaxAdverInt(cs):12 | Checksum | n×IPv4 or n×IPv6
 *        checksum with the IPv4/IPv6 pseudo-header of the *actual* source and destination.
 *
 * Decoders never throw: they return `{ ok: false, reason }` with a drop reason (validate.ts has
 * the full list). Encoders throw VrrpEncodeError on bad arguments.
 */
import { formatIp, ipBytes } from '../net/addr.ts'
import { internetChecksum } from '../net/checksum.ts'
import { VrrpEncodeError } from './errors.ts'

export const IPPROTO_VRRP = 112
export const IPPROTO_AH = 51
export const VRRP_MULTICAST_V4 = '224.0.0.18'
export const VRRP_MULTICAST_V6 = 'ff02::12'
/** TTL / hop limit of every advert (RFC: MUST be 255, and checked on receive). */
export const VRRP_TTL = 255
/** keepalived's IPv4 TOS (and IPv6 traffic class): internetwork control. */
export const VRRP_TOS = 0xc0
export const VRRP_TYPE_ADVERT = 1
export const VRRP_HEADER_LEN = 8
export const VRRP_AUTH_LEN = 8
export const AUTH_NONE = 0
export const AUTH_PASS = 1
export const AUTH_AH = 2
export const IPV4_HEADER_LEN = 20

export interface AdvertV2Fields {
  readonly version: 2
  /** Default 1 (ADVERTISEMENT). */
  readonly type?: number
  readonly vrid: number
  readonly priority: number
  /** IPv4 addresses (v2 is IPv4 only). */
  readonly addresses: readonly string[]
  /** Whole seconds, 1..255. */
  readonly advertIntervalSec: number
  /** 0 none (default), 1 simple text password; 2 (AH) is kept only to re-encode what was decoded. */
  readonly authType?: number
  /** The 8 auth bytes: a password (zero-padded, cut to 8 bytes) or raw bytes. Zeros when absent. */
  readonly authData?: Uint8Array | string
}

export interface AdvertV3Fields {
  readonly version: 3
  readonly type?: number
  readonly vrid: number
  readonly priority: number
  /** All IPv4 or all IPv6, the family of the pseudo-header addresses. */
  readonly addresses: readonly string[]
  /** Max Advert Interval in centiseconds, 12 bits (1..4095). */
  readonly maxAdvertIntervalCs: number
}

export type AdvertFields = AdvertV2Fields | AdvertV3Fields

/** The real source and destination of the IP packet: the v3 checksum covers them. */
export interface PseudoHeaderAddresses {
  readonly src: string
  readonly dst: string
}

interface DecodedCommon {
  readonly family: 4 | 6
  readonly type: number
  readonly vrid: number
  readonly priority: number
  /** The Count IPvX Addr field. */
  readonly count: number
  readonly addresses: readonly string[]
  readonly addressBytes: readonly Uint8Array[]
  /** The checksum field as received. */
  readonly checksum: number
  /** Length of the VRRP message in bytes. */
  readonly length: number
}

export interface DecodedAdvertV2 extends DecodedCommon {
  readonly version: 2
  readonly authType: number
  readonly advertIntervalSec: number
  readonly authData: Uint8Array
}

export interface DecodedAdvertV3 extends DecodedCommon {
  readonly version: 3
  readonly maxAdvertIntervalCs: number
  /** The 4 reserved bits (sent as zero, ignored on receive). */
  readonly reserved: number
}

export type DecodedAdvert = DecodedAdvertV2 | DecodedAdvertV3

export type CodecFailure = { readonly ok: false, readonly reason: 'too-short' | 'bad-length' | 'version-mismatch' |
  'bad-ip-header', readonly message: string }
export type CodecResult<T> = { readonly ok: true, readonly value: T } | CodecFailure

/** The 8 fixed bytes of any VRRP header, without interpretation. */
export interface RawVrrpHeader {
  readonly version: number
  readonly type: number
  readonly vrid: number
  readonly priority: number
  readonly count: number
  /** Bytes 4-5 as one big-endian word (v2: auth type << 8 | adver int; v3: rsvd << 12 | max adver int). */
  readonly word4: number
  readonly checksum: number
}

export function readRawHeader (vrrp: Uint8Array): RawVrrpHeader | undefined {
  if (vrrp.length < VRRP_HEADER_LEN) return undefined
  const b0 = vrrp[0] as number
  return {
    version: b0 >> 4,
    type: b0 & 0x0f,
    vrid: vrrp[1] as number,
    priority: vrrp[2] as number,
    count: vrrp[3] as number,
    word4: (vrrp[4] as number) << 8 | (vrrp[5] as number),
    checksum: (vrrp[6] as number) << 8 | (vrrp[7] as number)
  }
}

/**
 * The length a VRRP message must have, as keepalived's expected_vrrp_pkt_len: IPv4 and version
 * nibble 2 carries the 8 auth bytes; anything else is 8 + Count × address size.
 */
export function expectedVrrpLength (version: number, count: number, family: 4 | 6): number {
  if (family === 6) return VRRP_HEADER_LEN + 16 * count
  return VRRP_HEADER_LEN + 4 * count + (version === 2 ? VRRP_AUTH_LEN : 0)
}

/** Decode a VRRP message (no IP header). The length must be exact; the checksum is not checked here. */
export function decodeAdvert (vrrp: Uint8Array, family: 4 | 6): CodecResult<DecodedAdvert> {
  const h = readRawHeader(vrrp)
  if (h === undefined) return { ok: false, reason: 'too-short',
    message: `VRRP packet too short - ${vrrp.length} bytes` }
  if (h.version !== 2 && h.version !== 3) return { ok: false, reason: 'version-mismatch',
    message: `unknown VRRP version ${h.version}` }
  const expected = expectedVrrpLength(h.version, h.count, family)
  if (vrrp.length !== expected) {
    return { ok: false, reason: 'bad-length', message:
      `vrrp packet too ${vrrp.length > expected ? 'long' : 'short'}, length ${vrrp.length} and expect ${expected}` }
  }
  const size = family === 4 ? 4 : 16
  const addressBytes: Uint8Array[] = []
  for (let i = 0; i < h.count; i++) addressBytes.push(vrrp.slice(VRRP_HEADER_LEN + i * size,
    VRRP_HEADER_LEN + (i + 1) * size))
  const common = {
    family,
    type: h.type,
    vrid: h.vrid,
    priority: h.priority,
    count: h.count,
    addresses: addressBytes.map(formatIp),
    addressBytes,
    checksum: h.checksum,
    length: vrrp.length
  }
  if (h.version === 2) {
    const authData = family === 4 ? vrrp.slice(vrrp.length - VRRP_AUTH_LEN) : new Uint8Array(VRRP_AUTH_LEN)
    return { ok: true, value: { ...common, version: 2, authType: h.word4 >> 8, advertIntervalSec: h.word4 & 0xff,
      authData } }
  }
  return { ok: true, value: { ...common, version: 3, maxAdvertIntervalCs: h.word4 & 0x0fff, reserved: h.word4 >> 12 } }
}

/** The fields to give encodeAdvert to rebuild a decoded advert byte for byte (reserved bits aside). */
export function advertFields (d: DecodedAdvert): AdvertFields {
  if (d.version === 2) {
    return { version: 2, type: d.type, vrid: d.vrid, priority: d.priority, addresses: d.addresses,
      advertIntervalSec: d.advertIntervalSec, authType: d.authType, authData: d.authData }
  }
  return { version: 3, type: d.type, vrid: d.vrid, priority: d.priority, addresses: d.addresses,
    maxAdvertIntervalCs: d.maxAdvertIntervalCs }
}

function checkByte (what: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new VrrpEncodeError(
    `${what} must be an integer in ${min}..${max}, got ${v}`)
}

/** The 8 auth bytes of a v2 advert: text is zero-padded and cut to 8 bytes (keepalived auth_data). */
export function authBytes (data: Uint8Array | string | undefined): Uint8Array {
  const out = new Uint8Array(VRRP_AUTH_LEN)
  if (data === undefined) return out
  const src = typeof data === 'string' ? new TextEncoder().encode(data) : data
  out.set(src.subarray(0, VRRP_AUTH_LEN))
  return out
}

/**
 * The value of the checksum field for a VRRP message (whose own checksum bytes are ignored).
 * v2: no pseudo-header; v3: pseudo-header with `pseudo` (required for v3).
 */
export function computeAdvertChecksum (vrrp: Uint8Array, version: 2 | 3, pseudo?: { readonly src: Uint8Array,
  readonly dst: Uint8Array }): number {
  const zeroed = vrrp.slice()
  if (zeroed.length >= VRRP_HEADER_LEN) { zeroed[6] = 0; zeroed[7] = 0 }
  if (version === 2) return internetChecksum(zeroed)
  if (pseudo === undefined) throw new VrrpEncodeError('a VRRPv3 checksum needs the source and destination addresses')
  return internetChecksum(pseudoHeader(pseudo.src, pseudo.dst, zeroed.length), zeroed)
}

/** True when the checksum field of `vrrp` is right (see computeAdvertChecksum). */
export function checksumValid (vrrp: Uint8Array, version: 2 | 3, pseudo?: { readonly src: Uint8Array,
  readonly dst: Uint8Array }): boolean {
  if (vrrp.length < VRRP_HEADER_LEN) return false
  if (version === 2) return internetChecksum(vrrp) === 0
  if (pseudo === undefined) return false
  return internetChecksum(pseudoHeader(pseudo.src, pseudo.dst, vrrp.length), vrrp) === 0
}

/** IPv4: src, dst, 0, 112, length (16 bits). IPv6 (RFC 2460 §8.1): src, dst, length (32 bits), 0,0,0, 112. */
export function pseudoHeader (src: Uint8Array, dst: Uint8Array, length: number): Uint8Array {
  if (src.length === 4 && dst.length === 4) {
    const ph = new Uint8Array(12)
    ph.set(src, 0); ph.set(dst, 4)
    ph[9] = IPPROTO_VRRP
    ph[10] = length >> 8; ph[11] = length & 0xff
    return ph
  }
  if (src.length === 16 && dst.length === 16) {
    const ph = new Uint8Array(40)
    ph.set(src, 0); ph.set(dst, 16)
    new DataView(ph.buffer).setUint32(32, length)
    ph[39] = IPPROTO_VRRP
    return ph
  }
  throw new VrrpEncodeError('pseudo-header source and destination must both be IPv4 or both IPv6')
}

/**
 * Encode a VRRP message (no IP header) with its checksum. v3 needs `pseudo` (the real source and
 * destination: the peer's address for unicast). For IPv6 the kernel recomputes the checksum
 * (IPV6_CHECKSUM); we fill it anyway so the bytes are the ones on the wire.
 */
export function encodeAdvert (fields: AdvertFields, pseudo?: PseudoHeaderAddresses): Uint8Array {
  checkByte('VRID', fields.vrid, 1, 255)
  checkByte('priority', fields.priority, 0, 255)
  checkByte('type', fields.type ?? VRRP_TYPE_ADVERT, 0, 15)
  if (fields.addresses.length > 255) throw new VrrpEncodeError(
    `at most 255 addresses in an advert, got ${fields.addresses.length}`)
  const pseudoBytes = pseudo === undefined ? undefined : { src: ipBytes(pseudo.src), dst: ipBytes(pseudo.dst) }
  if (pseudoBytes !== undefined && pseudoBytes.src.length !== pseudoBytes.dst.length) throw new VrrpEncodeError(
    'source and destination must be of one family')
  let family: 4 | 6 = 4
  if (fields.version === 3) {
    if (pseudoBytes === undefined) throw new VrrpEncodeError(
      'a VRRPv3 advert needs the source and destination addresses for its checksum')
    family = pseudoBytes.src.length === 4 ? 4 : 6
  } else if (pseudoBytes !== undefined && pseudoBytes.src.length !== 4) {
    throw new VrrpEncodeError('VRRPv2 is IPv4 only')
  }
  const addrs = fields.addresses.map(a => ipBytes(a, family))
  const n = addrs.length
  const size = family === 4 ? 4 : 16
  const len = expectedVrrpLength(fields.version, n, family)
  const out = new Uint8Array(len)
  out[0] = fields.version << 4 | (fields.type ?? VRRP_TYPE_ADVERT)
  out[1] = fields.vrid
  out[2] = fields.priority
  out[3] = n
  addrs.forEach((a, i) => out.set(a, VRRP_HEADER_LEN + i * size))
  if (fields.version === 2) {
    checkByte('auth type', fields.authType ?? AUTH_NONE, 0, 255)
    checkByte('advert interval (s)', fields.advertIntervalSec, 0, 255)
    out[4] = fields.authType ?? AUTH_NONE
    out[5] = fields.advertIntervalSec
    out.set(authBytes(fields.authData), len - VRRP_AUTH_LEN)
  } else {
    checkByte('max advert interval (cs)', fields.maxAdvertIntervalCs, 0, 0x0fff)
    out[4] = fields.maxAdvertIntervalCs >> 8
    out[5] = fields.maxAdvertIntervalCs & 0xff
  }
  const ck = computeAdvertChecksum(out, fields.version, pseudoBytes)
  out[6] = ck >> 8
  out[7] = ck & 0xff
  return out
}

export interface Ipv4Header {
  /** Header length in bytes (IHL × 4). */
  readonly headerLength: number
  readonly tos: number
  readonly totalLength: number
  readonly id: number
  /** Flags (3 bits) and fragment offset, as one word. */
  readonly fragment: number
  readonly ttl: number
  readonly protocol: number
  readonly headerChecksum: number
  readonly src: string
  readonly dst: string
  readonly srcBytes: Uint8Array
  readonly dstBytes: Uint8Array
}

/**
 * Parse the IPv4 header a raw IPv4 socket delivers in front of the payload. Checks only what is
 * needed to find the payload (version 4, IHL ≥ 5, header present); the rest is the caller's.
 */
export function decodeIpv4Header (packet: Uint8Array): CodecResult<Ipv4Header> {
  if (packet.length < IPV4_HEADER_LEN) return { ok: false, reason: 'too-short',
    message: `IPv4 VRRP packet too short - ${packet.length} bytes` }
  const b0 = packet[0] as number
  const headerLength = (b0 & 0x0f) * 4
  if (b0 >> 4 !== 4 || headerLength < IPV4_HEADER_LEN) return { ok: false, reason: 'bad-ip-header',
    message: `not an IPv4 header (version ${b0 >> 4}, IHL ${b0 & 0x0f})` }
  if (packet.length < headerLength) return { ok: false, reason: 'too-short',
    message: `IPv4 VRRP packet too short - ${packet.length} bytes, IP header ${headerLength}` }
  const w = (i: number): number => (packet[i] as number) << 8 | (packet[i + 1] as number)
  const srcBytes = packet.slice(12, 16)
  const dstBytes = packet.slice(16, 20)
  return {
    ok: true,
    value: {
      headerLength,
      tos: packet[1] as number,
      totalLength: w(2),
      id: w(4),
      fragment: w(6),
      ttl: packet[8] as number,
      protocol: packet[9] as number,
      headerChecksum: w(10),
      src: formatIp(srcBytes),
      dst: formatIp(dstBytes),
      srcBytes,
      dstBytes
    }
  }
}

export interface Ipv4EncodeOptions {
  readonly src: string
  readonly dst: string
  /** Default 255 (keepalived, also for unicast unless unicast_ttl). */
  readonly ttl?: number
  /** keepalived counts up from 1 per instance. Default 0 (the kernel then picks one with IP_HDRINCL). */
  readonly id?: number
  /** Default 0xc0. */
  readonly tos?: number
  /** Default 112. */
  readonly protocol?: number
}

/**
 * An IPv4 header (20 bytes, DF clear, with its checksum) followed by `payload`: what keepalived sends with IP_HDRINCL.
 */
export function encodeIpv4Packet (payload: Uint8Array, opts: Ipv4EncodeOptions): Uint8Array {
  const src = ipBytes(opts.src, 4)
  const dst = ipBytes(opts.dst, 4)
  const total = IPV4_HEADER_LEN + payload.length
  if (total > 0xffff) throw new VrrpEncodeError(`IPv4 packet too long (${total} bytes)`)
  const ttl = opts.ttl ?? VRRP_TTL
  const id = opts.id ?? 0
  const tos = opts.tos ?? VRRP_TOS
  const protocol = opts.protocol ?? IPPROTO_VRRP
  checkByte('TTL', ttl, 0, 255)
  checkByte('TOS', tos, 0, 255)
  checkByte('protocol', protocol, 0, 255)
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new VrrpEncodeError(`IP id must be in 0..65535, got ${id}`)
  const out = new Uint8Array(total)
  out[0] = 0x45
  out[1] = tos
  out[2] = total >> 8; out[3] = total & 0xff
  out[4] = id >> 8; out[5] = id & 0xff
  out[8] = ttl
  out[9] = protocol
  out.set(src, 12)
  out.set(dst, 16)
  const ck = internetChecksum(out.subarray(0, IPV4_HEADER_LEN))
  out[10] = ck >> 8; out[11] = ck & 0xff
  out.set(payload, IPV4_HEADER_LEN)
  return out
}

export const IPV6_HEADER_LEN = 40

export interface Ipv6Header {
  readonly payloadLength: number
  readonly nextHeader: number
  readonly hopLimit: number
  readonly src: string
  readonly dst: string
  readonly srcBytes: Uint8Array
  readonly dstBytes: Uint8Array
}

/**
 * Parse the fixed IPv6 header in front of a captured VRRP message (the speaker receives IPv6
 * adverts through a packet capture, which keeps the header a raw IPv6 socket strips).
 */
export function decodeIpv6Header (packet: Uint8Array): CodecResult<Ipv6Header> {
  if (packet.length < IPV6_HEADER_LEN) return { ok: false, reason: 'too-short',
    message: `IPv6 VRRP packet too short - ${packet.length} bytes` }
  const version = (packet[0] as number) >> 4
  if (version !== 6) return { ok: false, reason: 'bad-ip-header', message: `not an IPv6 header (version ${version})` }
  const srcBytes = packet.slice(8, 24)
  const dstBytes = packet.slice(24, 40)
  return {
    ok: true,
    value: {
      payloadLength: (packet[4] as number) << 8 | (packet[5] as number),
      nextHeader: packet[6] as number,
      hopLimit: packet[7] as number,
      src: formatIp(srcBytes),
      dst: formatIp(dstBytes),
      srcBytes,
      dstBytes
    }
  }
}

/** An IPv6 packet around `payload` (traffic class 0xc0, hop limit 255 unless given), as on the wire. */
export function encodeIpv6Packet (payload: Uint8Array, opts: { readonly src: string, readonly dst: string,
  readonly hopLimit?: number, readonly nextHeader?: number }): Uint8Array {
  const hopLimit = opts.hopLimit ?? VRRP_TTL
  checkByte('hop limit', hopLimit, 0, 255)
  if (payload.length > 0xffff) throw new VrrpEncodeError(`IPv6 payload too long (${payload.length} bytes)`)
  const out = new Uint8Array(IPV6_HEADER_LEN + payload.length)
  out[0] = 0x60 | (VRRP_TOS >> 4)
  out[1] = (VRRP_TOS & 0x0f) << 4
  out[4] = payload.length >> 8; out[5] = payload.length & 0xff
  out[6] = opts.nextHeader ?? IPPROTO_VRRP
  out[7] = hopLimit
  out.set(ipBytes(opts.src, 6), 8)
  out.set(ipBytes(opts.dst, 6), 24)
  out.set(payload, IPV6_HEADER_LEN)
  return out
}
