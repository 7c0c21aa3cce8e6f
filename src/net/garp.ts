/**
 * Gratuitous ARP and unsolicited Neighbour Advertisement frames, as keepalived 2.2.7 builds them
 * (vrrp_arp.c, vrrp_ndisc.c), and a sender that puts them on the wire through libpcap (`cap`).
 *
 * GARP (42 bytes, the NIC pads to 60): broadcast, source = the interface MAC, ARP REQUEST with
 * sender IP = target IP = the VIP and target MAC ff:ff:ff:ff:ff:ff (RFC 3768 §6.4.1, RFC 5227 §3).
 *
 * Unsolicited NA (86 bytes): to 33:33:00:00:00:01 / ff02::1 from the VIP, hop limit 255,
 * ICMPv6 136 with O=1 (R=1 when the interface forwards), target = the VIP, option 2 = the MAC.
 */
import { readFileSync } from 'node:fs'
import { internetChecksum } from './checksum.ts'
import { ipBytes } from './addr.ts'
import { loadCap, type PcapHandle } from './native.ts'
import { GarpError } from './errors.ts'

/** "02:00:c6:12:00:0b" → 6 bytes. */
export function macBytes (mac: string): Uint8Array {
  const parts = mac.split(/[:-]/)
  if (parts.length !== 6 || parts.some(p => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new GarpError(
    `'${mac}' is not a MAC address`)
  return Uint8Array.from(parts.map(p => parseInt(p, 16)))
}

export function garpFrame (mac: string, vip: string): Uint8Array {
  const m = macBytes(mac)
  const ip = ipBytes(vip, 4)
  const f = new Uint8Array(42)
  f.fill(0xff, 0, 6)
  f.set(m, 6)
  f[12] = 0x08; f[13] = 0x06
  f.set([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01], 14) // Ethernet, IPv4, 6, 4, REQUEST
  f.set(m, 22)
  f.set(ip, 28)
  f.fill(0xff, 32, 38)
  f.set(ip, 38)
  return f
}

export function unsolicitedNaFrame (mac: string, vip: string, router: boolean): Uint8Array {
  const m = macBytes(mac)
  const src = ipBytes(vip, 6)
  const dst = ipBytes('ff02::1', 6)
  const f = new Uint8Array(86)
  f.set([0x33, 0x33, 0, 0, 0, 1], 0)
  f.set(m, 6)
  f[12] = 0x86; f[13] = 0xdd
  // IPv6 header
  f[14] = 0x60
  f[18] = 0; f[19] = 32 // payload length
  f[20] = 58 // ICMPv6
  f[21] = 255 // hop limit
  f.set(src, 22)
  f.set(dst, 38)
  // ICMPv6 NA
  const icmp = 54
  f[icmp] = 136
  f[icmp + 4] = 0x20 | (router ? 0x80 : 0) // O, R
  f.set(src, icmp + 8) // target
  f[icmp + 24] = 2 // target link-layer address option
  f[icmp + 25] = 1
  f.set(m, icmp + 26)
  const pseudo = new Uint8Array(40)
  pseudo.set(src, 0); pseudo.set(dst, 16)
  pseudo[35] = 32; pseudo[39] = 58
  const ck = internetChecksum(pseudo, f.subarray(icmp, icmp + 32))
  f[icmp + 2] = ck >> 8; f[icmp + 3] = ck & 0xff
  return f
}

/** /proc/sys/net/ipv6/conf/IF/forwarding: the R flag of keepalived's NAs. */
export function ipv6Forwarding (ifname: string): boolean {
  try {
    return readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`, 'utf8').trim() === '1'
  } catch {
    return false
  }
}

/**
 * One pcap handle per interface, opened with a filter that captures nothing (send only). libpcap
 * always asks for promiscuous mode (cap's choice); no captured packet is ever read. When the
 * interface goes down the handle is dropped and the next send() opens another.
 */
export class FrameSender {
  readonly ifname: string
  #pcap: PcapHandle | undefined

  constructor (ifname: string) {
    this.ifname = ifname
  }

  open (): void {
    if (this.#pcap !== undefined) return
    const { Cap } = loadCap()
    const pcap = new Cap()
    try {
      pcap.open(this.ifname, 'less 1', 1 << 20, Buffer.alloc(2048))
    } catch (err) {
      throw new GarpError(
        (`cannot open ${this.ifname} for gratuitous ARP (needs root or CAP_NET_RAW): ` +
          `${err instanceof Error ? err.message : String(err)}`), { cause: err })
    }
    // The interface went down: drop the handle; the next send() opens a new one.
    pcap.on('poll-error', () => { if (this.#pcap === pcap) this.close() })
    this.#pcap = pcap
  }

  send (frame: Uint8Array): void {
    this.open()
    try {
      ;(this.#pcap as PcapHandle).send(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), frame.byteLength)
    } catch (err) {
      throw new GarpError(`sending a frame on ${this.ifname}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err })
    }
  }

  close (): void {
    try { this.#pcap?.close() } catch { /* closing anyway */ }
    this.#pcap = undefined
  }
}
