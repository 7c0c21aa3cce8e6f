import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { StickTableSpec } from '../../../src/config/model.ts'
import { STICK_ERROR_CODES, StickTable, type StickEntry } from '../../../src/stick/index.ts'

const loc = { file: 't.cfg', line: 1 }
type Store = StickTableSpec['store']
function table (over: Partial<StickTableSpec> = {}, name = 't'): StickTable {
  const store: Store = [{ name: 'server_id' }, { name: 'gpc0' }, { name: 'conn_rate', period: 10000 }]
  return new StickTable(name, { type: 'ip', size: 100, expire: 1000, nopurge: false, store, loc, ...over })
}
const keys = (es: Iterable<StickEntry>): string[] => [...es].map(e => e.keyText)
const throwsCode = (fn: () => unknown, code: string): void => { assert.throws(fn, (e: unknown) => (e as { code?: string }).code === code) }

test('spec: key sizes as HAProxy (string len N keeps N bytes, key_len N+1), data mask, stick rules', () => {
  assert.equal(table().keySize, 4)
  assert.equal(table({ type: 'ipv6' }).keySize, 16)
  assert.equal(table({ type: 'integer' }).keySize, 4)
  const noLen = table({ type: 'string' })
  assert.deepEqual([noLen.keySize, noLen.maxKeyLength], [32, 31])
  const len32 = table({ type: 'string', len: 32 })
  assert.deepEqual([len32.keySize, len32.maxKeyLength], [33, 32])
  assert.deepEqual([table({ type: 'binary' }).keySize, table({ type: 'binary', len: 8 }).keySize], [32, 8])
  const t = table({ store: [{ name: 'http_req_rate', period: 10000 }, { name: 'server_id' }, { name: 'gpc', count: 3 }, { name: 'gpc0_rate', period: 5000 }] })
  assert.deepEqual(t.stored.map(s => [s.type.name, s.count, s.period]), [['server_id', 1, 0], ['gpc0_rate', 1, 5000], ['http_req_rate', 1, 10000], ['gpc', 3, 0]])
  assert.equal(t.dataMask, (1n << 0n) | (1n << 3n) | (1n << 10n) | (1n << 23n))
  const sticky = new StickTable('s', { type: 'string', size: 10, nopurge: false, store: [{ name: 'gpc0' }], loc }, { stickRules: true })
  assert.deepEqual(sticky.stored.map(s => s.type.name), ['server_id', 'gpc0', 'server_key'])
  assert.equal(table({ expire: 0 }).expireMs, undefined)
})

test('spec errors are TSLB_ERR_STICK_SPEC', () => {
  const bad: Partial<StickTableSpec>[] = [
    { store: [{ name: 'gpt', count: 2 }, { name: 'gpt0' }] },
    { store: [{ name: 'gpc', count: 2 }, { name: 'gpc1' }] },
    { store: [{ name: 'gpc_rate', count: 2, period: 1000 }, { name: 'gpc0_rate', period: 1000 }] },
    { store: [{ name: 'nope' }] },
    { store: [{ name: 'conn_rate' }] },
    { store: [{ name: 'gpc', count: 0 }] },
    { store: [{ name: 'gpc', count: 101 }] },
    { size: 0 },
    { size: 2 ** 24 + 1 },
    { expire: 2 ** 31 }
  ]
  for (const b of bad) throwsCode(() => table(b), STICK_ERROR_CODES.SPEC)
})

