/**
 * `balance random[(draws)]`: weighted random with HAProxy's "power of N choices" — `draws` servers
 * (default 2, as HAProxy) are drawn with probability proportional to their weights and the least
 * loaded of them (activeConnections relative to weight; the later draw on a tie) is kept.
 *
 * HAProxy draws a random point on its consistent-hash ring; this draws from the exact cumulative
 * weights instead (binary search, O(log n)), so shares match the weights without ring noise.
 */
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { effectiveWeight, PoolBalancer } from './pool.ts'

export class RandomBalancer extends PoolBalancer {
  readonly algorithm = 'random'
  readonly dynamic = true
  readonly draws: number
  private readonly random: () => number
  private cumulative = new Float64Array(0)
  private total = 0

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions) {
    super(servers, opts)
    this.random = opts.random ?? Math.random
    const draws = opts.randomDraws ?? 2
    if (!Number.isInteger(draws) || draws < 1) throw new RangeError(
      `balance random: draws must be an integer ≥ 1, got ${draws}`)
    this.draws = draws
    this.refresh()
  }

  protected rebuild (eligible: readonly BalancedServer[]): void {
    const cumulative = new Float64Array(eligible.length)
    let total = 0
    eligible.forEach((s, i) => {
      total += effectiveWeight(s)
      cumulative[i] = total
    })
    this.cumulative = cumulative
    this.total = total
  }

  protected choose (ctx: PickContext, avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer {
    let curr: BalancedServer | undefined
    for (let d = 0; d < this.draws; d++) {
      const prev = curr
      curr = this.draw(avoid)
      // HAProxy's get_server_rnd(): keep the previous draw if it is less loaded for its weight.
      if (prev !== undefined && prev !== curr &&
          curr.activeConnections * effectiveWeight(prev) > prev.activeConnections * effectiveWeight(curr)) {
        curr = prev
      }
    }
    return curr as BalancedServer
  }

  private draw (avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer {
    const list = this.eligible
    if (avoid !== undefined) {
      let allowed = 0
      for (const s of list) if (!avoid.has(s)) allowed += effectiveWeight(s)
      if (allowed > 0) {
        let r = this.uniform() * allowed
        for (const s of list) {
          if (avoid.has(s)) continue
          r -= effectiveWeight(s)
          if (r < 0) return s
        }
        for (let i = list.length - 1; i >= 0; i--) if (!avoid.has(list[i] as BalancedServer)) return list[
          i] as BalancedServer
      }
    }
    const r = this.uniform() * this.total
    const c = this.cumulative
    let lo = 0
    let hi = c.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((c[mid] as number) > r) hi = mid
      else lo = mid + 1
    }
    return list[lo] as BalancedServer
  }

  /** A draw in [0, 1), whatever the injected source returns. */
  private uniform (): number {
    const x = this.random()
    return x >= 0 && x < 1 ? x : x >= 1 ? 1 - Number.EPSILON : 0
  }
}
