/**
 * `hash-type consistent` (HAProxy's src/lb_chash.c): a ring of 32-bit points on which each server
 * has weight × 16 points (eweight = weight × BE_WEIGHT_SCALE), point j of server `id` at
 * full_hash(id × 4096 + j). A hash goes to the server of the closest point (the one before it on
 * a tie), so taking a server out only moves the keys that were on its own points, and a weight
 * change only adds or removes that server's last points. Points depend on the server ids only,
 * so load balancers with the same ids agree on every key — and agree with HAProxy 2.6.
 *
 * The ring is a sorted Float64Array of `point × 2^21 + serverIndex` (exact in a double),
 * updated on refresh by removing and merging the points that changed (O(points), not a re-sort).
 */
import type { BalancedServer } from './balancer.ts'
import { fullHash } from './hash.ts'
import { effectiveWeight } from './pool.ts'

/** HAProxy's BE_WEIGHT_SCALE: ring points per unit of weight. */
export const POINTS_PER_WEIGHT = 16
/** HAProxy's SRV_EWGHT_RANGE: the id stride between servers' point numbers. */
const ID_STRIDE = 4096
const SHIFT = 2 ** 21

/** Ring position of point `j` of the server with id `id`. */
export function pointKey (id: number, j: number): number {
  return fullHash((Math.imul(id, ID_STRIDE) + j) >>> 0)
}

/**
 * Sorts packed points. `packed` lists each server's points in server order, so a stable sort on
 * the 32-bit point alone (LSD radix, 4 × 8 bits: O(n)) gives the (point, server) order.
 */
function sortPacked (packed: readonly number[]): Float64Array {
  const n = packed.length
  let vals = Float64Array.from(packed)
  if (n < 1024) return vals.sort()
  let keys = new Uint32Array(n)
  for (let i = 0; i < n; i++) keys[i] = Math.floor((vals[i] as number) / SHIFT)
  let nextVals = new Float64Array(n)
  let nextKeys = new Uint32Array(n)
  const count = new Int32Array(256)
  for (let shift = 0; shift < 32; shift += 8) {
    count.fill(0)
    for (let i = 0; i < n; i++) {
      const b = ((keys[i] as number) >>> shift) & 0xff
      count[b] = (count[b] as number) + 1
    }
    let sum = 0
    for (let b = 0; b < 256; b++) {
      const c = count[b] as number
      count[b] = sum
      sum += c
    }
    for (let i = 0; i < n; i++) {
      const k = keys[i] as number
      const b = (k >>> shift) & 0xff
      const at = count[b] as number
      count[b] = at + 1
      nextKeys[at] = k
      nextVals[at] = vals[i] as number
    }
    ;[keys, nextKeys] = [nextKeys, keys]
    ;[vals, nextVals] = [nextVals, vals]
  }
  return vals
}

export class ChashRing {
  private readonly servers: readonly BalancedServer[]
  private readonly index: ReadonlyMap<BalancedServer, number>
  /** Points each server (by index) has on the ring now. */
  private readonly points: Int32Array
  private ring = new Float64Array(0)
  /** Last point handed out by next() (HAProxy's lbprm.chash.last), -1 for none. */
  private last = -1

  constructor (servers: readonly BalancedServer[], index: ReadonlyMap<BalancedServer, number>) {
    if (servers.length >= SHIFT) throw new RangeError('consistent hashing: too many servers')
    this.servers = servers
    this.index = index
    this.points = new Int32Array(servers.length)
  }

  get size (): number {
    return this.ring.length
  }

  rebuild (eligible: readonly BalancedServer[]): void {
    const want = new Int32Array(this.servers.length)
    for (const s of eligible) want[this.index.get(s) as number] = effectiveWeight(s) * POINTS_PER_WEIGHT
    /** Points leaving the ring (packed, with multiplicity), and which servers lose some. */
    const removed = new Map<number, number>()
    let shrinking: Uint8Array | undefined
    let removedCount = 0
    const added: number[] = []
    for (let i = 0; i < want.length; i++) {
      const now = this.points[i] as number
      const next = want[i] as number
      if (now === next) continue
      const id = (this.servers[i] as BalancedServer).id
      if (next < now) {
        shrinking ??= new Uint8Array(want.length)
        shrinking[i] = 1
      }
      for (let j = next; j < now; j++) {
        const v = pointKey(id, j) * SHIFT + i
        removed.set(v, (removed.get(v) ?? 0) + 1)
        removedCount++
      }
      for (let j = now; j < next; j++) added.push(pointKey(id, j) * SHIFT + i)
      this.points[i] = next
    }
    if (removedCount === 0 && added.length === 0) return

    const old = this.ring
    const add = sortPacked(added)
    const ring = new Float64Array(old.length - removedCount + add.length)
    let o = 0
    let a = 0
    let r = 0
    while (o < old.length || a < add.length) {
      if (o < old.length) {
        const v = old[o] as number
        if (shrinking !== undefined && shrinking[v % SHIFT] === 1) {
          const left = removed.get(v)
          if (left !== undefined && left > 0) {
            removed.set(v, left - 1)
            o++
            continue
          }
        }
        if (a >= add.length || v <= (add[a] as number)) {
          ring[r++] = v
          o++
          continue
        }
      }
      ring[r++] = add[a++] as number
    }
    this.ring = ring
    if (this.last >= ring.length) this.last = -1
  }

  /** HAProxy's chash_get_server_hash(): the server of the point closest to `hash`. */
  byHash (hash: number, avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer {
    const ring = this.ring
    const n = ring.length
    const target = (hash >>> 0) * SHIFT
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((ring[mid] as number) < target) lo = mid + 1
      else hi = mid
    }
    const next = lo === n ? 0 : lo
    const prev = next === 0 ? n - 1 : next - 1
    const dp = (hash - Math.floor((ring[prev] as number) / SHIFT)) >>> 0
    const dn = (Math.floor((ring[next] as number) / SHIFT) - hash) >>> 0
    let at = dp <= dn ? prev : next
    const found = this.serverAt(at)
    if (avoid === undefined || !avoid.has(found)) return found
    for (let k = 1; k < n; k++) {
      at = at + 1 === n ? 0 : at + 1
      const s = this.serverAt(at)
      if (!avoid.has(s)) return s
    }
    return found
  }

  /** HAProxy's chash_get_next_server(): the server of the next point (fallback round-robin). */
  next (avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer {
    const n = this.ring.length
    let at = this.last + 1 >= n ? 0 : this.last + 1
    const first = at
    for (let k = 0; k < n; k++) {
      const s = this.serverAt(at)
      if (avoid === undefined || !avoid.has(s)) {
        this.last = at
        return s
      }
      at = at + 1 === n ? 0 : at + 1
    }
    this.last = first
    return this.serverAt(first)
  }

  private serverAt (at: number): BalancedServer {
    return this.servers[(this.ring[at] as number) % SHIFT] as BalancedServer
  }
}
