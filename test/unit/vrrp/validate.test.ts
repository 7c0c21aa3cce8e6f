import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeAdvert, encodeIpv4Packet, type AdvertFields } from '../../../src/vrrp/codec.ts'
import { DROP_REASONS, advertCheckConfig, isProtocolError, peekVrid, validateAdvert, type AdvertCheckConfig, type DropReason, type ReceiveMeta } from '../../../src/vrrp/validate.ts'
import { newVrrpInstance } from '../../../src/config/keywords/vrrp.ts'

const SRC = '198.18.0.11'
const GROUP = '224.0.0.18'
const VIPS = ['198.18.0.100', '198.18.0.101']
const v2: AdvertCheckConfig = { vrid: 51, version: 2, family: 4, advertIntervalMs: 1000, virtualAddresses: VIPS, unicastPeers: [] }
const v3: AdvertCheckConfig = { ...v2, version: 3 }

function v2Fields (over: Partial<Extract<AdvertFields, { version: 2 }>> = {}): AdvertFields {
  return { version: 2, vrid: 51, priority: 100, addresses: VIPS, advertIntervalSec: 1, ...over }
}

function pkt (fields: AdvertFields, ip: { src?: string, dst?: string, ttl?: number, protocol?: number } = {}): Uint8Array {
  const src = ip.src ?? SRC
  const dst = ip.dst ?? GROUP
  return encodeIpv4Packet(encodeAdvert(fields, { src, dst }), { src, dst, ttl: ip.ttl, protocol: ip.protocol, id: 1 })
}

function reason (bytes: Uint8Array, cfg: AdvertCheckConfig, meta: ReceiveMeta = { family: 4 }): DropReason | 'ok' {
  const r = validateAdvert(bytes, meta, cfg)
  return r.ok ? 'ok' : r.reason
}

test('a good v2 and v3 advert pass', () => {
  assert.equal(reason(pkt(v2Fields()), v2), 'ok')
  assert.equal(reason(pkt({ version: 3, vrid: 51, priority: 100, addresses: [...VIPS].reverse(), maxAdvertIntervalCs: 100 }), v3), 'ok', 'VIP order is free')
})

test('each drop reason, in keepalived order', () => {
  const good = pkt(v2Fields())
  const cases: Array<[DropReason, Uint8Array, AdvertCheckConfig, ReceiveMeta?]> = []
  cases.push(['too-short', good.subarray(0, 19), v2])
  cases.push(['too-short', good.subarray(0, 27), v2])
  cases.push(['too-short', new Uint8Array(7), v3, { family: 6, src: 'fe80::1', dst: 'ff02::12' }])
  const notV4 = good.slice(); notV4[0] = 0x65
  cases.push(['bad-ip-header', notV4, v2])
  const ihl4 = good.slice(); ihl4[0] = 0x44
  cases.push(['bad-ip-header', ihl4, v2])
  cases.push(['bad-ip-header', pkt(v2Fields(), { protocol: 17 }), v2])
  cases.push(['auth-type-mismatch', pkt(v2Fields(), { protocol: 51 }), v2])
  cases.push(['not-for-us', pkt(v2Fields({ vrid: 52 })), v2])
  const longer = new Uint8Array([...good, 0]); longer[3] = longer.length
  cases.push(['bad-length', longer, v2])
  cases.push(['bad-length', good.subarray(0, good.length - 1), v2])
  cases.push(['bad-ttl', pkt(v2Fields(), { ttl: 1 }), v2])
  cases.push(['version-mismatch', pkt({ version: 3, vrid: 51, priority: 100, addresses: VIPS, maxAdvertIntervalCs: 100 }), v2])
  cases.push(['version-mismatch', pkt(v2Fields()), v3])
  cases.push(['invalid-auth-type', pkt(v2Fields({ authType: 5 })), v2])
  cases.push(['auth-type-mismatch', pkt(v2Fields({ authType: 1, authData: 'secret' })), v2])
  cases.push(['auth-type-mismatch', pkt(v2Fields()), { ...v2, auth: { type: 'PASS', password: 'secret' } }])
  cases.push(['auth-failure', pkt(v2Fields({ authType: 1, authData: 'Secret' })), { ...v2, auth: { type: 'PASS', password: 'secret' } }])
  cases.push(['interval-mismatch', pkt(v2Fields({ advertIntervalSec: 2 })), v2])
  cases.push(['bad-type', pkt(v2Fields({ type: 2 })), v2])
  cases.push(['address-count-mismatch', pkt(v2Fields({ addresses: VIPS.slice(0, 1) })), v2])
  const totLen = good.slice(); totLen[3] = (totLen[3] as number) + 4
  cases.push(['ip-length-mismatch', totLen, v2])
  const badCk = good.slice(); badCk[27] = (badCk[27] as number) ^ 1
  cases.push(['bad-checksum', badCk, v2])
  const badPrio = good.slice(); badPrio[22] = 99
  cases.push(['bad-checksum', badPrio, v2])
  cases.push(['bad-checksum', encodeIpv4Packet(encodeAdvert({ version: 3, vrid: 51, priority: 100, addresses: VIPS, maxAdvertIntervalCs: 100 }, { src: SRC, dst: '198.18.0.99' }), { src: SRC, dst: GROUP }), v3])
  cases.push(['multicast-unicast-mismatch', pkt(v2Fields()), { ...v2, unicastPeers: [SRC] }])
  cases.push(['multicast-unicast-mismatch', pkt(v2Fields(), { dst: '198.18.0.12' }), v2])
  cases.push(['vip-mismatch', pkt(v2Fields({ addresses: ['198.18.0.100', '198.18.0.102'] })), v2])
  cases.push(['unicast-src-not-peer', pkt(v2Fields(), { src: '198.18.0.66', dst: '198.18.0.12' }), { ...v2, unicastPeers: [SRC], checkUnicastSrc: true }])
  cases.push(['ttl-out-of-range', pkt(v2Fields(), { dst: '198.18.0.12', ttl: 64 }), { ...v2, unicastPeers: [SRC], checkUnicastSrc: true, peerTtl: [{ address: SRC, min: 255, max: 255 }] }])
  cases.push(['wrong-destination', pkt(v2Fields(), { dst: '198.18.0.13' }), { ...v2, unicastPeers: [SRC], localAddress: '198.18.0.12' }])
  const seen = new Set<DropReason>()
  for (const [want, bytes, cfg, meta] of cases) {
    assert.equal(reason(bytes, cfg, meta), want, `${want}: ${Buffer.from(bytes).toString('hex')}`)
    seen.add(want)
  }
  assert.deepEqual([...seen].sort(), [...DROP_REASONS].sort(), 'every drop reason is exercised')
  assert.equal(isProtocolError('not-for-us'), false)
  assert.equal(isProtocolError('bad-checksum'), true)
})