test('getOrCreate / lookup / update / delete; data types wrap as HAProxy stores them', () => {
  const t = table({ store: [{ name: 'server_id' }, { name: 'gpc0' }, { name: 'bytes_in_cnt' }, { name: 'server_key' }, { name: 'gpt', count: 2 }] })
  assert.equal(t.lookup('10.0.0.1'), undefined)
  const e = t.getOrCreate('10.0.0.1', 0) as StickEntry
  assert.equal(t.size, 1)
  assert.equal(e.get('gpc0'), 0)
  assert.equal(e.serverKey, undefined)
  e.set('server_id', -1)
  assert.equal(e.get('server_id'), -1)
  e.set('gpc0', 2 ** 32 + 5)
  assert.equal(e.get('gpc0'), 5)
  e.set('gpc0', 0xffffffff)
  assert.equal(e.add('gpc0'), 0, 'uint wraps at 2^32')
  e.set('bytes_in_cnt', 2 ** 40)
  assert.equal(e.add('bytes_in_cnt', 10), 2 ** 40 + 10, '64-bit counters are numbers, exact to 2^53')
  e.set('gpt', 42, 1)
  assert.deepEqual([e.get('gpt', 0), e.get('gpt', 1)], [0, 42])
  e.serverKey = 'web1'
  assert.equal(t.lookup('::ffff:10.0.0.1')?.serverKey, 'web1')
  throwsCode(() => e.get('gpt', 2), STICK_ERROR_CODES.INDEX)
  throwsCode(() => e.get('conn_cnt'), STICK_ERROR_CODES.DATA_TYPE)
  throwsCode(() => e.rate('conn_rate', 0), STICK_ERROR_CODES.DATA_TYPE)
  throwsCode(() => t.getOrCreate('2001:db8::1', 0), STICK_ERROR_CODES.KEY)
  assert.equal(t.lookup('2001:db8::1'), undefined)
  assert.equal(t.delete('10.0.0.1'), true)
  assert.equal(t.delete('10.0.0.1'), false)
  assert.equal(e.alive, false)
  throwsCode(() => e.get('gpc0'), STICK_ERROR_CODES.STALE_ENTRY)
  // the slot is reused by the next entry; the old view stays stale
  const f = t.getOrCreate('10.0.0.2', 0) as StickEntry
  assert.equal(f.get('gpc0'), 0, 'a reused slot starts zeroed')
  assert.equal(f.serverKey, undefined)
  throwsCode(() => e.keyText, STICK_ERROR_CODES.STALE_ENTRY)
  assert.equal(t.stats.deleted, 1)
})

test('a full table purges the least recently used entries, size/256+1 at a time', () => {
  const t = table({ size: 512, expire: 60000 })
  for (let i = 0; i < 512; i++) t.update(i, () => {}, i)
  t.update(0, () => {}, 1000) // 0 is now the most recent
  assert.ok(t.lookup(4, 1001) !== undefined, 'a lookup does not touch')
  t.update(9999, () => {}, 1001)
  assert.equal(t.size, 512 - 3 + 1)
  assert.equal(t.stats.evicted, 3)
  assert.deepEqual([1, 2, 3, 4].map(k => t.lookup(k) === undefined), [true, true, true, false])
  assert.ok(t.lookup(0) !== undefined)
  assert.deepEqual(keys([...t.lruOrder()].slice(0, 2)), ['0.0.0.4', '0.0.0.5'])
  assert.equal([...t.lruOrder()].at(-1)?.keyText, '0.0.39.15')
})

test('without expire, entries never expire and the LRU still bounds the table', () => {
  const t = table({ size: 3, expire: undefined })
  for (const k of ['1.1.1.1', '2.2.2.2', '3.3.3.3']) t.update(k, () => {}, 10)
  t.update('1.1.1.1', () => {}, 20)
  assert.equal(t.expire(1e9), 0)
  assert.equal(t.nextExpiry(), undefined)
  assert.equal(t.lookup('2.2.2.2', 1e9)?.expiresIn(1e9), 0, 'exp=0 as HAProxy shows')
  t.update('4.4.4.4', () => {}, 30)
  assert.deepEqual(keys(t.sortedEntries()), ['1.1.1.1', '3.3.3.3', '4.4.4.4'])
})

test('nopurge: a full table refuses new entries and counts them', () => {
  const t = table({ size: 2, nopurge: true })
  assert.ok(t.update('1.1.1.1', () => {}, 0))
  assert.ok(t.getOrCreate('2.2.2.2', 0))
  assert.equal(t.getOrCreate('3.3.3.3', 0), undefined)
  assert.equal(t.update('3.3.3.3', () => assert.fail('not called'), 0), undefined)
  assert.equal(t.applyRemote('3.3.3.3', [], undefined, 0), undefined)
  assert.ok(t.getOrCreate('1.1.1.1', 0), 'existing entries are still found')
  assert.equal(t.stats.createFailed, 3)
  assert.equal(t.size, 2)
})

