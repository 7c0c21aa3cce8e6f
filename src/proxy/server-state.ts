/**
 * A backend server's run-time state: what the balancer reads (weight, usable, connections)
 * and what the stats and the runtime API show.
 */
import type { Server } from '../config/model.ts'
import type { BalancedServer } from './balance/balancer.ts'

export type AdminState = 'ready' | 'drain' | 'maint'

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
  weight: number
  usable = true
  activeConnections = 0
  admin: AdminState = 'ready'
  healthy = true
  /**
   * HAProxy's STOPPING operational state (stats "NOLB"): `http-check disable-on-404` got a 404
   * from this UP server. It keeps its persistent clients but takes no new balanced traffic.
   */
  stopping = false
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
