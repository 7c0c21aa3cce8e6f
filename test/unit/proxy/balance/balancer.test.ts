import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Balance } from '../../../../src/config/model.ts'
import { type Balancer, createBalancer, DEFAULT_HASH_TYPE } from '../../../../src/proxy/balance/index.ts'
import { HashBalancer } from '../../../../src/proxy/balance/hashed.ts'
import { effectiveWeight, selectEligible } from '../../../../src/proxy/balance/pool.ts'
import { makeServers, type TestServer } from './helpers.ts'

const ALL: readonly Balance[] = [
  { algorithm: 'roundrobin' }, { algorithm: 'static-rr' }, { algorithm: 'leastconn' }, { algorithm: 'first' },
  { algorithm: 'source' }, { algorithm: 'random' }, { algorithm: 'uri', whole: false },
  { algorithm: 'url_param', param: 'id' }, { algorithm: 'hdr', header: 'host', useDomainOnly: false },
  { algorithm: 'rdp-cookie', cookie: 'mstshash' },
]

test('createBalancer: one balancer per algorithm, named after it', () => {
  for (const balance of ALL) {
    const b = createBalancer(balance, undefined, makeServers([1, 1]), { allBackups: false })
    assert.equal(b.algorithm, balance.algorithm)
  }
  assert.throws(() => createBalancer({ algorithm: 'nope' } as unknown as Balance, undefined, [], { allBackups: false }), /unknown balance algorithm 'nope'/)
})

test('createBalancer: static vs dynamic as HAProxy classes them', () => {
  const dyn = (balance: Balance, method?: 'map-based' | 'consistent'): boolean =>
    createBalancer(balance, method === undefined ? undefined : { method, function: 'sdbm', avalanche: false }, makeServers([1]), { allBackups: false }).dynamic
  assert.equal(dyn({ algorithm: 'roundrobin' }), true)
  assert.equal(dyn({ algorithm: 'leastconn' }), true)
  assert.equal(dyn({ algorithm: 'first' }), true)
  assert.equal(dyn({ algorithm: 'random' }), true)
  assert.equal(dyn({ algorithm: 'static-rr' }), false)
  assert.equal(dyn({ algorithm: 'source' }), false)
  assert.equal(dyn({ algorithm: 'source' }, 'consistent'), true)
  assert.equal(dyn({ algorithm: 'uri', whole: false }, 'map-based'), false)
})

test('createBalancer: hash-type defaults to map-based sdbm without avalanche', () => {
  assert.deepEqual(DEFAULT_HASH_TYPE, { method: 'map-based', function: 'sdbm', avalanche: false })
  const b = createBalancer({ algorithm: 'source' }, undefined, makeServers([1]), { allBackups: false })
  assert.ok(b instanceof HashBalancer)
  assert.deepEqual(b.hashType, DEFAULT_HASH_TYPE)
})

test('createBalancer: picks are typed as the caller\'s servers', () => {
  const servers = makeServers([1, 1])
  const b: Balancer<TestServer> = createBalancer({ algorithm: 'roundrobin' }, undefined, servers, { allBackups: false })
  const s: TestServer | undefined = b.pick({ source: 'x' }, new Set([servers[0] as TestServer]))
  assert.equal(s, servers[1])
})

test('createBalancer: a server listed twice is refused', () => {
  const [s] = makeServers([1])
  assert.throws(() => createBalancer({ algorithm: 'roundrobin' }, undefined, [s as TestServer, s as TestServer], { allBackups: false }), /listed twice/)
})

test('selectEligible: active servers first, else the first backup or all backups', () => {
  const servers = makeServers([
    { name: 'a1', usable: false }, { name: 'a2', weight: 0 }, { name: 'b1', backup: true, usable: false },
    { name: 'b2', backup: true }, { name: 'b3', backup: true, weight: 0 }, { name: 'b4', backup: true },
  ])
  const pick = (allBackups: boolean): string => {
    const { servers: list, backup } = selectEligible(servers, allBackups)
    return `${backup ? 'backup' : 'active'}: ${list.map(s => s.name).join(' ')}`
  }
  assert.equal(pick(false), 'backup: b2')
  assert.equal(pick(true), 'backup: b2 b4')
  ;(servers[1] as TestServer).weight = 3
  assert.equal(pick(false), 'active: a2')
  ;(servers[0] as TestServer).usable = true
  assert.equal(pick(true), 'active: a1 a2')
  for (const s of servers) s.usable = false
  assert.equal(pick(true), 'backup: ')
})

test('effectiveWeight: integers 0..256', () => {
  const [s] = makeServers([1]) as [TestServer]
  for (const [w, e] of [[0, 0], [0.5, 0], [1, 1], [2.7, 2], [256, 256], [300, 256], [-1, 0], [Number.NaN, 0]] as const) {
    s.weight = w
    assert.equal(effectiveWeight(s), e, String(w))
  }
})
