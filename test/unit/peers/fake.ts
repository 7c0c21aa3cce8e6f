/**
 * Deterministic stand-ins for the peers I/O: a manual clock (timers, deferred turns, seeded
 * randomness) and an in-memory network whose transports deliver bytes on the clock's deferred
 * queue, can be paused to play a slow peer, and record what crossed them.
 */
import type { PeersClock, PeersTimer } from '../../../src/peers/clock.ts'
import type { ListenSpec, PeerTarget, PeersListener, PeersNetwork, PeerTransport, PeerTransportHandlers } from '../../../src/peers/transport.ts'
import { rng } from './helpers.ts'

interface FakeTimer extends PeersTimer {
  readonly at: number
  readonly seq: number
  readonly fn: () => void
  cancelled: boolean
}

export class ManualClock implements PeersClock {
  t: number
  wall = Date.UTC(2026, 10, 22, 4, 27, 20)
  readonly #timers: FakeTimer[] = []
  #deferred: (() => void)[] = []
  #seq = 0
  readonly #rand: () => number

  constructor (start = 1_000_000, seed = 42) {
    this.t = start
    this.#rand = rng(seed)
  }

  now (): number {
    return this.t
  }

  wallNow (): number {
    return this.wall + (this.t - 1_000_000)
  }

  setTimer (fn: () => void, ms: number): PeersTimer {
    const timer: FakeTimer = { at: this.t + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false }
    this.#timers.push(timer)
    return timer
  }

  clearTimer (timer: PeersTimer): void {
    (timer as FakeTimer).cancelled = true
  }

  defer (fn: () => void): void {
    this.#deferred.push(fn)
  }

  random (): number {
    return this.#rand()
  }

  /** Runs deferred work until none is left (bounded: a livelock fails the test). */
  flush (): void {
    for (let rounds = 0; this.#deferred.length > 0; rounds++) {
      if (rounds > 1_000_000) throw new Error('deferred work never ends')
      const batch = this.#deferred
      this.#deferred = []
      for (const fn of batch) fn()
    }
  }

  /** Advances time by `ms`, firing timers in order, with deferred work run in between. */
  advance (ms: number): void {
    const target = this.t + ms
    this.flush()
    for (;;) {
      let next: FakeTimer | undefined
      for (const tm of this.#timers) {
        if (tm.cancelled || tm.at > target) continue
        if (next === undefined || tm.at < next.at || (tm.at === next.at && tm.seq < next.seq)) next = tm
      }
      if (next === undefined) break
      next.cancelled = true
      this.t = Math.max(this.t, next.at)
      next.fn()
      this.flush()
      this.#prune()
    }
    this.t = target
    this.flush()
  }

  /** Advances in steps of `step` ms until `cond()` or `max` ms elapsed; returns whether it held. */
  until (cond: () => boolean, max = 30_000, step = 10): boolean {
    for (let waited = 0; waited <= max; waited += step) {
      if (cond()) return true
      this.advance(step)
    }
    return cond()
  }

  #prune (): void {
    for (let i = this.#timers.length - 1; i >= 0; i--) if ((this.#timers[i] as FakeTimer).cancelled) this.#timers.splice(i, 1)
  }
}

/** One end of an in-memory connection. */
export class MemoryTransport implements PeerTransport {
  readonly kind: 'memory' | 'unix' | 'tcp'
  readonly remoteAddress: string | undefined
  readonly localAddress: string | undefined
  other: MemoryTransport | undefined
  handlers: PeerTransportHandlers | undefined
  /** Everything written by this end. */
  readonly sent: Buffer[] = []
  /** Everything received by this end. */
  readonly received: Buffer[] = []
  closed = false
  /** While paused, what this end writes stays queued (a peer that does not read). */
  paused = false
  #queue: Buffer[] = []
  #queued = 0
  readonly #clock: ManualClock

  constructor (clock: ManualClock, kind: 'memory' | 'unix' | 'tcp', local: string, remote: string) {
    this.#clock = clock
    this.kind = kind
    this.localAddress = local
    this.remoteAddress = remote
  }

  get writableLength (): number {
    return this.#queued
  }

  get sentBytes (): Buffer {
    return Buffer.concat(this.sent)
  }

  get receivedBytes (): Buffer {
    return Buffer.concat(this.received)
  }

  attach (handlers: PeerTransportHandlers): void {
    this.handlers = handlers
  }

