/**
 * ACL definitions (`acl NAME FETCH [flags] [operator] VALUE...`) and conditions
 * (`if|unless [!]acl1 acl2 || { anonymous acl }`), parsed and checked against the fetches tslb knows.
 */
import type { AclDefinition, AclTerm, Condition, Location } from './model.ts'
import { getHashes } from 'node:crypto'
import { ValueError } from './errors.ts'
import { CONVERTERS, FETCHES, TIME_DIRECTIVES, MATCH_METHODS as METHOD_STATUS,
  PREDEFINED_ACLS as PREDEFINED } from './enforcement.ts'
import type { ConverterCall } from './model.ts'
import { TLS_FETCHES } from './tls-fetches.ts'
import { counterMatch } from './counter-fetches.ts'

/** ACL-only fetch aliases: `path_beg` means fetch `path` matched with `-m beg`. */
const MATCH_SUFFIXES = ['beg', 'end', 'sub', 'reg', 'dir', 'dom', 'len', 'str', 'found', 'ip', 'int', 'cnt',
  'val'] as const
const MATCH_METHODS = new Set(Object.keys(METHOD_STATUS).filter(m => m !== 'cnt' && m !== 'val'))
const INT_OPERATORS = new Set(['eq', 'ge', 'gt', 'le', 'lt'])

export const PREDEFINED_ACLS: ReadonlySet<string> = new Set(Object.keys(PREDEFINED))

export interface ParsedFetch {
  readonly fetch: string
  readonly args: string[]
  /** The match method implied by an ACL alias suffix (`path_beg` → `beg`). */
  readonly impliedMatch: string | undefined
}

/** Parses `name` or `name(arg1,arg2)`, checking that the fetch exists and takes arguments if given. */
export function parseFetch (text: string, allowAclSuffix: boolean): ParsedFetch {
  const m = /^([a-z0-9_.][a-z0-9_.-]*)(?:\((.*)\))?$/.exec(text)
  if (m === null) throw new ValueError(`invalid sample fetch '${text}'`)
  let name = m[1] as string
  const args = m[2] === undefined || m[2] === '' ? [] : splitArgs(m[2])
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
  const takesArgs = FETCHES[name]?.args
  if (takesArgs === undefined) throw new ValueError(`unknown fetch method '${m[1] as string}'`)
  if (args.length > 0 && !takesArgs) throw new ValueError(`fetch method '${name}' takes no argument`)
  return { fetch: name, args, impliedMatch }
}

const BACKSLASH_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', ' ': ' ', '"': '"', "'": "'", r: '\r',
  n: '\n', t: '\t' }

/** Splits on the commas outside parentheses and quotes: `hdr(x,1),lower` → `hdr(x,1)`, `lower`. */
function splitTopLevel (text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  let quote = ''
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (ch === '\\' && quote !== "'") i++
    else if (quote !== '') { if (ch === quote) quote = '' }
    else if (ch === "'" || ch === '"') quote = ch
    else if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (ch === ',' && depth === 0) { parts.push(text.slice(start, i)); start = i + 1 }
  }
  parts.push(text.slice(start))
  return parts
}

/**
 * The arguments inside `NAME(…)`, as HAProxy's argument parser reads them: split on commas, each
 * argument possibly in single or double quotes (a comma inside is text); outside single quotes a
 * backslash escapes `\\`, a space and quotes, and `\\r`, `\\n`, `\\t` are control characters;
 * any other backslash is kept.
 */
export function splitArgs (text: string): string[] {
  const args: string[] = []
  let cur = ''
  let quote = ''
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string
    if (ch === '\\' && quote !== "'" && i + 1 < text.length) {
      const next = text[i + 1] as string
      const esc = BACKSLASH_ESCAPES[next]
      if (esc !== undefined) { cur += esc; i++ } else cur += ch
      continue
    }
    if (quote !== '') {
      if (ch === quote) quote = ''
      else cur += ch
    } else if (ch === "'" || ch === '"') quote = ch
    else if (ch === ',') { args.push(cur); cur = '' }
    else cur += ch
  }
  if (quote !== '') throw new ValueError(`unterminated quote in '${text}'`)
  args.push(cur)
  return args
}

/** Converters whose output is a boolean: an ACL over them needs no value (it matches when true). */
const BOOLEAN_CONVERTERS = new Set(['bool', 'not', 'secure_memcmp'])

const JSON_INPUT_TYPES = new Set(['', 'ascii', 'utf8', 'utf8s', 'utf8p', 'utf8ps'])

/** What HAProxy checks at load for the byte converters' arguments. */
function checkConverterArgs (name: string, args: readonly string[]): void {
  const [a0 = '', a1 = ''] = args
  const bad = (why: string): never => { throw new ValueError(`converter '${name}': ${why}`) }
  switch (name) {
    case 'sha2': if (!['', '224', '256', '384', '512'].includes(a0)) bad(`unsupported number of bits '${a0}'`); break
    case 'digest': case 'hmac':
      if (!getHashes().includes(a0.toLowerCase())) bad(`unknown digest '${a0}'`)
      if (name === 'hmac' && a1 === '') bad('a key (base64, or a variable holding it) is required')
      break
    case 'be2dec': {
      const n = Number(a1)
      if (!(n >= 1 && n <= 8)) bad(`chunk size must be 1 to 8, got '${a1}'`)
      break
    }
    case 'be2hex': if (a1 !== '' && !(Number(a1) >= 1)) bad(`chunk size must be a positive integer, got '${a1}'`); break
    case 'url_enc': if (a0 !== '' && a0 !== 'query') bad(`unexpected encode type '${a0}' (allowed: query)`); break
    case 'json': if (!JSON_INPUT_TYPES.has(a0)) bad(`unknown input type '${a0}' (ascii, utf8, utf8s, utf8p, utf8ps)`)
  }
}

