/**
 * What every algorithm shares: which servers take part in balancing now (active vs backup), and
 * the pick/refresh plumbing around an algorithm's own `choose`/`rebuild`.
 */
import type { BalancedServer, Balancer, BalancerOptions, PickContext } from './balancer.ts'

/** HAProxy's largest user weight (SRV_UWGHT_MAX). */
export const MAX_WEIGHT = 256

/** The weight a server balances with: an integer 0..256 (anything else is clamped/floored). */
export function effectiveWeight (server: BalancedServer): number {
  const w = server.weight
  if (w >= MAX_WEIGHT) return MAX_WEIGHT
  return w >= 1 ? Math.floor(w) : 0
}

/** Usable with a weight above 0: HAProxy's srv_willbe_usable(). */
export function inService (server: BalancedServer): boolean {
  return server.usable && effectiveWeight(server) > 0
}

/**
 * The servers balanced now, in declaration order (HAProxy's recount_servers() and
 * update_backend_weight()): the in-service active servers; when there is none, the in-service
 * backups — all of them with `allBackups`, else only the first declared one.
 */
export function selectEligible (servers: readonly BalancedServer[], allBackups: boolean): { servers: BalancedServer[],
  backup: boolean } {
  const active: BalancedServer[] = []
  for (const s of servers) if (!s.backup && inService(s)) active.push(s)
  if (active.length > 0) return { servers: active, backup: false }
  const backups: BalancedServer[] = []
  for (const s of servers) {
    if (!s.backup || !inService(s)) continue
    backups.push(s)
    if (!allBackups) break
  }
  return { servers: backups, backup: true }
}

/**
 * Base of every algorithm. Subclasses implement `rebuild` (called by `refresh` with the eligible
 * servers) and `choose` (called by `pick` with at least two eligible servers, `avoid` undefined
 * or non-empty); their constructors must end with `this.refresh()`.
 */
export abstract class PoolBalancer implements Balancer {
  abstract readonly algorithm: string
  abstract readonly dynamic: boolean
  /** Every server of the backend, in declaration order. */
  protected readonly servers: readonly BalancedServer[]
  /** Position of each server in `servers`. */
  protected readonly index: ReadonlyMap<BalancedServer, number>
  protected readonly allBackups: boolean
  /** The servers balanced now (see selectEligible), in declaration order. */
  protected eligible: readonly BalancedServer[] = []
  /** True when `eligible` holds backup servers. */
  protected backupMode = false

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions) {
    this.servers = servers.slice()
    const index = new Map<BalancedServer, number>()
    this.servers.forEach((s, i) => { index.set(s, i) })
    if (index.size !== this.servers.length) throw new Error('balancer: the same server is listed twice')
    this.index = index
    this.allBackups = opts.allBackups
  }

  pick (ctx: PickContext, avoid?: ReadonlySet<BalancedServer>): BalancedServer | undefined {
    const list = this.eligible
    if (list.length === 0) return undefined
    const only = list.length === 1 ? list[0] : undefined
    if (only !== undefined && inService(only)) return only
    const a = avoid !== undefined && avoid.size > 0 ? avoid : undefined
    const chosen = only ?? this.choose(ctx, a)
    if (inService(chosen)) return chosen
    // A server changed without refresh(): catch up rather than hand out a server that is down.
    this.refresh()
    if (this.eligible.length === 0) return undefined
    return this.eligible.length === 1 ? this.eligible[0] : this.choose(ctx, a)
  }

  refresh (): void {
    const { servers, backup } = selectEligible(this.servers, this.allBackups)
    this.eligible = servers
    this.backupMode = backup
    this.rebuild(servers)
  }

  loadChanged (server: BalancedServer): void {
    void server
  }

  /** Called by refresh() with the servers now eligible (possibly none). */
  protected abstract rebuild (eligible: readonly BalancedServer[]): void
  /** Picks among `this.eligible` (at least two servers). */
  protected abstract choose (ctx: PickContext, avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer
}
