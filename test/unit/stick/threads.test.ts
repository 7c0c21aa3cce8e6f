/**
 * One stick table used by several threads of one process (node:worker_threads, real threads):
 * the main thread creates it, workers attach its handle, all hammer it at once.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'
import type { StickTableSpec } from '../../../src/config/model.ts'
import { StickTable } from '../../../src/stick/index.ts'
import { run, type Job, type Result } from './threads-work.ts'

const loc = { file: 't.cfg', line: 1 }
const WORK = new URL('./threads-work.ts', import.meta.url)

function table (over: Partial<StickTableSpec> = {}): StickTable {
  return new StickTable('t', { type: 'ip', size: 10000, expire: 60000, nopurge: false, loc,
    store: [{ name: 'server_id' }, { name: 'gpc0' }, { name: 'http_req_rate', period: 10000 }, { name: 'server_key' }],
    ...over })
}

/** Runs `scenario` on `workers` worker threads and on this thread at once; the results, main thread's first. */
async function together (t: StickTable, scenario: Job['scenario'], workers: number, ops: number): Promise<Result[]> {
  const sync = new SharedArrayBuffer(16)
  const parties = workers + 1
  const job = (me: number): Job => ({ stickThreads: true, scenario, handle: t.sharedHandle(), sync, parties, me, ops })
  const done = Array.from({ length: workers }, (_, i) => new Promise<Result>((resolve, reject) => {
    const w = new Worker(WORK, { workerData: job(i + 1) })
    let result: Result | undefined
    w.on('message', (m: Result) => { result = m })
    w.on('error', reject)
    w.on('exit', code => { if (code === 0 && result !== undefined) resolve(result); else reject(new Error(`worker exit ${code}`)) })
  }))
  const mine = run(t, job(0))
  return [mine, ...await Promise.all(done)]
}

test('threads: counters count every thread\'s hits exactly; entries and server_key written by one thread are seen by the others; one update log', { timeout: 120_000 }, async () => {
  const t = table()
  const ops = 100_000
  const results = await together(t, 'count', 2, ops)
  let gpc0 = 0
  let rate = 0
  for (let k = 0; k < 16; k++) {
    const e = t.lookup(`10.0.0.${k}`)
    assert.ok(e !== undefined)
    gpc0 += e.get('gpc0')
    rate += e.rate('http_req_rate', 5000)
  }
  assert.equal(gpc0, 3 * ops, 'gpc0: no increment lost')
  assert.equal(rate, 3 * ops, 'http_req_rate: every thread\'s hits')
  assert.deepEqual(results.map(r => r.seenOthers), [2000, 2000, 2000], 'each thread sees the 1000 entries of each other thread')
  assert.equal(t.size, 16 + 3 * 1000)
  assert.equal(t.localUpdate, 3 * ops + 3 * 1000, 'one update id per touch, whichever thread')
  const updates = t.updatesSince(0, 1e6)
  assert.equal(updates.length, t.size, 'every entry once, at its latest update')
  const owners = new Set(updates.map(e => e.keyText.split('.')[1]))
  assert.deepEqual([...owners].sort(), ['0', '1', '2', '3'], 'updates of all three threads')
  const ids = updates.map(e => e.updateId)
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b))
  assert.equal(t.lookup('10.2.0.5')?.serverKey, 'web-1')
})

test('threads: eviction and growth under concurrency keep the table consistent', { timeout: 120_000 }, async () => {
  const t = table({ size: 20000, store: [{ name: 'gpc0' }] })
  await together(t, 'evict', 2, 30_000)
  assert.ok(t.size <= t.capacity && t.size > 0)
  const all = [...t.entries()]
  assert.equal(all.length, t.size)
  for (const e of all) assert.equal(t.lookup(e.key)?.key, e.key, 'the index finds every entry')
  assert.equal([...t.lruOrder()].length, t.size, 'every entry is in the LRU list once')
  const s = t.stats
  assert.equal(s.created - s.evicted - s.expired - s.deleted, t.size, 'created = evicted + expired + deleted + left')
  assert.ok(s.evicted > 0)
  assert.equal(t.updatesSince(0, 1e6).length, t.size)
  // and it still works as a table
  t.clear()
  assert.equal(t.size, 0)
  t.update(1, e => { e.add('gpc0') }, 10_000)
  assert.equal(t.lookup(1)?.get('gpc0'), 1)
})

test('threads: a deleted entry\'s views are stale on every thread, even when its slot is reused', { timeout: 120_000 }, async () => {
  const t = table()
  t.update('10.9.9.9', e => { e.set('gpc0', 3) }, 5000)
  const results = await together(t, 'stale', 2, 0)
  assert.deepEqual(results.map(r => r.staleThrows), [6, 6, 6])
  assert.equal(t.lookup('10.9.9.10')?.get('gpc0'), 7)
})

test('threads: watchUpdates on this thread is told of a write made by another thread', { timeout: 120_000 }, async () => {
  const t = table()
  let calls = 0
  const told = new Promise<void>(resolve => { t.watchUpdates(() => { calls++; resolve() }) })
  t.rearmWatchers()
  const w = new Worker(WORK, { workerData: { stickThreads: true, scenario: 'touch', handle: t.sharedHandle(),
    sync: new SharedArrayBuffer(16), parties: 1, me: 1, ops: 0 } satisfies Job })
  await new Promise(resolve => w.once('exit', resolve))
  const timeout = setTimeout(() => { assert.fail('watcher not called') }, 5000)
  await told
  clearTimeout(timeout)
  assert.equal(calls, 1)
  assert.deepEqual(t.updatesSince(0, 10).map(e => e.keyText), ['10.7.7.7'])
})
