import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  advertFields, checksumValid, computeAdvertChecksum, decodeAdvert, decodeIpv4Header, encodeAdvert, encodeIpv4Packet, pseudoHeader
} from '../../../src/vrrp/codec.ts'
import { compareIp, formatIp, ipBytes, parseIp } from '../../../src/net/addr.ts'
import { internetChecksum } from '../../../src/net/checksum.ts'
import { VrrpEncodeError } from '../../../src/vrrp/errors.ts'
import { validateAdvert, type AdvertCheckConfig } from '../../../src/vrrp/validate.ts'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

// Captures of keepalived 2.2.7 (reference vrrp-keepalived.md §1 [LAB]): VRID 51, VIP 10.99.0.100, source 10.99.0.1.
const V2_P150_IP = hex('45c0 0028 0001 0000 ff70 d02e 0a630001 e0000012')
const V2_P150 = hex('2133 9601 0001 3e03 0a630064 00000000 00000000')
const V2_P0 = hex('2133 0001 0001 d403 0a630064 00000000 00000000')
const V3_10CS = hex('3133 9601 000a 4307 0a630064')
const V3_UNICAST = hex('3133 9601 0064 185b 0a630064')
const V3_V6 = hex('3134 9601 0064 04f2 20010db8000000000000000000000100')
const V6_SRC = 'fe80::c3e:82ff:fe96:78c8'

const cfgV2: AdvertCheckConfig = { vrid: 51, version: 2, family: 4, advertIntervalMs: 1000, virtualAddresses: ['10.99.0.100'], unicastPeers: [] }

test('v2 capture (priority 150): IP header and VRRP decode, validate, re-encode byte for byte', () => {
  const pkt = new Uint8Array([...V2_P150_IP, ...V2_P150])
  const ip = decodeIpv4Header(pkt)
  assert.ok(ip.ok)
  assert.equal(ip.value.src, '10.99.0.1')
  assert.equal(ip.value.dst, '224.0.0.18')
  assert.equal(ip.value.ttl, 255)
  assert.equal(ip.value.protocol, 112)
  assert.equal(ip.value.tos, 0xc0)
  assert.equal(ip.value.totalLength, 40)
  assert.equal(internetChecksum(pkt.subarray(0, 20)), 0, 'IP header checksum')

  const d = decodeAdvert(V2_P150, 4)
  assert.ok(d.ok)
  const a = d.value
  assert.equal(a.version, 2)
  assert.ok(a.version === 2)
  assert.equal(a.type, 1)
  assert.equal(a.vrid, 51)
  assert.equal(a.priority, 150)
  assert.equal(a.count, 1)
  assert.equal(a.authType, 0)
  assert.equal(a.advertIntervalSec, 1)
  assert.equal(a.checksum, 0x3e03)
  assert.deepEqual(a.addresses, ['10.99.0.100'])
  assert.deepEqual([...a.authData], [0, 0, 0, 0, 0, 0, 0, 0])
  assert.ok(checksumValid(V2_P150, 2))
  assert.equal(computeAdvertChecksum(V2_P150, 2), 0x3e03)

  const vrrp = encodeAdvert(advertFields(a))
  assert.equal(toHex(vrrp), toHex(V2_P150))
  assert.equal(toHex(encodeIpv4Packet(vrrp, { src: '10.99.0.1', dst: '224.0.0.18', id: 1 })), toHex(pkt))
  // The same from plain fields, as the speaker will build it.
  assert.equal(toHex(encodeAdvert({ version: 2, vrid: 51, priority: 150, addresses: ['10.99.0.100'], advertIntervalSec: 1 })), toHex(V2_P150))

  const v = validateAdvert(pkt, { family: 4 }, cfgV2)
  assert.ok(v.ok, v.ok ? '' : v.message)
  assert.equal(v.src, '10.99.0.1')
  assert.equal(v.multicast, true)
  assert.equal(v.advertIntervalMs, 1000)
  assert.equal(v.legacyChecksum, false)
})

test('v2 capture (priority 0, master stopping) round trips and is valid: priority 0 is not a drop', () => {
  const d = decodeAdvert(V2_P0, 4)
  assert.ok(d.ok)
  assert.equal(d.value.priority, 0)
  assert.equal(d.value.checksum, 0xd403)
  assert.ok(checksumValid(V2_P0, 2))
  assert.equal(toHex(encodeAdvert(advertFields(d.value))), toHex(V2_P0))
  const v = validateAdvert(encodeIpv4Packet(V2_P0, { src: '10.99.0.1', dst: '224.0.0.18', id: 7 }), { family: 4 }, cfgV2)
  assert.ok(v.ok)
  assert.equal(v.advert.priority, 0)
})

