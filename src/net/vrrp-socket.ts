/**
 * Raw IP protocol 112 sockets for VRRP adverts, bound to one interface (raw-socket).
 *
 * IPv4: IP_HDRINCL, so the caller builds the IP header as keepalived does (TTL 255, TOS 0xc0,
 * the source it chooses: unicast_src_ip or the interface's primary address; the v3 checksum
 * covers that exact source). SO_BINDTODEVICE and IP_MULTICAST_IF pin the interface (without a
 * default route the kernel has no route for 224.0.0.18 otherwise); IP_ADD_MEMBERSHIP joins
 * 224.0.0.18 on it (Linux drops multicast for groups nobody joined); IP_MULTICAST_LOOP 0.
 * Received buffers start with the IPv4 header.
 *
 * IPv6: the kernel builds the header and computes the checksum (IPV6_CHECKSUM offset 6); hop
 * limits 255, traffic class 0xc0, IPV6_JOIN_GROUP ff02::12. A raw IPv6 socket strips the header
 * and raw-socket has no recvmsg(), so IPV6_RECVHOPLIMIT / IPV6_RECVPKTINFO cannot be read:
 * adverts are received instead through a libpcap capture on the interface (kernel filter: IPv6,
 * next header 112, inbound only), and received buffers start with the IPv6 header, so the hop
 * limit and the destination are checked like IPv4's TTL and destination. The raw socket only
 * sends (its receive side is paused).
 *
 * Both families: IP_MULTICAST_ALL / IPV6_MULTICAST_ALL 0, so only the groups joined on this
 * socket are received (keepalived does the same).
 */
import { EventEmitter } from 'node:events'
import { formatIp, ipBytes } from './addr.ts'
import { loadCap, loadRawSocket, type PcapHandle, type RawSocket } from './native.ts'
import { VrrpSocketError } from './errors.ts'

/** After the interface went down: how often to try capturing IPv6 adverts again. */
const CAPTURE_RETRY_MS = 1000
const SOL_SOCKET = 1
const SO_BINDTODEVICE = 25
const SO_RCVBUF = 8
const IPPROTO_IP = 0
const IP_HDRINCL = 3
const IP_MULTICAST_IF = 32
const IP_MULTICAST_TTL = 33
const IP_MULTICAST_LOOP = 34
const IP_ADD_MEMBERSHIP = 35
const IP_MULTICAST_ALL = 49
const IPPROTO_IPV6 = 41
const IPV6_CHECKSUM = 7
const IPV6_UNICAST_HOPS = 16
const IPV6_MULTICAST_IF = 17
const IPV6_MULTICAST_HOPS = 18
const IPV6_MULTICAST_LOOP = 19
const IPV6_JOIN_GROUP = 20
const IPV6_MULTICAST_ALL = 29
const IPV6_TCLASS = 67
const ETHERTYPE_IPV6 = 0x86dd
const ETHERTYPE_VLAN = 0x8100
/** libpcap filter of the IPv6 capture: VRRP right after the fixed header, not our own frames. */
export const IPV6_CAPTURE_FILTER = 'ip6 and ip6[6] == 112 and inbound'
export const IPPROTO_VRRP = 112

export interface VrrpSocketOptions {
  readonly family: 4 | 6
  readonly ifname: string
  readonly ifindex: number
  /** Join the VRRP multicast group (224.0.0.18 / ff02::12) on the interface. */
  readonly joinGroup: boolean
}

function int32 (n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeInt32LE(n)
  return b
}

/**
 * The IPv6 packet inside a captured Ethernet frame (802.1Q tag skipped), or undefined when the
 * frame holds none.
 */
export function ipv6PacketOfFrame (frame: Uint8Array): Uint8Array | undefined {
  if (frame.length < 14) return undefined
  let type = (frame[12] as number) << 8 | (frame[13] as number)
  let offset = 14
  if (type === ETHERTYPE_VLAN && frame.length >= 18) {
    type = (frame[16] as number) << 8 | (frame[17] as number)
    offset = 18
  }
  return type === ETHERTYPE_IPV6 ? frame.subarray(offset) : undefined
}

/**
 * One raw socket (and, for IPv6, the capture that receives). Events: `message` (bytes starting
 * with the IP header, source address), `error` (Error; the socket is closed by raw-socket after
 * an error).
 */
export class VrrpSocket extends EventEmitter<{ message: [Buffer, string], error: [Error] }> {
  readonly family: 4 | 6
  readonly ifname: string
  #sock: RawSocket
  #capture: PcapHandle | undefined
  #closed = false
  #recaptureTimer: NodeJS.Timeout | undefined

