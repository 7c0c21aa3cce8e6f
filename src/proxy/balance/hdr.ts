/**
 * `balance hdr(NAME) [use_domain_only]` (HAProxy's get_server_hh()): hashes the header's first
 * value (up to the first comma, surrounding blanks trimmed, as http_find_header() returns it).
 * With `use_domain_only` only the label before the last dot is hashed ("haproxy.1wt.eu" → "1wt",
 * "example.com" → "example"; a name without dots is hashed whole). An absent or empty header falls
 * back to round-robin.
 */
import type { Balance, HashType } from '../../config/model.ts'
import type { BalancedServer, BalancerOptions, PickContext } from './balancer.ts'
import { hashKey } from './hash.ts'
import { HashBalancer } from './hashed.ts'

export type HdrBalance = Extract<Balance, { algorithm: 'hdr' }>

export class HdrBalancer extends HashBalancer {
  readonly algorithm = 'hdr'
  readonly header: string
  readonly useDomainOnly: boolean

  constructor (servers: readonly BalancedServer[], opts: BalancerOptions, hashType: HashType, balance: HdrBalance) {
    super(servers, opts, hashType)
    this.header = balance.header
    this.useDomainOnly = balance.useDomainOnly
  }

  hashOf (ctx: PickContext): number | undefined {
    const value = ctx.header?.(this.header)
    if (value === undefined) return undefined
    let start = 0
    let end = value.indexOf(',')
    if (end < 0) end = value.length
    while (start < end && isBlank(value.charCodeAt(start))) start++
    while (end > start && isBlank(value.charCodeAt(end - 1))) end--
    if (start === end) return undefined
    if (this.useDomainOnly) {
      const dot = lastDot(value, start, end)
      if (dot >= 0) {
        start = labelStart(value, start, dot)
        end = dot
      }
    }
    return hashKey(this.hashFunction, value, start, end)
  }
}

function isBlank (c: number): boolean {
  return c === 0x20 || c === 0x09
}

/**
 * HAProxy's backwards scan for use_domain_only over `v[start..end)`: the last dot after the first
 * character ends the key, which starts after the previous dot (the key keeps at least the one
 * character before the last dot). No such dot: the whole value.
 */
export function domainOnly (v: string, start: number, end: number): [number, number] {
  const dot = lastDot(v, start, end)
  return dot < 0 ? [start, end] : [labelStart(v, start, dot), dot]
}

/** The last '.' in `v(start..end)` (never `start` itself), -1 if none. */
function lastDot (v: string, start: number, end: number): number {
  for (let i = end - 1; i > start; i--) if (v.charCodeAt(i) === 0x2e) return i
  return -1
}

/** Where the label ending at `dot` starts: after the previous '.', keeping ≥ 1 character. */
function labelStart (v: string, start: number, dot: number): number {
  let from = dot - 1
  while (from > start && v.charCodeAt(from - 1) !== 0x2e) from--
  return from
}
