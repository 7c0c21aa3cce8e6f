/**
 * `balance first` (HAProxy's lb_fas.c): the server with the lowest id that still has a free
 * connection slot (activeConnections < maxconn; no maxconn = always free) takes the connection,
 * so the first servers fill up before the next ones are used. Weights are ignored (beyond 0 =
 * out of service).
 *
 * When every server is full HAProxy queues the request in the backend; a pick must name a server,
 * so it then returns the one with the most room relative to its maxconn (lowest
 * activeConnections / maxconn, then lowest id) and the caller's queueing takes it from there.
 */
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { PoolBalancer } from './pool.ts'

function hasRoom (s: BalancedServer): boolean {
  return s.maxconn === undefined || s.activeConnections < s.maxconn
}

export class FirstBalancer extends PoolBalancer {
  readonly algorithm = 'first'
  readonly dynamic = true
  /** The eligible servers by id. */
  private byId: BalancedServer[] = []

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions) {
    super(servers, opts)
    this.refresh()
  }

  protected rebuild (eligible: readonly BalancedServer[]): void {
    this.byId = eligible.slice().sort((a, b) => a.id - b.id || (this.index.get(a) as number) - (this.index.get(
      b) as number))
  }

  protected choose (ctx: PickContext, avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer {
    const list = this.byId
    let avoided: BalancedServer | undefined
    for (const s of list) {
      if (!hasRoom(s)) continue
      if (avoid === undefined || !avoid.has(s)) return s
      avoided ??= s
    }
    if (avoided !== undefined) return avoided
    // All full: the most room left relative to maxconn, preferring servers not avoided.
    let best: BalancedServer | undefined
    let bestAvoided = true
    for (const s of list) {
      const isAvoided = avoid !== undefined && avoid.has(s)
      if (best === undefined || (bestAvoided && !isAvoided) || (bestAvoided === isAvoided && load(s) < load(best))) {
        best = s
        bestAvoided = isAvoided
      }
    }
    return best as BalancedServer
  }
}

function load (s: BalancedServer): number {
  return s.maxconn === undefined || s.maxconn <= 0 ? 0 : s.activeConnections / s.maxconn
}
