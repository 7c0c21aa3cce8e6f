/**
 * Receive checks for one VRRP instance, in keepalived 2.2.7's order (vrrp_get_header, the VRID
 * lookup in vrrp_dispatcher_read, then vrrp_check_packet). Never throws: every bad input ends in
 * one of DROP_REASONS, each a stable id the speaker keeps one counter for.
 */
import { equalIp, formatIp, ipBytes, isMulticast } from '../net/addr.ts'
import {
  AUTH_AH, AUTH_NONE, AUTH_PASS, IPPROTO_AH, IPPROTO_VRRP, IPV6_HEADER_LEN, VRRP_HEADER_LEN, VRRP_MULTICAST_V4,
    VRRP_MULTICAST_V6,
  VRRP_TTL, VRRP_TYPE_ADVERT, authBytes, checksumValid, decodeAdvert, decodeIpv4Header, decodeIpv6Header,
    expectedVrrpLength,
  readRawHeader, type DecodedAdvert
} from './codec.ts'
import { VrrpConfigError } from './errors.ts'
import type { VrrpInstance } from '../config/model.ts'
import { normalizeAdvertInterval } from './timers.ts'

/**
 * Every reason a received packet is not used, in keepalived's check order. keepalived's log line
 * (and its stats counter) is given for each.
 */
export const DROP_REASONS = [
  /** Shorter than the IP header + the 8-byte VRRP header ("IPv4 VRRP packet too short"). */
  'too-short',
  /** Not an IPv4/IPv6 header (version, IHL), or not protocol 112 (IPv6: next header, no extension headers). */
  'bad-ip-header',
  /**
   * Not normal traffic for this instance, not counted: the destination is neither the VRRP group
   * nor this node's address (keepalived binds its socket to one or the other, so the kernel
   * never hands it such a packet; tslb's raw sockets cannot bind, and IPv6 is captured).
   */
  'wrong-destination',
  /** Another VRID: not an error, just not this instance's ("Unknown VRID(%d) ... ignoring"). */
  'not-for-us',
  /**
   * Length is not exactly IP header + 16+4n (v2) / 8+4n or 8+16n (v3) ("vrrp packet too short/long"; packet_len_err).
   */
  'bad-length',
  /** TTL / hop limit is not 255 on a multicast instance ("invalid TTL/HL"; ip_ttl_err). */
  'bad-ttl',
  /** Version other than the instance's; no v2/v3 mixing ("wrong version"; vers_err). */
  'version-mismatch',
  /** v2 auth type not 0, 1 or 2 ("Invalid auth type"; invalid_authtype). */
  'invalid-auth-type',
  /** v2 auth type differs from ours, or an AH packet ("received a %d auth, expecting %d!"; authtype_mismatch). */
  'auth-type-mismatch',
  /** v2 PASS: the 8 auth bytes differ ("received an invalid passwd!"; auth_failure). */
  'auth-failure',
  /** v2 only: Adver Int differs from ours ("advertisement interval mismatch"); v3 adopts the master's instead. */
  'interval-mismatch',
  /** Type is not 1 ("Invalid packet type"; invalid_type_rcvd). */
  'bad-type',
  /** Count differs from our VIP count ("received an unexpected ip number count"; addr_list_err). */
  'address-count-mismatch',
  /** IPv4 total length differs from the bytes received ("ip_tot_len mismatch"; packet_len_err). */
  'ip-length-mismatch',
  /** Checksum wrong ("Invalid VRRPv2/VRRPv3 checksum"; chk_err). */
  'bad-checksum',
  /** Multicast destination on a unicast instance or the reverse ("Expected %sicast packet"; addr_list_err). */
  'multicast-unicast-mismatch',
  /**
   * One of our VIPs is not in the advert ("ip address associated with VRID not present in MASTER advert";
   * addr_list_err).
   */
  'vip-mismatch',
  /** check_unicast_src: the source is not a unicast_peer ("unicast source address %s not a unicast peer"). */
  'unicast-src-not-peer',
  /**
   * check_unicast_src: TTL / hop limit outside the peer's min_ttl..max_ttl ("TTL/HL %d not in range %d - %d";
   * ip_ttl_err).
   */
  'ttl-out-of-range'
] as const

export type DropReason = typeof DROP_REASONS[number]