  constructor (opts: VrrpSocketOptions) {
    super()
    this.family = opts.family
    this.ifname = opts.ifname
    const raw = loadRawSocket()
    try {
      this.#sock = raw.createSocket({ protocol: IPPROTO_VRRP,
        addressFamily: opts.family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6, bufferSize: 65536 })
    } catch (err) {
      throw new VrrpSocketError(
        (`cannot open a raw IPv${opts.family} socket for VRRP (needs root or CAP_NET_RAW): ` +
          `${err instanceof Error ? err.message : String(err)}`), { cause: err })
    }
    try {
      this.#configure(opts)
    } catch (err) {
      this.#sock.close()
      throw new VrrpSocketError(
        `cannot set up the VRRP socket on ${opts.ifname}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err })
    }
    if (opts.family === 6) {
      this.#sock.pauseRecv()
      try {
        this.#capture = this.#openCapture(opts.ifname)
      } catch (err) {
        this.#sock.close()
        throw err
      }
    } else {
      this.#sock.on('message', (buf, src) => { if (!this.#closed) this.emit('message', buf, src) })
    }
    this.#sock.on('error', err => {
      this.#closed = true
      this.emit('error', err)
    })
  }

  #openCapture (ifname: string): PcapHandle {
    const { Cap } = loadCap()
    const pcap = new Cap()
    const buffer = Buffer.alloc(65536)
    let linkType: string
    try {
      linkType = pcap.open(ifname, IPV6_CAPTURE_FILTER, 1 << 20, buffer)
    } catch (err) {
      throw new VrrpSocketError(
        (`cannot capture IPv6 VRRP on ${ifname} (needs root or CAP_NET_RAW): ` +
          `${err instanceof Error ? err.message : String(err)}`), { cause: err })
    }
    if (linkType !== 'ETHERNET') {
      pcap.close()
      throw new VrrpSocketError(`IPv6 VRRP needs an Ethernet interface; ${ifname} is ${linkType}`)
    }
    pcap.on('poll-error', () => { this.#recapture(ifname, pcap) })
    pcap.on('packet', (nbytes: number) => {
      if (this.#closed) return
      const packet = ipv6PacketOfFrame(buffer.subarray(0, nbytes))
      if (packet === undefined || packet.length < 40) return
      const copy = Buffer.from(packet)
      this.emit('message', copy, formatIp(copy.subarray(8, 24)))
    })
    return pcap
  }

  /**
   * The interface went down (or away): the capture stopped. Open a new one once the interface
   * can be captured again, trying every CAPTURE_RETRY_MS; adverts are not received meanwhile.
   */
  #recapture (ifname: string, failed: PcapHandle): void {
    if (this.#capture !== failed) return
    try { failed.close() } catch { /* closing anyway */ }
    this.#capture = undefined
    const retry = (): void => {
      if (this.#closed) return
      try {
        this.#capture = this.#openCapture(ifname)
      } catch {
        this.#recaptureTimer = setTimeout(retry, CAPTURE_RETRY_MS)
      }
    }
    this.#recaptureTimer = setTimeout(retry, CAPTURE_RETRY_MS)
  }

  #configure (opts: VrrpSocketOptions): void {
    const s = this.#sock
    const dev = Buffer.from(`${opts.ifname}\0`)
    s.setOption(SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length)
    s.setOption(SOL_SOCKET, SO_RCVBUF, int32(256 * 1024), 4)
    if (opts.family === 4) {
      s.setOption(IPPROTO_IP, IP_HDRINCL, int32(1), 4)
      s.setOption(IPPROTO_IP, IP_MULTICAST_TTL, int32(255), 4)
      s.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, int32(0), 4)
      s.setOption(IPPROTO_IP, IP_MULTICAST_ALL, int32(0), 4)
      // struct ip_mreqn { in_addr multiaddr; in_addr address; int ifindex }: the interface by index.
      const mreqn = Buffer.alloc(12)
      mreqn.writeInt32LE(opts.ifindex, 8)
      s.setOption(IPPROTO_IP, IP_MULTICAST_IF, mreqn, 12)
      if (opts.joinGroup) {
        const join = Buffer.alloc(12)
        Buffer.from([224, 0, 0, 18]).copy(join, 0)
        join.writeInt32LE(opts.ifindex, 8)
        s.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, join, 12)
      }
    } else {
      s.setOption(IPPROTO_IPV6, IPV6_CHECKSUM, int32(6), 4)
      s.setOption(IPPROTO_IPV6, IPV6_UNICAST_HOPS, int32(255), 4)
      s.setOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, int32(255), 4)
      s.setOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, int32(0), 4)
      s.setOption(IPPROTO_IPV6, IPV6_MULTICAST_ALL, int32(0), 4)
      s.setOption(IPPROTO_IPV6, IPV6_MULTICAST_IF, int32(opts.ifindex), 4)
      s.setOption(IPPROTO_IPV6, IPV6_TCLASS, int32(0xc0), 4)
      if (opts.joinGroup) {
        // struct ipv6_mreq { in6_addr multiaddr; unsigned int ifindex }
        const mreq = Buffer.alloc(20)
        Buffer.from(ipBytes('ff02::12', 6)).copy(mreq, 0)
        mreq.writeUInt32LE(opts.ifindex, 16)
        s.setOption(IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq, 20)
      }
    }
  }

  /**
   * Sends one packet to `dst`: for IPv4 the full IP packet (header included), for IPv6 the VRRP
   * message only. sendto() runs synchronously (the advert is on the wire before the VIPs are
   * touched); only if the socket buffer is full does it go through raw-socket's queue.
   * Resolves once sent; rejects with the error.
   */
  async send (packet: Uint8Array, dst: string): Promise<void> {
    if (this.#closed) throw new VrrpSocketError(`the VRRP socket on ${this.ifname} is closed`)
    const buf = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength)
    try {
      this.#sock.wrap.send(buf, 0, buf.length, dst, () => {})
      return
    } catch (err) {
      if (!(err instanceof Error) || !/temporarily unavailable|EAGAIN|EWOULDBLOCK|No buffer space/i.test(err.message)) {
        throw new VrrpSocketError(
          `sending a VRRP advert to ${dst} on ${this.ifname}: ${err instanceof Error ? err.message : String(err)}`,
            { cause: err })
      }
    }
    await new Promise<void>((resolve, reject) => {
      this.#sock.send(buf, 0, buf.length, dst, err => {
        if (err === null) resolve()
        else reject(new VrrpSocketError(`sending a VRRP advert to ${dst} on ${this.ifname}: ${err.message}`,
          { cause: err }))
      })
    })
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    try { this.#sock.close() } catch { /* already closed */ }
    clearTimeout(this.#recaptureTimer)
    try { this.#capture?.close() } catch { /* already closed */ }
    this.#capture = undefined
  }
}
