import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildServerMap, ServerMap } from '../../../../src/proxy/balance/map.ts'
import { makeServers, seeded, type TestServer } from './helpers.ts'

/** HAProxy 2.6's recalc_server_map() loop, literally (O(total × servers)): the reference. */
function referenceMap (weights: readonly number[]): number[] {
  const total = weights.reduce((a, w) => a + w, 0)
  const score = weights.map(() => 0)
  const map: number[] = []
  for (let o = 0; o < total; o++) {
    let best = -1
    let max = 0
    for (let i = 0; i < weights.length; i++) {
      if (total === 1) { best = i; break }
      score[i] = (score[i] as number) + (weights[i] as number)
      const v = Math.trunc(((score[i] as number) + total) / total)
      if (best < 0 || v > max) { max = v; best = i }
    }
    map.push(best)
    score[best] = (score[best] as number) - total
  }
  return map
}

test('server map: slot-for-slot the map HAProxy 2.6 builds', () => {
  // Produced by HAProxy's recalc_server_map() (src/lb_map.c) for these weights.
  assert.deepEqual(Array.from(buildServerMap([5, 1, 1])), [0, 0, 0, 1, 0, 0, 2])
  assert.deepEqual(Array.from(buildServerMap([3, 2])), [0, 0, 1, 0, 1])
  assert.deepEqual(Array.from(buildServerMap([1, 1, 1, 1])), [0, 1, 2, 3])
  assert.deepEqual(Array.from(buildServerMap([7, 3, 2, 1, 1])), [0, 0, 1, 0, 1, 0, 2, 0, 2, 0, 1, 0, 3, 4])
  assert.deepEqual(Array.from(buildServerMap([1])), [0])
  assert.deepEqual(Array.from(buildServerMap([])), [])
})

test('server map: the fast build equals HAProxy\'s loop for random weight sets', () => {
  const rnd = seeded(42)
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(rnd() * 12)
    const weights = Array.from({ length: n }, () => 1 + Math.floor(rnd() * (rnd() < 0.3 ? 256 : 8)))
    assert.deepEqual(Array.from(buildServerMap(weights)), referenceMap(weights), JSON.stringify(weights))
  }
})

test('server map: rejects weights below 1', () => {
  assert.throws(() => buildServerMap([1, 0]), RangeError)
})

test('server map: 1000 servers with weights up to 256 build fast', () => {
  const weights = Array.from({ length: 1000 }, (_, i) => 1 + (i * 37) % 256)
  const started = performance.now()
  const map = buildServerMap(weights)
  const ms = performance.now() - started
  assert.equal(map.length, weights.reduce((a, w) => a + w, 0))
  const counts = new Int32Array(1000)
  for (const i of map) counts[i] = (counts[i] as number) + 1
  weights.forEach((w, i) => { assert.equal(counts[i], w) })
  assert.ok(ms < 2000, `${ms.toFixed(0)} ms`)
})

test('server map: weights are divided by their GCD at construction, as init_server_map() does', () => {
  const servers = makeServers([10, 20, 30, { weight: 0 }])
  const m = new ServerMap(servers)
  assert.equal(m.divisor, 10)
  m.rebuild(servers.slice(0, 3))
  assert.equal(m.size, 6)
  assert.deepEqual(m.table.map(s => s.name), referenceMap([1, 2, 3]).map(i => `s${i + 1}`))
  // A weight that is no multiple of the divisor rounds up (HAProxy: ceil(weight / wmult)).
  ;(servers[0] as TestServer).weight = 15
  m.rebuild(servers.slice(0, 3))
  assert.equal(m.size, 7)
})

test('server map: hash lookups index slot hash % size and skip avoided servers', () => {
  const servers = makeServers([1, 1, 1])
  const [s1, s2, s3] = servers as [TestServer, TestServer, TestServer]
  const m = new ServerMap(servers)
  m.rebuild(servers)
  assert.equal(m.byHash(0, undefined), s1)
  assert.equal(m.byHash(4, undefined), s2)
  assert.equal(m.byHash(0xffffffff, undefined), s1) // 4294967295 % 3 = 0
  assert.equal(m.byHash(1, new Set([s2])), s3)
  assert.equal(m.byHash(2, new Set([s3])), s1)
  assert.equal(m.byHash(2, new Set([s1, s2, s3])), s3)
})
