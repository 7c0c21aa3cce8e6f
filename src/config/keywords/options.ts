/**
 * `option NAME`, `no option NAME`, and `timeout NAME T` (with the 1.x spellings
 * contimeout/clitimeout/srvtimeout, accepted with a deprecation warning).
 */
import type { KeywordContext } from '../context.ts'
import type { Proxy, Timeouts } from '../model.ts'
import { suggest } from '../context.ts'
import { parseNetwork, parseTime } from '../values.ts'
import { ValueError } from '../errors.ts'
import { notEnforcedMessage, OPTION_NOT_ENFORCED } from '../enforcement.ts'

/** Boolean options and the proxy capability they need: f(rontend), b(ackend), or both. */
const BOOLEAN_OPTIONS: Readonly<Record<string, 'f' | 'b' | 'fb'>> = {
  httplog: 'f', tcplog: 'f', logasap: 'f', dontlognull: 'f', 'dontlog-normal': 'f', 'log-separate-errors': 'f',
  httpclose: 'fb', 'http-server-close': 'fb', 'http-keep-alive': 'fb', 'http-pretend-keepalive': 'fb',
  'http-buffer-request': 'fb', 'http-use-proxy-header': 'f', 'http-ignore-probes': 'f', 'http-no-delay': 'fb',
  'idle-close-on-response': 'f',
  redispatch: 'b', persist: 'b', abortonclose: 'b', allbackups: 'b', 'log-health-checks': 'b',
  'ssl-hello-chk': 'b', 'tcp-check': 'b', 'mysql-check': 'b', 'redis-check': 'b', 'smtpchk': 'b', 'pgsql-check': 'b',
  checkcache: 'b', srvtcpka: 'b', clitcpka: 'f', tcpka: 'fb', nolinger: 'fb', 'splice-auto': 'fb',
  'splice-request': 'fb', 'splice-response': 'fb', 'tcp-smart-accept': 'f', 'tcp-smart-connect': 'b',
  'accept-invalid-http-request': 'f', 'accept-invalid-http-response': 'b', 'prefer-last-server': 'b',
  'independent-streams': 'fb', 'contstats': 'f', 'socket-stats': 'f', 'transparent': 'b', 'originalto': 'fb',
  'disable-h2-upgrade': 'f', 'h1-case-adjust-bogus-client': 'f',
  'h1-case-adjust-bogus-server': 'b', 'spop-check': 'b', 'ldap-check': 'b', 'external-check': 'b'
}

/** Options HAProxy 1.x had and 2.x renamed or removed: accepted with a warning naming the modern form. */
const LEGACY_OPTIONS: Readonly<Record<string, { readonly becomes: string, readonly hint: string }>> = {
  forceclose: { becomes: 'httpclose', hint: "'option forceclose' is deprecated: use 'option httpclose'" },
  'http_proxy': { becomes: 'http_proxy', hint:
    "'option http_proxy' is removed in HAProxy 2.x: use 'http-request set-dst'" }
}

/** Options that take arguments in HAProxy, with a check of their shape. */
const OPTION_ARGUMENTS: Readonly<Record<string, (rest: readonly string[]) => boolean>> = {
  httplog: rest => rest.length === 1 && rest[0] === 'clf',
  'mysql-check': rest => rest[0] === 'user' && (rest.length === 2 || (rest.length === 3 &&
    (rest[2] === 'post-41' || rest[2] === 'pre-41'))),
  'pgsql-check': rest => rest[0] === 'user' && rest.length === 2,
  smtpchk: rest => (rest[0] === 'HELO' || rest[0] === 'EHLO') && rest.length === 2,
  originalto: rest => rest.length % 2 === 0 && rest.every((w, i) => i % 2 === 1 || w === 'except' || w === 'header')
}

/** Protocol checks tslb runs (src/proxy/health/exchanges.ts). */
const PROTOCOL_CHECKS = new Set(['redis-check', 'smtpchk', 'pgsql-check', 'mysql-check', 'ldap-check'])
/** Protocol checks HAProxy has and tslb does not: refused rather than silently run as a TCP connect. */
const UNSUPPORTED_CHECK_OPTIONS: Readonly<Record<string, string>> = {
  'spop-check': 'the SPOP HELLO check'
}

