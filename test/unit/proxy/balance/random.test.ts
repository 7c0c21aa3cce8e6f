import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Balance } from '../../../../src/config/model.ts'
import { type Balancer, createBalancer } from '../../../../src/proxy/balance/index.ts'
import { RandomBalancer } from '../../../../src/proxy/balance/random.ts'
import { runConformance } from './conformance.ts'
import { BARE, drive, makeServers, seeded, tally, type TestServer } from './helpers.ts'

runConformance('random', (servers, opts) => createBalancer({ algorithm: 'random' }, undefined, servers, { ...opts, random: seeded(1) }))
runConformance('random(1)', (servers, opts) => createBalancer({ algorithm: 'random' }, undefined, servers, { ...opts, random: seeded(2), randomDraws: 1 }))

const ctx = (): typeof BARE => BARE

function rnd (specs: Parameters<typeof makeServers>[0], random: () => number, randomDraws?: number): { servers: TestServer[], b: Balancer<TestServer> } {
  const servers = makeServers(specs)
  return { servers, b: createBalancer({ algorithm: 'random' }, undefined, servers, { allBackups: false, random, randomDraws }) }
}

test('random: picks in proportion to the weights', () => {
  for (const draws of [1, 2, 3]) {
    const { b } = rnd([1, 2, 3, 4], seeded(99), draws)
    const n = 100_000
    const t = tally(drive(b, n, { ctx }))
    ;[1, 2, 3, 4].forEach((w, i) => {
      const share = (t.get(`s${i + 1}`) ?? 0) / n
      assert.ok(Math.abs(share - w / 10) < 0.01, `draws ${draws}: s${i + 1} got ${share}`)
    })
  }
  const { b } = rnd([1], Math.random)
  assert.equal(b.algorithm, 'random')
  assert.equal(b.dynamic, true)
})

test('random: the draws come from the injected source (cumulative weights)', () => {
  const draws = [0, 0.1, 0.1999, 0.2, 0.5, 0.7999, 0.8, 0.9999]
  let k = 0
  const { b } = rnd([{ name: 'a', weight: 2 }, { name: 'b', weight: 6 }, { name: 'c', weight: 2 }], () => draws[k++ % draws.length] as number, 1)
  assert.equal(drive(b, 8, { ctx }).map(s => s.name).join(' '), 'a a a b b b c c')
})

test('random: of two draws the less loaded one (relative to weight) is kept', () => {
  const seq = [0.1, 0.9]
  let k = 0
  const { servers, b } = rnd([{ name: 'a' }, { name: 'b' }], () => seq[k++ % 2] as number)
  const [a, bb] = servers as [TestServer, TestServer]
  a.activeConnections = 1
  assert.equal(b.pick(BARE), bb) // draws a then b: b is less loaded
  a.activeConnections = 0
  bb.activeConnections = 1
  assert.equal(b.pick(BARE), a) // draws a then b: a is less loaded
  bb.activeConnections = 0
  assert.equal(b.pick(BARE), bb) // equal load: the later draw
})

test('random: with draws, held connections even out', () => {
  const { servers, b } = rnd([1, 1, 1, 1], seeded(5))
  drive(b, 400, { ctx, hold: true })
  for (const s of servers) assert.ok(Math.abs(s.activeConnections - 100) <= 10, `${s.name}: ${s.activeConnections}`)
})

test('random: the same seed gives the same picks; draws must be ≥ 1', () => {
  const run = (): string => drive(rnd([3, 1, 2], seeded(7)).b, 50, { ctx }).map(s => s.name).join(' ')
  assert.equal(run(), run())
  assert.throws(() => rnd([1], Math.random, 0), RangeError)
  assert.throws(() => rnd([1], Math.random, 1.5), RangeError)
})

test('random: out-of-range sources are clamped', () => {
  const { servers, b } = rnd([1, 1], () => 1)
  assert.equal(b.pick(BARE), servers[1])
  const { servers: s2, b: b2 } = rnd([1, 1], () => -1)
  assert.equal(b2.pick(BARE), s2[0])
})

test('random: draws come from the options, or from `draws` on the balance setting', () => {
  const fromBalance = createBalancer({ algorithm: 'random', draws: 3 } as unknown as Balance, undefined, makeServers([1]), { allBackups: false })
  assert.ok(fromBalance instanceof RandomBalancer)
  assert.equal(fromBalance.draws, 3)
  const fromOpts = createBalancer({ algorithm: 'random' }, undefined, makeServers([1]), { allBackups: false, randomDraws: 4 })
  assert.ok(fromOpts instanceof RandomBalancer)
  assert.equal(fromOpts.draws, 4)
  const byDefault = createBalancer({ algorithm: 'random' }, undefined, makeServers([1]), { allBackups: false })
  assert.ok(byDefault instanceof RandomBalancer)
  assert.equal(byDefault.draws, 2)
})
