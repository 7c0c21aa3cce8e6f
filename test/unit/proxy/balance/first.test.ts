import { test } from 'node:test'
import assert from 'node:assert/strict'
import { type Balancer, createBalancer } from '../../../../src/proxy/balance/index.ts'
import { runConformance } from './conformance.ts'
import { BARE, drive, makeServers, names, type TestServer } from './helpers.ts'

runConformance('first', (servers, opts) => createBalancer({ algorithm: 'first' }, undefined, servers, opts))

const ctx = (): typeof BARE => BARE

function first (specs: Parameters<typeof makeServers>[0]): { servers: TestServer[], b: Balancer<TestServer> } {
  const servers = makeServers(specs)
  return { servers, b: createBalancer({ algorithm: 'first' }, undefined, servers, { allBackups: false }) }
}

test('first: servers fill up in id order', () => {
  const { b } = first([{ maxconn: 2 }, { maxconn: 2 }, { maxconn: 3 }])
  assert.equal(names(drive(b, 7, { ctx, hold: true })), 's1 s1 s2 s2 s3 s3 s3')
  assert.equal(b.algorithm, 'first')
})

test('first: the order is by id, not by declaration', () => {
  const { b } = first([{ name: 'c', id: 30, maxconn: 1 }, { name: 'a', id: 10, maxconn: 1 }, { name: 'b', id: 20, maxconn: 1 }])
  assert.equal(names(drive(b, 3, { ctx, hold: true })), 'a b c')
})

test('first: without maxconn the first server takes everything', () => {
  const { b } = first([1, 1, 1])
  assert.equal(names(drive(b, 5, { ctx, hold: true })), 's1 s1 s1 s1 s1')
})

test('first: a freed slot on a lower id is used again first', () => {
  const { servers, b } = first([{ maxconn: 1 }, { maxconn: 1 }, { maxconn: 5 }])
  drive(b, 3, { ctx, hold: true })
  const s1 = servers[0] as TestServer
  s1.activeConnections--
  b.loadChanged(s1)
  assert.equal(b.pick(BARE), s1)
})

test('first: weights are ignored, weight 0 still excludes', () => {
  const { servers, b } = first([{ weight: 1, maxconn: 1 }, { weight: 200, maxconn: 1 }, { weight: 0, maxconn: 1 }, { weight: 3, maxconn: 1 }])
  assert.equal(names(drive(b, 3, { ctx, hold: true })), 's1 s2 s4')
  assert.equal(servers[2]?.activeConnections, 0)
})

test('first: when every server is full, the one with the most room relative to maxconn', () => {
  const { servers, b } = first([{ maxconn: 2 }, { maxconn: 4 }])
  drive(b, 6, { ctx, hold: true })
  // Both full (2/2, 4/4): equal ratios, lowest id (s1 → 3/2); then s2 (4/4 < 3/2, then 5/4 < 3/2).
  assert.equal(names(drive(b, 3, { ctx, hold: true })), 's1 s2 s2')
  assert.deepEqual(servers.map(s => s.activeConnections), [3, 6])
})

test('first: avoid falls to the next server with room', () => {
  const { servers, b } = first([{ maxconn: 1 }, { maxconn: 1 }, { maxconn: 1 }])
  const [s1, s2, s3] = servers as [TestServer, TestServer, TestServer]
  assert.equal(b.pick(BARE, new Set([s1])), s2)
  s2.activeConnections = 1
  assert.equal(b.pick(BARE, new Set([s1])), s3)
  s3.activeConnections = 1
  // s1 is the only one with room: avoided but still better than a full server.
  assert.equal(b.pick(BARE, new Set([s1])), s1)
})
