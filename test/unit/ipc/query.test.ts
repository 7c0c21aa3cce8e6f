/** Supervisor → worker questions over IPC: answers, errors, deadlines, a worker that goes away. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { answerQuery, WorkerQueries } from '../../../src/ipc/query.ts'
import type { QueryMessage, QueryReply } from '../../../src/ipc/query.ts'

const code = (c: string) => (e: unknown): boolean => (e as { code?: string }).code === c

/** A channel whose worker end answers with `handlers` on a later turn, as IPC does. */
function channel (handlers: Record<string, () => unknown>, opts: { silent?: boolean } = {}): { q: WorkerQueries, seen: QueryMessage[] } {
  const seen: QueryMessage[] = []
  const q: WorkerQueries = new WorkerQueries(msg => {
    seen.push(msg)
    if (opts.silent !== true) setImmediate(() => { answerQuery(structuredClone(msg), handlers, (r: QueryReply) => { setImmediate(() => { q.onMessage(structuredClone(r)) }) }) })
    return true
  })
  return { q, seen }
}

test('a question gets its own answer; concurrent questions do not mix', async () => {
  let n = 0
  const { q, seen } = channel({ peers: () => ({ sections: [], n: ++n }), none: () => undefined })
  const [a, b, c] = await Promise.all([q.ask('peers'), q.ask('peers'), q.ask('none')])
  assert.deepEqual([a, b, c], [{ sections: [], n: 1 }, { sections: [], n: 2 }, null])
  assert.deepEqual(seen.map(m => m.id), [1, 2, 3])
  assert.equal(q.pending, 0)
})

test('an unknown question or a failing handler is a TSLB_ERR_WORKER_QUERY', async () => {
  const { q } = channel({ boom: () => { throw new Error('kaput') } })
  await assert.rejects(q.ask('nope'), (e: unknown) => code('TSLB_ERR_WORKER_QUERY')(e) && /unknown query 'nope'/.test((e as Error).message))
  await assert.rejects(q.ask('boom'), (e: unknown) => code('TSLB_ERR_WORKER_QUERY')(e) && /kaput/.test((e as Error).message))
  // Names of Object.prototype are not handlers.
  await assert.rejects(q.ask('toString'), code('TSLB_ERR_WORKER_QUERY'))
})

test('a worker that does not answer: TSLB_ERR_WORKER_QUERY_TIMEOUT after the deadline, and a late answer is ignored', async () => {
  const { q, seen } = channel({}, { silent: true })
  const t0 = performance.now()
  await assert.rejects(q.ask('peers', 50), code('TSLB_ERR_WORKER_QUERY_TIMEOUT'))
  const took = performance.now() - t0
  assert.ok(took >= 45 && took < 1000, `${took} ms`)
  assert.equal(q.pending, 0)
  assert.equal(q.onMessage({ type: 'query-reply', id: seen[0]?.id, ok: true, result: 1 }), true)
})

test('a worker that exits or is not connected fails the questions at once', async () => {
  const { q } = channel({}, { silent: true })
  const p = q.ask('peers', 10_000)
  q.cancelAll('the worker exited')
  await assert.rejects(p, (e: unknown) => code('TSLB_ERR_WORKER_QUERY')(e) && /exited/.test((e as Error).message))
  const closed = new WorkerQueries(() => false)
  await assert.rejects(closed.ask('peers', 10_000), code('TSLB_ERR_WORKER_QUERY'))
  const throwing = new WorkerQueries(() => { throw new Error('channel closed') })
  await assert.rejects(throwing.ask('peers', 10_000), code('TSLB_ERR_WORKER_QUERY'))
})

test('other messages are left to their handlers', () => {
  const q = new WorkerQueries(() => true)
  assert.equal(q.onMessage({ type: 'ready' }), false)
  assert.equal(q.onMessage(null), false)
  assert.equal(answerQuery({ type: 'drain' }, {}, () => { assert.fail('no reply') }), false)
  assert.equal(answerQuery('query', {}, () => { assert.fail('no reply') }), false)
})
