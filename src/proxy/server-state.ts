/**
 * A backend server's run-time state: what the balancer reads (weight, usable, connections)
 * and what the stats and the runtime API show.
 */
import type { Server } from '../config/model.ts'
import type { BalancedServer } from './balance/balancer.ts'

export type AdminState = 'ready' | 'drain' | 'maint'

const ADMIN_STATES: readonly AdminState[] = ['ready', 'drain', 'maint']

/** A server's cells in the node's shared state (threads/node-state.ts), when proxy threads share it. */
export interface SharedServerCells {
  readonly cells: Int32Array
  /** Index of the server's first cell: connections, healthy, stopping, admin, weight. */
  readonly base: number
  /** Called after this thread changed the server's health, admin state or weight. */
  readonly changed: () => void
}

const CONNS = 0
const HEALTHY = 1
const STOPPING = 2
const ADMIN = 3
const WEIGHT = 4
export const SERVER_CELLS = 5

export class ServerState implements BalancedServer {
  readonly id: number
  readonly name: string
  readonly backup: boolean
  readonly maxconn: number | undefined
  readonly host: string
  /** undefined: the port the client connected to (1.x servers without a port). */
  readonly port: number | undefined
  /** A unix socket server's path (host '' and no port). */
  readonly path: string | undefined
  readonly config: Server
  readonly initialWeight: number
  usable = true
  private local = { conns: 0, healthy: true, stopping: false, admin: 'ready' as AdminState, weight: 0 }
  private shared: SharedServerCells | undefined
  totalSessions = 0
  connectFailures = 0
  bytesIn = 0
  bytesOut = 0

  constructor (id: number, config: Server) {
    this.id = id
    this.name = config.name
    this.config = config
    this.backup = config.backup === true
    this.maxconn = config.maxconn === 0 ? undefined : config.maxconn
    this.host = config.address.host
    this.port = config.address.port
    this.path = config.address.path
    this.initialWeight = config.weight ?? 1
    this.weight = this.initialWeight
    if (config.disabled === true) this.admin = 'maint'
    this.refreshUsable()
  }

  /**
   * Moves the server's state into the node's shared cells: `init` (the thread that creates them) writes its values
   * there first; the others read them from then on.
   */
  share (cells: SharedServerCells, init: boolean): void {
    if (init) {
      const { cells: c, base } = cells
      Atomics.store(c, base + CONNS, this.local.conns)
      Atomics.store(c, base + HEALTHY, this.local.healthy ? 1 : 0)
      Atomics.store(c, base + STOPPING, this.local.stopping ? 1 : 0)
      Atomics.store(c, base + ADMIN, ADMIN_STATES.indexOf(this.local.admin))
      Atomics.store(c, base + WEIGHT, this.local.weight)
    }
    this.shared = cells
    this.refreshUsable()
  }

  private read (cell: number): number {
    const sh = this.shared as SharedServerCells
    return Atomics.load(sh.cells, sh.base + cell)
  }

  private write (cell: number, value: number): void {
    const sh = this.shared as SharedServerCells
    if (Atomics.exchange(sh.cells, sh.base + cell, value) !== value) sh.changed()
  }

  /** Connections to this server now, every proxy thread's. */
  get activeConnections (): number {
    return this.shared === undefined ? this.local.conns : this.read(CONNS)
  }

  set activeConnections (n: number) {
    if (this.shared === undefined) this.local.conns = n
    else Atomics.store(this.shared.cells, this.shared.base + CONNS, n)
  }

  /** Takes a connection slot if fewer than `limit` are in use (atomically across threads); false when full. */
  takeSlot (limit: number): boolean {
    const sh = this.shared
    if (sh === undefined) {
      if (this.local.conns >= limit) return false
      this.local.conns++
      return true
    }
    for (;;) {
      const cur = Atomics.load(sh.cells, sh.base + CONNS)
      if (cur >= limit) return false
      if (Atomics.compareExchange(sh.cells, sh.base + CONNS, cur, cur + 1) === cur) return true
    }
  }

  releaseSlot (): void {
    if (this.shared === undefined) this.local.conns--
    else Atomics.sub(this.shared.cells, this.shared.base + CONNS, 1)
  }

  get weight (): number {
    return this.shared === undefined ? this.local.weight : this.read(WEIGHT)
  }

  set weight (w: number) {
    if (this.shared === undefined) this.local.weight = w
    else this.write(WEIGHT, w)
  }

  get admin (): AdminState {
    return this.shared === undefined ? this.local.admin : ADMIN_STATES[this.read(ADMIN)] ?? 'ready'
  }

  set admin (a: AdminState) {
    if (this.shared === undefined) this.local.admin = a
    else this.write(ADMIN, ADMIN_STATES.indexOf(a))
  }

  get healthy (): boolean {
    return this.shared === undefined ? this.local.healthy : this.read(HEALTHY) === 1
  }

  set healthy (h: boolean) {
    if (this.shared === undefined) this.local.healthy = h
    else this.write(HEALTHY, h ? 1 : 0)
  }

  /**
   * HAProxy's STOPPING operational state (stats "NOLB"): `http-check disable-on-404` got a 404
   * from this UP server. It keeps its persistent clients but takes no new balanced traffic.
   */
  get stopping (): boolean {
    return this.shared === undefined ? this.local.stopping : this.read(STOPPING) === 1
  }

  set stopping (s: boolean) {
    if (this.shared === undefined) this.local.stopping = s
    else this.write(STOPPING, s ? 1 : 0)
  }

  /** Recomputes `usable` from health and admin state; the caller refreshes the balancer. */
  refreshUsable (): void {
    this.usable = this.healthy && !this.stopping && this.admin === 'ready'
  }

  /**
   * May serve a client that persistence (cookie, stick table) sends to it: UP, including
   * NOLB and drain, which are out of load balancing only (HAProxy: any state but STOPPED).
   */
  get persistable (): boolean {
    return this.healthy && this.admin !== 'maint'
  }
}
