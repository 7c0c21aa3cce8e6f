/**
 * Load-balancing algorithms: one `Balancer` interface (this module, which imports no
 * algorithm), one module per algorithm, the registry in index.ts (the layout of hono's routers), all held to one
 * conformance suite (test/unit/proxy/balance/conformance.ts).
 *
 * Every algorithm shares the server-group selection of HAProxy (pool.ts): only usable active
 * servers with a weight above 0 are balanced; when there are none, the usable backups are — the
 * first declared one only, or all of them with `option allbackups`.
 *
 * Everything here is pure: no I/O, no timers; the random source of `balance random` is injected.
 */
import type { HashType } from '../../config/model.ts'

export interface BalancedServer {
  /** Unique in the backend; HAProxy's puid (`id` keyword, else 1-based declaration order). */
  readonly id: number
  readonly name: string
  /** Current effective weight 0..256 (runtime `set weight` changes it; 0 = never picked). */
  weight: number
  /** UP and not in maintenance/drain (drain: usable=false for new traffic). */
  usable: boolean
  readonly backup: boolean
  /** Maintained by the caller (read by leastconn, first and random). */
  activeConnections: number
  /** Read by `first`; undefined = unlimited. */
  readonly maxconn: number | undefined
}

export interface PickContext {
  /** Client IP as text ('198.18.0.2', '::1', '::ffff:198.18.0.2'). */
  readonly source: string
  /** Request URI as received (path + '?' + query), for uri and url_param. */
  readonly path?: string
  /** First value of a request header, case-insensitive, for hdr(NAME). */
  readonly header?: (name: string) => string | undefined
  /** Value of the RDP cookie NAME (case-insensitive) in the first TCP payload, for rdp-cookie. */
  readonly rdpCookie?: (name: string) => string | undefined
}

/**
 * `S` is the caller's server type: a balancer only ever returns servers it was built with, so
 * `createBalancer(..., serverStates, ...)` gives a `Balancer<ServerState>` whose picks need no cast.
 */
export interface Balancer<S extends BalancedServer = BalancedServer> {
  /** The `balance` algorithm name ('roundrobin', 'uri', 'hdr', ...). */
  readonly algorithm: string
  /**
   * False for HAProxy's static algorithms (static-rr and map-based hashing): HAProxy's runtime API
   * then refuses `set weight` values other than 0 and 100% ("Backend is using a static LB
   * algorithm and only accepts weights '0%' and '100%'."). This module applies any weight it is
   * given either way; the flag is for the runtime API to refuse as HAProxy does.
   */
  readonly dynamic: boolean
  /**
   * Picks a server for a new connection/request, or undefined when none is usable. Servers in
   * `avoid` (redispatch/retry) are skipped when another choice exists; when every usable server
   * is avoided, one of them is returned anyway.
   */
  pick (ctx: PickContext, avoid?: ReadonlySet<S>): S | undefined
  /** Must be called after any server's weight or usable flag changes (health checks, runtime API). */
  refresh (): void
  /**
   * Tells the balancer that `server.activeConnections` changed (HAProxy's server_take_conn /
   * server_drop_conn). leastconn keeps an index ordered by load once this is called (O(log n)
   * picks); until it is first called it scans the servers (O(n)), so a caller that never calls it
   * is still served correctly. A no-op for the other algorithms.
   */
  loadChanged (server: S): void
}

export interface BalancerOptions {
  /** `option allbackups`: balance over every usable backup instead of the first one only. */
  readonly allBackups: boolean
  /** Uniform [0, 1) source for `balance random` (default Math.random). */
  readonly random?: () => number
  /** `balance random(<draws>)`: draws per pick, least loaded kept (HAProxy's default: 2). */
  readonly randomDraws?: number
}

/** HAProxy's defaults: map-based, sdbm, no avalanche. */
export const DEFAULT_HASH_TYPE: HashType = { method: 'map-based', function: 'sdbm', avalanche: false }
