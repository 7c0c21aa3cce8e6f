/**
 * The keyword table of `defaults`, `frontend`, `backend` and `listen` sections.
 */
import type { KeywordContext } from '../context.ts'
import type { Balance, Bind, FormatString, Location, Proxy } from '../model.ts'
import type { BindTls } from '../tls-model.ts'
import { parseAclDefinition, parseCondition, splitCondition } from '../acl.ts'
import { checkName, parseAddress, parseInteger, parseListenAddress, parseNetwork, parseTime,
  parseUnixServerAddress } from '../values.ts'
import { ValueError } from '../errors.ts'
import { applyCapture, applyCookie, applyHttpCheck, applyHttpRule, applyStats,
  applyTcpRule } from './http.ts'
import { applyLegacyTimeout, applyOption, applyTimeout, LEGACY_TIMEOUT_KEYWORDS, warnIfIgnored } from './options.ts'
import { parseServerOptions } from './server.ts'
import { applyStickRule, parseStickTable } from './stick.ts'
import { parseLogTarget } from './log.ts'
import { applyTlsOption, refusedTlsOption, TLS_COMMON_OPTIONS } from './ssl.ts'
import { applyErrorfile, applyErrorfiles, applyErrorloc, applyHttpError } from './errors.ts'
import { parseFormat } from '../rule-actions.ts'
import { parseTcpCheck } from './tcp-check.ts'
import { checkBindOptions } from './bind-options.ts'
import { socketCount } from '../listener-ids.ts'

export interface ProxyKeyword {
  /** Sections it may appear in: d(efaults), f(rontend), b(ackend), l(isten). */
  readonly where: string
  readonly parse: (p: Proxy, args: readonly string[], ctx: KeywordContext) => void
}

const KIND_LETTER = { defaults: 'd', frontend: 'f', backend: 'b', listen: 'l' } as const

export function allowedIn (kw: ProxyKeyword, p: Proxy): boolean {
  return kw.where.includes(KIND_LETTER[p.kind])
}

/** A format string's words joined by one space (HAProxy merges unescaped spaces). */
function formatString (keyword: string, args: readonly string[], loc: Location): FormatString {
  if (args.length === 0) throw new ValueError(`'${keyword}' expects a format string`)
  return { text: args.join(' '), loc }
}

function noArgs (keyword: string, args: readonly string[]): void {
  if (args.length > 0) throw new ValueError(`'${keyword}' takes no argument, got '${args.join(' ')}'`)
}

function oneArg (keyword: string, args: readonly string[]): string {
  if (args.length !== 1) throw new ValueError(`'${keyword}' expects exactly one argument`)
  return args[0] as string
}

export function parseBind (args: readonly string[], ctx: KeywordContext): Bind {
  const [list, ...rest] = args
  if (list === undefined) throw new ValueError("'bind' expects an address such as *:80")
  const addresses = list.split(',').map(a => parseListenAddress(ctx.expandAddress(a), 'bind'))
  const options: Record<string, string | true> = {}
  const withValue = new Set(['name', 'id', 'backlog', 'maxconn', 'mode', 'uid', 'gid', 'user', 'group', 'interface',
    'namespace', 'process', 'thread', 'accept-netscaler-cip', 'tcp-ut', 'nice', 'level', 'severity-output', 'mss',
    'label', 'proto'])
  const flags = new Set(['transparent', 'v4v6', 'v6only', 'defer-accept', 'tfo', 'accept-proxy'])
  const tls: BindTls = { settings: {}, crt: [], crtList: [], certs: [] }
  let ssl = false
  let tlsWord: string | undefined
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i] as string
    if (flags.has(w)) options[w] = true
    else if (withValue.has(w)) {
      const v = rest[++i]
      if (v === undefined) throw new ValueError(`bind option '${w}' expects a value`)
      if (w === 'backlog' || w === 'maxconn') parseInteger(v, `bind ${w}`, 1, 1_000_000)
      options[w] = v
    } else if (w === 'ssl') ssl = true
    else if (w === 'crt' || w === 'crt-list') {
      const v = rest[++i]
      if (v === undefined) throw new ValueError(`bind option '${w}' expects a file name`)
      ;(w === 'crt' ? tls.crt : tls.crtList).push(v)
      tlsWord ??= w
    } else if (w === 'strict-sni') { tls.strictSni = true; tlsWord ??= w }
    else if (w === 'allow-0rtt') ctx.warn("bind option 'allow-0rtt' is ignored: tslb does not accept TLS early data")
    else if (refusedTlsOption(w) !== undefined) throw new ValueError(`bind option '${w}': ${refusedTlsOption(w) ?? ''}`)
    else if (w in TLS_COMMON_OPTIONS) {
      const v = TLS_COMMON_OPTIONS[w] === true ? rest[++i] : undefined
      applyTlsOption(tls.settings, w, v, m => { ctx.warn(m) })
      tlsWord ??= w
    } else {
      throw new ValueError(`unknown bind option '${w}'`)
    }
  }
  checkBindOptions(options, m => { ctx.warn(m) })
  if (options['accept-netscaler-cip'] !== undefined) throw new ValueError(
    "'bind ... accept-netscaler-cip' is not supported by tslb: the client address it carries would be ignored " +
    "(use 'accept-proxy' with the PROXY protocol)")
  const proto = options.proto
  if (proto !== undefined && proto !== 'h1' && proto !== 'h2') throw new ValueError(
    `bind option 'proto' expects h1 or h2, got '${String(proto)}'`)
  if (!ssl) {
    if (tlsWord !== undefined) ctx.warn(`bind option '${tlsWord}' has no effect without 'ssl'`)
    return { addresses, options, loc: ctx.loc }
  }
  if (options['accept-proxy'] === true) throw new ValueError(
    "'bind ... ssl accept-proxy' is not supported by tslb yet (the PROXY header before TLS)")
  if (tls.crt.length === 0 && tls.crtList.length === 0) throw new ValueError(
    "'bind ... ssl' needs a certificate: 'crt FILE|DIR' or 'crt-list FILE'")
  return { addresses, options, ssl: tls, loc: ctx.loc }
}

