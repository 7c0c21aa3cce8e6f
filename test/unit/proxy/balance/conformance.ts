/**
 * The conformance suite every balancing algorithm runs (like hono's shared router tests): the
 * behaviour HAProxy gives all algorithms alike — server selection (active/backup, weight 0,
 * usable), redispatch `avoid`, refresh, and scale.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { BalancedServer, Balancer, BalancerOptions } from '../../../../src/proxy/balance/balancer.ts'
import { BARE, ctxFor, drive, makeServers, names, releaseAll, tally, type TestServer } from './helpers.ts'

export type MakeBalancer = (servers: readonly BalancedServer[], opts: BalancerOptions) => Balancer

const NO_BACKUPS: BalancerOptions = { allBackups: false }
const ALL_BACKUPS: BalancerOptions = { allBackups: true }

function inService (s: BalancedServer): boolean {
  return s.usable && s.weight > 0
}

export function runConformance (name: string, make: MakeBalancer): void {
  describe(`${name}: conformance`, () => {
    test('returns undefined when there is no server at all', () => {
      const b = make([], NO_BACKUPS)
      assert.equal(b.pick(BARE), undefined)
      assert.equal(b.pick(ctxFor(1), new Set()), undefined)
    })

    test('returns undefined when no server is usable', () => {
      const servers = makeServers([{ usable: false }, { weight: 0 }, { backup: true, usable: false }, { backup: true, weight: 0 }])
      for (const opts of [NO_BACKUPS, ALL_BACKUPS]) {
        const b = make(servers, opts)
        for (let i = 0; i < 20; i++) assert.equal(b.pick(ctxFor(i)), undefined)
      }
    })

    test('never returns an unusable, weight-0 or (while actives serve) backup server', () => {
      const servers = makeServers([
        { weight: 3 }, { usable: false }, { weight: 0 }, { weight: 1, maxconn: 100 }, { weight: 7 },
        { usable: false, weight: 5 }, { backup: true }, { backup: true, weight: 4 },
      ])
      for (const opts of [NO_BACKUPS, ALL_BACKUPS]) {
        const b = make(servers, opts)
        const picks = drive(b, 500, { hold: true })
        for (const s of picks) assert.ok(inService(s) && !s.backup, `picked ${s.name}`)
        releaseAll(b, servers)
      }
    })

    test('a server of weight 0 is never picked, and is again once its weight is back', () => {
      const servers = makeServers([{ maxconn: 100 }, { weight: 0, maxconn: 100 }, { maxconn: 100 }])
      const b = make(servers, NO_BACKUPS)
      assert.ok(!tally(drive(b, 300, { hold: true })).has('s2'))
      releaseAll(b, servers)
      const s2 = servers[1] as TestServer
      s2.weight = 1
      b.refresh()
      assert.ok(tally(drive(b, 300, { hold: true })).has('s2'))
    })

    test('backup servers serve only when no active server is usable', () => {
      const servers = makeServers([{ maxconn: 50 }, { maxconn: 50 }, { backup: true, maxconn: 50 }, { backup: true, maxconn: 50 }])
      const [a1, a2] = servers as [TestServer, TestServer]
      const b = make(servers, ALL_BACKUPS)
      for (const s of drive(b, 100, { hold: true })) assert.ok(!s.backup)
      releaseAll(b, servers)
      a1.usable = false
      b.refresh()
      for (const s of drive(b, 100, { hold: true })) assert.equal(s, a2)
      releaseAll(b, servers)
      a2.weight = 0 // an active server of weight 0 does not count as serving either
      b.refresh()
      for (const s of drive(b, 100, { hold: true })) assert.ok(s.backup)
      releaseAll(b, servers)
      a1.usable = true
      b.refresh()
      for (const s of drive(b, 100, { hold: true })) assert.equal(s, a1)
    })

    test('without allBackups only the first usable backup (declaration order) serves', () => {
      const servers = makeServers([{ usable: false }, { backup: true, maxconn: 50 }, { backup: true, weight: 9, maxconn: 50 }, { backup: true, maxconn: 50 }])
      const [, b1, b2] = servers as [TestServer, TestServer, TestServer]
      const b = make(servers, NO_BACKUPS)
      for (const s of drive(b, 200, { hold: true })) assert.equal(s, b1)
      releaseAll(b, servers)
      b1.usable = false
      b.refresh()
      for (const s of drive(b, 200, { hold: true })) assert.equal(s, b2)
    })

    test('with allBackups every usable backup is balanced', () => {
      const servers = makeServers([
        { usable: false }, { backup: true, maxconn: 50 }, { backup: true, usable: false, maxconn: 50 },
        { backup: true, maxconn: 50 }, { backup: true, maxconn: 50 },
      ])
      const b = make(servers, ALL_BACKUPS)
      const seen = tally(drive(b, 150, { hold: true }))
      assert.deepEqual([...seen.keys()].sort(), ['s2', 's4', 's5'])
    })

    test('avoid is respected whenever another server is usable', () => {
      const servers = makeServers([{ weight: 2, maxconn: 1000 }, { maxconn: 1000 }, { weight: 3, maxconn: 1000 }, { usable: false }])
      const [s1, s2, s3] = servers as [TestServer, TestServer, TestServer]
      const b = make(servers, NO_BACKUPS)
      for (let i = 0; i < 200; i++) {
        for (const avoid of [new Set([s1]), new Set([s2]), new Set([s3]), new Set([s1, s2]), new Set([s2, s3]), new Set([s1, s3])]) {
          const s = b.pick(ctxFor(i), avoid)
          assert.ok(s !== undefined && !avoid.has(s) && inService(s), `pick ${i} gave ${s?.name ?? 'nothing'}`)
        }
      }
      // Picks with an empty avoid set behave as without one.
      assert.ok(b.pick(ctxFor(3), new Set()) !== undefined)
    })

    test('an avoided server is still returned when it is the only usable one', () => {
      const servers = makeServers([{ maxconn: 10 }, { maxconn: 10 }, { usable: false }])
      const [s1, s2, s3] = servers as [TestServer, TestServer, TestServer]
      const b = make(servers, NO_BACKUPS)
      for (let i = 0; i < 50; i++) {
        const s = b.pick(ctxFor(i), new Set([s1, s2, s3]))
        assert.ok(s === s1 || s === s2)
      }
      s2.usable = false
      b.refresh()
      for (let i = 0; i < 20; i++) assert.equal(b.pick(ctxFor(i), new Set([s1])), s1)
    })

    test('refresh() after marking a server down then up is honoured', () => {
      const servers = makeServers([{ maxconn: 100 }, { maxconn: 100, weight: 2 }, { maxconn: 100 }])
      const s2 = servers[1] as TestServer
      const b = make(servers, NO_BACKUPS)
      assert.ok(tally(drive(b, 300, { hold: true })).has('s2'))
      releaseAll(b, servers)
      s2.usable = false
      b.refresh()
      assert.ok(!tally(drive(b, 300, { hold: true })).has('s2'))
      releaseAll(b, servers)
      s2.usable = true
      b.refresh()
      assert.ok(tally(drive(b, 300, { hold: true })).has('s2'))
    })

    test('a server marked down without refresh() is not handed out', () => {
      const servers = makeServers([{ maxconn: 100 }, { maxconn: 100 }, { maxconn: 100 }])
      const b = make(servers, NO_BACKUPS)
      ;(servers[0] as TestServer).usable = false
      for (const s of drive(b, 200, { hold: true })) assert.notEqual(s.name, 's1')
    })

    test('works with one server', () => {
      const servers = makeServers([{ weight: 5 }])
      const only = servers[0] as TestServer
      const b = make(servers, NO_BACKUPS)
      for (let i = 0; i < 20; i++) assert.equal(b.pick(ctxFor(i)), only)
      assert.equal(b.pick(BARE, new Set([only])), only)
      only.usable = false
      b.refresh()
      assert.equal(b.pick(BARE), undefined)
      only.usable = true
      b.refresh()
      assert.equal(b.pick(BARE), only)
      only.weight = 0
      b.refresh()
      assert.equal(b.pick(BARE), undefined)
    })

    test('works with 1000 servers', () => {
      const servers = makeServers(Array.from({ length: 1000 }, (_, i) => ({ weight: 1 + (i * 37) % 256, maxconn: 1000 })))
      const b = make(servers, NO_BACKUPS)
      const picks = drive(b, 5000, { hold: true })
      for (const s of picks) assert.ok(inService(s))
      assert.ok(tally(picks).size > 1)
      releaseAll(b, servers)
      for (let i = 0; i < 1000; i += 10) (servers[i] as TestServer).usable = false
      b.refresh()
      for (const s of drive(b, 5000, { hold: true })) assert.ok(s.usable, `picked ${s.name}, which is down`)
    })

    test('the same inputs give the same picks on another instance built from the same list', () => {
      const spec = [{ weight: 3, maxconn: 40 }, { weight: 1, maxconn: 40 }, { weight: 2, maxconn: 40 }, { weight: 5, maxconn: 40 }]
      const run = (): string => {
        const servers = makeServers(spec)
        const b = make(servers, NO_BACKUPS)
        return names(drive(b, 100, { hold: true }))
      }
      assert.equal(run(), run())
    })
  })
}