/**
 * 'not-for-us' (other VRIDs on the link) and 'wrong-destination' (another host's unicast) are
 * normal traffic; everything else is a protocol error.
 */
export function isProtocolError (reason: DropReason): boolean {
  return reason !== 'not-for-us' && reason !== 'wrong-destination'
}

/**
 * How the packet arrived. IPv4 (raw socket): the bytes start with the IPv4 header. IPv6 from a
 * packet capture: the bytes start with the IPv6 header. IPv6 from a raw socket: the kernel
 * strips the header, and the caller gives what it knows of it.
 */
export type ReceiveMeta =
  | { readonly family: 4 }
  | { readonly family: 6, readonly header: 'included' }
  | {
    readonly family: 6
    readonly header?: 'stripped'
    readonly src: string
    readonly dst: string
    /** From IPV6_HOPLIMIT ancillary data; undefined = not known, not checked (keepalived rx_ttl_hl = -1). */
    readonly hopLimit?: number
  }

/** A unicast_peer's accepted TTL / hop limit range (keepalived: `unicast_peer { ADDR min_ttl N max_ttl M }`). */
export interface PeerTtlRange {
  readonly address: string
  readonly min: number
  readonly max: number
}

/** The instance's side of the checks. advertCheckConfig() builds it from a VrrpInstance. */
export interface AdvertCheckConfig {
  readonly vrid: number
  readonly version: 2 | 3
  readonly family: 4 | 6
  /** v2 only. Without it, auth type 0 is expected. */
  readonly auth?: { readonly type: 'PASS', readonly password: string }
  /** Our configured interval in ms (normalized as keepalived does); compared in v2 only. */
  readonly advertIntervalMs: number
  /** Our VIPs (the advertised ones: not virtual_ipaddress_excluded). */
  readonly virtualAddresses: readonly string[]
  /** Non-empty means a unicast instance. */
  readonly unicastPeers: readonly string[]
  /** keepalived check_unicast_src: unicast adverts only from a unicast_peer. Default false. */
  readonly checkUnicastSrc?: boolean
  /** Per-peer TTL ranges (checked with checkUnicastSrc); a peer not listed accepts 0..255. */
  readonly peerTtl?: readonly PeerTtlRange[]
  /**
   * This node's address on the instance (the advert source): with it, a packet whose
   * destination is neither the VRRP group nor this address is 'wrong-destination'.
   */
  readonly localAddress?: string
  /**
   * Check the address count and every VIP (default true). The speaker passes false to implement
   * skip_check_adv_addr (BACKUP, advert from the same master as last time).
   */
  readonly checkVipAddresses?: boolean
}

export type AdvertValidation =
  | {
    readonly ok: true
    readonly advert: DecodedAdvert
    readonly src: string
    readonly dst: string
    /** TTL / hop limit, when known. */
    readonly ttl: number | undefined
    readonly multicast: boolean
    /** Advert interval of the advert in ms (v2: s × 1000, v3: cs × 10), for the state machine. */
    readonly advertIntervalMs: number
    /**
     * v3 unicast only: the checksum matched only with 224.0.0.18 as the pseudo-header
     * destination (keepalived < 1.3.6). keepalived then switches to sending that form too
     * (CHKSUM_COMPATIBILITY_AUTO); the speaker may do the same.
     */
    readonly legacyChecksum: boolean
  }
  | {
    readonly ok: false
    readonly reason: DropReason
    /** A log line in keepalived's words. */
    readonly message: string
    /** Set once the VRRP header could be read. */
    readonly vrid?: number
    readonly src?: string
  }

interface Compiled {
  readonly vips: readonly Uint8Array[]
  readonly peers: readonly { readonly address: Uint8Array, readonly minTtl: number, readonly maxTtl: number }[]
  readonly group: Uint8Array
  readonly local: Uint8Array | undefined
  readonly auth: Uint8Array
  readonly authType: number
  readonly intervalSec: number
}

const compiledCache = new WeakMap<AdvertCheckConfig, Compiled>()