/** `bind … id N`: 1..2^31-1, a line with one socket, unique within the frontend. */
function checkBindId (earlier: readonly Bind[], bind: Bind): Bind {
  const id = bind.options.id
  if (id === undefined) return bind
  const n = parseInteger(typeof id === 'string' ? id : '', 'bind id', 1, 2_147_483_647)
  if (socketCount(bind) !== 1) throw new ValueError("bind option 'id' can only be used with a single socket")
  if (earlier.some(b => b.options.id !== undefined && Number(b.options.id) === n)) throw new ValueError(
    `bind option 'id': ${String(n)} is already used by another bind line of this proxy`)
  return { ...bind, options: { ...bind.options, id: String(n) } }
}

function parseBalance (args: readonly string[]): Balance {
  const [algo, ...rest] = args
  switch (algo) {
    case 'roundrobin': case 'static-rr': case 'leastconn': case 'first': case 'source': case 'random':
      if (algo !== 'random' && rest.length > 0) throw new ValueError(`'balance ${algo}' takes no argument`)
      return { algorithm: algo }
    case 'uri': {
      let whole = false
      let pathOnly = false
      let len: number | undefined
      let depth: number | undefined
      for (let i = 0; i < rest.length; i++) {
        const w = rest[i]
        if (w === 'whole') whole = true
        else if (w === 'path-only') pathOnly = true
        else if (w === 'len') len = parseInteger(rest[++i], 'balance uri len', 0, 65535)
        else if (w === 'depth') depth = parseInteger(rest[++i], 'balance uri depth', 0, 65535)
        else throw new ValueError(
          `'balance uri': unknown argument '${w ?? ''}' (expected whole, path-only, len, depth)`)
      }
      return { algorithm: 'uri', whole, len, depth, ...(pathOnly ? { pathOnly } : {}) }
    }
    case 'url_param': {
      const [param, check, n] = rest
      if (param === undefined) throw new ValueError("'balance url_param' expects a parameter name")
      if (check !== undefined && check !== 'check_post') throw new ValueError(
        `'balance url_param': unexpected '${check}'`)
      return { algorithm: 'url_param', param, checkPost: check === undefined ? undefined : n === undefined ?
        48 : parseInteger(n, 'check_post', 0, 65535) }
    }
    case 'rdp-cookie': return { algorithm: 'rdp-cookie', cookie: 'mstshash' }
    default: {
      const m = /^(hdr|rdp-cookie)\(([^)]+)\)$/.exec(algo ?? '')
      if (m?.[1] === 'hdr') {
        if (rest.length > 0 && rest[0] !== 'use_domain_only') throw new ValueError(
          `'balance hdr': unexpected '${rest[0] ?? ''}'`)
        return { algorithm: 'hdr', header: m[2] as string, useDomainOnly: rest[0] === 'use_domain_only' }
      }
      if (m?.[1] === 'rdp-cookie') return { algorithm: 'rdp-cookie', cookie: m[2] as string }
      throw new ValueError(
        (`unknown balance algorithm '${algo ?? ''}' (known: roundrobin, static-rr, leastconn, first, source, uri, ` +
          `url_param, hdr(NAME), random, rdp-cookie)`))
    }
  }
}

