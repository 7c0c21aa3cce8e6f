/**
 * HTTP-level proxy keywords: cookie, http-request/http-response, http-check, stats, capture.
 */
import type { KeywordContext } from '../context.ts'
import type { CookieSettings, Format, HeaderMatch, HttpCheckExpect, HttpRule, Proxy, SampleExpr } from '../model.ts'
import { splitCondition } from '../acl.ts'
import { parseInteger, parseTime } from '../values.ts'
import { ValueError } from '../errors.ts'
import { actionName, parseAction, parseFormat, parseSampleExpr } from '../rule-actions.ts'
import { parseCounterAction } from '../stick-counters.ts'
import { HTTP_AFTER_RESPONSE_ACTIONS, HTTP_REQUEST_ACTIONS, HTTP_RESPONSE_ACTIONS, notEnforcedMessage,
  TCP_REQUEST_ACTIONS } from '../enforcement.ts'

export function applyCookie (p: Proxy, args: readonly string[]): void {
  const [name, ...rest] = args
  if (name === undefined || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new ValueError(
    `'cookie' expects a cookie name, got '${name ?? ''}'`)
  let mode: CookieSettings['mode']
  const c = { name, indirect: false, nocache: false, postonly: false, preserve: false, httponly: false, secure: false,
    dynamic: false }
  const domains: string[] = []
  const attrs: string[] = []
  let maxidle: number | undefined
  let maxlife: number | undefined
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i] as string
    switch (w) {
      case 'insert': case 'rewrite': case 'prefix':
        if (mode !== undefined && mode !== w) throw new ValueError(`'cookie': '${mode}' and '${w}' cannot be combined`)
        mode = w
        break
      case 'indirect': case 'nocache': case 'postonly': case 'preserve': case 'httponly': case 'secure': case 'dynamic':
        c[w] = true
        break
      case 'domain': domains.push(requireArg(rest[++i], 'cookie domain')); break
      case 'attr': attrs.push(requireArg(rest[++i], 'cookie attr')); break
      case 'maxidle': maxidle = parseTime(rest[++i], 'cookie maxidle'); break
      case 'maxlife': maxlife = parseTime(rest[++i], 'cookie maxlife'); break
      default:
        throw new ValueError(
          (`'cookie': unknown argument '${w}' (expected insert, rewrite, prefix, indirect, nocache, postonly, ` +
            `preserve, httponly, secure, domain, maxidle, maxlife, dynamic, attr)`))
    }
  }
  if ((maxidle !== undefined || maxlife !== undefined) && mode !== 'insert') throw new ValueError(
    "'cookie': 'maxidle' and 'maxlife' need 'insert'")
  p.cookie = { ...c, mode, domains, attrs, maxidle, maxlife }
}

function requireArg (v: string | undefined, what: string): string {
  if (v === undefined) throw new ValueError(`'${what}' expects a value`)
  return v
}

export function applyHttpRule (phase: 'request' | 'response' | 'after-response', p: Proxy, args: readonly string[],
  ctx: KeywordContext): void {
  const { head, cond } = splitCondition(args, ctx.loc)
  const [word, ...rest] = head
  const action = word === undefined ? undefined : actionName(word)
  const known = phase === 'request' ? HTTP_REQUEST_ACTIONS : phase === 'response' ? HTTP_RESPONSE_ACTIONS
    : HTTP_AFTER_RESPONSE_ACTIONS
  if (action === undefined || !Object.hasOwn(known, action)) {
    throw new ValueError(`'http-${phase}': unknown action '${action ?? ''}' (known: ${Object.keys(known).join(', ')})`)
  }
  const needsArgs = ['add-header', 'set-header', 'del-header', 'replace-header', 'replace-value', 'redirect',
    'use-service', 'set-path', 'set-uri', 'set-status', 'set-method']
  if (needsArgs.includes(action) && rest.length === 0) throw new ValueError(
    `'http-${phase} ${action}' expects arguments`)
  if (action === 'use-service' && rest[0] !== 'prometheus-exporter') throw new ValueError(
    `'http-request use-service': only 'prometheus-exporter' is available, got '${rest[0] ?? ''}'`)
  const spec = parseAction(phase, head)
  const rule: HttpRule = { phase, action, args: rest, cond, loc: ctx.loc, ...(spec === undefined ? {} : { spec }) }
  p.httpRules.push(rule)
}

