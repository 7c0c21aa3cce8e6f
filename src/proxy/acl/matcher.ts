/**
 * Compiles ACL definitions and conditions into predicates over a SampleSource.
 * Compilation happens once per configuration load; evaluation is on the request path.
 */
import { isIP, BlockList } from 'node:net'
import type { AclDefinition, Condition } from '../../config/model.ts'
import { fetchSamples, type SampleSource } from './sample.ts'
import { INSPECT_FETCHES, TLS_FETCHES } from '../../config/tls-fetches.ts'
import { compileChain } from './converters.ts'
import { authenticatedUser } from '../rules/userlists.ts'
import { counterMatch } from '../../config/counter-fetches.ts'
import { type PatternFile, aclPatternFiles } from './patterns.ts'

export type Predicate = (s: SampleSource) => boolean

const PREDEFINED: Readonly<Record<string, Predicate>> = {
  TRUE: () => true,
  FALSE: () => false,
  HTTP: s => s.method !== undefined,
  'HTTP_1.0': s => s.httpVersion === undefined && s.versionMinor === 0,
  'HTTP_1.1': s => s.httpVersion === undefined && s.versionMinor === 1,
  'HTTP_2.0': s => s.httpVersion === '2.0',
  HTTP_CONTENT: s => (s.headerValues?.('content-length').length ?? 0) > 0 || (s.headerValues?.(
    'transfer-encoding').length ?? 0) > 0,
  HTTP_URL_ABS: s => /^[a-z][a-z0-9+.-]*:\/\//i.test(s.url ?? ''),
  HTTP_URL_SLASH: s => (s.url ?? '').startsWith('/'),
  HTTP_URL_STAR: s => s.url === '*',
  LOCALHOST: s => s.src === '127.0.0.1' || s.src === '::1' || s.src.startsWith('127.'),
  METH_CONNECT: s => s.method === 'CONNECT',
  METH_DELETE: s => s.method === 'DELETE',
  METH_GET: s => s.method === 'GET' || s.method === 'HEAD',
  METH_HEAD: s => s.method === 'HEAD',
  METH_OPTIONS: s => s.method === 'OPTIONS',
  METH_POST: s => s.method === 'POST',
  METH_PUT: s => s.method === 'PUT',
  METH_TRACE: s => s.method === 'TRACE',
  RDP_COOKIE: () => false,
  REQ_CONTENT: () => false,
  WAIT_END: () => true
}

/** Default match method of each fetch when no `-m` or suffix says otherwise. */
function defaultMatch (fetch: string): string {
  if (fetch === 'src' || fetch === 'dst' || fetch === 'hdr_ip' || fetch === 'req.hdr_ip') return 'ip'
  if (fetch === 'req.ver' || fetch === 'req_ver') return 'str'
  if (fetch === 'src_port' || fetch === 'dst_port' || fetch === 'hdr_cnt' || fetch === 'req.hdr_cnt' || fetch ===
    'hdr_val' || fetch === 'status' || fetch === 'nbsrv' || fetch === 'be_conn' || fetch === 'fe_conn' ||
    fetch === 'queue' || fetch === 'avg_queue' || fetch === 'srv_conn' || fetch === 'req.cook_cnt' || fetch ===
      'res.hdr_cnt' || fetch ===
      'int') return 'int'
  if (fetch === 'srv_id' || fetch === 'so_id' || fetch === 'fe_id' || fetch === 'be_id' || fetch === 'req.cook_val' ||
    fetch === 'cook_val' || fetch === 'cook_cnt') return 'int'
  if (fetch === 'srv_is_up' || fetch === 'http_first_req') return 'bool'
  if (fetch === 'always_true' || fetch === 'always_false' || fetch === 'http_auth' || fetch === 'ssl_fc') return 'bool'
  return (TLS_FETCHES[fetch] ?? INSPECT_FETCHES[fetch])?.type ?? counterMatch(fetch) ?? 'str'
}

