/**
 * `balance roundrobin`: smooth, dynamic weighted round-robin in O(log n) per pick.
 *
 * HAProxy's fwrr (src/lb_fwrr.c) places servers in trees by their next position in a weighted
 * cycle. This follows the same idea with worst-case fair weighted fair queueing (WF²Q+): each
 * server owns consecutive slots of virtual length 1/weight; virtual time advances by 1/Σweights
 * per pick; among the servers whose current slot has started (start ≤ now) the one whose slot ends
 * first is picked. Over Σweights picks every server is picked exactly `weight` times, spread out
 * (weights 5,1,1 give a b a a c a a), never in bursts.
 *
 * Dynamic: refresh() keeps each server's place in the rotation. A weight change only resizes the
 * server's current slot (it takes effect on the next picks, no reset); a server that comes back
 * starts at the current virtual time (no burst to catch up on what it missed).
 *
 * Two heaps hold the eligible servers by slot end and the waiting ones by slot start. Slot
 * bounds are computed as base + k/weight (not accumulated), so ties are exact.
 */
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { type HeapItem, IndexedHeap } from './heap.ts'
import { effectiveWeight, PoolBalancer } from './pool.ts'

const NOWHERE = 0
const ELIGIBLE = 1
const WAITING = 2


class RrNode implements HeapItem {
  readonly server: BalancedServer
  /** Declaration order: breaks ties. */
  readonly order: number
  heapPos = -1
  where = NOWHERE
  weight = 0
  /** Virtual time where slot 0 started. */
  base = 0
  /** Slots consumed since `base`. */
  k = 0
  /** Start and end of the current slot: base + k/weight, base + (k+1)/weight. */
  start = 0
  end = 0

  constructor (server: BalancedServer, order: number) {
    this.server = server
    this.order = order
  }

  rebase (base: number, weight: number): void {
    this.base = base
    this.weight = weight
    this.k = 0
    this.start = base
    this.end = base + 1 / weight
  }

  /** Moves whole slots into `base` and the origin back by `by`. */
  shift (by: number): void {
    const whole = Math.floor(this.k / this.weight)
    this.base += whole - by
    this.k -= whole * this.weight
    this.start = this.base + this.k / this.weight
    this.end = this.base + (this.k + 1) / this.weight
  }

  advance (): void {
    this.k++
    this.start = this.base + this.k / this.weight
    this.end = this.base + (this.k + 1) / this.weight
  }
}

