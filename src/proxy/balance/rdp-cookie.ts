/**
 * `balance rdp-cookie[(NAME)]` (HAProxy's get_server_rch()): hashes the value of the RDP cookie
 * NAME ("mstshash" by default) the caller found in the client's first TCP payload. An absent or
 * empty cookie falls back to round-robin.
 */
import type { Balance, HashType } from '../../config/model.ts'
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { hashKey } from './hash.ts'
import { HashBalancer } from './hashed.ts'

export type RdpCookieBalance = Extract<Balance, { algorithm: 'rdp-cookie' }>

export class RdpCookieBalancer extends HashBalancer {
  readonly algorithm = 'rdp-cookie'
  readonly cookie: string

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions, hashType: HashType,
    balance: RdpCookieBalance) {
    super(servers, opts, hashType)
    this.cookie = balance.cookie
  }

  hashOf (ctx: PickContext): number | undefined {
    const value = ctx.rdpCookie?.(this.cookie)
    if (value === undefined || value.length === 0) return undefined
    return hashKey(this.hashFunction, value)
  }
}
