import { test } from 'node:test'
import assert from 'node:assert/strict'
import { type Balancer, createBalancer } from '../../../../src/proxy/balance/index.ts'
import { leastConnKey } from '../../../../src/proxy/balance/leastconn.ts'
import { runConformance } from './conformance.ts'
import { BARE, drive, makeServers, names, tally, type TestServer } from './helpers.ts'

runConformance('leastconn', (servers, opts) => createBalancer({ algorithm: 'leastconn' }, undefined, servers, opts))

// A caller that never reports load changes: the balancer scans the current counts on each pick.
runConformance('leastconn (no loadChanged calls)', (servers, opts) => {
  const inner = createBalancer({ algorithm: 'leastconn' }, undefined, servers, opts)
  return {
    algorithm: inner.algorithm,
    dynamic: inner.dynamic,
    pick: (ctx, avoid) => inner.pick(ctx, avoid),
    refresh: () => { inner.refresh() },
    loadChanged: () => {},
  }
})

const ctx = (): typeof BARE => BARE

function lc (specs: Parameters<typeof makeServers>[0]): { servers: TestServer[], b: Balancer<TestServer> } {
  const servers = makeServers(specs)
  return { servers, b: createBalancer({ algorithm: 'leastconn' }, undefined, servers, { allBackups: false }) }
}

function setLoad (b: Balancer<TestServer>, servers: readonly TestServer[], loads: readonly number[], notify: boolean): void {
  servers.forEach((s, i) => {
    s.activeConnections = loads[i] as number
    if (notify) b.loadChanged(s)
  })
}

test('leastconn: HAProxy\'s key — 0 when idle, else (conns + 1) relative to weight', () => {
  assert.equal(leastConnKey(0, 1), 0)
  assert.equal(leastConnKey(0, 256), 0)
  assert.equal(leastConnKey(1, 1), 512) // (1 + 1) × 4096 / 16
  assert.equal(leastConnKey(1, 256), 2)
  assert.equal(leastConnKey(5, 3), Math.floor(6 * 4096 / 48))
})

for (const notify of [false, true]) {
  const mode = notify ? 'indexed' : 'scanning'

  test(`leastconn (${mode}): the least loaded server is picked`, () => {
    const { servers, b } = lc([1, 1, 1])
    setLoad(b, servers, [5, 2, 7], notify)
    assert.equal(drive(b, 1, { ctx })[0], servers[1])
    setLoad(b, servers, [5, 9, 7], notify)
    assert.equal(drive(b, 1, { ctx })[0], servers[0])
    setLoad(b, servers, [5, 9, 0], notify)
    assert.equal(drive(b, 1, { ctx })[0], servers[2])
  })

  test(`leastconn (${mode}): load is relative to weight`, () => {
    const { servers, b } = lc([2, 1])
    setLoad(b, servers, [4, 2], notify) // keys 5/2 vs 3/1
    assert.equal(drive(b, 1, { ctx })[0], servers[0])
    setLoad(b, servers, [6, 2], notify) // keys 7/2 vs 3/1
    assert.equal(drive(b, 1, { ctx })[0], servers[1])
  })

  test(`leastconn (${mode}): equally loaded servers take turns`, () => {
    const { b } = lc([1, 1, 1])
    assert.equal(names(drive(b, 7, { ctx })), 's1 s2 s3 s1 s2 s3 s1')
  })

  test(`leastconn (${mode}): held connections spread in proportion to the weights`, () => {
    const { servers, b } = lc([1, 3, 2])
    drive(b, 600, { ctx, hold: notify })
    if (!notify) {
      // Without notifications, count the connections as a caller would.
      servers.forEach(s => { s.activeConnections = 0 })
      for (let i = 0; i < 600; i++) (b.pick(BARE) as TestServer).activeConnections++
    }
    assert.deepEqual(servers.map(s => s.activeConnections), [100, 300, 200])
  })

  test(`leastconn (${mode}): a server whose connections end is preferred again`, () => {
    const { servers, b } = lc([1, 1])
    setLoad(b, servers, [10, 10], notify)
    const s1 = servers[0] as TestServer
    s1.activeConnections = 3
    if (notify) b.loadChanged(s1)
    assert.equal(names(drive(b, 3, { ctx })), 's1 s1 s1')
  })
}

test('leastconn: avoid skips the least loaded server', () => {
  const { servers, b } = lc([1, 1, 1])
  setLoad(b, servers, [0, 5, 3], true)
  assert.equal(b.pick(BARE, new Set([servers[0] as TestServer])), servers[2])
  assert.equal(b.pick(BARE, new Set([servers[0] as TestServer, servers[2] as TestServer])), servers[1])
})

test('leastconn: picks are fast with 1000 servers once load changes are reported', () => {
  const { servers, b } = lc(Array.from({ length: 1000 }, (_, i) => 1 + (i * 37) % 256))
  b.loadChanged(servers[0] as TestServer)
  const started = performance.now()
  for (let i = 0; i < 100_000; i++) {
    const s = b.pick(BARE) as TestServer
    s.activeConnections++
    b.loadChanged(s)
    if (i % 3 === 0) {
      const done = servers[(i * 7919) % 1000] as TestServer
      if (done.activeConnections > 0) {
        done.activeConnections--
        b.loadChanged(done)
      }
    }
  }
  const ms = performance.now() - started
  assert.ok(ms < 3000, `100k picks took ${ms.toFixed(0)} ms`)
  const t = tally(servers.flatMap(s => Array<TestServer>(s.activeConnections).fill(s)))
  assert.ok(t.size > 900)
})