test('expiry: touch order is expiry order; expire(now) pops the head; nextExpiry reads it', () => {
  const t = table({ expire: 1000 })
  t.update('10.0.0.1', () => {}, 0)
  t.update('10.0.0.2', () => {}, 100)
  t.getOrCreate('10.0.0.3', 200)
  t.update('10.0.0.1', () => {}, 300)
  assert.deepEqual(keys(t.lruOrder()), ['10.0.0.2', '10.0.0.3', '10.0.0.1'])
  assert.equal(t.nextExpiry(), 1100)
  assert.equal(t.expire(1099), 0)
  assert.equal(t.expire(1100), 1, 'an entry expires when now reaches its expiry')
  assert.equal(t.nextExpiry(), 1200)
  assert.equal(t.lookup('10.0.0.3')?.expiresIn(1150), 50)
  assert.equal(t.lookup('10.0.0.3', 1200), undefined, 'a lookup does not return an entry past its expiry')
  assert.equal(t.nextExpiry(), 1300)
  assert.equal(t.expire(5000), 1)
  assert.equal(t.nextExpiry(), undefined)
  assert.equal(t.stats.expired, 3)
  assert.equal(t.size, 0)
})

test('the clock wraps at 2^32 ms and never goes backwards', () => {
  const t = table({ expire: 1000 })
  const base = 2 ** 32 - 300
  t.update('10.0.0.1', e => e.hit('conn_rate', base), base)
  assert.equal(t.nextExpiry(), base + 1000)
  assert.equal(t.expire(base + 999), 0)
  assert.equal(t.lookup('10.0.0.1')?.rate('conn_rate', base + 500), 1)
  assert.equal(t.lookup('10.0.0.1')?.expiresIn(base), 1, 'an earlier now counts as the latest seen (base + 999)')
  assert.equal(t.expire(base + 1000), 1)
})

test('peer entries with their own expiry are ordered by a heap beside the list', () => {
  const t = table({ expire: 10000 })
  t.update('10.0.0.1', () => {}, 0) // exp 10000
  t.applyRemote('10.0.0.2', [], 500, 100) // exp 600: earlier than the tail
  t.applyRemote('10.0.0.3', [], 60000, 200) // exp 60200: later than any local touch
  t.applyRemote('10.0.0.4', [], undefined, 250) // not timed: table expire, exp 10250
  t.update('10.0.0.5', () => {}, 300) // exp 10300
  assert.equal(t.nextExpiry(), 600)
  assert.equal(t.expire(600), 1)
  assert.equal(t.nextExpiry(), 10000)
  assert.equal(t.expire(10300), 3)
  assert.deepEqual(keys(t.entries()), ['10.0.0.3'])
  assert.equal(t.nextExpiry(), 60200)
  t.update('10.0.0.3', () => {}, 10400) // a local touch brings it back to the list
  assert.equal(t.nextExpiry(), 20400)
  // eviction takes the earliest expiry of list and heap
  const f = table({ size: 3, expire: 10000 })
  f.update('1.1.1.1', () => {}, 0)
  f.update('1.1.1.2', () => {}, 10)
  f.applyRemote('1.1.1.3', [], 5, 20)
  f.update('1.1.1.4', () => {}, 30)
  assert.deepEqual(keys(f.sortedEntries()), ['1.1.1.1', '1.1.1.2', '1.1.1.4'])
})

test('local updates: one id per touch, updatesSince returns each entry once at its latest update', () => {
  const t = table({ size: 10000 })
  const a = t.update('10.0.0.1', () => {}, 0) as StickEntry
  t.update('10.0.0.2', () => {}, 1)
  t.update('10.0.0.3', () => {}, 2)
  assert.deepEqual([a.updateId, a.origin, t.localUpdate], [1, 'local', 3])
  t.update('10.0.0.1', () => {}, 3)
  assert.equal(a.updateId, 4)
  assert.deepEqual(keys(t.updatesSince(0, 100)), ['10.0.0.2', '10.0.0.3', '10.0.0.1'])
  assert.deepEqual(t.updatesSince(0, 100).map(e => e.updateId), [2, 3, 4])
  assert.deepEqual(keys(t.updatesSince(2, 100)), ['10.0.0.3', '10.0.0.1'])
  assert.deepEqual(keys(t.updatesSince(0, 2)), ['10.0.0.2', '10.0.0.3'])
  assert.deepEqual(keys(t.updatesSince(4, 100)), [])
  const created = t.getOrCreate('10.0.0.9', 5) as StickEntry
  assert.deepEqual([created.updateId, created.origin], [0, undefined], 'created but never touched: not pushed')
  t.delete('10.0.0.3')
  assert.deepEqual(keys(t.updatesSince(0, 100)), ['10.0.0.2', '10.0.0.1'])
  // a hot key: the log is compacted, ids keep increasing, nothing is lost
  for (let i = 0; i < 50000; i++) t.touchLocal(a, 10)
  t.update('10.0.0.4', () => {}, 11)
  assert.equal(t.localUpdate, 50005)
  assert.deepEqual(t.updatesSince(0, 100).map(e => [e.keyText, e.updateId]), [['10.0.0.2', 2], ['10.0.0.1', 50004], ['10.0.0.4', 50005]])
  assert.deepEqual(keys(t.updatesSince(50003, 100)), ['10.0.0.1', '10.0.0.4'])
  assert.ok(t.arrayBytes < 1_000_000, `log stays small (${t.arrayBytes} bytes)`)
  t.clear()
  assert.equal(t.size, 0)
  assert.deepEqual(t.updatesSince(0, 100), [])
  t.update('10.0.0.1', () => {}, 12)
  assert.equal(t.localUpdate, 50006, 'ids survive clear()')
})

