/**
 * `balance url_param NAME` (HAProxy's get_server_ph()): hashes the value of the first `NAME=`
 * parameter of the query string (case-sensitive name; the value runs to the next '&', possibly
 * empty). No query string, no such parameter, or no URI (TCP) falls back to round-robin.
 * `check_post` (looking into a POST body) needs the body, which a pick does not see: such requests
 * fall back to round-robin too.
 */
import type { Balance, HashType } from '../../config/model.ts'
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { hashKey } from './hash.ts'
import { HashBalancer } from './hashed.ts'

export type UrlParamBalance = Extract<Balance, { algorithm: 'url_param' }>

export class UrlParamBalancer extends HashBalancer {
  readonly algorithm = 'url_param'
  readonly param: string

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions, hashType: HashType,
    balance: UrlParamBalance) {
    super(servers, opts, hashType)
    this.param = balance.param
  }

  hashOf (ctx: PickContext): number | undefined {
    const uri = ctx.path
    if (uri === undefined) return undefined
    const q = uri.indexOf('?')
    if (q < 0) return undefined
    const name = this.param
    const plen = name.length
    let params = q + 1
    let left = uri.length - params
    while (left > plen) {
      if (uri.charCodeAt(params + plen) === 0x3d /* = */ && uri.startsWith(name, params)) {
        const start = params + plen + 1
        const amp = uri.indexOf('&', start)
        return hashKey(this.hashFunction, uri, start, amp < 0 ? uri.length : amp)
      }
      const amp = uri.indexOf('&', params)
      if (amp < 0) return undefined
      left -= amp + 1 - params
      params = amp + 1
    }
    return undefined
  }
}
