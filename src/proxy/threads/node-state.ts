/**
 * One node, one state: what the proxy threads share in one SharedArrayBuffer of Int32 cells, read and written with
 * Atomics. The node's connections (global `maxconn`) and each frontend's (its `maxconn`), the connections each thread
 * holds waiting at its accept gate, each server's connections, health, admin state and weight (ServerState reads its
 * cells), each backend's count of clients waiting per thread, a state version, and one doorbell per thread.
 *
 * A thread that changes a server's state bumps the version and rings the other threads' doorbells; a thread that
 * frees a server slot rings the threads with clients waiting in that backend's queue, and one that closes a client
 * connection the threads with connections waiting at their accept gate. A woken thread refreshes its balancers
 * (version changed) and offers free slots to its queues. A thread waits on its doorbell with Atomics.waitAsync, so its
 * event loop never blocks.
 */
import type { Engine } from '../engine.ts'
import { SERVER_CELLS } from '../server-state.ts'

const VERSION = 0
const CONNECTIONS = 1
const DOORBELLS = 2

/** What a thread needs to attach to the node's state: travels in workerData (the buffer is shared, not copied). */
export interface NodeStateHandle {
  readonly buffer: SharedArrayBuffer
  readonly threads: number
}

export class NodeState {
  readonly handle: NodeStateHandle
  private readonly cells: Int32Array
  /** This thread's position, 0 to threads - 1. */
  private readonly me: number
  private readonly engine: Engine
  private seen = 0
  private ringPending = false
  private closed = false

  /** Thread 1: lays the state out for `engine`'s backends and servers, with their current values. */
  static create (engine: Engine, threads: number): NodeState {
    const backends = engine.backends.size
    const servers = [...engine.backends.values()].reduce((n, b) => n + b.servers.length, 0)
    const buffer = new SharedArrayBuffer(4 * (DOORBELLS + 2 * threads + engine.frontends.length +
      backends * threads + servers * SERVER_CELLS))
    return new NodeState({ buffer, threads }, engine, 0, true)
  }

  /** Threads 2..N: the same layout over the same configuration. */
  static attach (handle: NodeStateHandle, engine: Engine, position: number): NodeState {
    return new NodeState(handle, engine, position, false)
  }

  private constructor (handle: NodeStateHandle, engine: Engine, me: number, init: boolean) {
    this.handle = handle
    this.cells = new Int32Array(handle.buffer)
    this.me = me
    this.engine = engine
    const threads = handle.threads
    const gateWaiting = DOORBELLS + threads
    const frontendBase = gateWaiting + threads
    engine.frontends.forEach((fe, i) => { fe.sharedConnections = { cells: this.cells, index: frontendBase + i } })
    engine.gate.onWaiting = n => { Atomics.store(this.cells, gateWaiting + me, n) }
    engine.nodeConnections = {
      add: d => Atomics.add(this.cells, CONNECTIONS, d) + d,
      read: () => Atomics.load(this.cells, CONNECTIONS),
      closed: () => {
        for (let t = 0; t < threads; t++) if (t !== me && Atomics.load(this.cells, gateWaiting + t) > 0) this.ring(t)
      }
    }
    const waitingBase = frontendBase + engine.frontends.length
    let serverBase = waitingBase + engine.backends.size * threads
    let b = 0
    for (const backend of engine.backends.values()) {
      const waiting = waitingBase + b++ * threads
      for (const s of backend.servers) {
        s.share({ cells: this.cells, base: serverBase, changed: () => { this.stateChanged() } }, init)
        serverBase += SERVER_CELLS
      }
      backend.refresh()
      backend.admission.shared = {
        waiting: n => { Atomics.store(this.cells, waiting + me, n) },
        released: () => {
          for (let t = 0; t < threads; t++) if (t !== me && Atomics.load(this.cells, waiting + t) > 0) this.ring(t)
        }
      }
    }
    this.seen = Atomics.load(this.cells, VERSION)
    this.listen()
  }

  /** Stops waiting on the doorbell (the engine is closing). */
  close (): void {
    this.closed = true
    this.ring(this.me)
  }

  private stateChanged (): void {
    Atomics.add(this.cells, VERSION, 1)
    if (this.ringPending) return
    this.ringPending = true
    queueMicrotask(() => {
      this.ringPending = false
      for (let t = 0; t < this.handle.threads; t++) if (t !== this.me) this.ring(t)
    })
  }

  private ring (t: number): void {
    Atomics.add(this.cells, DOORBELLS + t, 1)
    Atomics.notify(this.cells, DOORBELLS + t)
  }

  /** Waits for the doorbell to change from the value read before the last wake-up (so no ring is missed). */
  private listen (): void {
    if (this.closed) return
    const bell = Atomics.load(this.cells, DOORBELLS + this.me)
    const r = Atomics.waitAsync(this.cells, DOORBELLS + this.me, bell)
    const next = (): void => {
      if (this.closed) return
      this.listen()
      this.wake()
    }
    if (r.async) void r.value.then(next)
    else setImmediate(next)
  }

  private wake (): void {
    const version = Atomics.load(this.cells, VERSION)
    const changed = version !== this.seen
    this.seen = version
    for (const b of this.engine.backends.values()) {
      if (changed) b.refresh()
      else if (b.admission.queueLength > 0) b.admission.serveQueue()
    }
    if (this.engine.gate.waiting > 0) this.engine.gate.serve()
  }
}
