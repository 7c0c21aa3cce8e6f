/**
 * `balance source`: the client address, as HAProxy's get_server_sh() hashes it — the XOR of its
 * 32-bit big-endian words (the IPv4 address itself), not the `hash-type` function, which only
 * applies to strings; `avalanche` still applies. A source that is not an IP address (a unix
 * socket peer) falls back to round-robin.
 */
import type { HashType } from '../../config/model.ts'
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { sourceKey } from './hash.ts'
import { HashBalancer } from './hashed.ts'

export class SourceBalancer extends HashBalancer {
  readonly algorithm = 'source'

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions, hashType: HashType) {
    super(servers, opts, hashType)
  }

  hashOf (ctx: PickContext): number | undefined {
    return sourceKey(ctx.source)
  }
}