export function applyTcpRule (p: Proxy, args: readonly string[], ctx: KeywordContext): void {
  const [where, ...after] = args
  if (where !== 'connection' && where !== 'content' && where !== 'session' && where !== 'inspect-delay') {
    throw new ValueError(`'tcp-request' expects connection, session, content or inspect-delay, got '${where ?? ''}'`)
  }
  if (where === 'inspect-delay') {
    parseTime(after[0], 'tcp-request inspect-delay')
    p.tcpRules.push({ phase: 'request', action: 'inspect-delay', args: after, cond: undefined, loc: ctx.loc })
    return
  }
  const { head, cond } = splitCondition(after, ctx.loc)
  const [word, ...rest] = head
  const action = word === undefined ? undefined : actionName(word)
  if (action === undefined || !Object.hasOwn(TCP_REQUEST_ACTIONS, action)) throw new ValueError(
    `'tcp-request ${where}': unknown action '${action ?? ''}'`)
  const spec = parseCounterAction(word as string, rest, `'tcp-request ${where} ${action}'`)
  p.tcpRules.push({ phase: 'request', action: `${where} ${action}`, args: rest, cond, loc: ctx.loc,
    ...(spec === undefined ? {} : { spec }) })
}

const HEADER_MATCHES: readonly HeaderMatch[] = ['str', 'beg', 'end', 'sub', 'reg']

function checkRegex (pattern: string, flags = ''): void {
  try { new RegExp(pattern, flags) } catch { throw new ValueError(
    `'http-check expect': invalid regular expression '${pattern}'`) }
}

/** `[!] status|rstatus|string|rstring PATTERN` or `[!] hdr|fhdr name [-m M] NAME [value [-m M] VALUE]`. */
function parseHttpCheckExpect (rest: readonly string[]): HttpCheckExpect {
  let i = 0
  const negate = rest[0] === '!'
  if (negate) i = 1
  const kind = rest[i]
  if (kind === 'hdr' || kind === 'fhdr') {
    const words = rest.slice(i + 1)
    const part = (key: string): [HeaderMatch, string, Format | undefined] | undefined => {
      const w = words.shift()
      if (w === undefined) return undefined
      const lf = w === `${key}-lf`
      if (w !== key && !lf) throw new ValueError(`'http-check expect ${kind}': expected '${key}', got '${w}'`)
      let match: HeaderMatch = 'str'
      if (words[0] === '-m') {
        words.shift()
        const m = words.shift()
        if (m === undefined || !(HEADER_MATCHES as readonly string[]).includes(m)) throw new ValueError(
          `'http-check expect ${kind} ${key} -m': expected str, beg, end, sub or reg, got '${m ?? ''}'`)
        match = m as HeaderMatch
      }
      const pattern = words.shift()
      if (pattern === undefined) throw new ValueError(`'http-check expect ${kind} ${w}' expects a pattern`)
      if (lf && match === 'reg') throw new ValueError(
        `'http-check expect ${kind} ${w}' cannot be used with the regex matching method`)
      // Header names match regardless of case, values exactly.
      if (match === 'reg') checkRegex(pattern, key === 'name' ? 'i' : '')
      const what = `'http-check expect ${kind} ${w}'`
      return [match, pattern, lf ? checkFormat(parseFormat(pattern, what), what) : undefined]
    }
    const name = part('name')
    if (name === undefined) throw new ValueError(`'http-check expect ${kind}' expects 'name [-m METH] NAME'`)
    const value = part('value')
    if (words.length > 0) throw new ValueError(`'http-check expect ${kind}': unexpected '${words[0] ?? ''}'`)
    return { negate, kind, pattern: name[1], header: { nameMatch: name[0], name: name[1],
      ...(name[2] === undefined ? {} : { nameFormat: name[2] }),
      ...(value === undefined ? {} : { valueMatch: value[0], value: value[1] }),
      ...(value?.[2] === undefined ? {} : { valueFormat: value[2] }) } }
  }
  const pattern = rest[i + 1]
  if (kind === undefined || !['status', 'rstatus', 'string', 'rstring'].includes(kind) || pattern === undefined ||
    rest.length > i + 2) {
    throw new ValueError("'http-check expect' expects [!] status|rstatus|string|rstring PATTERN or " +
      '[!] hdr|fhdr name [-m METH] NAME [value [-m METH] VALUE]')
  }
  if (kind.startsWith('r')) checkRegex(pattern)
  return { negate, kind, pattern }
}

