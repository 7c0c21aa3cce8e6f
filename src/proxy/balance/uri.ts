/**
 * `balance uri [len N] [depth N] [whole]` (HAProxy's get_server_uh()): hashes the start of the
 * request URI as received — up to the '?' unless `whole`, at most `len` characters, and no
 * further than `depth` directory levels (stops before the depth+1-th '/'). No URI (TCP) falls
 * back to round-robin.
 */
import type { Balance, HashType } from '../../config/model.ts'
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { hashKey } from './hash.ts'
import { HashBalancer } from './hashed.ts'

export type UriBalance = Extract<Balance, { algorithm: 'uri' }>

export class UriBalancer extends HashBalancer {
  readonly algorithm = 'uri'
  private readonly whole: boolean
  private readonly maxLen: number
  /** The count of '/' that ends the key (HAProxy's depth + 1), 0 for no limit. */
  private readonly stopSlash: number

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions, hashType: HashType, balance: UriBalance) {
    super(servers, opts, hashType)
    this.whole = balance.whole
    this.maxLen = balance.len ?? 0
    this.stopSlash = balance.depth === undefined ? 0 : balance.depth + 1
  }

  hashOf (ctx: PickContext): number | undefined {
    const uri = ctx.path
    if (uri === undefined) return undefined
    return hashKey(this.hashFunction, uri, 0, this.keyEnd(uri))
  }

  /** End of the hashed part of `uri`. */
  keyEnd (uri: string): number {
    const limit = this.maxLen > 0 && this.maxLen < uri.length ? this.maxLen : uri.length
    let slashes = 0
    let end = 0
    for (; end < limit; end++) {
      const c = uri.charCodeAt(end)
      if (c === 0x2f /* / */) {
        if (++slashes === this.stopSlash) break
      } else if (c === 0x3f /* ? */ && !this.whole) {
        break
      }
    }
    return end
  }
}