function compileInt (operator: string | undefined, values: readonly string[]): (v: string) => boolean {
  const tests = values.map(text => {
    const range = /^(\d*):(\d*)$/.exec(text)
    if (range !== null) {
      const lo = range[1] === '' ? -Infinity : Number(range[1])
      const hi = range[2] === '' ? Infinity : Number(range[2])
      return (n: number) => n >= lo && n <= hi
    }
    const x = Number(text)
    switch (operator) {
      case 'ge': return (n: number) => n >= x
      case 'gt': return (n: number) => n > x
      case 'le': return (n: number) => n <= x
      case 'lt': return (n: number) => n < x
      default: return (n: number) => n === x
    }
  })
  return v => {
    const n = Number(v)
    return Number.isFinite(n) && tests.some(t => t(n))
  }
}

function compileIp (values: readonly string[]): (v: string) => boolean {
  const list = new BlockList()
  for (const text of values) {
    const [addr, len] = text.split('/')
    const family = isIP(addr ?? '')
    if (family === 0) continue
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (len === undefined) list.addAddress(addr as string, type)
    else if (isIP(len) === 4) list.addSubnet(addr as string, maskLength(len), type)
    else list.addSubnet(addr as string, Number(len), type)
  }
  return v => {
    const plain = v.startsWith('::ffff:') && isIP(v.slice(7)) === 4 ? v.slice(7) : v
    const family = isIP(plain)
    return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6')
  }
}

function maskLength (mask: string): number {
  return mask.split('.').reduce((bits, octet) => bits + Number(octet).toString(2).replace(/0/g, '').length, 0)
}

function compileString (method: string, values: readonly string[], ignoreCase: boolean): (v: string) => boolean {
  const norm = ignoreCase ? (x: string) => x.toLowerCase() : (x: string) => x
  const pats = values.map(norm)
  switch (method) {
    case 'beg': return v => { const x = norm(v); return pats.some(p => x.startsWith(p)) }
    case 'end': return v => { const x = norm(v); return pats.some(p => x.endsWith(p)) }
    case 'sub': return v => { const x = norm(v); return pats.some(p => x.includes(p)) }
    case 'reg': {
      const res = values.map(p => new RegExp(p, ignoreCase ? 'i' : ''))
      return v => res.some(r => r.test(v))
    }
    case 'dir': return v => { const parts = norm(v).split(/[/?]/); return pats.some(p => parts.includes(p)) }
    case 'dom': return v => { const parts = norm(v).split(/[/?.:]/); return pats.some(p => parts.includes(p)) }
    case 'found': return () => true
    case 'bool': return v => v !== '' && v !== '0'
    case 'bin': {
      // The patterns are hexadecimal; a binary sample is its bytes, one character each.
      const bytes = new Set(values.map(h => Buffer.from(h, 'hex').toString('latin1')))
      return v => bytes.has(v)
    }
    default: {
      const set = new Set(pats)
      return v => set.has(norm(v))
    }
  }
}

/** The match method a converter's output calls for when none is given. */
const CONVERTER_MATCH: Readonly<Record<string, string>> = {
  ipmask: 'ip', bool: 'bool', not: 'bool', add: 'int', sub: 'int', mul: 'int', div: 'int', mod: 'int', length: 'int',
  crc32: 'int', djb2: 'int', sdbm: 'int', wt6: 'int', map_ip: 'str', secure_memcmp: 'bool', strcmp: 'int'
}

function samplesOf (acl: AclDefinition): (s: SampleSource) => string[] {
  const { fetch, fetchArgs } = acl
  const chain = compileChain(acl.converters)
  if (chain === undefined) return s => fetchSamples(fetch, fetchArgs, s)
  return s => {
    const vars = (n: string): string | undefined => s.variable?.(n)
    return fetchSamples(fetch, fetchArgs, s).map(v => chain(v, vars)).filter((v): v is string => v !== undefined)
  }
}

