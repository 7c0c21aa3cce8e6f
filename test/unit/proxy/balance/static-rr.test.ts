import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createBalancer } from '../../../../src/proxy/balance/index.ts'
import { runConformance } from './conformance.ts'
import { BARE, drive, makeServers, names, tally, type TestServer } from './helpers.ts'

runConformance('static-rr', (servers, opts) => createBalancer({ algorithm: 'static-rr' }, undefined, servers, opts))

const ctx = (): typeof BARE => BARE

function srr (specs: Parameters<typeof makeServers>[0]): { servers: TestServer[], b: ReturnType<typeof createBalancer<TestServer>> } {
  const servers = makeServers(specs)
  return { servers, b: createBalancer({ algorithm: 'static-rr' }, undefined, servers, { allBackups: false }) }
}

test('static-rr: walks HAProxy\'s server map (weights 5,1,1: a a a b a a c)', () => {
  const { b } = srr([{ name: 'a', weight: 5 }, { name: 'b', weight: 1 }, { name: 'c', weight: 1 }])
  assert.equal(names(drive(b, 14, { ctx })), 'a a a b a a c a a a b a a c')
  assert.equal(b.algorithm, 'static-rr')
  assert.equal(b.dynamic, false)
})

test('static-rr: weights are honoured exactly over each turn of the map', () => {
  const weights = [3, 7, 1, 9, 256, 2]
  const { b } = srr(weights)
  const t = tally(drive(b, 278 * 3, { ctx }))
  weights.forEach((w, i) => { assert.equal(t.get(`s${i + 1}`), 3 * w) })
})

test('static-rr: a server going down or up rebuilds the map, the walk carries on', () => {
  const { servers, b } = srr([1, 1, 1])
  assert.equal(names(drive(b, 2, { ctx })), 's1 s2')
  ;(servers[0] as TestServer).usable = false
  b.refresh()
  assert.equal(names(drive(b, 4, { ctx })), 's2 s3 s2 s3')
  ;(servers[0] as TestServer).usable = true
  b.refresh()
  assert.equal(tally(drive(b, 30, { ctx })).get('s1'), 10)
})

test('static-rr: avoid skips to the next slot', () => {
  const { servers, b } = srr([1, 1, 1])
  const [s1, s2] = servers as [TestServer, TestServer]
  assert.equal(names(drive(b, 4, { ctx, avoid: new Set([s1]) })), 's2 s3 s2 s3')
  assert.equal(names(drive(b, 3, { ctx, avoid: new Set([s1, s2]) })), 's3 s3 s3')
})
