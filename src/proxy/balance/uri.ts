/**
 * `balance uri [len N] [depth N] [whole] [path-only]` (HAProxy's get_server_uh()): hashes the start
 * of the request URI as received — up to the '?' unless `whole`, at most `len` characters, and no
 * further than `depth` directory levels (stops before the depth+1-th '/'). With `path-only` the key
 * starts at the path, so `http://h/p` (HTTP/1 absolute form, HTTP/2) and `/p` hash alike. No URI
 * (TCP) falls back to round-robin.
 */
import type { Balance, HashType } from '../../config/model.ts'
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { hashKey } from './hash.ts'
import { HashBalancer } from './hashed.ts'

export type UriBalance = Extract<Balance, { algorithm: 'uri' }>

export class UriBalancer extends HashBalancer {
  readonly algorithm = 'uri'
  private readonly whole: boolean
  private readonly pathOnly: boolean
  private readonly maxLen: number
  /** The count of '/' that ends the key (HAProxy's depth + 1), 0 for no limit. */
  private readonly stopSlash: number

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions, hashType: HashType, balance: UriBalance) {
    super(servers, opts, hashType)
    this.whole = balance.whole
    this.pathOnly = balance.pathOnly === true
    this.maxLen = balance.len ?? 0
    this.stopSlash = balance.depth === undefined ? 0 : balance.depth + 1
  }

  hashOf (ctx: PickContext): number | undefined {
    const uri = ctx.path
    if (uri === undefined) return undefined
    const start = this.keyStart(uri)
    return hashKey(this.hashFunction, uri, start, this.keyEnd(uri, start))
  }

  /** Start of the hashed part of `uri`: 0, or with `path-only` where an absolute URI's path begins. */
  keyStart (uri: string): number {
    if (!this.pathOnly || uri.charCodeAt(0) === 0x2f) return 0
    const scheme = uri.indexOf('://')
    if (scheme < 0 || scheme > uri.indexOf('/')) return 0
    const authority = scheme + 3
    for (let i = authority; i < uri.length; i++) {
      const c = uri.charCodeAt(i)
      if (c === 0x2f /* / */ || c === 0x3f /* ? */) return i
    }
    return uri.length
  }

  /** End of the hashed part of `uri` when it starts at `start`. */
  keyEnd (uri: string, start = 0): number {
    const limit = this.maxLen > 0 && this.maxLen < uri.length - start ? start + this.maxLen : uri.length
    let slashes = 0
    let end = start
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
