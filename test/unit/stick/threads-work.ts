/**
 * The work of threads.test.ts, run by the main thread and by each worker thread on one shared
 * table. As a worker's entry point (workerData.stickThreads set) it attaches the table, runs the
 * scenario and posts its result.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { StickTable, type StickEntry, type StickTableHandle } from '../../../src/stick/index.ts'

export interface Job {
  readonly stickThreads: true
  readonly scenario: 'count' | 'evict' | 'stale' | 'touch'
  readonly handle: StickTableHandle
  /** Barriers: one int32 counter each. */
  readonly sync: SharedArrayBuffer
  readonly parties: number
  /** 0 = main thread, 1.. = workers. */
  readonly me: number
  readonly ops: number
}

/** Waits until `parties` threads reached barrier `i`. */
export function barrier (sync: SharedArrayBuffer, i: number, parties: number): void {
  const a = new Int32Array(sync)
  Atomics.add(a, i, 1)
  for (let v = Atomics.load(a, i); v < parties; v = Atomics.load(a, i)) Atomics.wait(a, i, v, 50)
}

const NOW = 5000
const HOT_KEYS = 16

/** What one thread reports. */
export interface Result {
  readonly me: number
  readonly seenOthers?: number
  readonly staleThrows?: number
  readonly serverKeys?: string[]
}

export function run (t: StickTable, job: Job): Result {
  const { sync, parties, me, ops } = job
  if (job.scenario === 'count') {
    barrier(sync, 0, parties)
    // the same 16 hot keys from every thread, and 1000 keys of this thread's own
    for (let i = 0; i < ops; i++) {
      t.update(`10.0.0.${i % HOT_KEYS}`, e => { e.add('gpc0'); e.hit('http_req_rate', NOW) }, NOW)
      if (i % 100 === 0) t.update(`10.${me + 1}.${(i / 100) >> 8}.${(i / 100) & 255}`, e => {
        e.set('server_id', me + 1)
        e.serverKey = `web-${me}`
      }, NOW)
    }
    barrier(sync, 1, parties)
    // every other thread's own keys, seen from here
    let seenOthers = 0
    for (let o = 0; o < parties; o++) {
      if (o === me) continue
      for (let i = 0; i < ops; i += 100) {
        const e = t.lookup(`10.${o + 1}.${(i / 100) >> 8}.${(i / 100) & 255}`, NOW)
        if (e !== undefined && e.get('server_id') === o + 1 && e.serverKey === `web-${o}`) seenOthers++
      }
    }
    return { me, seenOthers }
  }
  if (job.scenario === 'evict') {
    barrier(sync, 0, parties)
    // distinct keys per thread, far more than the table holds: it grows, then purges
    for (let i = 0; i < ops; i++) {
      const key = ((me + 1) << 24) | i
      t.update(key, e => { e.add('gpc0') }, NOW + (i >> 10))
      if (i % 7 === 0) t.lookup(((me + 1) << 24) | (i >> 1), NOW + (i >> 10))
      if (i % 13 === 0) t.delete(((me + 1) << 24) | (i - 5))
    }
    return { me }
  }
  if (job.scenario === 'touch') {
    t.update('10.7.7.7', x => { x.add('gpc0') }, NOW)
    return { me }
  }
  // stale: every thread holds a view of the same entry; the main thread deletes it
  const e = t.lookup('10.9.9.9') as StickEntry
  const before = e.get('gpc0')
  barrier(sync, 0, parties)
  if (me === 0) {
    t.delete('10.9.9.9')
    // the slot is reused at once by another key: the generation still tells the views apart
    t.update('10.9.9.10', x => { x.set('gpc0', 7) }, NOW)
  }
  barrier(sync, 1, parties)
  let staleThrows = 0
  const tries: (() => unknown)[] = [() => e.get('gpc0'), () => e.add('gpc0'), () => e.key, () => e.rate('http_req_rate', NOW),
    () => e.exportValues(NOW), () => { t.touchLocal(e, NOW) }]
  for (const f of tries) {
    try { f() } catch (err) { if ((err as { code?: string }).code === 'TSLB_ERR_STICK_STALE_ENTRY') staleThrows++ }
  }
  if (e.alive || before !== 3) staleThrows = -1
  return { me, staleThrows }
}

if (!isMainThread && (workerData as Partial<Job> | undefined)?.stickThreads === true) {
  const job = workerData as Job
  const result = run(StickTable.attach(job.handle), job)
  parentPort?.postMessage(result)
}