test('keepalived specifics: unicast skips the TTL check, v3 takes any interval, skip_check_adv_addr', () => {
  const uc = { ...v2, unicastPeers: [SRC] }
  assert.equal(reason(pkt(v2Fields(), { ttl: 64, dst: '198.18.0.12' }), uc), 'ok')
  assert.equal(reason(pkt({ version: 3, vrid: 51, priority: 100, addresses: VIPS, maxAdvertIntervalCs: 7 }), v3), 'ok')
  const skip = { ...v2, checkVipAddresses: false }
  assert.equal(reason(pkt(v2Fields({ addresses: ['198.18.0.1'] })), skip), 'ok')
  assert.equal(reason(pkt(v2Fields({ addresses: ['198.18.0.1'] })), v2), 'address-count-mismatch')
  // hop limit unknown (no IPV6_HOPLIMIT cmsg): not checked; known and wrong: dropped.
  const cfg6: AdvertCheckConfig = { vrid: 52, version: 3, family: 6, advertIntervalMs: 1000, virtualAddresses: ['2001:db8::100'], unicastPeers: [] }
  const b6 = encodeAdvert({ version: 3, vrid: 52, priority: 100, addresses: ['2001:db8::100'], maxAdvertIntervalCs: 100 }, { src: 'fe80::1', dst: 'ff02::12' })
  assert.equal(reason(b6, cfg6, { family: 6, src: 'fe80::1', dst: 'ff02::12' }), 'ok')
  assert.equal(reason(b6, cfg6, { family: 6, src: 'fe80::1', dst: 'ff02::12', hopLimit: 64 }), 'bad-ttl')
  assert.equal(reason(b6, cfg6, { family: 6, src: 'fe80::2', dst: 'ff02::12' }), 'bad-checksum')
  assert.equal(reason(b6, cfg6, { family: 6, src: 'not-an-ip', dst: 'ff02::12' }), 'bad-ip-header')
  assert.equal(reason(pkt(v2Fields()), cfg6), 'bad-ip-header', 'IPv4 packet on an IPv6 instance')
  const v = validateAdvert(pkt(v2Fields({ vrid: 9 })), { family: 4 }, v2)
  assert.ok(!v.ok)
  assert.equal(v.vrid, 9)
  assert.equal(peekVrid(pkt(v2Fields({ vrid: 9 })), { family: 4 }), 9)
  assert.equal(peekVrid(b6, { family: 6, src: 'fe80::1', dst: 'ff02::12' }), 52)
  assert.equal(peekVrid(new Uint8Array(3), { family: 4 }), undefined)
})

test('advertCheckConfig from a configured instance', () => {
  const inst = newVrrpInstance('VI_1', { file: 't.cfg', line: 1 })
  assert.throws(() => advertCheckConfig(inst), { code: 'TSLB_ERR_VRRP_CONFIG' })
  inst.virtualRouterId = 51
  inst.authentication = { type: 'PASS', password: '1111' }
  inst.advertInt = 1400
  inst.virtualAddresses.push({ address: '198.18.0.100', prefixLength: 24, family: 4, loc: { file: 't.cfg', line: 3 } })
  const cfg = advertCheckConfig(inst)
  assert.equal(cfg.advertIntervalMs, 1000, 'v2 rounds to whole seconds as keepalived')
  assert.deepEqual(cfg.auth, { type: 'PASS', password: '1111' })
  inst.version = 3
  assert.equal(advertCheckConfig(inst).auth, undefined, 'authentication is v2 only')
  inst.virtualAddresses.push({ address: '2001:db8::1', prefixLength: 64, family: 6, loc: { file: 't.cfg', line: 4 } })
  assert.throws(() => advertCheckConfig(inst), { code: 'TSLB_ERR_VRRP_CONFIG' })
})