function parseHashType (args: readonly string[]): Proxy['hashType'] {
  const [method, fn, modifier] = args
  if (method !== 'map-based' && method !== 'consistent') throw new ValueError(
    `'hash-type' expects map-based or consistent, got '${method ?? ''}'`)
  const f = fn ?? 'sdbm'
  if (f !== 'sdbm' && f !== 'djb2' && f !== 'wt6' && f !== 'crc32') throw new ValueError(
    `'hash-type': unknown hash function '${f}' (sdbm, djb2, wt6, crc32)`)
  if (modifier !== undefined && modifier !== 'avalanche') throw new ValueError(
    `'hash-type': unknown modifier '${modifier}'`)
  // HAProxy applies avalanche by default with consistent hashing when no function is named.
  return { method, function: f, avalanche: modifier === 'avalanche' || (method === 'consistent' && fn === undefined) }
}

const PROXY_MODES = ['http', 'tcp', 'health'] as const

export const PROXY_KEYWORDS: Readonly<Record<string, ProxyKeyword>> = {
  mode: {
    where: 'dfbl',
    parse: (p, args) => {
      const m = oneArg('mode', args)
      if (!(PROXY_MODES as readonly string[]).includes(m)) throw new ValueError(
        `'mode' expects http, tcp or health, got '${m}'`)
      if (m === 'health') throw new ValueError(
        "'mode health' was removed in HAProxy 2.x: use 'monitor-uri' or 'http-request return'")
      p.mode = m as Proxy['mode']
    }
  },
  bind: { where: 'fl', parse: (p, args, ctx) => { p.binds.push(checkBindId(p.binds, parseBind(args, ctx))) } },
  server: {
    where: 'bl',
    parse: (p, args, ctx) => {
      const [name, addr, ...opts] = args
      if (name === undefined || addr === undefined) throw new ValueError("'server' expects a name and an address")
      checkName("'server'", name)
      if (p.servers.some(s => s.name === name)) throw new ValueError(
        `server '${name}' is already defined in ${ctx.section}`)
      const expanded = ctx.expandAddress(addr)
      const address = parseUnixServerAddress(expanded, `server '${name}'`) ??
        parseAddress(expanded, `server '${name}'`, false, true)
      if (address.host === '' && address.path === undefined) throw new ValueError(`server '${name}': missing address`)
      if (address.portEnd !== address.port) throw new ValueError(`server '${name}': a port range is not allowed`)
      const options = { ...p.defaultServer }
      parseServerOptions(opts, options, m => { ctx.warn(m) })
      if (address.port === undefined && address.path === undefined && options.port === undefined && p.mode === 'tcp' &&
        p.dispatch === undefined) {
        ctx.warn(`server '${name}' has no port: connections go to the port the client connected to`)
      }
      p.servers.push({ ...options, name, address, loc: ctx.loc })
    }
  },
  'default-server': { where: 'dbl', parse: (p, args, ctx) => { parseServerOptions(args, p.defaultServer,
    m => { ctx.warn(m) }) } },
  balance: { where: 'dbl', parse: (p, args, ctx) => { warnIfIgnored(p, 'b', 'balance', ctx);
    p.balance = parseBalance(args) } },
  'hash-type': { where: 'dbl', parse: (p, args) => { p.hashType = parseHashType(args) } },
  maxconn: { where: 'dfl', parse: (p, args) => { p.maxconn = parseInteger(oneArg('maxconn', args), 'maxconn', 0,
    10_000_000) } },
  fullconn: { where: 'dbl', parse: (p, args) => { p.fullconn = parseInteger(oneArg('fullconn', args), 'fullconn', 1,
    10_000_000) } },
  retries: { where: 'dbl', parse: (p, args) => { p.retries = parseInteger(oneArg('retries', args), 'retries', 0,
    1000) } },
  timeout: { where: 'dfbl', parse: applyTimeout },
  option: { where: 'dfbl', parse: (p, args, ctx) => { applyOption(p, args, true, ctx) } },
  default_backend: {
    where: 'dfl',
    parse: (p, args) => { p.defaultBackend = oneArg('default_backend', args) }
  },
  use_backend: {
    where: 'fl',
    parse: (p, args, ctx) => {
      const { head, cond } = splitCondition(args, ctx.loc)
      if (head.length !== 1) throw new ValueError(
        "'use_backend' expects a backend name, then optionally 'if' or 'unless' and a condition")
      const backend = head[0] as string
      const format = backend.includes('%[') ? parseFormat(backend, "'use_backend'") : undefined
      p.useBackends.push({ backend, ...(format === undefined ? {} : { format }), cond, loc: ctx.loc })
    }
  },
  acl: {
    where: 'dflb',
    parse: (p, args, ctx) => {
      const [name, ...rest] = args
      if (name === undefined) throw new ValueError("'acl' expects a name, a fetch method and values")
      p.acls.push(parseAclDefinition(name, rest, ctx.loc))
    }
  },
  log: {
    where: 'dfbl',
    parse: (p, args, ctx) => {
      if (args.length === 1 && args[0] === 'global') { p.logGlobal = true; return }
      if (args.length === 1 && args[0] === 'disable') { p.logGlobal = false; p.logs = []; return }
      p.logs.push(parseLogTarget(args, ctx.loc))
    }
  },
  'log-format': { where: 'dfl', parse: (p, args, ctx) => { p.logFormat = formatString('log-format', args, ctx.loc) } },
  'unique-id-format': { where: 'dfl', parse: (p, args, ctx) => {
    p.uniqueIdFormat = formatString('unique-id-format', args, ctx.loc)
  } },
  'unique-id-header': { where: 'dfl', parse: (p, args) => {
    const name = oneArg('unique-id-header', args)
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new ValueError(
      `'unique-id-header' expects a header name, got '${name}'`)
    p.uniqueIdHeader = name
  } },
  description: { where: 'dfbl', parse: (p, args) => { p.description = args.join(' ') } },
  disabled: { where: 'dfbl', parse: (p, args) => { noArgs('disabled', args); p.disabled = true } },
  enabled: { where: 'dfbl', parse: (p, args) => { noArgs('enabled', args); p.disabled = false } },
  id: { where: 'fbl', parse: (p, args) => { p.id = parseInteger(oneArg('id', args), 'id', 1, 2_147_483_647) } },
  source: { where: 'dbl', parse: (p, args) => { p.source = parseAddress(args[0] ?? '', 'source', false).host;
    if (args.length > 1) throw new ValueError("'source' options (usesrc, interface) are not supported yet") } },
  cookie: { where: 'dbl', parse: (p, args, ctx) => { warnIfIgnored(p, 'b', 'cookie', ctx); applyCookie(p, args) } },
  'http-request': { where: 'dflb', parse: (p, args, ctx) => { applyHttpRule('request', p, args, ctx) } },
  'http-response': { where: 'dflb', parse: (p, args, ctx) => { applyHttpRule('response', p, args, ctx) } },
  'http-after-response': { where: 'dflb', parse: (p, args, ctx) => { applyHttpRule('after-response', p, args,
    ctx) } },
  'tcp-request': { where: 'dflb', parse: applyTcpRule },
  'http-check': { where: 'dbl', parse: (p, args) => { applyHttpCheck(p, args) } },
  'tcp-check': { where: 'dbl', parse: (p, args) => { p.ownTcpCheckRules.push(parseTcpCheck(args)) } },
  stats: { where: 'dflb', parse: applyStats },
  'stick-table': {
    where: 'flb',
    parse: (p, args, ctx) => {
      if (p.stickTable !== undefined) throw new ValueError(`${ctx.section} already has a stick-table`)
      p.stickTable = parseStickTable(args, ctx)
    }
  },
  stick: { where: 'bl', parse: applyStickRule },
  capture: { where: 'fl', parse: (p, args) => { applyCapture(p, args) } },
  errorfile: { where: 'dfbl', parse: (p, args, ctx) => { applyErrorfile(p, args, ctx.loc) } },
  errorfiles: { where: 'dfbl', parse: (p, args, ctx) => { applyErrorfiles(p, args, ctx.loc) } },
  errorloc: { where: 'dfbl', parse: (p, args, ctx) => { applyErrorloc(p, 'errorloc', args, ctx.loc) } },
  errorloc302: { where: 'dfbl', parse: (p, args, ctx) => { applyErrorloc(p, 'errorloc302', args, ctx.loc) } },
  errorloc303: { where: 'dfbl', parse: (p, args, ctx) => { applyErrorloc(p, 'errorloc303', args, ctx.loc) } },
  'http-error': { where: 'dfbl', parse: (p, args, ctx) => { applyHttpError(p, args, ctx.loc) } },
  'monitor-uri': { where: 'dfl', parse: (p, args) => { const u = oneArg('monitor-uri', args)
    if (u === '') throw new ValueError("'monitor-uri' expects a URI"); p.monitorUri = u } },
  'monitor-net': {
    where: 'dfl',
    parse: (p, args, ctx) => {
      ctx.warn(
        ("'monitor-net' is deprecated (removed in HAProxy 2.4): use 'tcp-request connection reject if { src NET }' " +
          "or 'http-request return status 200 if { src NET }'"))
      p.monitorNets.push(parseNetwork(oneArg('monitor-net', args), 'monitor-net'))
    }
  },
  monitor: {
    where: 'fl',
    parse: (p, args, ctx) => {
      if (args[0] !== 'fail') throw new ValueError("'monitor' expects 'fail if|unless CONDITION'")
      p.monitorFail.push(parseCondition(args.slice(1), ctx.loc))
    }
  },
  dispatch: {
    where: 'bl',
    parse: (p, args, ctx) => {
      ctx.warn("'dispatch' is a 1.x keyword: prefer a 'server' line")
      p.dispatch = parseAddress(oneArg('dispatch', args), 'dispatch', true)
    }
  },
  redispatch: {
    where: 'dbl',
    parse: (p, args, ctx) => {
      noArgs('redispatch', args)
      ctx.warn("'redispatch' is deprecated: use 'option redispatch'")
      p.options.redispatch = true
    }
  },
  grace: {
    where: 'dfbl',
    parse: (p, args, ctx) => {
      ctx.warn(
        ("'grace' is deprecated (removed in HAProxy 2.5): tslb's reload drains old workers itself; use " +
          "'hard-stop-after' in 'global' to bound it"))
      p.grace = parseTime(oneArg('grace', args), 'grace')
    }
  },
  'http-reuse': {
    where: 'dbl',
    parse: (p, args) => {
      const v = oneArg('http-reuse', args)
      if (!['never', 'safe', 'aggressive', 'always'].includes(v)) throw new ValueError(
        `'http-reuse' expects never, safe, aggressive or always, got '${v}'`)
      // One setting, the last written wins (a backend's overrides its defaults').
      for (const m of ['never', 'safe', 'aggressive', 'always']) p.options[`http-reuse ${m}`] = m === v
    }
  }
}

