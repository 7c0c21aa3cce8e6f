import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createBalancer } from '../../../../src/proxy/balance/index.ts'
import { RoundRobinBalancer } from '../../../../src/proxy/balance/roundrobin.ts'
import { runConformance } from './conformance.ts'
import { BARE, drive, makeServers, names, tally, type TestServer } from './helpers.ts'

runConformance('roundrobin', (servers, opts) => createBalancer({ algorithm: 'roundrobin' }, undefined, servers, opts))

function rr (specs: Parameters<typeof makeServers>[0]): { servers: TestServer[], b: ReturnType<typeof createBalancer<TestServer>> } {
  const servers = makeServers(specs)
  return { servers, b: createBalancer({ algorithm: 'roundrobin' }, undefined, servers, { allBackups: false }) }
}

const ctx = (): typeof BARE => BARE

test('roundrobin: equal weights rotate in declaration order', () => {
  const { b } = rr([1, 1, 1])
  assert.equal(names(drive(b, 9, { ctx })), 's1 s2 s3 s1 s2 s3 s1 s2 s3')
  assert.equal(b.algorithm, 'roundrobin')
  assert.equal(b.dynamic, true)
})

test('roundrobin: weights 5,1,1 are interleaved, not bursty', () => {
  const { b } = rr([{ name: 'a', weight: 5 }, { name: 'b', weight: 1 }, { name: 'c', weight: 1 }])
  const seq = names(drive(b, 14, { ctx }))
  assert.equal(seq, 'a b a a c a a a b a a c a a')
  let run = 0
  let longest = 0
  for (const n of seq.split(' ')) {
    run = n === 'a' ? run + 1 : 0
    longest = Math.max(longest, run)
  }
  assert.ok(longest <= 3, seq)
})

test('roundrobin: every cycle of Σweights picks gives each server exactly its weight', () => {
  const weights = [3, 7, 1, 9, 256, 2]
  const total = weights.reduce((a, w) => a + w, 0)
  const { b } = rr(weights)
  for (let cycle = 0; cycle < 5; cycle++) {
    const t = tally(drive(b, total, { ctx }))
    weights.forEach((w, i) => { assert.equal(t.get(`s${i + 1}`), w, `cycle ${cycle} s${i + 1}`) })
  }
})

test('roundrobin: picks of a server are spread over the cycle', () => {
  const weights = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
  const total = weights.reduce((a, w) => a + w, 0)
  const { b } = rr(weights)
  const seq = drive(b, total * 10, { ctx })
  weights.forEach((w, i) => {
    const at = seq.flatMap((s, k) => s.name === `s${i + 1}` ? [k] : [])
    for (let k = 1; k < at.length; k++) {
      const gap = (at[k] as number) - (at[k - 1] as number)
      assert.ok(gap <= Math.ceil(2 * total / w) + 1, `s${i + 1} (weight ${w}) waited ${gap} picks`)
    }
  })
})

test('roundrobin: a weight change takes effect without resetting the rotation', () => {
  const { servers, b } = rr([{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }, { name: 'c', weight: 1 }])
  drive(b, 100, { ctx })
  ;(servers[2] as TestServer).weight = 5
  b.refresh()
  const t = tally(drive(b, 7 * 20, { ctx }))
  assert.ok(Math.abs((t.get('a') ?? 0) - 20) <= 1 && Math.abs((t.get('b') ?? 0) - 20) <= 1 && Math.abs((t.get('c') ?? 0) - 100) <= 1, JSON.stringify([...t]))
  // The rotation went on: the next pick after the change was not forced back to the first server.
  const { servers: s2, b: b2 } = rr([{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }, { name: 'c', weight: 1 }])
  drive(b2, 1, { ctx })
  ;(s2[1] as TestServer).weight = 2
  b2.refresh()
  assert.notEqual(names(drive(b2, 1, { ctx })), 'a')
})