export class RoundRobinBalancer extends PoolBalancer {
  /** Picks between renormalizations of the virtual clock (keeps the numbers small and exact). */
  static renormalizeEvery = 2 ** 24
  readonly algorithm = 'roundrobin'
  readonly dynamic = true
  private readonly nodes: RrNode[]
  private active: RrNode[] = []
  private readonly eligibleHeap = new IndexedHeap<RrNode>((a,
    b) => a.end < b.end || (a.end === b.end && a.order < b.order))
  private readonly waitingHeap = new IndexedHeap<RrNode>((a,
    b) => a.start < b.start || (a.start === b.start && a.order < b.order))
  /** Virtual time = clockBase + picks / totalWeight. */
  private clockBase = 0
  private picks = 0
  private totalWeight = 0

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions) {
    super(servers, opts)
    this.nodes = this.servers.map((s, i) => new RrNode(s, i))
    this.refresh()
  }

  private now (): number {
    return this.totalWeight > 0 ? this.clockBase + this.picks / this.totalWeight : this.clockBase
  }

  protected rebuild (eligible: readonly BalancedServer[]): void {
    const now = this.now()
    const wasActive = this.active
    const next = eligible.map(s => this.nodes[this.index.get(s) as number] as RrNode)
    const inRotation = new Set(wasActive)
    let total = 0
    for (const node of next) {
      const w = effectiveWeight(node.server)
      total += w
      if (!inRotation.has(node)) {
        // Joining: start now, or where its last slot started if that is later (a quick flap).
        node.rebase(node.weight > 0 ? Math.max(now, node.start) : now, w)
      } else if (node.weight !== w) {
        // Same place in the rotation, new slot length.
        node.rebase(node.start, w)
      }
    }
    this.active = next
    if (total !== this.totalWeight) {
      // The clock runs at a new speed from now on.
      this.clockBase = now
      this.picks = 0
      this.totalWeight = total
    }
    this.reheap()
  }

  protected choose (ctx: PickContext, avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer {
    const now = this.now()
    const waiting = this.waitingHeap
    const eligible = this.eligibleHeap
    for (let w = waiting.peek(); w !== undefined && w.start <= now; w = waiting.peek()) this.move(w, ELIGIBLE)
    // No server lags more than its current slot behind the clock (after a weight cut or turns it
    // had to yield to `avoid`): a lagging server restarts now instead of catching up in a burst.
    // Without such changes every slot ends at or after the clock, so this never fires.
    for (let top = eligible.peek(); top !== undefined && top.end < now; top = eligible.peek()) {
      top.rebase(now, top.weight)
      eligible.update(top)
    }
    let node = avoid === undefined ? eligible.peek() : this.bestNotAvoided(now, avoid)
    node ??= this.jumpClock()
    if (node.start > now) {
      // A server whose slot has not started yet, taken because the others are avoided: the clock
      // moves on to its slot, so it does not run ahead of the rotation.
      this.clockBase = node.start
      this.picks = 0
    }
    node.advance()
    this.picks++
    this.move(node, node.start <= this.now() ? ELIGIBLE : WAITING)
    if (this.picks >= RoundRobinBalancer.renormalizeEvery) this.renormalize()
    return node.server
  }

  /** Nothing eligible (possible after weight changes): moves the clock to the next slot start. */
  private jumpClock (): RrNode {
    const waiting = this.waitingHeap
    const first = waiting.peek() as RrNode
    this.clockBase = first.start
    this.picks = 0
    for (let w = waiting.peek(); w !== undefined && w.start <= first.start; w = waiting.peek()) this.move(w, ELIGIBLE)
    return this.eligibleHeap.peek() as RrNode
  }

  /** Like the heaps' choice, among servers not in `avoid`; the heaps' choice if all are avoided. */
  private bestNotAvoided (now: number, avoid: ReadonlySet<BalancedServer>): RrNode | undefined {
    let best: RrNode | undefined
    let bestEligible = false
    for (const node of this.active) {
      if (avoid.has(node.server)) continue
      const isEligible = node.start <= now
      if (best === undefined ||
          (isEligible && !bestEligible) ||
          (isEligible && bestEligible && (node.end < best.end || (node.end === best.end && node.order < best.order))) ||
          (!isEligible && !bestEligible && (node.start < best.start || (node.start === best.start &&
            node.order < best.order)))) {
        best = node
        bestEligible = isEligible
      }
    }
    return best ?? this.eligibleHeap.peek()
  }

  private move (node: RrNode, where: number): void {
    if (node.where === where) {
      (where === ELIGIBLE ? this.eligibleHeap : this.waitingHeap).update(node)
      return
    }
    if (node.where === ELIGIBLE) this.eligibleHeap.remove(node)
    else if (node.where === WAITING) this.waitingHeap.remove(node)
    node.where = where
    if (where === ELIGIBLE) this.eligibleHeap.push(node)
    else if (where === WAITING) this.waitingHeap.push(node)
  }

  private reheap (): void {
    for (const node of this.eligibleHeap.values()) node.where = NOWHERE
    for (const node of this.waitingHeap.values()) node.where = NOWHERE
    this.eligibleHeap.clear()
    this.waitingHeap.clear()
    const now = this.now()
    for (const node of this.active) this.move(node, node.start <= now ? ELIGIBLE : WAITING)
  }

  /**
   * Keeps the clock and the slot bounds small: whole cycles are folded out of the pick and slot
   * counts, then every time is shifted back by the clock's integer part. Values are unchanged
   * relative to each other (ties stay exact), so the rotation goes on as if nothing happened.
   */
  private renormalize (): void {
    const total = this.totalWeight
    if (total > 0) {
      const cycles = Math.floor(this.picks / total)
      this.clockBase += cycles
      this.picks -= cycles * total
    }
    const shift = Math.floor(this.clockBase)
    this.clockBase -= shift
    for (const node of this.nodes) if (node.weight > 0) node.shift(shift)
    this.reheap()
  }
}
