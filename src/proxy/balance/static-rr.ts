/**
 * `balance static-rr`: HAProxy's map-based round-robin — the servers' slots in the weighted,
 * interleaved table of map.ts, walked in turn. Static: a change of server set or weight rebuilds
 * the table (no slow start, no gradual re-integration), and the walk carries on from where it was.
 */
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { ServerMap } from './map.ts'
import { PoolBalancer } from './pool.ts'

export class StaticRoundRobinBalancer extends PoolBalancer {
  readonly algorithm = 'static-rr'
  readonly dynamic = false
  private readonly map: ServerMap

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions) {
    super(servers, opts)
    this.map = new ServerMap(this.servers)
    this.refresh()
  }

  protected rebuild (eligible: readonly BalancedServer[]): void {
    this.map.rebuild(eligible)
  }

  protected choose (ctx: PickContext, avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer {
    return this.map.next(avoid)
  }
}
