/**
 * ACL definitions (`acl NAME FETCH [flags] [operator] VALUE...`) and conditions
 * (`if|unless [!]acl1 acl2 || { anonymous acl }`), parsed and checked against the fetches tslb knows.
 */
import type { AclDefinition, AclTerm, Condition, Location } from './model.ts'
import { ValueError } from './errors.ts'
import { HELLO_FETCHES, TLS_FETCHES } from './tls-fetches.ts'

/** Sample fetches usable in ACLs, stick rules and balance; `true` when they take an argument. */
const FETCHES: Readonly<Record<string, boolean>> = {
  path: false, url: false, base: false, query: false, method: false, 'req.ver': false, req_ver: false,
  hdr: true, 'req.hdr': true, 'res.hdr': true, shdr: true, hdr_cnt: true, hdr_val: true, hdr_ip: true,
  'req.fhdr': true, 'req.hdr_cnt': true,
  'req.cook': true, cook: true, 'res.cook': true, scook: true, 'req.cook_cnt': true,
  url_param: true, urlp: true, url_ip: false, url_port: false,
  src: false, dst: false, src_port: false, dst_port: false, so_id: false, fe_id: false, be_id: false,
  status: false, nbsrv: true, srv_is_up: true, connslots: true, queue: true, avg_queue: true,
  be_conn: true, fe_conn: true, src_conn_cur: true, src_conn_rate: true, src_http_req_rate: true,
  src_get_gpc0: true, src_inc_gpc0: true, sc0_conn_rate: true, sc1_conn_rate: true,
  'req.len': false, req_len: false, 'req.payload': true,
  http_auth: true, http_auth_group: true, always_true: false, always_false: false,
  'capture.req.hdr': true, 'capture.res.hdr': true, 'req.body_param': true, env: true,
  ...Object.fromEntries(Object.entries({ ...TLS_FETCHES, ...HELLO_FETCHES }).map(([name, spec]) => [name, spec.args]))
}

/** ACL-only fetch aliases: `path_beg` means fetch `path` matched with `-m beg`. */
const MATCH_SUFFIXES = ['beg', 'end', 'sub', 'reg', 'dir', 'dom', 'len', 'str', 'found', 'ip', 'int', 'cnt',
  'val'] as const
const MATCH_METHODS = new Set(['str', 'beg', 'end', 'sub', 'reg', 'dir', 'dom', 'len', 'found', 'bool', 'int', 'ip',
  'bin'])
const INT_OPERATORS = new Set(['eq', 'ge', 'gt', 'le', 'lt'])

export const PREDEFINED_ACLS = new Set([
  'FALSE', 'TRUE', 'HTTP', 'HTTP_1.0', 'HTTP_1.1', 'HTTP_CONTENT', 'HTTP_URL_ABS', 'HTTP_URL_SLASH', 'HTTP_URL_STAR',
  'LOCALHOST', 'METH_CONNECT', 'METH_DELETE', 'METH_GET', 'METH_HEAD', 'METH_OPTIONS', 'METH_POST', 'METH_PUT',
  'METH_TRACE', 'RDP_COOKIE', 'REQ_CONTENT', 'WAIT_END'
])

export interface ParsedFetch {
  readonly fetch: string
  readonly args: string[]
  /** The match method implied by an ACL alias suffix (`path_beg` → `beg`). */
  readonly impliedMatch: string | undefined
}

/** Parses `name` or `name(arg1,arg2)`, checking that the fetch exists and takes arguments if given. */
export function parseFetch (text: string, allowAclSuffix: boolean): ParsedFetch {
  const m = /^([a-z0-9_.]+)(?:\((.*)\))?$/.exec(text)
  if (m === null) throw new ValueError(`invalid sample fetch '${text}'`)
  let name = m[1] as string
  const args = m[2] === undefined ? [] : m[2].split(',')
  let impliedMatch: string | undefined
  if (!(name in FETCHES) && allowAclSuffix) {
    const under = name.lastIndexOf('_')
    const suffix = name.slice(under + 1)
    const base = name.slice(0, under)
    if (under > 0 && (MATCH_SUFFIXES as readonly string[]).includes(suffix) && base in FETCHES) {
      name = base
      impliedMatch = suffix
    }
  }
  const takesArgs = FETCHES[name]
  if (takesArgs === undefined) throw new ValueError(`unknown fetch method '${m[1] as string}'`)
  if (args.length > 0 && !takesArgs) throw new ValueError(`fetch method '${name}' takes no argument`)
  return { fetch: name, args, impliedMatch }
}