function parseConverter (text: string): ConverterCall {
  const m = /^([a-z0-9_]+)(?:\((.*)\))?$/.exec(text)
  const entry = m === null ? undefined : CONVERTERS[m[1] as string]
  if (m === null || entry === undefined) throw new ValueError(`unknown converter '${text}'`)
  const name = m[1] as string
  const args = m[2] === undefined || m[2] === '' ? [] : splitArgs(m[2])
  const [min, max] = entry.args
  if (args.length < min || args.length > max) throw new ValueError(
    `converter '${name}' expects ${min === max ? String(min) : `${min} to ${max}`} argument(s), got ${args.length}`)
  for (const i of entry.ints ?? []) {
    const a = args[i]
    if (a !== undefined && !/^-?\d+$/.test(a)) throw new ValueError(
      `converter '${name}': argument ${i + 1} must be an integer, got '${a}'`)
  }
  const varArg = name === 'concat' || name === 'add_item' ? 1 : name === 'strcmp' || name === 'secure_memcmp' ? 0 : -1
  const v = args[varArg]
  if (v !== undefined && v !== '' && !/^(proc|sess|txn|req|res)\.[A-Za-z0-9_.]+$/.test(v)) throw new ValueError(
    `converter '${name}': '${v}' is not a variable name (SCOPE.NAME, SCOPE proc, sess, txn, req or res)`)
  if (name === 'ltime' || name === 'utime') {
    for (const m of (args[0] ?? '').matchAll(/%(.)/g)) {
      if (!TIME_DIRECTIVES.includes(m[1] as string)) throw new ValueError(
        `converter '${name}': '%${m[1] as string}' is not supported (use %${[...TIME_DIRECTIVES].join(' %')})`)
    }
  }
  checkConverterArgs(name, args)
  if (name === 'regsub') {
    try { new RegExp(args[0] ?? '') } catch { throw new ValueError(`converter 'regsub': invalid regular expression`) }
  }
  return { name, args }
}

export interface ParsedSample extends ParsedFetch {
  readonly converters: ConverterCall[]
}

/** `FETCH[(ARGS)][,CONV[(ARGS)]]…` */
export function parseSampleChain (text: string, allowAclSuffix: boolean): ParsedSample {
  const [first, ...rest] = splitTopLevel(text)
  return { ...parseFetch(first ?? '', allowAclSuffix), converters: rest.map(parseConverter) }
}

export function parseAclDefinition (name: string, words: readonly string[], loc: Location): AclDefinition {
  if (!/^[A-Za-z0-9_.:-]+$/.test(name)) throw new ValueError(
    `invalid ACL name '${name}' (letters, digits, '_', '.', ':' and '-' only)`)
  const [fetchText, ...rest] = words
  if (fetchText === undefined) throw new ValueError(`ACL '${name}' has no fetch method`)
  const fetch = parseSampleChain(fetchText, true)
  let ignoreCase = false
  let match = fetch.impliedMatch
  let noDns = false
  const files: string[] = []
  const ignoredFlags: string[] = []
  let i = 0
  for (; i < rest.length; i++) {
    const w = rest[i] as string
    if (w === '--') { i++; break }
    if (!w.startsWith('-') || /^-\d/.test(w)) break
    if (w === '-i') ignoreCase = true
    else if (w === '-n') noDns = true
    else if (w === '-M') ignoredFlags.push(w)
    else if (w === '-u') { ignoredFlags.push(w); i++ }
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
  if (match === 'bin') {
    for (const v of values) if (!/^(?:[0-9a-fA-F]{2})+$/.test(v)) throw new ValueError(
      `ACL '${name}': '-m bin' expects an even number of hexadecimal digits, got '${v}'`)
  }
  const last = fetch.converters.at(-1)?.name
  const boolean = last === undefined ? fetch.fetch === 'http_first_req' : BOOLEAN_CONVERTERS.has(last)
  const acceptsNoValue = fetch.impliedMatch === 'found' || match === 'found' || match === 'bool' || boolean ||
    fetch.fetch === 'always_true' || fetch.fetch === 'always_false' || TLS_FETCHES[fetch.fetch]?.type === 'bool' ||
      fetch.fetch === 'http_auth' || counterMatch(fetch.converters.at(-1)?.name ?? fetch.fetch) === 'bool'
  if (values.length === 0 && files.length === 0 && !acceptsNoValue) {
    throw new ValueError(`ACL '${name}': no value to match '${fetchText}' against`)
  }
  return { name, fetch: fetch.fetch, fetchArgs: fetch.args,
    ...(fetch.converters.length > 0 ? { converters: fetch.converters } : {}), flags: { ignoreCase, match, files, noDns,
    ...(ignoredFlags.length > 0 ? { ignoredFlags } : {}) }, operator,
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
