import { test } from 'node:test'
import assert from 'node:assert/strict'
import { countersOf } from '../../../src/proxy/counters.ts'
import { refreshBackend } from '../../../src/proxy/stats/sampler.ts'
import { backendFrom } from './health/helpers.ts'

test('queue peaks are kept when clients enqueue: a queue that came and went before any stats sample still shows in qmax', async () => {
  const be = backendFrom(`
backend be
  timeout queue 5s
  server a 127.0.0.1:1 maxconn 1
`)
  const a = be.serverByName('a')
  assert.ok(a !== undefined)
  const ctx = { source: '198.18.0.2' }
  const first = await be.admission.acquire(ctx, undefined, false, undefined)
  assert.equal(first?.server, a)
  const waiting = [be.admission.acquire(ctx, undefined, false, undefined), be.admission.acquire(ctx, a, true, undefined)]
  assert.equal(be.admission.queueLength, 2)
  assert.equal(be.admission.serverQueueLength(a), 1, 'the persistent client waits for a itself')
  be.admission.release(a)
  be.admission.release(a)
  await Promise.all(waiting)
  be.admission.release(a)
  assert.equal(be.admission.queueLength, 0)
  refreshBackend(be)
  assert.equal(countersOf(be).queueMax, 2)
  assert.equal(countersOf(a).queueMax, 1)
})