/** Options that are one setting in HAProxy: enabling one disables the others. */
const EXCLUSIVE_OPTIONS = [['httpclose', 'http-server-close', 'http-keep-alive'], ['httplog', 'tcplog']]

export const OPTION_NAMES = [...Object.keys(BOOLEAN_OPTIONS), 'forwardfor', 'httpchk', 'http-restrict-req-hdr-names']

const RESTRICT_POLICIES = ['preserve', 'delete', 'reject'] as const

/** `option NAME [args]` or `no option NAME`; `enabled` is false for `no option`. */
export function applyOption (p: Proxy, args: readonly string[], enabled: boolean, ctx: KeywordContext): void {
  const [name, ...rest] = args
  if (name === undefined) throw new ValueError("'option' expects an option name")
  if (name === 'httpclose' && enabled) {
    ctx.warn(
      ("'option httpclose' comes from HAProxy 1.x: tslb closes both sides after each exchange as HAProxy 2.x does; " +
        "'option http-server-close' keeps client keep-alive"))
  }
  if (name === 'forwardfor') {
    if (!enabled) {
      p.forwardFor = undefined
      return
    }
    p.forwardFor = parseForwardFor(rest)
    return
  }
  if (name === 'httpchk') {
    if (!enabled) {
      p.httpCheck = undefined
      return
    }
    if (rest.length > 3) throw new ValueError("'option httpchk' expects at most [METHOD] [URI] [VERSION]")
    const [a, b, c] = rest
    const method = rest.length >= 2 ? a as string : 'OPTIONS'
    const uri = rest.length >= 2 ? b as string : a ?? '/'
    const version = c ?? 'HTTP/1.0'
    if (!/^[A-Z]+$/.test(method)) throw new ValueError(`'option httpchk': invalid method '${method}'`)
    if (!uri.startsWith('/') && uri !== '*') throw new ValueError(
      `'option httpchk': URI must start with '/', got '${uri}'`)
    const [versionText, ...headerLines] = version.split('\r\n')
    p.httpCheck = { method, uri, version: versionText as string, headers: headerLines.filter(h => h !== ''),
      expects: p.ownHttpCheck === true ? p.httpCheck?.expects : undefined }
    p.ownHttpCheck = true
    return
  }
  if (name === 'http-restrict-req-hdr-names') {
    const policy = RESTRICT_POLICIES.find(x => x === rest[0])
    if (policy === undefined || rest.length !== 1) throw new ValueError(
      `'option http-restrict-req-hdr-names' expects preserve, delete or reject, got '${rest.join(' ')}'`)
    if (!enabled) throw new ValueError("'no option http-restrict-req-hdr-names' is not supported: write 'preserve'")
    p.restrictHeaderNames = policy
    return
  }
  const legacy = LEGACY_OPTIONS[name]
  if (legacy !== undefined) {
    ctx.warn(legacy.hint)
    p.options[legacy.becomes] = enabled
    return
  }
  const cap = BOOLEAN_OPTIONS[name]
  if (cap === undefined) throw new ValueError(`unknown option '${name}'${suggest(name, OPTION_NAMES)}`)
  const argsOk = OPTION_ARGUMENTS[name]
  if (rest.length > 0 && (argsOk === undefined || !argsOk(rest))) {
    throw new ValueError(argsOk === undefined ? `'option ${name}' takes no argument, got '${rest.join(' ')}'` :
      `'option ${name}': invalid arguments '${rest.join(' ')}'`)
  }
  warnIfIgnored(p, cap, `option ${name}`, ctx)
  const refused = UNSUPPORTED_CHECK_OPTIONS[name]
  if (refused !== undefined && enabled) throw new ValueError(
    (`'option ${name}' is not supported by tslb yet (${refused}); without it, servers with 'check' get a TCP ` +
      `connect check`))
  if (PROTOCOL_CHECKS.has(name)) p.checkOption = enabled ? { name, args: [...rest] } : undefined
  p.options[name] = enabled
  const why = OPTION_NOT_ENFORCED[name]
  if (why !== undefined && enabled) ctx.warn(`${notEnforcedMessage(`option ${name}`)} (${why})`)
  if (enabled) {
    // These three are one setting in HAProxy: the last one written wins.
    for (const group of EXCLUSIVE_OPTIONS) {
      if (group.includes(name)) for (const m of group) if (m !== name) p.options[m] = false
    }
  }
}