test('many entries: updatesSince in order across compactions', () => {
  const t = table({ size: 5000, expire: undefined })
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 5000; i++) t.update(i, () => {}, round * 10000 + i)
  }
  let after = 0
  const seen: number[] = []
  for (;;) {
    const batch = t.updatesSince(after, 200)
    if (batch.length === 0) break
    for (const e of batch) { assert.ok(e.updateId > after); after = e.updateId; seen.push(e.keyBytes().readUInt32BE(0)) }
  }
  assert.equal(seen.length, 5000)
  assert.deepEqual(seen.slice(0, 3), [0, 1, 2])
  assert.equal(after, 15000)
})

test('remote updates: last writer wins, never scheduled for the peers, never relayed', () => {
  const t = table({ store: [{ name: 'server_id' }, { name: 'conn_cur' }, { name: 'conn_rate', period: 10000 }, { name: 'server_key' }, { name: 'bytes_in_cnt' }, { name: 'gpc', count: 2 }] })
  const e = t.applyRemote(Buffer.from([10, 0, 0, 7]), [
    { dataType: 0, value: 3 },
    { dataType: 6, value: 9 }, // conn_cur: local only
    { dataType: 5, value: { elapsedMs: 2000, curr: 4, prev: 10 } },
    { dataType: 19, value: { value: 'web3' } },
    { dataType: 13, value: 2n ** 40n },
    { dataType: 23, value: [5, 6, 7] }, // the sender has 3 elements, we keep 2
    { dataType: 2, value: 99 } // gpc0: not stored here, dropped
  ], undefined, 100000) as StickEntry
  assert.deepEqual([e.get('server_id'), e.get('conn_cur'), e.serverKey, e.get('bytes_in_cnt'), e.get('gpc', 0), e.get('gpc', 1)], [3, 0, 'web3', 2 ** 40, 5, 6])
  assert.equal(e.expiresIn(100000), 1000, 'not timed: the table expire')
  assert.equal(e.rate('conn_rate', 100000), 12) // 10*8000/10000 + 4
  assert.deepEqual(e.freqWire('conn_rate', 100050), { elapsedMs: 2050, curr: 4, prev: 10 })
  assert.deepEqual([e.origin, e.updateId, t.localUpdate, t.remoteUpdate], ['remote', 1, 0, 1])
  assert.deepEqual(t.updatesSince(0, 10), [], 'nothing to push')
  assert.deepEqual(keys(t.updatesSince(0, 10, 'remote')), ['10.0.0.7'])

  t.applyRemote('10.0.0.7', [{ dataType: 0, value: 2n ** 64n - 1n }, { dataType: 19, value: null }], 400, 100100)
  assert.deepEqual([e.get('server_id'), e.serverKey, e.updateId, t.remoteUpdate], [-1, 'web3', 1, 1], 'an entry already in a log stays where it is')
  assert.equal(e.expiresIn(100100), 400, 'timed: the expiry the peer sent')

  t.touchLocal(e, 100200)
  assert.deepEqual([e.origin, e.updateId], ['local', 1])
  assert.deepEqual(keys(t.updatesSince(0, 10)), ['10.0.0.7'])
  assert.deepEqual(keys(t.updatesSince(0, 10, 'remote')), [])
  t.applyRemote('10.0.0.7', [{ dataType: 0, value: 8 }], undefined, 100300)
  assert.deepEqual([e.get('server_id'), e.origin, t.localUpdate], [8, 'local', 1], 'a remote write does not create a local update')

  throwsCode(() => t.applyRemote('10.0.0.8', [{ dataType: 5, value: 3 }], undefined, 100400), STICK_ERROR_CODES.DATA_TYPE)
  throwsCode(() => t.applyRemote('10.0.0.8', [{ dataType: 23, value: 3 }], undefined, 100400), STICK_ERROR_CODES.DATA_TYPE)
})