function compileTest (acl: AclDefinition, method: string, values: readonly string[]): (v: string) => boolean {
  if (method === 'int') return compileInt(acl.operator, values)
  if (method === 'len') {
    const length = compileInt(acl.operator, values)
    return v => length(String(v.length))
  }
  if (method === 'ip') return compileIp(values)
  return compileString(method, values, acl.flags.ignoreCase)
}

/** `-f` files changeable at runtime: the inline values, then the files' current patterns; recompiled on change. */
function liveTest (acl: AclDefinition, method: string, files: readonly PatternFile[]): (v: string) => boolean {
  const fromFiles = (acl.filePatterns ?? []).reduce((n, f) => n + f.values.length, 0)
  const inline = acl.values.slice(0, acl.values.length - fromFiles)
  let version = -1
  let test: (v: string) => boolean = () => false
  return v => {
    const now = files.reduce((n, f) => n + f.version, 0)
    if (now !== version) {
      test = compileTest(acl, method, [...inline, ...files.flatMap(f => f.entries.map(e => e.key))])
      version = now
    }
    return test(v)
  }
}

export function compileAcl (acl: AclDefinition): Predicate {
  if (acl.fetch === 'http_auth_group' && acl.converters === undefined) {
    // As HAProxy: the values are group names, matched against the authenticated user's groups.
    const list = acl.fetchArgs[0] ?? ''
    const wanted = acl.values
    return s => {
      const user = authenticatedUser(list, s.headerValues?.('authorization')[0])
      return user !== undefined && wanted.some(g => user.groups.has(g))
    }
  }
  const lastConverter = acl.converters?.[acl.converters.length - 1]?.name
  const method = acl.flags.match ?? (lastConverter === undefined ? defaultMatch(acl.fetch)
    : CONVERTER_MATCH[lastConverter] ?? counterMatch(lastConverter) ?? 'str')
  const files = aclPatternFiles(acl)
  const test = files === undefined ? compileTest(acl, method, acl.values) : liveTest(acl, method, files)
  const samples = samplesOf(acl)
  if (method === 'found') return s => samples(s).length > 0
  if (method === 'bool' && acl.values.length === 0) return s => samples(s).some(test)
  if (acl.fetch === 'hdr_cnt' || acl.fetch === 'req.hdr_cnt') return s => test(samples(s)[0] ?? '0')
  return s => samples(s).some(test)
}

/** A proxy's ACL lines by name, built once per list (a proxy with one rule per ACL would otherwise be quadratic). */
const aclIndexes = new WeakMap<readonly AclDefinition[], ReadonlyMap<string, readonly AclDefinition[]>>()

function aclIndex (acls: readonly AclDefinition[]): ReadonlyMap<string, readonly AclDefinition[]> {
  let index = aclIndexes.get(acls)
  if (index === undefined) {
    const byName = new Map<string, AclDefinition[]>()
    for (const a of acls) {
      const list = byName.get(a.name)
      if (list === undefined) byName.set(a.name, [a])
      else list.push(a)
    }
    index = byName
    aclIndexes.set(acls, index)
  }
  return index
}

/**
 * Compiles a condition; named ACLs are looked up in `acls` (several `acl` lines with one name are ORed,
 * as HAProxy does) and only those it names are compiled. Returns a predicate that is true when the rule applies.
 */
export function compileCondition (cond: Condition | undefined, acls: readonly AclDefinition[]): Predicate {
  if (cond === undefined) return () => true
  const index = aclIndex(acls)
  const groups = cond.terms.map(group => group.map(term => {
    let p: Predicate
    if (typeof term.acl === 'string') {
      const list = index.get(term.acl)?.map(compileAcl)
      const predefined = PREDEFINED[term.acl]
      p = list !== undefined ? (s => list.some(x => x(s))) : predefined ?? (() => false)
    } else {
      p = compileAcl(term.acl)
    }
    return term.negate ? (s: SampleSource) => !p(s) : p
  }))
  const match: Predicate = s => groups.some(g => g.every(p => p(s)))
  return cond.negate ? s => !match(s) : match
}
