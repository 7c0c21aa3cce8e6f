import { test } from 'node:test'
import assert from 'node:assert/strict'
import { advertFields, decodeAdvert, decodeIpv4Header, encodeAdvert, encodeIpv4Packet } from '../../../src/vrrp/codec.ts'
import { DROP_REASONS, peekVrid, validateAdvert, type AdvertCheckConfig, type ReceiveMeta } from '../../../src/vrrp/validate.ts'

/** mulberry32: a small seeded PRNG, so every run fuzzes the same inputs. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const VIPS = ['198.18.0.100', '198.18.0.101']
const configs: Array<[AdvertCheckConfig, ReceiveMeta]> = [
  [{ vrid: 51, version: 2, family: 4, advertIntervalMs: 1000, virtualAddresses: VIPS, unicastPeers: [] }, { family: 4 }],
  [{ vrid: 51, version: 2, family: 4, advertIntervalMs: 1000, virtualAddresses: VIPS, unicastPeers: [], auth: { type: 'PASS', password: 'pw' } }, { family: 4 }],
  [{ vrid: 51, version: 3, family: 4, advertIntervalMs: 100, virtualAddresses: VIPS, unicastPeers: ['198.18.0.11'], checkUnicastSrc: true }, { family: 4 }],
  [{ vrid: 51, version: 3, family: 6, advertIntervalMs: 1000, virtualAddresses: ['2001:db8::100'], unicastPeers: [] }, { family: 6, src: 'fe80::1', dst: 'ff02::12', hopLimit: 255 }]
]

const seeds: Uint8Array[] = [
  encodeIpv4Packet(encodeAdvert({ version: 2, vrid: 51, priority: 100, addresses: VIPS, advertIntervalSec: 1 }), { src: '198.18.0.11', dst: '224.0.0.18' }),
  encodeIpv4Packet(encodeAdvert({ version: 2, vrid: 51, priority: 100, addresses: VIPS, advertIntervalSec: 1, authType: 1, authData: 'pw' }), { src: '198.18.0.11', dst: '224.0.0.18' }),
  encodeIpv4Packet(encodeAdvert({ version: 3, vrid: 51, priority: 0, addresses: VIPS, maxAdvertIntervalCs: 10 }, { src: '198.18.0.11', dst: '198.18.0.12' }), { src: '198.18.0.11', dst: '198.18.0.12' }),
  encodeAdvert({ version: 3, vrid: 51, priority: 200, addresses: ['2001:db8::100'], maxAdvertIntervalCs: 100 }, { src: 'fe80::1', dst: 'ff02::12' })
]

const allowed = new Set<string>(DROP_REASONS)

function checkOne (bytes: Uint8Array): number {
  let accepted = 0
  for (const [cfg, meta] of configs) {
    const r = validateAdvert(bytes, meta, cfg)
    if (r.ok) {
      accepted++
      // Whatever is accepted re-encodes to the very bytes received (reserved bits aside).
      const vrrp = meta.family === 4 ? bytes.subarray(((bytes[0] as number) & 0x0f) * 4) : bytes
      if (r.advert.version === 3 && r.advert.reserved !== 0) continue
      const again = encodeAdvert(advertFields(r.advert), { src: r.src, dst: r.legacyChecksum ? '224.0.0.18' : r.dst })
      assert.deepEqual(again, vrrp.slice())
    } else {
      assert.ok(allowed.has(r.reason), r.reason)
      assert.equal(typeof r.message, 'string')
    }
    peekVrid(bytes, meta)
  }
  for (const fam of [4, 6] as const) decodeAdvert(bytes, fam)
  decodeIpv4Header(bytes)
  return accepted
}

test('random bytes never throw, only drop reasons', () => {
  const rnd = prng(0xdecaf)
  for (let i = 0; i < 4000; i++) {
    const len = Math.floor(rnd() * 90)
    const b = new Uint8Array(len)
    for (let j = 0; j < len; j++) b[j] = Math.floor(rnd() * 256)
    // Half of them look like IPv4 + VRRP to get past the first checks.
    if (len > 21 && rnd() < 0.5) { b[0] = 0x45; b[9] = 112; b[21] = 51; b[20] = rnd() < 0.5 ? 0x21 : 0x31 }
    checkOne(b)
  }
})

test('mutated real adverts never throw; the unmutated ones are accepted', () => {
  const rnd = prng(51)
  for (const s of seeds) assert.ok(checkOne(s) >= 1)
  let accepted = 0
  for (let i = 0; i < 6000; i++) {
    const s = seeds[i % seeds.length] as Uint8Array
    let b = s.slice()
    const kind = Math.floor(rnd() * 5)
    if (kind === 0) { const k = Math.floor(rnd() * b.length); b[k] = (b[k] as number) ^ (1 << Math.floor(rnd() * 8)) }
    if (kind === 1) { const k = Math.floor(rnd() * b.length); b[k] = Math.floor(rnd() * 256) }
    if (kind === 2) b = b.subarray(0, Math.floor(rnd() * b.length))
    if (kind === 3) b = new Uint8Array([...b, ...Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => Math.floor(rnd() * 256))])
    if (kind === 4) for (let n = 0; n < 4; n++) { const k = Math.floor(rnd() * b.length); b[k] = Math.floor(rnd() * 256) }
    accepted += checkOne(b)
  }
  // Single-bit flips are almost all caught (checksum or a field check); some land in ignored bits.
  assert.ok(accepted < 600, `accepted ${accepted} mutated packets`)
})