  write (data: Uint8Array): void {
    if (this.closed) return
    const b = Buffer.from(data)
    this.sent.push(b)
    this.#queue.push(b)
    this.#queued += b.length
    if (!this.paused) this.#clock.defer(() => { this.#deliver() })
  }

  resume (): void {
    this.paused = false
    this.#clock.defer(() => { this.#deliver() })
  }

  #deliver (): void {
    if (this.paused || this.#queue.length === 0) return
    const data = Buffer.concat(this.#queue)
    const wasFull = this.#queued > 0
    this.#queue = []
    this.#queued = 0
    const o = this.other
    if (o !== undefined && !o.closed) {
      o.received.push(data)
      o.handlers?.onData(data)
    }
    if (wasFull && !this.closed) this.handlers?.onDrain()
  }

  end (): void {
    if (this.closed) return
    this.#clock.defer(() => {
      this.#deliver()
      this.#close(undefined)
      this.other?.closeLater(undefined)
    })
  }

  destroy (): void {
    if (this.closed) return
    this.#queue = []
    this.#queued = 0
    this.#close(undefined)
    this.other?.closeLater(new Error('connection reset by peer'))
  }

  /** Closes this end with an error (a failed connect). */
  fail (err: Error): void {
    this.#close(err)
  }

  closeLater (err: Error | undefined): void {
    this.#clock.defer(() => { this.#close(err) })
  }

  #close (err: Error | undefined): void {
    if (this.closed) return
    this.closed = true
    this.handlers?.onClose(err)
  }
}

function key (t: PeerTarget | ListenSpec): string {
  if ('path' in t) return `unix:${t.path}`
  if ('handle' in t) return 'handle'
  return `${t.host}:${t.port}`
}

/** A network where listeners are keyed by `host:port` or `unix:path`. */
export class MemoryNetwork implements PeersNetwork {
  readonly clock: ManualClock
  /** Several listeners on one address model a socket shared by worker generations: the newest accepts. */
  readonly #listeners = new Map<string, ((t: PeerTransport) => void)[]>()
  /** Every transport created by `connect()` (client ends). */
  readonly connections: MemoryTransport[] = []
  #port = 40000

  constructor (clock: ManualClock) {
    this.clock = clock
  }

  connect (target: PeerTarget): PeerTransport {
    return this.connectFrom('127.0.0.1', target)
  }

  /** This network as seen by a node whose connections leave from `host` (its peer line's address). */
  from (host: string): PeersNetwork {
    return {
      connect: (target: PeerTarget) => this.connectFrom(host, target),
      listen: async (spec: ListenSpec, onConnection: (t: PeerTransport) => void) => await this.listen(spec, onConnection)
    }
  }

  connectFrom (host: string, target: PeerTarget): PeerTransport {
    const k = key(target)
    const kind = 'path' in target ? 'unix' : 'tcp'
    const client = new MemoryTransport(this.clock, kind, `${host}:${this.#port++}`, k)
    this.connections.push(client)
    this.clock.defer(() => {
      const list = this.#listeners.get(k) ?? []
      const onConn = list[list.length - 1]
      if (onConn === undefined || client.closed) {
        client.fail(new Error('connect ECONNREFUSED'))
        return
      }
      const server = new MemoryTransport(this.clock, kind, k, client.localAddress as string)
      client.other = server
      server.other = client
      onConn(server)
      client.handlers?.onConnect()
    })
    return client
  }

  /** A raw client: the test drives the bytes itself. */
  dial (target: PeerTarget, from = '127.0.0.1'): MemoryTransport {
    const t = this.connectFrom(from, target) as MemoryTransport
    t.attach({ onConnect: () => {}, onData: () => {}, onDrain: () => {}, onClose: () => {} })
    return t
  }

  async listen (spec: ListenSpec, onConnection: (t: PeerTransport) => void): Promise<PeersListener> {
    const k = key(spec)
    const list = this.#listeners.get(k) ?? []
    if (list.length > 0 && !('reusePort' in spec && spec.reusePort === true) && !('handle' in spec)) throw new Error(`address in use: ${k}`)
    list.push(onConnection)
    this.#listeners.set(k, list)
    return await Promise.resolve({
      address: k,
      port: 'port' in spec ? spec.port : undefined,
      close: async () => {
        const i = list.indexOf(onConnection)
        if (i >= 0) list.splice(i, 1)
        await Promise.resolve()
      }
    })
  }
}
