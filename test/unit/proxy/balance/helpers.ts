/**
 * Shared fixtures for the balancer tests.
 */
import type { BalancedServer, Balancer, PickContext } from '../../../../src/proxy/balance/balancer.ts'

export class TestServer implements BalancedServer {
  readonly id: number
  readonly name: string
  weight: number
  usable = true
  readonly backup: boolean
  activeConnections = 0
  readonly maxconn: number | undefined

  constructor (id: number, name: string, opts: { weight?: number, backup?: boolean, maxconn?: number, usable?: boolean } = {}) {
    this.id = id
    this.name = name
    this.weight = opts.weight ?? 1
    this.backup = opts.backup ?? false
    this.maxconn = opts.maxconn
    this.usable = opts.usable ?? true
  }
}

export interface ServerSpec {
  name?: string
  id?: number
  weight?: number
  backup?: boolean
  maxconn?: number
  usable?: boolean
}

/** Servers from specs (a number is a weight); ids and names default to 1.., s1... */
export function makeServers (specs: ReadonlyArray<number | ServerSpec>): TestServer[] {
  return specs.map((spec, i) => {
    const s: ServerSpec = typeof spec === 'number' ? { weight: spec } : spec
    return new TestServer(s.id ?? i + 1, s.name ?? `s${i + 1}`, s)
  })
}

/**
 * A request context that differs with `i` in every field an algorithm may hash: source address,
 * path (directory, file, `id` parameter), any header (Host-like, with a distinct domain), and
 * the RDP cookie.
 */
export function ctxFor (i: number): PickContext {
  return {
    source: `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`,
    path: `/dir${i % 7}/file${i}.html?id=u${i}&x=1`,
    header: () => `www${i}.example${i}.com`,
    rdpCookie: () => `user${i}`,
  }
}

/** A context with no hashable field beyond the source. */
export const BARE: PickContext = { source: '198.18.0.2' }

export interface DriveOptions<S extends BalancedServer = BalancedServer> {
  /** Count each pick as a connection held open (activeConnections++, loadChanged). */
  hold?: boolean
  /** Context of pick i (default ctxFor). */
  ctx?: (i: number) => PickContext
  avoid?: ReadonlySet<S>
}

/** Picks `n` times; returns the picks in order. */
export function drive<S extends BalancedServer> (balancer: Balancer<S>, n: number, opts: DriveOptions<S> = {}): S[] {
  const ctx = opts.ctx ?? ctxFor
  const out: S[] = []
  for (let i = 0; i < n; i++) {
    const s = balancer.pick(ctx(i), opts.avoid)
    if (s === undefined) throw new Error(`pick ${i} returned undefined`)
    if (opts.hold === true) {
      s.activeConnections++
      balancer.loadChanged(s)
    }
    out.push(s)
  }
  return out
}

/** How many times each server was picked, by name. */
export function tally (picks: readonly BalancedServer[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const s of picks) m.set(s.name, (m.get(s.name) ?? 0) + 1)
  return m
}

export function names (picks: readonly BalancedServer[]): string {
  return picks.map(s => s.name).join(' ')
}

/** Drops every held connection (activeConnections = 0) and tells the balancer. */
export function releaseAll (balancer: Balancer, servers: readonly BalancedServer[]): void {
  for (const s of servers) {
    s.activeConnections = 0
    balancer.loadChanged(s)
  }
}

/** A small deterministic PRNG (mulberry32) for `balance random`. */
export function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