for (const legacy of LEGACY_TIMEOUT_KEYWORDS) {
  (PROXY_KEYWORDS as Record<string, ProxyKeyword>)[legacy] = {
    where: 'dfbl',
    parse: (p, args, ctx) => { applyLegacyTimeout(legacy, p, args, ctx) }
  }
}

/** Keywords HAProxy 1.x had and 2.x removed, with what to write instead. */
export const REMOVED_KEYWORDS: Readonly<Record<string, string>> = {
  reqrep: "use 'http-request replace-header' or 'http-request replace-path'",
  reqirep: "use 'http-request replace-header' or 'http-request replace-path'",
  reqadd: "use 'http-request add-header'",
  reqdel: "use 'http-request del-header'",
  reqidel: "use 'http-request del-header'",
  reqdeny: "use 'http-request deny'",
  reqideny: "use 'http-request deny'",
  reqallow: "use 'http-request allow'",
  reqpass: "use 'http-request allow'",
  reqtarpit: "use 'http-request tarpit'",
  rsprep: "use 'http-response replace-header'",
  rspirep: "use 'http-response replace-header'",
  rspadd: "use 'http-response add-header'",
  rspdel: "use 'http-response del-header'",
  rspidel: "use 'http-response del-header'",
  rspdeny: "use 'http-response deny'",
  block: "use 'http-request deny'",
  appsession: "use 'stick-table type string' with 'stick on req.cook(NAME)' and 'stick store-response res.cook(NAME)'",
  reqsetbe: "use 'use_backend'",
  reqisetbe: "use 'use_backend'"
}

/** `no option NAME` */
export function applyNo (p: Proxy, args: readonly string[], ctx: KeywordContext): void {
  if (args[0] === 'log' && args.length === 1) {
    // HAProxy's `no log`: this proxy logs nothing, whatever its defaults said.
    p.logs = []
    p.logGlobal = false
    return
  }
  if (args[0] !== 'option') throw new ValueError("'no' is only valid before 'option' or 'log'")
  applyOption(p, args.slice(1), false, ctx)
}