function parseForwardFor (rest: readonly string[]): Proxy['forwardFor'] {
  let except: string | undefined
  let header = 'X-Forwarded-For'
  let ifNone = false
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]
    if (w === 'except') except = parseNetwork(rest[++i] ?? '', "'option forwardfor except'")
    else if (w === 'header') {
      const h = rest[++i]
      if (h === undefined || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h)) throw new ValueError(
        `'option forwardfor header' expects a header name, got '${h ?? ''}'`)
      header = h
    } else if (w === 'if-none') ifNone = true
    else throw new ValueError(`'option forwardfor': unknown argument '${w ?? ''}' (expected except, header or if-none)`)
  }
  return { except, header, ifNone }
}

const TIMEOUTS: Readonly<Record<string, { readonly field: keyof Timeouts, readonly cap: 'f' | 'b' | 'fb' }>> = {
  client: { field: 'client', cap: 'f' },
  server: { field: 'server', cap: 'b' },
  connect: { field: 'connect', cap: 'b' },
  'http-request': { field: 'httpRequest', cap: 'f' },
  'http-keep-alive': { field: 'httpKeepAlive', cap: 'fb' },
  queue: { field: 'queue', cap: 'b' },
  tunnel: { field: 'tunnel', cap: 'b' },
  check: { field: 'check', cap: 'b' },
  'client-fin': { field: 'clientFin', cap: 'f' },
  'server-fin': { field: 'serverFin', cap: 'b' },
  tarpit: { field: 'tarpit', cap: 'fb' }
}

export function applyTimeout (p: Proxy, args: readonly string[], ctx: KeywordContext): void {
  const [name, value, extra] = args
  const spec = name === undefined ? undefined : TIMEOUTS[name]
  if (spec === undefined) throw new ValueError(
    (`unknown timeout '${name ?? ''}'${suggest(name ?? '', Object.keys(TIMEOUTS))} (known: ` +
      `${Object.keys(TIMEOUTS).join(', ')})`))
  if (extra !== undefined) throw new ValueError(`'timeout ${name as string}' expects one value, got extra '${extra}'`)
  warnIfIgnored(p, spec.cap, `timeout ${name as string}`, ctx)
  p.timeouts[spec.field] = parseTime(value, `timeout ${name as string}`)
}

const LEGACY_TIMEOUTS: Readonly<Record<string, string>> = { contimeout: 'connect', clitimeout: 'client',
  srvtimeout: 'server' }

export function applyLegacyTimeout (keyword: string, p: Proxy, args: readonly string[], ctx: KeywordContext): void {
  const modern = LEGACY_TIMEOUTS[keyword] as string
  ctx.warn(`'${keyword}' is deprecated: use 'timeout ${modern}'`)
  applyTimeout(p, [modern, ...args], ctx)
}

export const LEGACY_TIMEOUT_KEYWORDS = Object.keys(LEGACY_TIMEOUTS)

/** HAProxy warns, rather than fails, when a setting needs a capability the proxy lacks. */
export function warnIfIgnored (p: Proxy, cap: 'f' | 'b' | 'fb', what: string, ctx: KeywordContext): void {
  if (p.kind === 'frontend' && cap === 'b') ctx.warn(
    `'${what}' ignored: frontend '${p.name}' has no backend capability`)
  if (p.kind === 'backend' && cap === 'f') ctx.warn(`'${what}' ignored: backend '${p.name}' has no frontend capability`)
}
