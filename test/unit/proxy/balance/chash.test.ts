import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ChashRing, pointKey, POINTS_PER_WEIGHT } from '../../../../src/proxy/balance/chash.ts'
import { fullHash } from '../../../../src/proxy/balance/hash.ts'
import { makeServers, seeded, type TestServer } from './helpers.ts'

function ring (servers: readonly TestServer[], eligible: readonly TestServer[] = servers): ChashRing {
  const r = new ChashRing(servers, new Map(servers.map((s, i) => [s, i])))
  r.rebuild(eligible)
  return r
}

test('consistent ring: weight × 16 points per server at full_hash(id × 4096 + j)', () => {
  assert.equal(POINTS_PER_WEIGHT, 16)
  assert.equal(pointKey(1, 0), fullHash(4096))
  assert.equal(pointKey(3, 17), fullHash(3 * 4096 + 17))
  const servers = makeServers([1, 2, 1, 3])
  assert.equal(ring(servers).size, 7 * 16)
})

test('consistent ring: the closest point wins, as chash_get_server_hash() — HAProxy 2.6\'s picks', () => {
  // Servers ids 1..4, weights 1,2,1,3; [hash, server index] from HAProxy's lookup on the same ring.
  const expected: ReadonlyArray<readonly [number, number]> = [
    [2874071335, 2], [1041548226, 0], [3587507861, 1], [2704969281, 1], [2974009695, 3], [2981938272, 3], [3844926155, 1],
    [11729524, 3], [957741627, 0], [2529874141, 1], [549840493, 0], [2229792909, 0], [2018466604, 3], [2478364229, 2],
    [1662621343, 0], [3211537249, 3], [1698519794, 3], [3076780767, 1], [208711353, 3], [528517717, 0], [789513933, 0],
    [1443324421, 2], [1338018213, 2], [3545163090, 2], [954378182, 0], [1652712751, 3], [1270152058, 3], [1882416407, 3],
    [1990764913, 3], [1062531838, 0], [3784074856, 3], [1373077060, 2], [3515088977, 1], [477299697, 3], [1911664318, 3],
    [2360841976, 3], [97332885, 3], [3324713952, 1], [1609336240, 3], [1278626036, 3],
  ]
  const servers = makeServers([1, 2, 1, 3])
  const r = ring(servers)
  for (const [hash, i] of expected) assert.equal(r.byHash(hash, undefined), servers[i], String(hash))
})

test('consistent ring: incremental updates give the same ring as a fresh build', () => {
  const rnd = seeded(3)
  const servers = makeServers(Array.from({ length: 12 }, (_, i) => 1 + (i % 5)))
  const live = ring(servers)
  for (let step = 0; step < 40; step++) {
    const s = servers[Math.floor(rnd() * servers.length)] as TestServer
    if (rnd() < 0.5) s.usable = !s.usable
    else s.weight = Math.floor(rnd() * 8)
    const eligible = servers.filter(x => x.usable && x.weight > 0)
    live.rebuild(eligible)
    const fresh = ring(servers, eligible)
    assert.equal(live.size, fresh.size)
    if (fresh.size === 0) continue
    for (let k = 0; k < 300; k++) {
      const h = Math.floor(rnd() * 2 ** 32)
      assert.equal(live.byHash(h, undefined), fresh.byHash(h, undefined))
    }
  }
})

test('consistent ring: a weight change only moves keys to or from that server', () => {
  const servers = makeServers([4, 4, 4, 4])
  const r = ring(servers)
  const hashes = Array.from({ length: 5000 }, (_, i) => fullHash(i))
  const before = hashes.map(h => r.byHash(h, undefined))
  const s3 = servers[2] as TestServer
  s3.weight = 8
  r.rebuild(servers)
  const after = hashes.map(h => r.byHash(h, undefined))
  let moved = 0
  after.forEach((s, i) => {
    if (s === before[i]) return
    moved++
    assert.equal(s, s3)
  })
  assert.ok(moved > 0)
  s3.weight = 4
  r.rebuild(servers)
  assert.deepEqual(hashes.map(h => r.byHash(h, undefined)), before)
})

test('consistent ring: avoid walks on to the next point of another server; next() walks the ring', () => {
  const servers = makeServers([1, 1, 1])
  const r = ring(servers)
  for (let i = 0; i < 200; i++) {
    const h = fullHash(i)
    const s = r.byHash(h, undefined)
    const other = r.byHash(h, new Set([s]))
    assert.notEqual(other, s)
    assert.equal(r.byHash(h, new Set(servers)), s)
  }
  const seen = new Map<string, number>()
  for (let i = 0; i < 48; i++) {
    const s = r.next(undefined)
    seen.set(s.name, (seen.get(s.name) ?? 0) + 1)
  }
  assert.deepEqual([...seen.values()].sort(), [16, 16, 16])
})

test('consistent ring: a large ring answers like a brute-force closest-point search', () => {
  const servers = makeServers(Array.from({ length: 200 }, (_, i) => ({ id: 1 + i * 3, weight: 1 + (i % 10) })))
  const r = ring(servers)
  const points = servers.flatMap((s, i) => Array.from({ length: s.weight * 16 }, (_, j) => ({ key: pointKey(s.id, j), i })))
  points.sort((a, b) => a.key - b.key || a.i - b.i)
  assert.equal(r.size, points.length)
  const rnd = seeded(9)
  for (let k = 0; k < 2000; k++) {
    const h = Math.floor(rnd() * 2 ** 32)
    let next = points.findIndex(p => p.key >= h)
    if (next < 0) next = 0
    const prev = next === 0 ? points.length - 1 : next - 1
    const dp = (h - (points[prev]?.key as number)) >>> 0
    const dn = ((points[next]?.key as number) - h) >>> 0
    const want = servers[(dp <= dn ? points[prev] : points[next])?.i as number]
    assert.equal(r.byHash(h, undefined), want, String(h))
  }
})
