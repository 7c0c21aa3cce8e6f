/**
 * `peers` and `userlist` section keywords.
 */
import type { KeywordContext } from '../context.ts'
import type { PeersSection, UserlistSection } from '../model.ts'
import { parseAddress } from '../values.ts'
import { ValueError } from '../errors.ts'
import { parseBind } from './proxy.ts'
import { parseStickTable } from './stick.ts'

export function applyPeersKeyword (s: PeersSection, keyword: string, args: readonly string[],
  ctx: KeywordContext): boolean {
  switch (keyword) {
    case 'peer': case 'server': {
      const [name, addr, ...rest] = args
      if (name === undefined) throw new ValueError(`'${keyword}' expects a peer name and an address`)
      if (s.peers.some(p => p.name === name)) throw new ValueError(
        `peer '${name}' is already defined in peers '${s.name}'`)
      if (keyword === 'peer' && addr === undefined) throw new ValueError(
        `'peer ${name}' expects an address such as 198.18.0.11:10000`)
      const address = addr === undefined ? undefined : parseAddress(addr, `peer '${name}'`, true)
      if (rest.length > 0 && !(rest[0] === 'shard' && rest.length === 2)) throw new ValueError(
        `peer '${name}': unexpected '${rest.join(' ')}'`)
      s.peers.push({ name, address, loc: ctx.loc })
      return true
    }
    case 'bind':
      s.bind = parseBind(args, ctx)
      if (s.bind.options['accept-proxy'] === true) throw new ValueError(
        "'accept-proxy' on a peers 'bind' is not supported: peers sessions read no PROXY protocol header")
      return true
    case 'table': {
      const [name, ...rest] = args
      if (name === undefined) throw new ValueError("'table' expects a name and a stick-table definition")
      s.tables.push({ ...parseStickTable(rest, ctx), name })
      return true
    }
    case 'trust-peer-names':
      if (args.length > 0) throw new ValueError("'trust-peer-names' takes no argument")
      s.trustPeerNames = true
      return true
    case 'disabled': s.disabled = true; return true
    case 'enabled': case 'enable': s.disabled = false; return true
    case 'default-server': case 'log': case 'shards': return true
    default: return false
  }
}

export const PEERS_KEYWORDS = ['peer', 'server', 'bind', 'table', 'disabled', 'enabled', 'default-server', 'log',
  'shards', 'trust-peer-names']

export function applyUserlistKeyword (u: UserlistSection, keyword: string, args: readonly string[]): boolean {
  const [name, ...rest] = args
  if (keyword === 'group') {
    if (name === undefined) throw new ValueError("'group' expects a name")
    const users = rest[0] === 'users' ? (rest[1] ?? '').split(',').filter(x => x !== '') : []
    u.groups.push({ name, users })
    return true
  }
  if (keyword === 'user') {
    if (name === undefined) throw new ValueError("'user' expects a name")
    let password = ''
    let insecure = false
    let groups: string[] = []
    for (let i = 0; i < rest.length; i++) {
      const w = rest[i]
      const v = rest[++i]
      if (v === undefined) throw new ValueError(`'user ${name}': '${w ?? ''}' expects a value`)
      if (w === 'password') password = v
      else if (w === 'insecure-password') { password = v; insecure = true } else if (w === 'groups') groups = v.split(
        ',')
      else throw new ValueError(
        `'user ${name}': unknown argument '${w ?? ''}' (expected password, insecure-password, groups)`)
    }
    u.users.push({ name, password, insecure, groups })
    return true
  }
  return false
}