/** What a health check's samples can read: its response, its variables, constants. */
const CHECK_FETCHES: ReadonlySet<string> = new Set(['res.hdr', 'res.fhdr', 'res.hdr_cnt', 'status', 'var', 'str',
  'int', 'bin', 'env', 'always_true', 'always_false'])

function checkFetch (expr: SampleExpr, what: string): SampleExpr {
  if (!CHECK_FETCHES.has(expr.fetch)) throw new ValueError(`${what}: the fetch '${expr.fetch}' is not available ` +
    `in http-check rules in tslb (${[...CHECK_FETCHES].join(', ')})`)
  return expr
}

function checkFormat (format: Format, what: string): Format {
  for (const p of format) if (p.kind === 'sample') checkFetch(p.expr, what)
  return format
}

/** `set-var(check.NAME) EXPR` / `unset-var(check.NAME)`: a step among the expect rules. */
function parseCheckVar (sub: string, rest: readonly string[]): HttpCheckExpect {
  const set = sub.startsWith('set-')
  const variable = sub.slice(sub.indexOf('(') + 1, -1)
  if (!set) {
    if (rest.length > 0) throw new ValueError(`'http-check ${sub}' takes no argument`)
    return { negate: false, kind: 'unset-var', pattern: '', variable }
  }
  if (rest.length !== 1) throw new ValueError(`'http-check ${sub}' expects one sample expression`)
  return { negate: false, kind: 'set-var', pattern: rest[0] as string, variable,
    expr: checkFetch(parseSampleExpr(rest[0] as string, `'http-check ${sub}'`), `'http-check ${sub}'`) }
}