test('exportValues: every stored type in id order, rates in wire form', () => {
  const t = table({ store: [{ name: 'server_key' }, { name: 'server_id' }, { name: 'gpc_rate', count: 2, period: 1000 }, { name: 'bytes_out_cnt' }] })
  const e = t.update('1.2.3.4', x => { x.set('server_id', 4); x.hit('gpc_rate', 5000, 3, 1); x.set('bytes_out_cnt', 77) }, 5000) as StickEntry
  assert.deepEqual(e.exportValues(5200), [
    { dataType: 0, name: 'server_id', value: 4 },
    { dataType: 15, name: 'bytes_out_cnt', value: 77 },
    { dataType: 19, name: 'server_key', value: null },
    { dataType: 24, name: 'gpc_rate', value: [{ elapsedMs: 5200, curr: 0, prev: 0 }, { elapsedMs: 200, curr: 3, prev: 0 }] }
  ])
  // and back through applyRemote on another table: same values
  const u = table({ store: [{ name: 'server_key' }, { name: 'server_id' }, { name: 'gpc_rate', count: 2, period: 1000 }, { name: 'bytes_out_cnt' }] })
  const r = u.applyRemote(e.keyBytes(), e.exportValues(5200), e.expiresIn(5200), 900000) as StickEntry
  assert.equal(r.rate('gpc_rate', 900000, 1), 3)
  assert.equal(r.expiresIn(900000), 800)
})

test('show order: sortedEntries is key-tree order; entries() is creation order', () => {
  const t = table({ type: 'integer' })
  for (const k of [1, 2, 256, 65536]) t.update(k, () => {}, 0)
  assert.deepEqual(keys(t.sortedEntries()), ['65536', '256', '1', '2'])
  assert.deepEqual(keys(t.entries()), ['1', '2', '256', '65536'])
  const pointers = new Set(t.sortedEntries().map(e => e.pointer))
  assert.equal(pointers.size, 4)
  assert.match([...pointers][0] as string, /^0x[0-9a-f]{12}$/)
})

test('watchUpdates: one call per burst of log appends until re-armed; local touches and first remote learning count', () => {
  const t = table()
  let calls = 0
  const unwatch = t.watchUpdates(() => { calls++ })
  t.getOrCreate('10.0.0.1', 0)
  assert.equal(calls, 0, 'creating an entry is not an update')
  for (let i = 0; i < 100; i++) t.update(`10.0.0.${i % 7}`, e => { e.add('gpc0') }, i)
  assert.equal(calls, 1, 'a burst costs one call')
  t.rearmWatchers()
  t.update('10.0.0.1', () => {}, 200)
  assert.equal(calls, 2)
  t.rearmWatchers()
  t.applyRemote('10.9.9.9', [{ dataType: 2, value: 5 }], undefined, 201)
  assert.equal(calls, 3, 'an entry first learned from a peer joins the remote log')
  t.rearmWatchers()
  t.applyRemote('10.9.9.9', [{ dataType: 2, value: 6 }], undefined, 202)
  assert.equal(calls, 3, 'an entry already in a log does not move')
  unwatch()
  t.update('10.0.0.2', () => {}, 203)
  assert.equal(calls, 3)
})

test('watchUpdates: several watchers are all told; a watcher added late is told of the next write', () => {
  const t = table()
  const seen: string[] = []
  t.watchUpdates(() => { seen.push('a') })
  t.update('10.0.0.1', () => {}, 0)
  t.watchUpdates(() => { seen.push('b') })
  t.update('10.0.0.2', () => {}, 1)
  assert.deepEqual(seen, ['a', 'a', 'b'])
})
