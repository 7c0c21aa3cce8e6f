/**
 * Base of the hashing algorithms (source, uri, url_param, hdr, rdp-cookie): each extracts a
 * 32-bit hash from the request; `avalanche` may mix it; `hash-type` decides how it maps to a
 * server (map-based table or consistent ring). Without a key (parameter or header absent, not
 * HTTP) the pick falls back to round-robin over the same table/ring, as HAProxy's assign_server()
 * does (map_get_server_rr() / chash_get_next_server()).
 */
import type { HashType } from '../../config/model.ts'
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { ChashRing } from './chash.ts'
import { fullHash, HASH_FUNCTIONS, type HashFunction } from './hash.ts'
import { ServerMap } from './map.ts'
import { PoolBalancer } from './pool.ts'

export abstract class HashBalancer extends PoolBalancer {
  readonly dynamic: boolean
  readonly hashType: HashType
  protected readonly hashFunction: HashFunction
  protected readonly lookup: ServerMap | ChashRing

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions, hashType: HashType) {
    super(servers, opts)
    this.hashType = hashType
    this.hashFunction = HASH_FUNCTIONS[hashType.function]
    this.dynamic = hashType.method === 'consistent'
    this.lookup = hashType.method === 'consistent' ? new ChashRing(this.servers,
      this.index) : new ServerMap(this.servers)
    // rebuild() only needs `lookup`, so subclasses' own fields need not be set yet.
    this.refresh()
  }

  /** The request's hash before `avalanche`, or undefined to fall back to round-robin. */
  abstract hashOf (ctx: PickContext): number | undefined

  protected rebuild (eligible: readonly BalancedServer[]): void {
    this.lookup.rebuild(eligible)
  }

  protected choose (ctx: PickContext, avoid: ReadonlySet<BalancedServer> | undefined): BalancedServer {
    const h = this.hashOf(ctx)
    if (h === undefined) return this.lookup.next(avoid)
    return this.lookup.byHash(this.hashType.avalanche ? fullHash(h) : h, avoid)
  }
}