export function applyHttpCheck (p: Proxy, args: readonly string[]): void {
  const [sub, ...rest] = args
  const own = p.ownHttpCheck === true ? p.httpCheck : undefined
  const base = own ?? { method: 'OPTIONS', uri: '/', version: 'HTTP/1.0', headers: [] }
  if (sub === 'expect' || sub === 'send') p.ownHttpCheck = true
  if (sub === 'expect') {
    const expect = parseHttpCheckExpect(rest)
    p.httpCheck = { ...base, expects: [...own?.expects ?? [], expect] }
  } else if (sub === 'send') {
    let { method, uri, version } = base
    let body: string | undefined
    // The headers of the send line replace those written after the version of `option httpchk`.
    const headers: string[] = []
    for (let i = 0; i < rest.length; i++) {
      const w = rest[i]
      const v = rest[i + 1]
      if (w === 'uri-lf' || w === 'body-lf') throw new ValueError(
        `'http-check send ${w}': log-format strings are not supported by tslb yet`)
      if (v === undefined) throw new ValueError(`'http-check send': '${w ?? ''}' expects a value`)
      if (w === 'meth') method = v
      else if (w === 'uri') uri = v
      else if (w === 'ver') version = v
      else if (w === 'body') body = v
      else if (w === 'hdr') {
        const value = rest[i + 2] ?? ''
        // HAProxy reads header values as log-format strings.
        if (value.includes('%')) throw new ValueError(
          `'http-check send hdr ${v}': log-format values are not supported by tslb yet (no '%' in the value)`)
        headers.push(`${v}: ${value}`)
        i++
      } else throw new ValueError(
        `'http-check send': unknown argument '${w ?? ''}' (expected meth, uri, ver, hdr, body)`)
      i++
    }
    p.httpCheck = { ...base, method, uri, version, headers, ...(body === undefined ? {} : { body }) }
  } else if (sub === 'disable-on-404' || sub === 'send-state') {
    p.options[`http-check ${sub}`] = true
  } else if (sub !== undefined && /^(set|unset)-var\(check\.[A-Za-z0-9._]+\)$/.test(sub)) {
    p.ownHttpCheck = true
    p.httpCheck = { ...base, expects: [...own?.expects ?? [], parseCheckVar(sub, rest)] }
  } else if (sub === 'connect' || sub === 'comment' || sub?.startsWith('set-var(') === true ||
    sub?.startsWith('unset-var(') === true || sub === 'send-lf') {
    throw new ValueError(`'http-check ${sub.replace(/\(.*$/, '')}' is not supported by tslb yet (one HTTP ` +
      'request per check: option httpchk, http-check send and http-check expect)')
  } else {
    throw new ValueError(`'http-check' expects expect, send, disable-on-404 or send-state, got '${sub ?? ''}'`)
  }
}

export function applyStats (p: Proxy, args: readonly string[], ctx: KeywordContext): void {
  const [sub, ...rest] = args
  const s = p.stats
  const one = (): string => {
    if (rest.length !== 1) throw new ValueError(`'stats ${sub ?? ''}' expects one argument`)
    return rest[0] as string
  }
  switch (sub) {
    case 'enable': s.enabled = true; break
    case 'disable': s.enabled = false; break
    case 'uri': s.uri = one(); s.enabled = true; break
    case 'realm': s.realm = rest.join(' '); s.enabled = true; break
    case 'auth': {
      const a = one()
      if (!a.includes(':')) throw new ValueError("'stats auth' expects USER:PASSWORD")
      s.auth.push(a)
      s.enabled = true
      break
    }
    case 'refresh': s.refresh = parseTime(one(), 'stats refresh'); s.enabled = true; break
    case 'hide-version': s.hideVersion = true; break
    case 'show-legends': s.showLegends = true; break
    case 'show-node': s.showNode = rest[0] ?? true; break
    case 'scope': s.scope.push(one()); break
    case 'admin': {
      ctx.warn(notEnforcedMessage('stats admin'))
      const { cond } = splitCondition(rest, ctx.loc)
      if (cond === undefined) throw new ValueError("'stats admin' expects 'if' or 'unless' and a condition")
      s.adminCond = cond
      break
    }
    case 'socket': case 'timeout': case 'maxconn':
      throw new ValueError(`'stats ${sub}' belongs in the 'global' section`)
    default:
      throw new ValueError(
        (`'stats': unknown argument '${sub ?? ''}' (expected enable, uri, realm, auth, refresh, hide-version, ` +
          `show-node, show-legends, scope, admin)`))
  }
}

export function applyCapture (p: Proxy, args: readonly string[]): void {
  const [kind, what, name, lenKw, len] = args
  if ((kind !== 'request' && kind !== 'response') || what !== 'header' || name === undefined || lenKw !== 'len') {
    if (kind === 'cookie') throw new ValueError("'capture cookie' is not supported by tslb yet")
    throw new ValueError("'capture' expects request|response header NAME len LENGTH")
  }
  p.captures.push({ kind, header: name, len: parseInteger(len, 'capture len', 1, 64 * 1024) })
}
