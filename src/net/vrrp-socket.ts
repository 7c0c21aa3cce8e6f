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
 * limits 255, traffic class 0xc0, IPV6_JOIN_GROUP ff02::12. Received buffers are the VRRP
 * message only, with the source from recvfrom(); raw-socket has no recvmsg, so the destination
 * and hop limit are not known (the caller assumes the instance's own mode).
 */
import { EventEmitter } from 'node:events'
import { ipBytes } from './addr.ts'
import { loadRawSocket, type RawSocket } from './native.ts'
import { VrrpSocketError } from './errors.ts'

const SOL_SOCKET = 1
const SO_BINDTODEVICE = 25
const SO_RCVBUF = 8
const IPPROTO_IP = 0
const IP_HDRINCL = 3
const IP_MULTICAST_IF = 32
const IP_MULTICAST_TTL = 33
const IP_MULTICAST_LOOP = 34
const IP_ADD_MEMBERSHIP = 35
const IPPROTO_IPV6 = 41
const IPV6_CHECKSUM = 7
const IPV6_UNICAST_HOPS = 16
const IPV6_MULTICAST_IF = 17
const IPV6_MULTICAST_HOPS = 18
const IPV6_MULTICAST_LOOP = 19
const IPV6_JOIN_GROUP = 20
const IPV6_TCLASS = 67
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
 * One raw socket. Events: `message` (bytes, source address), `error` (Error; the socket is
 * closed by raw-socket after an error).
 */
export class VrrpSocket extends EventEmitter<{ message: [Buffer, string], error: [Error] }> {
  readonly family: 4 | 6
  readonly ifname: string
  #sock: RawSocket
  #closed = false

  constructor (opts: VrrpSocketOptions) {
    super()
    this.family = opts.family
    this.ifname = opts.ifname
    const raw = loadRawSocket()
    try {
      this.#sock = raw.createSocket({ protocol: IPPROTO_VRRP, addressFamily: opts.family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6, bufferSize: 65536 })
    } catch (err) {
      throw new VrrpSocketError(`cannot open a raw IPv${opts.family} socket for VRRP (needs root or CAP_NET_RAW): ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    try {
      this.#configure(opts)
    } catch (err) {
      this.#sock.close()
      throw new VrrpSocketError(`cannot set up the VRRP socket on ${opts.ifname}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    this.#sock.on('message', (buf, src) => { if (!this.#closed) this.emit('message', buf, src) })
    this.#sock.on('error', err => {
      this.#closed = true
      this.emit('error', err)
    })
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
        throw new VrrpSocketError(`sending a VRRP advert to ${dst} on ${this.ifname}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      }
    }
    await new Promise<void>((resolve, reject) => {
      this.#sock.send(buf, 0, buf.length, dst, err => {
        if (err === null) resolve()
        else reject(new VrrpSocketError(`sending a VRRP advert to ${dst} on ${this.ifname}: ${err.message}`, { cause: err }))
      })
    })
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    try { this.#sock.close() } catch { /* already closed */ }
  }
}