export function parseAclDefinition (name: string, words: readonly string[], loc: Location): AclDefinition {
  if (!/^[A-Za-z0-9_.:-]+$/.test(name)) throw new ValueError(
    `invalid ACL name '${name}' (letters, digits, '_', '.', ':' and '-' only)`)
  const [fetchText, ...rest] = words
  if (fetchText === undefined) throw new ValueError(`ACL '${name}' has no fetch method`)
  const fetch = parseFetch(fetchText, true)
  let ignoreCase = false
  let match = fetch.impliedMatch
  let noDns = false
  const files: string[] = []
  let i = 0
  for (; i < rest.length; i++) {
    const w = rest[i] as string
    if (w === '--') { i++; break }
    if (!w.startsWith('-') || /^-\d/.test(w)) break
    if (w === '-i') ignoreCase = true
    else if (w === '-n') noDns = true
    else if (w === '-M') continue
    else if (w === '-u') i++
    else if (w === '-m') {
      const method = rest[++i]
      if (method === undefined || !MATCH_METHODS.has(method)) throw new ValueError(
        `ACL '${name}': '-m' expects a match method (${[...MATCH_METHODS].join(', ')}), got '${method ?? ''}'`)
      match = method
    } else if (w === '-f') {
      const file = rest[++i]
      if (file === undefined) throw new ValueError(`ACL '${name}': '-f' expects a file name`)
      files.push(file)
    } else {
      throw new ValueError(`ACL '${name}': unknown flag '${w}'`)
    }
  }
  let values = rest.slice(i)
  let operator: string | undefined
  if (values.length > 0 && INT_OPERATORS.has(values[0] as string)) {
    operator = values[0]
    values = values.slice(1)
  }
  if (match === 'reg') {
    for (const v of values) {
      try { new RegExp(v) } catch { throw new ValueError(`ACL '${name}': invalid regular expression '${v}'`) }
    }
  }
  const acceptsNoValue = fetch.impliedMatch === 'found' || match === 'found' || match === 'bool' ||
    fetch.fetch === 'always_true' || fetch.fetch === 'always_false' || TLS_FETCHES[fetch.fetch]?.type === 'bool' ||
      fetch.fetch === 'http_auth'
  if (values.length === 0 && files.length === 0 && !acceptsNoValue) {
    throw new ValueError(`ACL '${name}': no value to match '${fetchText}' against`)
  }
  return { name, fetch: fetch.fetch, fetchArgs: fetch.args, flags: { ignoreCase, match, files, noDns }, operator,
    values, loc }
}

/**
 * Parses the words after `if` or `unless` (the first word is the keyword itself).
 * Named ACLs are checked later, once every `acl` line of the proxy is known.
 */
export function parseCondition (words: readonly string[], loc: Location): Condition {
  const [kw, ...rest] = words
  if (kw !== 'if' && kw !== 'unless') throw new ValueError(`expected 'if' or 'unless', got '${kw ?? ''}'`)
  if (rest.length === 0) throw new ValueError(`missing condition after '${kw}'`)
  const terms: AclTerm[][] = [[]]
  let negateNext = false
  for (let i = 0; i < rest.length; i++) {
    let w = rest[i] as string
    const current = terms[terms.length - 1] as AclTerm[]
    if (w === '||' || w === 'or') {
      if (current.length === 0 || negateNext) throw new ValueError(`'${w}' without a term before it`)
      terms.push([])
      continue
    }
    if (w === '!') {
      negateNext = !negateNext
      continue
    }
    while (w.startsWith('!')) {
      negateNext = !negateNext
      w = w.slice(1)
    }
    if (w === '{') {
      const close = rest.indexOf('}', i + 1)
      if (close < 0) throw new ValueError("anonymous ACL: missing closing '}'")
      const inner = rest.slice(i + 1, close)
      if (inner.length === 0) throw new ValueError('anonymous ACL: empty braces')
      current.push({ negate: negateNext, acl: parseAclDefinition('anonymous', inner, loc) })
      i = close
    } else if (w === '}') {
      throw new ValueError("unexpected '}' in condition")
    } else {
      if (!/^[A-Za-z0-9_.:-]+$/.test(w)) throw new ValueError(`invalid ACL name '${w}' in condition`)
      current.push({ negate: negateNext, acl: w })
    }
    negateNext = false
  }
  if (negateNext) throw new ValueError("'!' at the end of a condition")
  if ((terms[terms.length - 1] as AclTerm[]).length === 0) throw new ValueError('condition ends with an operator')
  return { negate: kw === 'unless', terms }
}

/** Finds `if`/`unless` in `words`, returning the words before it and the parsed condition. */
export function splitCondition (words: readonly string[], loc: Location): { head: string[],
  cond: Condition | undefined } {
  const at = words.findIndex(w => w === 'if' || w === 'unless')
  if (at < 0) return { head: [...words], cond: undefined }
  return { head: words.slice(0, at), cond: parseCondition(words.slice(at), loc) }
}

/** Named ACLs a condition refers to. */
export function referencedAcls (cond: Condition): string[] {
  return cond.terms.flat().map(t => t.acl).filter((a): a is string => typeof a === 'string')
}
