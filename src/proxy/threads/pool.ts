/**
 * The main thread's view of proxy threads 2..N: starts them on the configuration and their share of the sockets,
 * waits until each serves, drains them, and reports one that dies (the worker process then exits, and the supervisor
 * restarts the generation: a thread's sockets must never be left without a thread accepting on them).
 * A standby worker process boots spare threads ahead of time (`spawnSpares`): they load their modules, and the pool
 * hands them their data instead of starting new ones.
 */
import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import type { Config } from '../../config/model.ts'
import type { FromThread, ThreadData, ToThread } from './messages.ts'
import type { NodeStateHandle } from './node-state.ts'
import type { StatsShareHandle } from './stats-share.ts'
import type { StickTableHandle } from '../../stick/index.ts'

const THREAD_ENTRY = fileURLToPath(new URL('./thread-main.ts', import.meta.url))

export class ProxyThreads {
  private readonly workers: Worker[] = []
  private draining = false
  private readonly exited: Promise<void>[] = []
  /** Each thread's `ready` or `failed`, listened for from the start: a spare answers before `ready()` is called. */
  private readonly started: Promise<void>[] = []
  /** Called once if a thread exits on its own (not while draining). */
  onDeath: (tid: number, why: string) => void = () => {}
  /** A thread's traffic log line for a unix socket. */
  onSyslog: (path: string, bytes: Buffer) => void = () => {}

  /** Threads with no data yet, their modules loading or loaded: they wait for `start`. */
  static spawnSpares (n: number): Worker[] {
    return Array.from({ length: n }, () => new Worker(THREAD_ENTRY).on('error', () => {}))
  }

  /** `shares[i]`: memberKey -> fd for thread i + 2. `spares` (from spawnSpares) are used first, the rest ended. */
  constructor (config: Config, shares: readonly (readonly (readonly [string, number])[])[], state: NodeStateHandle,
    stats: StatsShareHandle, tables: readonly (readonly [string, StickTableHandle])[], spares: Worker[] = []) {
    const threads = shares.length + 1
    // A spare that has exited (threadId -1) is not used: its exit would never be seen.
    const alive = spares.filter(w => w.threadId !== -1)
    for (const extra of alive.splice(shares.length)) void extra.terminate()
    shares.forEach((sockets, i) => {
      const data: ThreadData = { config, tid: i + 2, threads, sockets, state, stats, tables }
      const spare = alive[i]
      const w = spare ?? new Worker(THREAD_ENTRY, { workerData: data })
      if (spare !== undefined) spare.postMessage({ type: 'start', data } satisfies ToThread)
      this.workers.push(w)
      const started = new Promise<void>((resolve, reject) => {
        const onMessage = (m: FromThread): void => {
          if (m.type === 'ready') { cleanup(); resolve() }
          if (m.type === 'failed') { cleanup(); reject(new Error(`thread ${i + 2}: ${m.error}`)) }
        }
        const onExit = (code: number): void => { cleanup(); reject(new Error(`thread ${i + 2} exited (${code})`)) }
        const cleanup = (): void => { w.off('message', onMessage); w.off('exit', onExit) }
        w.on('message', onMessage)
        w.once('exit', onExit)
      })
      started.catch(() => {})
      this.started.push(started)
      w.on('message', (m: FromThread) => {
        if (m.type === 'syslog') this.onSyslog(m.path, Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.length))
      })
      this.exited.push(new Promise(resolve => {
        w.once('exit', code => {
          if (!this.draining) this.onDeath(i + 2, `exited with code ${code}`)
          resolve()
        })
      }))
      w.on('error', (err: unknown) => {
        if (!this.draining) this.onDeath(i + 2, err instanceof Error ? err.message : String(err))
      })
    })
  }

  get count (): number {
    return this.workers.length
  }

  /** Resolves once every thread serves; rejects with the first failure. */
  async ready (): Promise<void> {
    await Promise.all(this.started)
  }

  /** A notice for every thread. */
  broadcast (msg: ToThread): void {
    if (!this.draining) for (const w of this.workers) w.postMessage(msg)
  }

  /** Every thread stops accepting and finishes its connections; resolves when all have exited. */
  async drain (hardStopAfter: number): Promise<void> {
    this.draining = true
    for (const w of this.workers) w.postMessage({ type: 'drain', hardStopAfter } satisfies ToThread)
    await Promise.all(this.exited)
  }

  async terminate (): Promise<void> {
    this.draining = true
    await Promise.all(this.workers.map(async w => await w.terminate()))
  }
}
