/**
 * `stick-table` declarations (in proxies and in `peers` sections) and `stick` rules.
 */
import type { KeywordContext } from '../context.ts'
import type { Proxy, StickTableSpec } from '../model.ts'
import { parseFetch, splitCondition } from '../acl.ts'
import { parseInteger, parseSize, parseTime } from '../values.ts'
import { ValueError } from '../errors.ts'

/** Data types HAProxy 2.6 can store; `true` for rate counters that take a period. */
const STORE_TYPES: Readonly<Record<string, 'plain' | 'rate' | 'array' | 'array-rate'>> = {
  server_id: 'plain', server_key: 'plain', gpt0: 'plain', gpc0: 'plain', gpc1: 'plain', conn_cnt: 'plain',
    conn_cur: 'plain',
  sess_cnt: 'plain', http_req_cnt: 'plain', http_err_cnt: 'plain', http_fail_cnt: 'plain', bytes_in_cnt: 'plain',
    bytes_out_cnt: 'plain',
  gpc0_rate: 'rate', gpc1_rate: 'rate', conn_rate: 'rate', sess_rate: 'rate', http_req_rate: 'rate',
    http_err_rate: 'rate',
  http_fail_rate: 'rate', bytes_in_rate: 'rate', bytes_out_rate: 'rate', glitch_cnt: 'plain', glitch_rate: 'rate',
  gpt: 'array', gpc: 'array', gpc_rate: 'array-rate'
}

const TABLE_TYPES = ['ip', 'ipv6', 'integer', 'string', 'binary'] as const

function isTableType (t: string | undefined): t is StickTableSpec['type'] {
  return (TABLE_TYPES as readonly string[]).includes(t ?? '')
}

/** Parses the words after `stick-table` (or after `table NAME` in a peers section). */
export function parseStickTable (words: readonly string[], ctx: KeywordContext): StickTableSpec {
  let type: StickTableSpec['type'] | undefined
  let len: number | undefined
  let size: number | undefined
  let expire: number | undefined
  let nopurge = false
  let peers: string | undefined
  const store: StickTableSpec['store'][number][] = []
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string
    if (w === 'type') {
      const t = words[++i]
      if (!isTableType(t)) throw new ValueError(
        `'stick-table type' expects one of ${TABLE_TYPES.join(', ')}, got '${t ?? ''}'`)
      type = t
      if ((t === 'string' || t === 'binary') && words[i + 1] === 'len') {
        len = parseInteger(words[i + 2], 'stick-table len', 1, 4096)
        i += 2
      }
    } else if (w === 'size') size = parseSize(words[++i], 'stick-table size')
    else if (w === 'expire') expire = parseTime(words[++i], 'stick-table expire')
    else if (w === 'nopurge') nopurge = true
    else if (w === 'peers') {
      peers = words[++i]
      if (peers === undefined) throw new ValueError("'stick-table peers' expects a peers section name")
    } else if (w === 'store') {
      const list = words[++i]
      if (list === undefined) throw new ValueError("'stick-table store' expects a list of data types")
      for (const item of list.split(/,(?![^(]*\))/)) store.push(parseStoreItem(item))
    } else if (w === 'srvkey' || w === 'write-to' || w === 'recv-only') {
      i += w === 'recv-only' ? 0 : 1
    } else {
      throw new ValueError(
        `'stick-table': unknown argument '${w}' (expected type, size, expire, nopurge, peers, store)`)
    }
  }
  if (type === undefined) throw new ValueError("'stick-table' needs a 'type'")
  if (size === undefined) throw new ValueError("'stick-table' needs a 'size'")
  if (size === 0) throw new ValueError("'stick-table size' must be greater than zero")
  if (expire === undefined && !nopurge && store.some(s => s.name === 'server_id')) {
    ctx.warn("'stick-table' has no 'expire': entries stay until 'size' forces the oldest out")
  }
  // An unset len stays unset: HAProxy announces a different key length for the default than for 'len 32'.
  return { type, len, size, expire, nopurge, peers, store, loc: ctx.loc }
}

function parseStoreItem (item: string): StickTableSpec['store'][number] {
  const m = /^([a-z0-9_]+)(?:\(([^)]*)\))?$/.exec(item)
  const kind = m === null ? undefined : STORE_TYPES[m[1] as string]
  if (m === null || kind === undefined) throw new ValueError(
    `'stick-table store': unknown data type '${item}' (known: ${Object.keys(STORE_TYPES).join(', ')})`)
  const name = m[1] as string
  const arg = m[2]?.split(',') ?? []
  if (kind === 'rate') {
    if (arg.length !== 1) throw new ValueError(`'stick-table store': '${name}' needs a period, as in ${name}(10s)`)
    return { name, period: parseTime(arg[0], `${name} period`) }
  }
  if (kind === 'array') {
    if (arg.length !== 1) throw new ValueError(`'stick-table store': '${name}' needs a count, as in ${name}(2)`)
    return { name, count: parseInteger(arg[0], `${name} count`, 1, 100) }
  }
  if (kind === 'array-rate') {
    if (arg.length !== 2) throw new ValueError(
      `'stick-table store': '${name}' needs a count and a period, as in ${name}(2,10s)`)
    return { name, count: parseInteger(arg[0], `${name} count`, 1, 100), period: parseTime(arg[1], `${name} period`) }
  }
  if (arg.length > 0) throw new ValueError(`'stick-table store': '${name}' takes no argument`)
  return { name }
}

export function applyStickRule (p: Proxy, args: readonly string[], ctx: KeywordContext): void {
  const [kind, ...rest] = args
  if (kind !== 'on' && kind !== 'match' && kind !== 'store-request' && kind !== 'store-response') {
    throw new ValueError(`'stick' expects on, match, store-request or store-response, got '${kind ?? ''}'`)
  }
  const { head, cond } = splitCondition(rest, ctx.loc)
  const [pattern, ...more] = head
  if (pattern === undefined) throw new ValueError(`'stick ${kind}' expects a pattern such as src or req.cook(NAME)`)
  parseFetch(pattern, false)
  let table: string | undefined
  if (more[0] === 'table') {
    table = more[1]
    if (table === undefined) throw new ValueError(`'stick ${kind} ... table' expects a table name`)
    more.splice(0, 2)
  }
  if (more.length > 0) throw new ValueError(`'stick ${kind}': unexpected '${more.join(' ')}'`)
  p.stickRules.push({ kind, pattern, table, cond, loc: ctx.loc })
}
