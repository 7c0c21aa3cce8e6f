/**
 * The balancer registry: builds the algorithm a backend's `balance` line names. The interface
 * (balancer.ts) imports no algorithm; this module is the one place that knows them all.
 */
import type { Balance, HashType } from '../../config/model.ts'
import { type BalancedServer, type Balancer, type BalancerOptions, DEFAULT_HASH_TYPE } from './balancer.ts'
import { FirstBalancer } from './first.ts'
import { HdrBalancer } from './hdr.ts'
import { LeastConnBalancer } from './leastconn.ts'
import { RandomBalancer } from './random.ts'
import { RdpCookieBalancer } from './rdp-cookie.ts'
import { RoundRobinBalancer } from './roundrobin.ts'
import { SourceBalancer } from './source.ts'
import { StaticRoundRobinBalancer } from './static-rr.ts'
import { UriBalancer } from './uri.ts'
import { UrlParamBalancer } from './url-param.ts'

export { type BalancedServer, type Balancer, type BalancerOptions, DEFAULT_HASH_TYPE,
  type PickContext } from './balancer.ts'

export function createBalancer<S extends BalancedServer> (balance: Balance, hashType: HashType | undefined,
  servers: readonly S[], opts: BalancerOptions): Balancer<S> {
  // Sound: every algorithm returns only servers from `servers`.
  return build(balance, hashType ?? DEFAULT_HASH_TYPE, servers, opts) as Balancer<S>
}

function build (balance: Balance, hash: HashType, servers: readonly BalancedServer[], opts: BalancerOptions): Balancer {
  switch (balance.algorithm) {
    case 'roundrobin': return new RoundRobinBalancer(servers, opts)
    case 'static-rr': return new StaticRoundRobinBalancer(servers, opts)
    case 'leastconn': return new LeastConnBalancer(servers, opts)
    case 'first': return new FirstBalancer(servers, opts)
    case 'random': return new RandomBalancer(servers, { ...opts, randomDraws: opts.randomDraws ?? drawsOf(balance) })
    case 'source': return new SourceBalancer(servers, opts, hash)
    case 'uri': return new UriBalancer(servers, opts, hash, balance)
    case 'url_param': return new UrlParamBalancer(servers, opts, hash, balance)
    case 'hdr': return new HdrBalancer(servers, opts, hash, balance)
    case 'rdp-cookie': return new RdpCookieBalancer(servers, opts, hash, balance)
    default: return unknownAlgorithm(balance)
  }
}

/** `balance random(<draws>)`, should the configuration model carry the count as `draws`. */
function drawsOf (balance: Balance): number | undefined {
  return 'draws' in balance && typeof balance.draws === 'number' ? balance.draws : undefined
}

function unknownAlgorithm (balance: never): never {
  throw new Error(`unknown balance algorithm '${(balance as { algorithm: string }).algorithm}'`)
}