function compile (cfg: AdvertCheckConfig): Compiled {
  let c = compiledCache.get(cfg)
  if (c === undefined) {
    c = {
      vips: cfg.virtualAddresses.map(a => ipBytes(a, cfg.family)),
      peers: cfg.unicastPeers.map(a => {
        const address = ipBytes(a, cfg.family)
        const range = cfg.peerTtl?.find(r => equalIp(ipBytes(r.address, cfg.family), address))
        return { address, minTtl: range?.min ?? 0, maxTtl: range?.max ?? 255 }
      }),
      group: ipBytes(cfg.family === 4 ? VRRP_MULTICAST_V4 : VRRP_MULTICAST_V6, cfg.family),
      local: cfg.localAddress === undefined ? undefined : ipBytes(cfg.localAddress, cfg.family),
      auth: authBytes(cfg.auth?.password),
      authType: cfg.auth === undefined ? AUTH_NONE : AUTH_PASS,
      intervalSec: Math.round(normalizeAdvertInterval(2, cfg.advertIntervalMs).ms / 1000)
    }
    compiledCache.set(cfg, c)
  }
  return c
}

/** The checks for an instance of the configuration. Throws VrrpConfigError when it cannot run. */
export function advertCheckConfig (inst: VrrpInstance): AdvertCheckConfig {
  if (inst.virtualRouterId === undefined) throw new VrrpConfigError(
    `vrrp_instance ${inst.name}: virtual_router_id is not set`)
  const families = new Set(inst.virtualAddresses.map(v => v.family))
  if (families.size > 1) throw new VrrpConfigError(`vrrp_instance ${inst.name}: virtual_ipaddress mixes IPv4 and IPv6`)
  const family: 4 | 6 = families.has(6) ? 6 : 4
  if (family === 6 && inst.version === 2) throw new VrrpConfigError(
    `vrrp_instance ${inst.name}: IPv6 needs VRRP version 3`)
  const cfg: AdvertCheckConfig = {
    vrid: inst.virtualRouterId,
    version: inst.version,
    family,
    advertIntervalMs: normalizeAdvertInterval(inst.version, inst.advertInt).ms,
    virtualAddresses: inst.virtualAddresses.map(v => v.address),
    unicastPeers: inst.unicastPeers,
    checkUnicastSrc: inst.checkUnicastSrc,
    peerTtl: inst.unicastPeerTtl
  }
  // keepalived: authentication is v2 only ("ignored with an error" in v3); AH is refused by the config parser.
  if (inst.version === 2 && inst.authentication?.type === 'PASS') return { ...cfg, auth: { type: 'PASS',
    password: inst.authentication.password } }
  return cfg
}

/** The VRID of a received packet (to find the instance), or undefined if it is too short to hold one. */
export function peekVrid (bytes: Uint8Array, meta: ReceiveMeta): number | undefined {
  if (meta.family === 6 && meta.header === 'included') return bytes.length >= IPV6_HEADER_LEN + VRRP_HEADER_LEN ? bytes[
    IPV6_HEADER_LEN + 1] : undefined
  if (meta.family === 6) return bytes.length >= VRRP_HEADER_LEN ? bytes[1] : undefined
  if (bytes.length < 20) return undefined
  const ihl = ((bytes[0] as number) & 0x0f) * 4
  return bytes.length >= ihl + VRRP_HEADER_LEN ? bytes[ihl + 1] : undefined
}

/**
 * Check a received packet for an instance, in keepalived's order. Never throws for any bytes;
 * throws IpAddressError only if `cfg` itself holds an unparsable address.
 */
export function validateAdvert (bytes: Uint8Array, meta: ReceiveMeta, cfg: AdvertCheckConfig): AdvertValidation {
  return check(bytes, meta, cfg, compile(cfg))
}

function drop (reason: DropReason, message: string, vrid?: number, src?: string): AdvertValidation {
  return { ok: false, reason, message, vrid, src }
}