test('v3 capture, 10 cs interval: pseudo-header checksum with 224.0.0.18, IP total length 0x20', () => {
  const d = decodeAdvert(V3_10CS, 4)
  assert.ok(d.ok)
  assert.ok(d.value.version === 3)
  assert.equal(d.value.maxAdvertIntervalCs, 10)
  assert.equal(d.value.reserved, 0)
  assert.equal(d.value.priority, 150)
  assert.equal(d.value.checksum, 0x4307)
  const pseudo = { src: ipBytes('10.99.0.1'), dst: ipBytes('224.0.0.18') }
  assert.ok(checksumValid(V3_10CS, 3, pseudo))
  assert.ok(!checksumValid(V3_10CS, 2), 'the v3 checksum includes the pseudo-header')
  assert.equal(toHex(encodeAdvert(advertFields(d.value), { src: '10.99.0.1', dst: '224.0.0.18' })), toHex(V3_10CS))
  const pkt = encodeIpv4Packet(V3_10CS, { src: '10.99.0.1', dst: '224.0.0.18', id: 1 })
  assert.equal(pkt[2], 0x00)
  assert.equal(pkt[3], 0x20)
  const v = validateAdvert(pkt, { family: 4 }, { vrid: 51, version: 3, family: 4, advertIntervalMs: 1000, virtualAddresses: ['10.99.0.100'], unicastPeers: [] })
  assert.ok(v.ok, v.ok ? '' : v.message)
  assert.equal(v.advertIntervalMs, 100, 'v3 accepts another interval (adopted by the state machine)')
})

test('v3 unicast capture: the pseudo-header holds the real destination (the peer)', () => {
  const d = decodeAdvert(V3_UNICAST, 4)
  assert.ok(d.ok)
  assert.ok(d.value.version === 3)
  assert.equal(d.value.maxAdvertIntervalCs, 100)
  assert.ok(checksumValid(V3_UNICAST, 3, { src: ipBytes('10.99.0.1'), dst: ipBytes('10.99.0.2') }))
  assert.ok(!checksumValid(V3_UNICAST, 3, { src: ipBytes('10.99.0.1'), dst: ipBytes('224.0.0.18') }))
  assert.equal(toHex(encodeAdvert(advertFields(d.value), { src: '10.99.0.1', dst: '10.99.0.2' })), toHex(V3_UNICAST))
  const cfg: AdvertCheckConfig = { vrid: 51, version: 3, family: 4, advertIntervalMs: 1000, virtualAddresses: ['10.99.0.100'], unicastPeers: ['10.99.0.1'] }
  const v = validateAdvert(encodeIpv4Packet(V3_UNICAST, { src: '10.99.0.1', dst: '10.99.0.2' }), { family: 4 }, cfg)
  assert.ok(v.ok, v.ok ? '' : v.message)
  assert.equal(v.multicast, false)
  assert.equal(v.legacyChecksum, false)

  // keepalived < 1.3.6 put 224.0.0.18 in the pseudo-header even for unicast: accepted, flagged (OLD_CHKSUM_COMPAT).
  const old = encodeAdvert(advertFields(d.value), { src: '10.99.0.1', dst: '224.0.0.18' })
  assert.equal(toHex(old.subarray(6, 8)), '42ad')
  const vo = validateAdvert(encodeIpv4Packet(old, { src: '10.99.0.1', dst: '10.99.0.2' }), { family: 4 }, cfg)
  assert.ok(vo.ok)
  assert.equal(vo.legacyChecksum, true)
})

test('v3 IPv6 capture: RFC 2460 pseudo-header, link-local source to ff02::12', () => {
  const d = decodeAdvert(V3_V6, 6)
  assert.ok(d.ok)
  assert.equal(d.value.vrid, 52)
  assert.equal(d.value.family, 6)
  assert.deepEqual(d.value.addresses, ['2001:db8::100'])
  assert.equal(d.value.checksum, 0x04f2)
  assert.ok(checksumValid(V3_V6, 3, { src: ipBytes(V6_SRC), dst: ipBytes('ff02::12') }))
  assert.equal(toHex(encodeAdvert(advertFields(d.value), { src: V6_SRC, dst: 'ff02::12' })), toHex(V3_V6))
  const cfg: AdvertCheckConfig = { vrid: 52, version: 3, family: 6, advertIntervalMs: 1000, virtualAddresses: ['2001:db8::100'], unicastPeers: [] }
  const v = validateAdvert(V3_V6, { family: 6, src: V6_SRC, dst: 'ff02::12', hopLimit: 255 }, cfg)
  assert.ok(v.ok, v.ok ? '' : v.message)
  assert.equal(v.src, V6_SRC)
})

