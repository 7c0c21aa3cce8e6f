/**
 * `server NAME ADDR[:PORT] [options]` and `default-server [options]` option parsing.
 */
import type { ServerOptions } from '../model.ts'
import { suggest } from '../context.ts'
import { parseAddress, parseInteger, parseTime } from '../values.ts'
import { ValueError } from '../errors.ts'
import { notEnforcedMessage, SERVER_OPTION_NOT_ENFORCED } from '../enforcement.ts'
import type { ServerTls } from '../tls-model.ts'
import { parseFetch } from '../acl.ts'
import { applyTlsOption, TLS_COMMON_OPTIONS } from './ssl.ts'

type OptionParser = (o: ServerOptions, arg: string) => void
interface ServerOption {
  readonly takesArg: boolean
  readonly apply: OptionParser
}

const flag = (apply: (o: ServerOptions) => void): ServerOption => ({ takesArg: false, apply: o => { apply(o) } })
const withArg = (apply: OptionParser): ServerOption => ({ takesArg: true, apply })

/** Copy on write: `default-server` options are copied shallowly into each server. */
function tls (o: ServerOptions): ServerTls {
  o.tls = { ...o.tls }
  return o.tls
}

/** `sni`: a fetch such as `req.hdr(host)` or a constant `str(NAME)`. */
function parseSniExpression (text: string, what: string): string {
  if (/^str\(.*\)$/.test(text)) return text
  try {
    parseFetch(text, false)
  } catch (err) {
    if (!(err instanceof ValueError)) throw err
    throw new ValueError(`server option '${what}': ${err.message} (a fetch such as req.hdr(host), or str(NAME))`)
  }
  return text
}

const SERVER_OPTIONS: Readonly<Record<string, ServerOption>> = {
  check: flag(o => { o.check = true }),
  'no-check': flag(o => { o.check = false }),
  backup: flag(o => { o.backup = true }),
  'no-backup': flag(o => { o.backup = false }),
  disabled: flag(o => { o.disabled = true }),
  enabled: flag(o => { o.disabled = false }),
  'send-proxy': flag(o => { o.sendProxy = true; o.sendProxyV2 = false }),
  'send-proxy-v2': flag(o => { o.sendProxyV2 = true; o.sendProxy = false }),
  'no-send-proxy': flag(o => { o.sendProxy = false }),
  'no-send-proxy-v2': flag(o => { o.sendProxyV2 = false }),
  'check-send-proxy': flag(o => { o.checkSendProxy = true }),
  'agent-check': flag(o => { o.agentCheck = true }),
  'check-ssl': flag(o => { o.checkSsl = true }),
  'no-check-ssl': flag(o => { o.checkSsl = false }),
  ssl: flag(o => { o.ssl = true }),
  'no-ssl': flag(o => { o.ssl = false }),
  sni: withArg((o, a) => { tls(o).sni = parseSniExpression(a, 'sni') }),
  'check-sni': withArg((o, a) => { tls(o).checkSni = a }),
  'check-alpn': withArg((o, a) => { tls(o).checkAlpn = a.split(',') }),
  verifyhost: withArg((o, a) => { tls(o).verifyhost = a }),
  crt: withArg((o, a) => { tls(o).crt = a }),
  ...Object.fromEntries(Object.entries(TLS_COMMON_OPTIONS).filter(([name]) => name !== 'curves' && name !== 'ecdhe' &&
    name !== 'prefer-client-ciphers').map(([name, takesArg]) => [name, {
    takesArg,
    apply: (o: ServerOptions, a: string) => {
      if (name === 'verify' && a === 'optional') throw new ValueError("server option 'verify' expects none or required")
      applyTlsOption(tls(o), name, takesArg ? a : undefined, () => {})
    }
  }])),
  inter: withArg((o, a) => { o.inter = positiveTime(a, 'inter') }),
  fastinter: withArg((o, a) => { o.fastinter = positiveTime(a, 'fastinter') }),
  downinter: withArg((o, a) => { o.downinter = positiveTime(a, 'downinter') }),
  rise: withArg((o, a) => { o.rise = parseInteger(a, 'rise', 1, 1_000_000) }),
  fall: withArg((o, a) => { o.fall = parseInteger(a, 'fall', 1, 1_000_000) }),
  port: withArg((o, a) => { o.port = parseInteger(a, 'port', 1, 65535) }),
  addr: withArg((o, a) => { o.addr = parseAddress(a, 'addr', false).host }),
  cookie: withArg((o, a) => { o.cookie = a }),
  weight: withArg((o, a) => { o.weight = parseInteger(a, 'weight', 0, 256) }),
  maxconn: withArg((o, a) => { o.maxconn = parseInteger(a, 'maxconn', 0, 1_000_000) }),
  'pool-max-conn': withArg((o, a) => { o.poolMaxConn = parseInteger(a, 'pool-max-conn', -1, 1_000_000) }),
  minconn: withArg((o, a) => { o.minconn = parseInteger(a, 'minconn', 0, 1_000_000) }),
  maxqueue: withArg((o, a) => { o.maxqueue = parseInteger(a, 'maxqueue', 0, 1_000_000) }),
  slowstart: withArg((o, a) => { o.slowstart = parseTime(a, 'slowstart') }),
  id: withArg((o, a) => { o.id = parseInteger(a, 'id', 1, 2_147_483_647) }),
  source: withArg((o, a) => { o.source = parseAddress(a, 'source', false).host }),
  redir: withArg((o, a) => { o.redir = a }),
  track: withArg((o, a) => { o.track = a }),
  'agent-port': withArg((o, a) => { o.agentPort = parseInteger(a, 'agent-port', 1, 65535) }),
  observe: withArg((o, a) => {
    if (a !== 'layer4' && a !== 'layer7') throw new ValueError(`'observe' expects layer4 or layer7, got '${a}'`)
    o.observe = a
  }),
  'on-error': withArg((o, a) => {
    if (!['fastinter', 'fail-check', 'sudden-death', 'mark-down'].includes(a)) throw new ValueError(
      `'on-error' expects fastinter, fail-check, sudden-death or mark-down, got '${a}'`)
    o.onError = a
  }),
  'error-limit': withArg((o, a) => { o.errorLimit = parseInteger(a, 'error-limit', 1, 1_000_000) }),
  'init-addr': withArg((o, a) => { o.init = a }),
  resolvers: withArg((o, a) => { o.resolvers = a })
}

export const SERVER_OPTION_NAMES = Object.keys(SERVER_OPTIONS)

function positiveTime (a: string, what: string): number {
  const t = parseTime(a, what)
  if (t === 0) throw new ValueError(`'${what}' must be greater than zero`)
  return t
}

/** Applies `words` (options after the address) to `into`; unknown options are errors, unenforced ones warned. */
export function parseServerOptions (words: readonly string[], into: ServerOptions, warn: (m: string) => void): void {
  for (let i = 0; i < words.length; i++) {
    const name = words[i] as string
    const option = SERVER_OPTIONS[name]
    if (option === undefined) {
      throw new ValueError(`unknown server option '${name}'${suggest(name, SERVER_OPTION_NAMES)}`)
    }
    const arg = option.takesArg ? words[++i] : ''
    if (arg === undefined) throw new ValueError(`server option '${name}' expects an argument`)
    option.apply(into, arg)
    const why = SERVER_OPTION_NOT_ENFORCED[name]
    if (why !== undefined) warn(`${notEnforcedMessage(`server option ${name}`)} (${why})`)
  }
}