function check (bytes: Uint8Array, meta: ReceiveMeta, cfg: AdvertCheckConfig, c: Compiled): AdvertValidation {
  let vrrp: Uint8Array
  let srcBytes: Uint8Array
  let dstBytes: Uint8Array
  let ttl: number | undefined
  let totalLength: number | undefined
  if (meta.family === 4) {
    const ip = decodeIpv4Header(bytes)
    if (!ip.ok) return drop(ip.reason === 'too-short' ? 'too-short' : 'bad-ip-header', ip.message)
    const h = ip.value
    if (bytes.length < h.headerLength + VRRP_HEADER_LEN) return drop('too-short',
      `IPv4 VRRP packet too short - ${bytes.length} bytes`, undefined, h.src)
    // keepalived only ever gets 112 (or 51) from its raw socket; anything else is a bad header for us.
    if (h.protocol === IPPROTO_AH) return drop('auth-type-mismatch', 'Received AH header but auth type not AH',
      undefined, h.src)
    if (h.protocol !== IPPROTO_VRRP) return drop('bad-ip-header', `IP protocol ${h.protocol} is not VRRP (112)`,
      undefined, h.src)
    vrrp = bytes.subarray(h.headerLength)
    srcBytes = h.srcBytes
    dstBytes = h.dstBytes
    ttl = h.ttl
    totalLength = h.totalLength
  } else if (meta.header === 'included') {
    const ip = decodeIpv6Header(bytes)
    if (!ip.ok) return drop(ip.reason === 'too-short' ? 'too-short' : 'bad-ip-header', ip.message)
    const h = ip.value
    if (bytes.length < IPV6_HEADER_LEN + VRRP_HEADER_LEN) return drop('too-short',
      `IPv6 VRRP packet too short - ${bytes.length} bytes`, undefined, h.src)
    if (h.nextHeader !== IPPROTO_VRRP) return drop('bad-ip-header',
      `IPv6 next header ${h.nextHeader} is not VRRP (112)`, undefined, h.src)
    vrrp = bytes.subarray(IPV6_HEADER_LEN)
    srcBytes = h.srcBytes
    dstBytes = h.dstBytes
    ttl = h.hopLimit
    totalLength = IPV6_HEADER_LEN + h.payloadLength
  } else {
    if (bytes.length < VRRP_HEADER_LEN) return drop('too-short', `IPv6 VRRP packet too short - ${bytes.length} bytes`,
      undefined, meta.src)
    vrrp = bytes
    try {
      srcBytes = ipBytes(meta.src, 6)
      dstBytes = ipBytes(meta.dst, 6)
    } catch {
      return drop('bad-ip-header', `bad IPv6 source or destination '${meta.src}' > '${meta.dst}'`)
    }
    ttl = meta.hopLimit
  }
  const src = formatIp(srcBytes)
  if (srcBytes.length !== (cfg.family === 4 ? 4 : 16)) return drop('bad-ip-header',
    `IPv${meta.family} packet on an IPv${cfg.family} instance`, undefined, src)
  if (c.local !== undefined && !equalIp(dstBytes, c.group) && !equalIp(dstBytes, c.local)) {
    return drop('wrong-destination',
      `destination ${formatIp(dstBytes)} is neither ${formatIp(c.group)} nor ${formatIp(c.local)}`, undefined, src)
  }
  const h = readRawHeader(vrrp)
  if (h === undefined) return drop('too-short', 'VRRP packet too short', undefined, src)
  if (h.vrid !== cfg.vrid) return drop('not-for-us', `Unknown VRID(${h.vrid}) received, ignoring`, h.vrid, src)
  const vrid = h.vrid

  // 1. exact length
  const expected = expectedVrrpLength(h.version, h.count, cfg.family)
  if (vrrp.length !== expected) {
    return drop('bad-length',
      `vrrp packet too ${vrrp.length > expected ? 'long' : 'short'}, length ${vrrp.length} and expect ${expected}`,
        vrid, src)
  }
  const unicast = cfg.unicastPeers.length > 0
  // 2. TTL / hop limit 255, multicast only (keepalived checks unicast only against min_ttl/max_ttl)
  if (!unicast && ttl !== undefined && ttl !== VRRP_TTL) return drop('bad-ttl',
    `invalid TTL/HL. Received ${ttl} and expect ${VRRP_TTL}`, vrid, src)
  // 3. version
  if (h.version !== cfg.version) return drop('version-mismatch',
    `wrong version. Received ${h.version} and expect ${cfg.version}`, vrid, src)
  // 4. v2: auth type, password, advert interval
  if (cfg.version === 2) {
    const authType = h.word4 >> 8
    if (authType !== AUTH_NONE && authType !== AUTH_PASS && authType !== AUTH_AH) return drop('invalid-auth-type',
      `Invalid auth type: ${authType}`, vrid, src)
    if (authType !== c.authType) return drop('auth-type-mismatch',
      `received a ${authType} auth, expecting ${c.authType}!`, vrid, src)
    if (c.authType === AUTH_PASS) {
      const pw = vrrp.subarray(vrrp.length - 8)
      let diff = 0
      for (let i = 0; i < 8; i++) diff |= (pw[i] as number) ^ (c.auth[i] as number)
      if (diff !== 0) return drop('auth-failure', 'received an invalid passwd!', vrid, src)
    }
    const interval = h.word4 & 0xff
    if (interval !== c.intervalSec) return drop('interval-mismatch',
      `advertisement interval mismatch mine=${c.intervalSec} sec rcv'd=${interval} sec`, vrid, src)
  }
  // 5. type
  if (h.type !== VRRP_TYPE_ADVERT) return drop('bad-type',
    `Invalid packet type. ${h.type} and expect ${VRRP_TYPE_ADVERT}`, vrid, src)
  const checkVips = cfg.checkVipAddresses ?? true
  // 6. address count
  if (checkVips && h.count !== c.vips.length) return drop('address-count-mismatch',
    `received an unexpected ip number count ${h.count}, expected ${c.vips.length}!`, vrid, src)
  // 7. IPv4 total length / IPv6 payload length
  if (totalLength !== undefined && totalLength !== bytes.length) {
    return drop('ip-length-mismatch',
      `ip_tot_len mismatch against received length. ${totalLength} and received ${bytes.length}`, vrid, src)
  }
  // 8. checksum (keepalived leaves IPv6 to the kernel, IPV6_CHECKSUM; we check it as well)
  let legacyChecksum = false
  if (cfg.version === 2) {
    if (!checksumValid(vrrp, 2)) return drop('bad-checksum', 'Invalid VRRPv2 checksum', vrid, src)
  } else if (!checksumValid(vrrp, 3, { src: srcBytes, dst: dstBytes })) {
    // keepalived _WITH_UNICAST_CHKSUM_COMPAT_: a unicast v3 advert from keepalived < 1.3.6 used the
    // multicast group in the pseudo-header.
    const group = ipBytes(VRRP_MULTICAST_V4)
    if (cfg.family === 4 && unicast && !equalIp(dstBytes, group) && checksumValid(vrrp, 3, { src: srcBytes,
      dst: group })) {
      legacyChecksum = true
    } else {
      return drop('bad-checksum', 'Invalid VRRPv3 checksum', vrid, src)
    }
  }
  // 9. multicast vs unicast
  const multicast = isMulticast(dstBytes)
  if (multicast === unicast) {
    return drop('multicast-unicast-mismatch',
      `Expected ${unicast ? 'un' : 'mult'}icast packet but received ${unicast ? 'mult' : 'un'}icast packet`, vrid, src)
  }
  const decoded = decodeAdvert(vrrp, cfg.family)
  // Cannot fail after the checks above; kept for type narrowing.
  if (!decoded.ok) return drop(decoded.reason === 'too-short' ? 'too-short' : decoded.reason === 'version-mismatch' ?
    'version-mismatch' : 'bad-length', decoded.message, vrid, src)
  const advert = decoded.value
  if (checkVips) {
    // 10. every configured VIP present, in any order
    for (const vip of c.vips) {
      if (!advert.addressBytes.some(a => equalIp(a, vip))) {
        return drop('vip-mismatch',
          `ip address associated with VRID ${vrid} not present in MASTER advert: ${formatIp(vip)}`, vrid, src)
      }
    }
    // 11. check_unicast_src, then the peer's min_ttl / max_ttl
    if (unicast && cfg.checkUnicastSrc === true) {
      const peer = c.peers.find(p => equalIp(p.address, srcBytes))
      if (peer === undefined) return drop('unicast-src-not-peer', `unicast source address ${src} not a unicast peer`,
        vrid, src)
      if (ttl !== undefined && (ttl < peer.minTtl || ttl > peer.maxTtl)) {
        return drop('ttl-out-of-range', `TTL/HL ${ttl} not in range ${peer.minTtl} - ${peer.maxTtl}`, vrid, src)
      }
    }
  }
  const advertIntervalMs = advert.version === 2 ? advert.advertIntervalSec * 1000 : advert.maxAdvertIntervalCs * 10
  return { ok: true, advert, src, dst: formatIp(dstBytes), ttl, multicast, advertIntervalMs, legacyChecksum }
}