test('v2 simple password: 8 bytes zero-padded after the addresses, covered by the checksum', () => {
  const b = encodeAdvert({ version: 2, vrid: 51, priority: 100, addresses: ['10.99.0.100', '10.99.0.101'], advertIntervalSec: 1, authType: 1, authData: '1111' })
  assert.equal(b.length, 16 + 8)
  assert.equal(toHex(b.subarray(16)), '3131313100000000')
  assert.ok(checksumValid(b, 2))
  const long = encodeAdvert({ version: 2, vrid: 51, priority: 100, addresses: [], advertIntervalSec: 1, authType: 1, authData: 'abcdefghij' })
  assert.equal(Buffer.from(long.subarray(8)).toString(), 'abcdefgh')
})

test('encoder refuses what cannot be sent', () => {
  const base = { version: 2 as const, vrid: 51, priority: 100, addresses: ['10.99.0.100'], advertIntervalSec: 1 }
  assert.throws(() => encodeAdvert({ ...base, vrid: 0 }), VrrpEncodeError)
  assert.throws(() => encodeAdvert({ ...base, priority: 256 }), VrrpEncodeError)
  assert.throws(() => encodeAdvert({ ...base, advertIntervalSec: 256 }), VrrpEncodeError)
  assert.throws(() => encodeAdvert({ ...base, addresses: ['2001:db8::1'] }), { code: 'TSLB_ERR_IP_ADDRESS' })
  assert.throws(() => encodeAdvert({ version: 3, vrid: 51, priority: 100, addresses: [], maxAdvertIntervalCs: 100 }), { code: 'TSLB_ERR_VRRP_ENCODE' })
  assert.throws(() => encodeAdvert({ version: 3, vrid: 51, priority: 100, addresses: [], maxAdvertIntervalCs: 4096 }, { src: '10.0.0.1', dst: '224.0.0.18' }), VrrpEncodeError)
  assert.throws(() => encodeAdvert({ version: 3, vrid: 51, priority: 100, addresses: ['10.0.0.9'], maxAdvertIntervalCs: 100 }, { src: 'fe80::1', dst: 'ff02::12' }), { code: 'TSLB_ERR_IP_ADDRESS' })
  assert.throws(() => pseudoHeader(new Uint8Array(4), new Uint8Array(16), 8), VrrpEncodeError)
})

test('addresses: parse, RFC 5952 format, numeric order', () => {
  for (const [text, canon] of [
    ['2001:db8::100', '2001:db8::100'], ['2001:0DB8:0:0:0:0:0:0100', '2001:db8::100'], ['::', '::'], ['::1', '::1'],
    ['fe80::c3e:82ff:fe96:78c8%eth0', 'fe80::c3e:82ff:fe96:78c8'], ['1:0:0:1:0:0:0:1', '1:0:0:1::1'], ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['::ffff:198.18.0.1', '::ffff:c612:1'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'], ['1::', '1::'], ['198.18.0.1', '198.18.0.1']
  ] as const) {
    const b = parseIp(text)
    assert.ok(b, text)
    assert.equal(formatIp(b), canon, text)
  }
  assert.equal(parseIp('198.18.0.256'), undefined)
  assert.equal(parseIp('eth0'), undefined)
  assert.equal(compareIp(ipBytes('10.0.0.2'), ipBytes('10.0.0.10')), -1)
  assert.equal(compareIp(ipBytes('10.0.1.0'), ipBytes('10.0.0.255')), 1)
  assert.equal(compareIp(ipBytes('10.0.0.1'), ipBytes('::1')), 0)
})

test('internet checksum handles odd lengths and chunk boundaries', () => {
  const data = Uint8Array.from([0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7])
  assert.equal(internetChecksum(data), 0xb861)
  assert.equal(internetChecksum(data.subarray(0, 7), data.subarray(7)), 0xb861)
  assert.equal(internetChecksum(Uint8Array.from([1])), ~0x0100 & 0xffff)
})
