/**
 * Server slots and the backend queue: `maxconn` per server (made dynamic by `minconn` and
 * `fullconn` as HAProxy computes it), a FIFO queue when every candidate is full, `timeout queue`,
 * and clients that give up leaving the queue (`option abortonclose`).
 */
import type { Balancer, PickContext } from './balance/balancer.ts'
import type { ServerState } from './server-state.ts'
import { QueueAbortedError, QueueTimeoutError } from './errors.ts'

export interface Slot {
  readonly server: ServerState
  /** Time spent in the queue (HAProxy's Tw): 0 when a slot was free at once. */
  readonly queuedMs: number
}

interface Waiter {
  readonly server: ServerState | undefined
  readonly ctx: PickContext
  readonly resolve: (server: ServerState) => void
  readonly reject: (err: Error) => void
  readonly cleanup: () => void
}

export interface AdmissionOwner {
  readonly name: string
  readonly servers: readonly ServerState[]
  readonly balancer: Balancer<ServerState>
  /** Connections the backend handles now (HAProxy's beconn), for the dynamic limit. */
  readonly activeConnections: number
}

/** How a backend's queue meets the other proxy threads' (threads/node-state.ts). */
export interface SharedQueue {
  /** This thread now has `n` clients waiting in the backend's queue. */
  readonly waiting: (n: number) => void
  /** A slot was freed on `server`: threads with clients waiting are woken to try for it. */
  readonly released: (server: ServerState) => void
}

export class Admission {
  /** Set when proxy threads share the servers' slots. */
  shared: SharedQueue | undefined
  private readonly owner: AdmissionOwner
  private readonly fullconn: number
  private readonly queueTimeout: number
  private readonly waiters: Waiter[] = []
  private readonly limited: boolean
  /** Longest the queue has been (the stats' qmax), kept at enqueue time so a short queue is not missed. */
  queuePeak = 0
  private readonly serverPeaks = new Map<ServerState, number>()

  constructor (owner: AdmissionOwner, fullconn: number, queueTimeout: number) {
    this.owner = owner
    this.fullconn = Math.max(1, fullconn)
    this.queueTimeout = queueTimeout
    this.limited = owner.servers.some(s => s.maxconn !== undefined)
  }

  get queueLength (): number {
    return this.waiters.length
  }

  serverQueueLength (server: ServerState): number {
    return this.waiters.filter(w => w.server === server).length
  }

  /** Longest queue of clients waiting for `server` itself (persistence). */
  serverQueuePeak (server: ServerState): number {
    return this.serverPeaks.get(server) ?? 0
  }

  /** The server's current connection limit: HAProxy's srv_dynamic_maxconn. */
  limit (server: ServerState): number {
    const max = server.maxconn
    if (max === undefined) return Infinity
    const min = server.config.minconn
    if (min === undefined || min >= max || this.owner.activeConnections >= this.fullconn) return max
    return Math.max(min, Math.floor(this.owner.activeConnections * max / this.fullconn), 1)
  }

  isFull (server: ServerState): boolean {
    return server.activeConnections >= this.limit(server)
  }

  /**
   * A server with a free slot, reserved for the caller (its connection count is incremented), or
   * a wait in the queue until one frees up. `preferred` (persistence) waits for that server only.
   */
  async acquire (ctx: PickContext, preferred: ServerState | undefined, force: boolean, signal: AbortSignal | undefined,
    avoid?: ReadonlySet<ServerState>): Promise<Slot | undefined> {
    const chosen = this.tryAcquire(ctx, preferred, force, avoid)
    if (chosen === 'none') return undefined
    if (chosen !== 'full') return { server: chosen, queuedMs: 0 }
    return await this.wait(ctx, preferred, force, signal)
  }

  /**
   * A server whose free slot is now reserved for the caller; 'full' when the caller must `wait`, 'none' when no server
   * may serve.
   */
  tryAcquire (ctx: PickContext, preferred: ServerState | undefined, force: boolean,
    avoid?: ReadonlySet<ServerState>): ServerState | 'full' | 'none' {
    const chosen = this.tryPick(ctx, preferred, force, avoid)
    if (chosen === 'full' || chosen === 'none') return chosen
    // Another thread may have taken the last slot since the pick.
    return this.take(chosen) ? chosen : 'full'
  }

  /** Waits in the queue for a slot, after `tryAcquire` said 'full'. */
  async wait (ctx: PickContext, preferred: ServerState | undefined, force: boolean,
    signal: AbortSignal | undefined): Promise<Slot> {
    const required = preferred !== undefined && (preferred.usable || force) ? preferred : undefined
    const enqueuedAt = Date.now()
    const server = await new Promise<ServerState>((resolve, reject) => {
      const timer = setTimeout(() => { remove(); reject(new QueueTimeoutError(this.owner.name)) }, this.queueTimeout)
      const onAbort = (): void => { remove(); reject(new QueueAbortedError(this.owner.name)) }
      const cleanup = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      const waiter: Waiter = { server: required, ctx, resolve, reject, cleanup }
      const remove = (): void => {
        cleanup()
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        this.shared?.waiting(this.waiters.length)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(waiter)
      this.queuePeak = Math.max(this.queuePeak, this.waiters.length)
      if (required !== undefined) this.serverPeaks.set(required, Math.max(this.serverQueuePeak(required),
        this.serverQueueLength(required)))
      if (this.shared !== undefined) {
        // Said before looking again: a thread that frees a slot after this either wakes us or was seen here.
        this.shared.waiting(this.waiters.length)
        this.serveQueue()
      }
    })
    return { server, queuedMs: Date.now() - enqueuedAt }
  }

  private tryPick (ctx: PickContext, preferred: ServerState | undefined, force: boolean,
    avoid?: ReadonlySet<ServerState>): ServerState | 'full' | 'none' {
    if (preferred !== undefined && (preferred.usable || force)) return this.isFull(preferred) ? 'full' : preferred
    if (!this.limited) return this.owner.balancer.pick(ctx, avoid) ?? 'none'
    const skip = new Set(avoid)
    for (const s of this.owner.servers) if (this.isFull(s)) skip.add(s)
    const picked = this.owner.balancer.pick(ctx, skip)
    if (picked === undefined) return 'none'
    return this.isFull(picked) ? 'full' : picked
  }

  /** Reserves a slot on `server`; false if every slot went (to another thread) since it was picked. */
  private take (server: ServerState): boolean {
    if (!server.takeSlot(this.limit(server))) return false
    server.totalSessions++
    this.owner.balancer.loadChanged(server)
    return true
  }

  /** Frees a slot on `server` and hands free slots to the queue, oldest first. */
  release (server: ServerState): void {
    server.releaseSlot()
    this.owner.balancer.loadChanged(server)
    this.serveQueue()
    this.shared?.released(server)
  }

  /** Gives free slots to waiting clients (after a release, or when a server comes back). */
  serveQueue (): void {
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i] as Waiter
      const target = w.server ?? this.tryPick(w.ctx, undefined, false)
      if (typeof target !== 'string' && !this.isFull(target) && this.take(target)) {
        this.waiters.splice(i, 1)
        this.shared?.waiting(this.waiters.length)
        w.cleanup()
        w.resolve(target)
        continue
      }
      if (target === 'none') {
        // No usable server any more: nothing will free up for this client.
        this.waiters.splice(i, 1)
        this.shared?.waiting(this.waiters.length)
        w.cleanup()
        w.reject(new QueueTimeoutError(this.owner.name))
        continue
      }
      i++
    }
  }
}
