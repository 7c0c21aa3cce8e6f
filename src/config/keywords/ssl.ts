/**
 * TLS options of `bind`, crt-list lines, `server` and the `global` `ssl-*` keywords (HAProxy 2.6).
 * Options OpenSSL-through-Node cannot honour are refused, never accepted silently.
 */
import type { KeywordContext } from '../context.ts'
import type { GlobalSettings } from '../model.ts'
import { TLS_VERSIONS, type GlobalTls, type TlsSettings, type TlsVersion } from '../tls-model.ts'
import { parseInteger, parseTime } from '../values.ts'
import { ValueError } from '../errors.ts'

/** Options shared by bind, crt-list and server lines; `true` when they take an argument. */
export const TLS_COMMON_OPTIONS: Readonly<Record<string, boolean>> = {
  'ssl-min-ver': true, 'ssl-max-ver': true, ciphers: true, ciphersuites: true, curves: true, alpn: true,
  verify: true, 'ca-file': true, 'crl-file': true, 'no-tls-tickets': false, 'tls-tickets': false,
  'no-sslv3': false, 'no-tlsv10': false, 'no-tlsv11': false, 'no-tlsv12': false, 'no-tlsv13': false,
  'force-sslv3': false, 'force-tlsv10': false, 'force-tlsv11': false, 'force-tlsv12': false, 'force-tlsv13': false,
  'prefer-client-ciphers': false, ecdhe: true
}

/** Options HAProxy 2.6 has that tslb refuses, with why. */
const REFUSED: Readonly<Record<string, string>> = {
  npn: 'NPN is obsolete and not offered by Node: use alpn',
  'ca-ignore-err': 'ignoring verification errors is not supported: fix the chain or use verify none',
  'crt-ignore-err': 'ignoring verification errors is not supported: fix the chain or use verify none',
  'generate-certificates': 'certificates generated on the fly are not supported',
  'ca-sign-file': 'certificates generated on the fly are not supported',
  'ssl-engine': 'OpenSSL engines are not supported',
  'ocsp-update': 'OCSP stapling is not supported yet'
}

const VERSION_FLAGS: Readonly<Record<string, TlsVersion | 'SSLv3'>> = {
  sslv3: 'SSLv3', tlsv10: 'TLSv1.0', tlsv11: 'TLSv1.1', tlsv12: 'TLSv1.2', tlsv13: 'TLSv1.3'
}

export function refusedTlsOption (name: string): string | undefined {
  return REFUSED[name]
}

function parseVersion (text: string, what: string): TlsVersion {
  if (text === 'SSLv3') throw new ValueError(`'${what} SSLv3': SSLv3 is not available (Node's OpenSSL has no SSLv3)`)
  if (!(TLS_VERSIONS as readonly string[]).includes(text)) throw new ValueError(
    `'${what}' expects one of SSLv3, ${TLS_VERSIONS.join(', ')}, got '${text}'`)
  return text as TlsVersion
}

/**
 * Applies one shared option (`arg` is its argument, or undefined for a flag). Returns false when
 * `name` is not a shared option.
 */
export function applyTlsOption (s: TlsSettings, name: string, arg: string | undefined,
  warn: (m: string) => void): boolean {
  const takesArg = TLS_COMMON_OPTIONS[name]
  if (takesArg === undefined) return false
  if (takesArg && arg === undefined) throw new ValueError(`ssl option '${name}' expects a value`)
  const a = arg ?? ''
  const version = /^(no|force)-(sslv3|tlsv1[0-3])$/.exec(name)
  if (version !== null) {
    const v = VERSION_FLAGS[version[2] as string] as TlsVersion | 'SSLv3'
    if (version[1] === 'no') {
      if (v !== 'SSLv3') s.disabled = [...(s.disabled ?? []).filter(x => x !== v), v]
      return true
    }
    if (v === 'SSLv3') throw new ValueError("'force-sslv3': SSLv3 is not available (Node's OpenSSL has no SSLv3)")
    warn(`'${name}' is deprecated: use 'ssl-min-ver ${v} ssl-max-ver ${v}'`)
    s.minVer = v
    s.maxVer = v
    return true
  }
  switch (name) {
    case 'ssl-min-ver': s.minVer = parseVersion(a, name); break
    case 'ssl-max-ver': s.maxVer = parseVersion(a, name); break
    case 'ciphers': s.ciphers = a; break
    case 'ciphersuites': s.ciphersuites = a; break
    case 'curves': case 'ecdhe': s.curves = a; break
    case 'alpn': {
      const list = a.split(',')
      if (list.some(p => p === '' || p.length > 255)) throw new ValueError(`'alpn' expects a comma-separated list of ` +
        `protocol names, got '${a}'`)
      s.alpn = list
      break
    }
    case 'verify':
      if (a !== 'none' && a !== 'optional' && a !== 'required') throw new ValueError(
        `'verify' expects none, optional or required, got '${a}'`)
      s.verify = a
      break
    case 'ca-file': s.caFile = a; break
    case 'crl-file': s.crlFile = a; break
    case 'no-tls-tickets': s.noTlsTickets = true; break
    case 'tls-tickets': s.noTlsTickets = false; break
    case 'prefer-client-ciphers': s.preferClientCiphers = true; break
  }
  return true
}

