/**
 * HAProxy's map-based server table (src/lb_map.c): an array of Σweight slots in which each
 * server appears `weight` times, interleaved. `static-rr` walks it; `hash-type map-based` indexes
 * it with `hash % Σweight`, so a key keeps its server only while the server set is stable.
 *
 * The table is slot-for-slot the one HAProxy builds (recalc_server_map()), weights reduced by the
 * GCD of the configured weights as init_server_map() does, so a map-based hash sends a key to the
 * same server as HAProxy 2.6 with the same servers.
 */
import type { BalancedServer } from './balancer.ts'
import { effectiveWeight } from './pool.ts'

/**
 * HAProxy's recalc_server_map(), for servers of weights `weights` (all ≥ 1, declaration order):
 * the index of the server in each of the Σweights slots.
 *
 * HAProxy's loop, for each slot o: every server adds its weight to its score, the server with the
 * highest `(score + total) / total` (integer division; first declared on ties) takes the slot and
 * loses `total`. That is O(total × servers). Here the same result comes in O(total × log servers):
 * a server's quotient after slot o is floor((o+1)·w/total) − picks + 1, which only changes when
 * floor((o+1)·w/total) steps (w times over the whole map) or when the server takes a slot, so a
 * tournament tree over the servers, updated at those 2·total events, always knows the winner.
 */
export function buildServerMap (weights: readonly number[]): Int32Array {
  const n = weights.length
  let total = 0
  for (const w of weights) {
    if (!Number.isInteger(w) || w < 1) throw new RangeError(`server map: bad weight ${w}`)
    total += w
  }
  const map = new Int32Array(total)
  if (n === 0) return map

  // Steps at which floor((o+1)·w/total) increments: o = ceil(m·total/w) − 1 for m = 1..w.
  const eventStart = new Int32Array(total + 1)
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number
    for (let m = 1; m <= w; m++) {
      const k = Math.ceil(m * total / w)
      eventStart[k] = (eventStart[k] as number) + 1
    }
  }
  for (let o = 1; o <= total; o++) eventStart[o] = (eventStart[o] as number) + (eventStart[o - 1] as number)
  // eventStart[o] = events before step o; fill using a cursor per step.
  const events = new Int32Array(total)
  const cursor = eventStart.slice(0, total)
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number
    for (let m = 1; m <= w; m++) {
      const o = Math.ceil(m * total / w) - 1
      events[(cursor[o] as number)] = i
      cursor[o] = (cursor[o] as number) + 1
    }
  }

  // Tournament tree: leaves hold the servers' quotients, inner nodes the best leaf below them.
  let size = 1
  while (size < n) size *= 2
  const quotient = new Int32Array(n).fill(1)
  const tree = new Int32Array(2 * size).fill(-1)
  const better = (a: number, b: number): number => {
    if (a < 0) return b
    if (b < 0) return a
    const qa = quotient[a] as number
    const qb = quotient[b] as number
    return qa > qb || (qa === qb && a < b) ? a : b
  }
  for (let i = 0; i < n; i++) tree[size + i] = i
  for (let p = size - 1; p >= 1; p--) tree[p] = better(tree[2 * p] as number, tree[2 * p + 1] as number)
  const update = (i: number): void => {
    for (let p = (size + i) >> 1; p >= 1; p >>= 1) tree[p] = better(tree[2 * p] as number, tree[2 * p + 1] as number)
  }

  for (let o = 0; o < total; o++) {
    for (let e = eventStart[o] as number; e < (eventStart[o + 1] as number); e++) {
      const i = events[e] as number
      quotient[i] = (quotient[i] as number) + 1
      update(i)
    }
    const best = tree[1] as number
    map[o] = best
    quotient[best] = (quotient[best] as number) - 1
    update(best)
  }
  return map
}

function gcd (a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

/** The map of the eligible servers, walked round-robin or indexed by hash. */
export class ServerMap {
  private slots: BalancedServer[] = []
  private rrIndex = 0
  /** GCD of the weights at construction time (HAProxy's lbprm.wmult for map-based algorithms). */
  readonly divisor: number

  constructor (servers: readonly BalancedServer[]) {
    let d = 0
    for (const s of servers) {
      const w = effectiveWeight(s)
      if (w > 0) d = d === 0 ? w : gcd(d, w)
    }
    this.divisor = d === 0 ? 1 : d
  }

  get size (): number {
    return this.slots.length
  }

  /** The servers slot by slot (for tests and stats). */
  get table (): readonly BalancedServer[] {
    return this.slots
  }

  rebuild (eligible: readonly BalancedServer[]): void {
    const weights = eligible.map(s => Math.ceil(effectiveWeight(s) / this.divisor))
    const order = buildServerMap(weights)
    const slots: BalancedServer[] = new Array<BalancedServer>(order.length)
    for (let o = 0; o < order.length; o++) slots[o] = eligible[order[o] as number] as BalancedServer
    this.slots = slots
    if (this.rrIndex >= slots.length) this.rrIndex = 0
  }

  /** HAProxy's map_get_server_hash() (slot hash % Σweight), then the next slots past avoided servers. */
  byHash (hash: number, avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer {
    const slots = this.slots
    const at = (hash >>> 0) % slots.length
    const server = slots[at] as BalancedServer
    if (avoid === undefined || !avoid.has(server)) return server
    for (let k = 1; k < slots.length; k++) {
      const s = slots[(at + k) % slots.length] as BalancedServer
      if (!avoid.has(s)) return s
    }
    return server
  }

  /** HAProxy's map_get_server_rr(): the next slot, skipping avoided servers when another exists. */
  next (avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer {
    const slots = this.slots
    const n = slots.length
    let idx = this.rrIndex
    if (idx >= n) idx = 0
    const first = slots[idx] as BalancedServer
    if (avoid === undefined || !avoid.has(first)) {
      this.rrIndex = idx + 1 === n ? 0 : idx + 1
      return first
    }
    for (let k = 1; k < n; k++) {
      const at = (idx + k) % n
      const s = slots[at] as BalancedServer
      if (!avoid.has(s)) {
        this.rrIndex = at + 1 === n ? 0 : at + 1
        return s
      }
    }
    this.rrIndex = idx + 1 === n ? 0 : idx + 1
    return first
  }
}
