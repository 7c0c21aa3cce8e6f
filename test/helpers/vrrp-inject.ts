/**
 * Sends VRRPv3 adverts from a lab node with a chosen source, destination and TTL / hop limit,
 * to play an off-link or unlisted router. Run inside the node:
 *   node test/helpers/vrrp-inject.ts '{"ifname":"eth0","vrid":61,"priority":200,"vips":["…"],
 *     "dst":"…","ttl":255,"count":10,"intervalMs":100}'
 * IPv4: the whole packet is built here (IP_HDRINCL), the source is `src`. IPv6: the kernel
 * builds the header from the hop limit given and computes the checksum; the source is the
 * interface's link-local address.
 */
import { networkInterfaces } from 'node:os'
import { isIPv6 } from 'node:net'
import { encodeAdvert, encodeIpv4Packet } from '../../src/vrrp/codec.ts'
import { loadRawSocket } from '../../src/net/native.ts'

interface Injection {
  readonly ifname: string
  readonly vrid: number
  readonly priority: number
  readonly vips: readonly string[]
  readonly src?: string
  readonly dst: string
  readonly ttl: number
  readonly count: number
  readonly intervalMs: number
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Injection
const raw = loadRawSocket()
const v6 = isIPv6(spec.dst)
const sock = raw.createSocket({ protocol: 112, addressFamily: v6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4 })
const int32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b }
const dev = Buffer.from(`${spec.ifname}\0`)
sock.setOption(1, 25, dev, dev.length) // SO_BINDTODEVICE
let packet: Uint8Array
if (v6) {
  const src = networkInterfaces()[spec.ifname]?.find(a => a.family === 'IPv6' && a.address.startsWith('fe80:'))?.address
  if (src === undefined) throw new Error(`${spec.ifname} has no link-local address`)
  sock.setOption(41, 7, int32(6), 4) // IPV6_CHECKSUM
  sock.setOption(41, 16, int32(spec.ttl), 4) // IPV6_UNICAST_HOPS
  sock.setOption(41, 18, int32(spec.ttl), 4) // IPV6_MULTICAST_HOPS
  const ifindex = Number((await import('node:fs')).readFileSync(`/sys/class/net/${spec.ifname}/ifindex`, 'utf8'))
  sock.setOption(41, 17, int32(ifindex), 4) // IPV6_MULTICAST_IF
  packet = encodeAdvert({ version: 3, vrid: spec.vrid, priority: spec.priority, addresses: spec.vips, maxAdvertIntervalCs: 100 }, { src, dst: spec.dst })
} else {
  const src = spec.src ?? networkInterfaces()[spec.ifname]?.find(a => a.family === 'IPv4')?.address
  if (src === undefined) throw new Error(`${spec.ifname} has no IPv4 address`)
  sock.setOption(0, 3, int32(1), 4) // IP_HDRINCL
  const payload = encodeAdvert({ version: 3, vrid: spec.vrid, priority: spec.priority, addresses: spec.vips, maxAdvertIntervalCs: 100 }, { src, dst: spec.dst })
  packet = encodeIpv4Packet(payload, { src, dst: spec.dst, ttl: spec.ttl, id: 1 })
}
const buf = Buffer.from(packet)
for (let i = 0; i < spec.count; i++) {
  await new Promise<void>((resolve, reject) => {
    sock.send(buf, 0, buf.length, spec.dst, err => { if (err === null) resolve(); else reject(err) })
  })
  await new Promise(resolve => setTimeout(resolve, spec.intervalMs))
}
sock.close()