/** Parses the words of `ssl-default-*-options` (flags, and `ssl-min-ver V` / `ssl-max-ver V`). */
function applyOptionWords (s: TlsSettings, words: readonly string[], kw: string, warn: (m: string) => void): void {
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string
    const takesArg = TLS_COMMON_OPTIONS[w]
    if (takesArg === undefined || (takesArg && w !== 'ssl-min-ver' && w !== 'ssl-max-ver')) {
      throw new ValueError(`'${kw}': unknown option '${w}'`)
    }
    applyTlsOption(s, w, takesArg ? words[++i] : undefined, warn)
  }
}

function one (kw: string, args: readonly string[]): string {
  if (args.length !== 1) throw new ValueError(`'${kw}' expects exactly one argument`)
  return args[0] as string
}

function tls (g: GlobalSettings): GlobalTls {
  g.tls ??= { defaultBind: {}, defaultServer: {} }
  return g.tls
}

type Handler = (g: GlobalSettings, args: readonly string[], ctx: KeywordContext) => void

export const GLOBAL_TLS_KEYWORDS: Readonly<Record<string, Handler>> = {
  'ssl-default-bind-ciphers': (g, a) => { tls(g).defaultBind.ciphers = one('ssl-default-bind-ciphers', a) },
  'ssl-default-bind-ciphersuites': (g, a) => {
    tls(g).defaultBind.ciphersuites = one('ssl-default-bind-ciphersuites', a)
  },
  'ssl-default-bind-curves': (g, a) => { tls(g).defaultBind.curves = one('ssl-default-bind-curves', a) },
  'ssl-default-bind-options': (g, a, ctx) => {
    applyOptionWords(tls(g).defaultBind, a, 'ssl-default-bind-options', m => { ctx.warn(m) })
  },
  'ssl-default-server-ciphers': (g, a) => { tls(g).defaultServer.ciphers = one('ssl-default-server-ciphers', a) },
  'ssl-default-server-ciphersuites': (g, a) => {
    tls(g).defaultServer.ciphersuites = one('ssl-default-server-ciphersuites', a)
  },
  'ssl-default-server-options': (g, a, ctx) => {
    applyOptionWords(tls(g).defaultServer, a, 'ssl-default-server-options', m => { ctx.warn(m) })
  },
  'ssl-server-verify': (g, a) => {
    const v = one('ssl-server-verify', a)
    if (v !== 'none' && v !== 'required') throw new ValueError(
      `'ssl-server-verify' expects none or required, got '${v}'`)
    tls(g).serverVerify = v
  },
  'crt-base': (g, a) => { tls(g).crtBase = one('crt-base', a) },
  'ca-base': (g, a) => { tls(g).caBase = one('ca-base', a) },
  'ssl-dh-param-file': (g, a) => { tls(g).dhParamFile = one('ssl-dh-param-file', a) },
  'tune.ssl.default-dh-param': (g, a) => {
    tls(g).defaultDhParam = parseInteger(one('tune.ssl.default-dh-param', a), 'tune.ssl.default-dh-param', 1024,
      16384)
  },
  'tune.ssl.cachesize': (g, a) => {
    tls(g).cacheSize = parseInteger(one('tune.ssl.cachesize', a), 'tune.ssl.cachesize', 0, 100_000_000)
  },
  'tune.ssl.lifetime': (g, a) => { tls(g).lifetime = parseTime(one('tune.ssl.lifetime', a), 'tune.ssl.lifetime') },
  'tune.ssl.capture-buffer-size': (_g, _a, ctx) => {
    ctx.warn("'tune.ssl.capture-buffer-size' is ignored: tslb has no ClientHello capture fetches")
  }
}