test('roundrobin: a server coming back gets its share, without a burst to catch up', () => {
  const { servers, b } = rr([{ name: 'a' }, { name: 'b' }, { name: 'c' }])
  const c = servers[2] as TestServer
  c.usable = false
  b.refresh()
  drive(b, 300, { ctx })
  c.usable = true
  b.refresh()
  const seq = names(drive(b, 30, { ctx })).split(' ')
  assert.ok(seq.slice(0, 3).includes('c'), seq.join(' '))
  assert.equal(seq.filter(n => n === 'c').length, 10, seq.join(' '))
  for (let i = 1; i < seq.length; i++) assert.ok(!(seq[i] === 'c' && seq[i - 1] === 'c'), seq.join(' '))
})

test('roundrobin: avoiding a server hands its turn to the others, and then the rotation resumes evenly', () => {
  const { servers, b } = rr([1, 1, 1])
  const [s1] = servers as [TestServer]
  const t = tally(drive(b, 30, { ctx, avoid: new Set([s1]) }))
  assert.equal(t.get('s1'), undefined)
  assert.equal(t.get('s2'), 15)
  assert.equal(t.get('s3'), 15)
  // Neither a catch-up burst for s1 nor a pause for the servers that ran ahead.
  const after = drive(b, 30, { ctx })
  for (const n of ['s1', 's2', 's3']) assert.ok(Math.abs((tally(after).get(n) ?? 0) - 10) <= 1, names(after))
  for (let i = 2; i < after.length; i++) assert.ok(!(after[i] === after[i - 1] && after[i] === after[i - 2]), names(after))
})

test('roundrobin: picks are fast with 1000 servers', () => {
  const { servers, b } = rr(Array.from({ length: 1000 }, (_, i) => 1 + (i * 37) % 256))
  const started = performance.now()
  drive(b, 200_000, { ctx })
  const ms = performance.now() - started
  assert.ok(ms < 3000, `200k picks took ${ms.toFixed(0)} ms`)
  const total = servers.reduce((a, s) => a + s.weight, 0)
  const t = tally(drive(b, total, { ctx }))
  for (const s of servers) assert.ok(Math.abs((t.get(s.name) ?? 0) - s.weight) <= 1, s.name)
})

test('roundrobin: renormalizing the virtual clock does not disturb the rotation', () => {
  const saved = RoundRobinBalancer.renormalizeEvery
  try {
    const weights = [5, 1, 1, 3]
    const reference = names(drive(rr(weights).b, 500, { ctx }))
    for (const every of [1, 7, 10, 33]) {
      RoundRobinBalancer.renormalizeEvery = every
      assert.equal(names(drive(rr(weights).b, 500, { ctx })), reference, `every ${every}`)
      // With servers rejoining mid-cycle (fractional slot origins) shares stay exact.
      const { servers, b } = rr(weights)
      drive(b, 3, { ctx })
      ;(servers[1] as TestServer).usable = false
      b.refresh()
      drive(b, 4, { ctx })
      ;(servers[1] as TestServer).usable = true
      b.refresh()
      drive(b, 100, { ctx })
      for (let cycle = 0; cycle < 5; cycle++) {
        const t = tally(drive(b, 10, { ctx }))
        weights.forEach((w, i) => { assert.ok(Math.abs((t.get(`s${i + 1}`) ?? 0) - w) <= 1, `every ${every}: ${JSON.stringify([...t])}`) })
      }
    }
  } finally {
    RoundRobinBalancer.renormalizeEvery = saved
  }
})

test('roundrobin: a refresh that changes nothing does not disturb the rotation', () => {
  const weights = [5, 1, 1, 3]
  const reference = names(drive(rr(weights).b, 200, { ctx }))
  const { b } = rr(weights)
  const seq: string[] = []
  for (let i = 0; i < 200; i++) {
    if (i % 3 === 0) b.refresh()
    seq.push(names(drive(b, 1, { ctx })))
  }
  assert.equal(seq.join(' '), reference)
})
