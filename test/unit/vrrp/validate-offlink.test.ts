/**
 * keepalived's protections against off-link adverts: check_unicast_src with each peer's
 * min_ttl / max_ttl, the destination check (group or this node's address), and IPv6 adverts
 * received with their header (hop limit 255, destination, next header, payload length).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeAdvert, encodeIpv4Packet, encodeIpv6Packet } from '../../../src/vrrp/codec.ts'
import { advertCheckConfig, isProtocolError, peekVrid, validateAdvert, type AdvertCheckConfig, type DropReason, type ReceiveMeta } from '../../../src/vrrp/validate.ts'
import { ipv6PacketOfFrame } from '../../../src/net/vrrp-socket.ts'
import { parseConfig } from '../../../src/config/parser.ts'

const VIPS = ['198.18.0.100']
const PEER = '198.18.0.12'
const LOCAL = '198.18.0.11'
const unicast: AdvertCheckConfig = { vrid: 51, version: 3, family: 4, advertIntervalMs: 1000, virtualAddresses: VIPS, unicastPeers: [PEER], localAddress: LOCAL }

function v4 (src: string, dst: string, ttl = 255): Uint8Array {
  return encodeIpv4Packet(encodeAdvert({ version: 3, vrid: 51, priority: 200, addresses: VIPS, maxAdvertIntervalCs: 100 }, { src, dst }), { src, dst, ttl })
}

function reason (bytes: Uint8Array, cfg: AdvertCheckConfig, meta: ReceiveMeta = { family: 4 }): DropReason | 'ok' {
  const r = validateAdvert(bytes, meta, cfg)
  return r.ok ? 'ok' : r.reason
}

test('check_unicast_src: only a unicast_peer is heard, within its min_ttl..max_ttl', () => {
  assert.equal(reason(v4('198.18.0.99', LOCAL), unicast), 'ok', 'without check_unicast_src any source is taken (keepalived default)')
  const checked = { ...unicast, checkUnicastSrc: true }
  assert.equal(reason(v4('198.18.0.99', LOCAL), checked), 'unicast-src-not-peer')
  assert.equal(reason(v4(PEER, LOCAL), checked), 'ok')
  assert.equal(reason(v4(PEER, LOCAL, 1), checked), 'ok', 'no range configured: 0..255')
  const ranged = { ...checked, peerTtl: [{ address: PEER, min: 250, max: 255 }] }
  assert.equal(reason(v4(PEER, LOCAL, 249), ranged), 'ttl-out-of-range')
  assert.equal(reason(v4(PEER, LOCAL, 250), ranged), 'ok')
  const capped = { ...checked, peerTtl: [{ address: PEER, min: 0, max: 64 }] }
  assert.equal(reason(v4(PEER, LOCAL, 65), capped), 'ttl-out-of-range')
  assert.equal(reason(v4(PEER, LOCAL, 64), capped), 'ok')
  const r = validateAdvert(v4(PEER, LOCAL, 249), { family: 4 }, ranged)
  assert.ok(!r.ok && r.message === 'TTL/HL 249 not in range 250 - 255', 'keepalived log text')
  assert.ok(isProtocolError('ttl-out-of-range') && isProtocolError('unicast-src-not-peer'))
})

test('destination: the VRRP group or this node\'s address, nothing else (keepalived binds its socket to one of them)', () => {
  assert.equal(reason(v4(PEER, '198.18.0.13'), unicast), 'wrong-destination', 'another host\'s unicast')
  assert.equal(reason(v4(PEER, '198.18.0.255'), unicast), 'wrong-destination', 'subnet broadcast')
  assert.equal(reason(v4(PEER, '224.0.0.19'), unicast), 'wrong-destination', 'another multicast group')
  assert.equal(reason(v4(PEER, '224.0.0.18'), unicast), 'multicast-unicast-mismatch', 'the group on a unicast instance: keepalived\'s own check')
  const multicast = { ...unicast, unicastPeers: [] }
  assert.equal(reason(v4(PEER, '224.0.0.18'), multicast), 'ok')
  assert.equal(reason(v4(PEER, LOCAL), multicast), 'multicast-unicast-mismatch')
  assert.equal(reason(v4(PEER, '198.18.0.13'), multicast), 'wrong-destination')
  assert.equal(isProtocolError('wrong-destination'), false, 'not ours: not counted')
  assert.equal(reason(v4(PEER, '198.18.0.13'), { ...unicast, localAddress: undefined }), 'ok', 'no local address given: no destination check')
})

test('IPv6 with its header: hop limit 255 on multicast, destination, next header, payload length', () => {
  const vip = '2001:db8::100'
  const cfg: AdvertCheckConfig = { vrid: 52, version: 3, family: 6, advertIntervalMs: 1000, virtualAddresses: [vip], unicastPeers: [], localAddress: 'fe80::11' }
  const meta: ReceiveMeta = { family: 6, header: 'included' }
  const packet = (src: string, dst: string, hopLimit = 255, nextHeader?: number): Uint8Array =>
    encodeIpv6Packet(encodeAdvert({ version: 3, vrid: 52, priority: 200, addresses: [vip], maxAdvertIntervalCs: 100 }, { src, dst }), { src, dst, hopLimit, nextHeader })
  assert.equal(reason(packet('fe80::12', 'ff02::12'), cfg, meta), 'ok')
  assert.equal(reason(packet('fe80::12', 'ff02::12', 64), cfg, meta), 'bad-ttl', 'routed from off-link')
  assert.equal(reason(packet('fe80::12', 'ff02::12', 254), cfg, meta), 'bad-ttl')
  assert.equal(reason(packet('fe80::12', 'fe80::13'), cfg, meta), 'wrong-destination')
  assert.equal(reason(packet('fe80::12', 'fe80::11'), cfg, meta), 'multicast-unicast-mismatch')
  assert.equal(reason(packet('fe80::12', 'ff02::12', 255, 0), cfg, meta), 'bad-ip-header', 'an extension header')
  const long = packet('fe80::12', 'ff02::12')
  const padded = new Uint8Array(long.length + 4)
  padded.set(long)
  assert.equal(reason(padded, cfg, meta), 'bad-length')
  const lying = long.slice()
  lying[5] = (lying[5] as number) + 4
  assert.equal(reason(lying, cfg, meta), 'ip-length-mismatch')
  assert.equal(reason(long.subarray(0, 39), cfg, meta), 'too-short')
  assert.equal(peekVrid(long, meta), 52)
  const uc: AdvertCheckConfig = { ...cfg, unicastPeers: ['2001:db8::12'], localAddress: '2001:db8::11', checkUnicastSrc: true, peerTtl: [{ address: '2001:db8::12', min: 255, max: 255 }] }
  assert.equal(reason(packet('2001:db8::12', '2001:db8::11'), uc, meta), 'ok')
  assert.equal(reason(packet('2001:db8::12', '2001:db8::11', 200), uc, meta), 'ttl-out-of-range')
  assert.equal(reason(packet('2001:db8::99', '2001:db8::11'), uc, meta), 'unicast-src-not-peer')
})

test('the IPv6 packet of a captured Ethernet frame (802.1Q tag skipped)', () => {
  const ip = new Uint8Array([0x60, 1, 2, 3])
  const eth = new Uint8Array([...new Uint8Array(12), 0x86, 0xdd, ...ip])
  assert.deepEqual(ipv6PacketOfFrame(eth), ip)
  const tagged = new Uint8Array([...new Uint8Array(12), 0x81, 0x00, 0, 5, 0x86, 0xdd, ...ip])
  assert.deepEqual(ipv6PacketOfFrame(tagged), ip)
  assert.equal(ipv6PacketOfFrame(new Uint8Array([...new Uint8Array(12), 0x08, 0x00, ...ip])), undefined)
  assert.equal(ipv6PacketOfFrame(new Uint8Array(10)), undefined)
})

test('config: check_unicast_src, unicast_peer … min_ttl / max_ttl (which turn the check on, as in keepalived)', () => {
  const base = 'vrrp_instance VI_1\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress 198.18.0.100/24\n'
  const parse = (extra: string): ReturnType<typeof parseConfig> => parseConfig(base + extra, 't.cfg')
  let r = parse('    unicast_peer 198.18.0.12 198.18.0.13\n')
  let inst = r.config.vrrpInstances[0]
  assert.equal(inst?.checkUnicastSrc, false)
  assert.equal(advertCheckConfig(inst).checkUnicastSrc, false)
  r = parse('    unicast_peer 198.18.0.12\n    check_unicast_src\n')
  assert.equal(r.config.vrrpInstances[0]?.checkUnicastSrc, true)
  r = parse('    unicast_peer 198.18.0.12 min_ttl 250 198.18.0.13 max_ttl 64 min_ttl 1\n')
  inst = r.config.vrrpInstances[0]
  assert.deepEqual(inst?.unicastPeers, ['198.18.0.12', '198.18.0.13'])
  assert.deepEqual(inst?.unicastPeerTtl, [{ address: '198.18.0.12', min: 250, max: 255 }, { address: '198.18.0.13', min: 1, max: 64 }])
  assert.equal(inst?.checkUnicastSrc, true)
  assert.deepEqual(advertCheckConfig(inst).peerTtl, inst?.unicastPeerTtl)
  for (const bad of ['    unicast_peer 198.18.0.12 min_ttl 9 max_ttl 8\n', '    unicast_peer 198.18.0.12 min_ttl 256\n', '    unicast_peer min_ttl 1\n', '    unicast_peer 198.18.0.12 max_ttl\n', '    check_unicast_src yes\n']) {
    assert.ok(parse(bad).diagnostics.some(d => d.severity === 'error'), bad)
  }
})
