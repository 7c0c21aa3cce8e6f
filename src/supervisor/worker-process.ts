/**
 * One proxy worker generation as the supervisor sees it: a forked child that gets the
 * configuration and listening handles over IPC and reports ready, drained or dead.
 * The process is forked first and started later: until `start` it is a standby, booted (its
 * modules loaded) and waiting, with no generation, configuration or socket.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Config } from '../config/model.ts'
import type { TcpHandle } from '../net/listen-handle.ts'
import type { SupervisorMessage, WorkerMessage } from '../ipc/messages.ts'
import { WorkerQueries } from '../ipc/query.ts'
import { WorkerStartError } from './errors.ts'

export const WORKER_ENTRY = fileURLToPath(new URL('../proxy/worker-main.ts', import.meta.url))
export const READY_TIMEOUT_MS = 30_000
const PUBLISH_TIMEOUT_MS = 10_000

/**
 * A young generation of 2 MiB semi-spaces instead of V8's up to 16: a request's garbage dies young either way. Same
 * CPU per request in same-run A/Bs, ~6 MiB less RSS under keep-alive load; 1 MiB saved 3 MiB more but doubled the
 * garbage collector's share of a CPU profile (4% -> 11%), 4 MiB kept ~1 MiB more than 2.
 */
const WORKER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=2']

/**
 * glibc malloc: at most 2 arenas. With one per thread (V8's GC helpers, libuv's pool) a worker under a connection per
 * request kept ~15 MiB more RSS in fragmented arenas, for no measurable CPU. Settings of the user's come first.
 */
export function workerMallocTunables (env: NodeJS.ProcessEnv = process.env): string {
  const own = env['GLIBC_TUNABLES'] ?? ''
  if (own.includes('glibc.malloc.arena_max')) return own
  return [own, 'glibc.malloc.arena_max=2'].filter(t => t !== '').join(':')
}

/**
 * V8 flags of every worker. Node flags for diagnostics (`--trace-gc`, `--cpu-prof`, ...) can be added with
 * TSLB_WORKER_NODE_FLAGS (space-separated); NODE_OPTIONS rejects some of them.
 */
export function workerExecArgv (env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env['TSLB_WORKER_NODE_FLAGS'] ?? '').split(/\s+/).filter(f => f !== '')
  return ['--disable-warning=ExperimentalWarning', ...WORKER_V8_FLAGS, ...extra]
}

/** What a worker needs besides the configuration: who it is, and where generations hand over peers state. */
export interface WorkerContext {
  readonly localPeer: string
  /** Directory for per-generation unix sockets (the peers hand-off); the control socket's. */
  readonly runDir: string
}

/** The newest generation that reported ready: the one a new generation learns stick tables from. */
let lastReadyGeneration: number | undefined

export class WorkerProcess {
  /** 0 until `start` (a standby). */
  private gen = 0
  readonly child: ChildProcess
  private exited = false
  private hasBooted = false
  /** Questions to the worker (`tslb status`), answered over IPC with a deadline. */
  readonly queries: WorkerQueries
  readonly exitPromise: Promise<{ code: number | null, signal: NodeJS.Signals | null }>

  /**
   * `compileCacheDir`: where V8's compiled code for the worker's modules is kept, so the next generation starts in
   * about a third of the time; checked by the caller (compile-cache.ts).
   */
  constructor (compileCacheDir?: string) {
    const cache = compileCacheDir !== undefined ? { NODE_COMPILE_CACHE: compileCacheDir } : {}
    this.child = fork(WORKER_ENTRY, [], {
      serialization: 'advanced',
      execArgv: workerExecArgv(),
      env: { ...process.env, ...cache, GLIBC_TUNABLES: workerMallocTunables() },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    this.queries = new WorkerQueries(msg => {
      if (!this.alive || !this.child.connected) return false
      this.child.send(msg)
      return true
    })
    this.child.on('message', (m: unknown) => {
      if ((m as WorkerMessage | undefined)?.type === 'booted') this.hasBooted = true
      this.queries.onMessage(m)
    })
    this.exitPromise = new Promise(resolve => {
      this.child.once('exit', (code, signal) => {
        this.exited = true
        this.queries.cancelAll('the worker exited')
        resolve({ code, signal })
      })
    })
  }

  get generation (): number {
    return this.gen
  }

  /** Its modules are loaded: `start` costs only the configuration's own work. */
  get booted (): boolean {
    return this.hasBooted
  }

  get pid (): number | undefined {
    return this.child.pid
  }

  get alive (): boolean {
    return !this.exited
  }

  /** Makes this process generation `generation`: sends the configuration and handles, then waits for `ready`. */
  async start (generation: number, config: Config, handles: ReadonlyMap<string, TcpHandle>,
    context?: WorkerContext): Promise<void> {
    if (this.gen !== 0) throw new WorkerStartError(`worker generation ${this.gen} is already started`)
    this.gen = generation
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new WorkerStartError(
        `worker generation ${this.generation} not ready after ${READY_TIMEOUT_MS / 1000} s`)) }, READY_TIMEOUT_MS)
      const onMessage = (m: WorkerMessage): void => {
        if (m.type === 'ready') {
          cleanup()
          lastReadyGeneration = this.generation
          resolve()
        } else if (m.type === 'failed') {
          cleanup()
          reject(new WorkerStartError(`worker generation ${this.generation} failed to start: ${m.error}`))
        }
      }
      const onExit = (code: number | null): void => {
        cleanup()
        reject(new WorkerStartError(
          `worker generation ${this.generation} exited (${code ?? 'signal'}) before it was ready`))
      }
      const cleanup = (): void => {
        clearTimeout(timer)
        this.child.off('message', onMessage)
        this.child.off('exit', onExit)
      }
      this.child.on('message', onMessage)
      this.child.once('exit', onExit)
    })
    await this.sendMessage({ type: 'config', config, generation: this.generation,
      previousGeneration: lastReadyGeneration, ...context })
    for (const [key, handle] of handles) await this.sendMessage({ type: 'listener', key }, handle)
    await this.sendMessage({ type: 'start' })
    try {
      await ready
    } catch (err) {
      this.kill()
      throw err
    }
  }

  private async sendMessage (msg: SupervisorMessage, handle?: TcpHandle): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      // `keepOpen` keeps the supervisor's copy of the socket: it owns the listener for good.
      this.child.send(msg, handle as never, { keepOpen: true }, err => { if (err === null) resolve();
        else reject(err) })
    })
  }

  /**
   * Makes this generation's stats sockets take over their paths (they were bound under temporary names): called when
   * it becomes the serving generation, never for one that fails.
   */
  async publish (): Promise<void> {
    await this.queries.ask('publish', PUBLISH_TIMEOUT_MS)
  }

  /** Stops accepting and exits once its connections are done (or after `hardStopAfter`). */
  drain (hardStopAfterMs: number): void {
    if (this.alive && this.child.connected) this.child.send({ type: 'drain', hardStopAfter: hardStopAfterMs })
  }

  /** A notice the worker caches (e.g. the VRRP state for the runtime API's `show vrrp`). */
  notify (msg: SupervisorMessage): void {
    if (this.alive && this.child.connected) this.child.send(msg)
  }

  kill (): void {
    if (this.alive) this.child.kill('SIGKILL')
  }
}
