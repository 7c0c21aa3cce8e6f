/**
 * Reads the files TLS settings name, once, when the configuration is loaded: certificates (a file,
 * or every file of a directory as HAProxy does, with `.key` side files), crt-lists, CA and CRL
 * files. Applies the `ssl-default-*` settings and checks each result by building its secure
 * context, so that `tslb check` reports what a worker would fail on. The worker gets the contents.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto'
import * as tls from 'node:tls'
import type { Diagnostic } from '../util/errors.ts'
import type { Config, Location, Proxy, Server } from './model.ts'
import type { BindTls, CrtListEntry, GlobalTls, TlsCertificate, TlsSettings } from './tls-model.ts'
import { applyTlsOption } from './keywords/ssl.ts'
import { mergeTls, secureContextOptions } from './tls-options.ts'
import { ValueError } from './errors.ts'

/** Side files a certificate directory holds next to certificates, skipped as certificates (HAProxy's list). */
const SIDE_EXTENSIONS = ['.key', '.ocsp', '.issuer', '.sctl']
const BUNDLE_EXTENSIONS = ['.rsa', '.ecdsa', '.dsa']
/** Options a crt-list line may carry in brackets (HAProxy 2.6's ssl_bind_kw list, less what tslb refuses). */
const CRT_LIST_OPTIONS = new Set(['alpn', 'ca-file', 'ciphers', 'ciphersuites', 'crl-file', 'curves', 'ecdhe',
  'ssl-min-ver', 'ssl-max-ver', 'verify'])

/** Session ticket keys for this process's lifetime: a reload (same supervisor) keeps them. */
let processTicketKeys: string | undefined

class TlsFileError extends Error {}

export async function loadTlsFiles (config: Config): Promise<Diagnostic[]> {
  const out: Diagnostic[] = []
  const g = config.global.tls ?? { defaultBind: {}, defaultServer: {} }
  const report = (loc: Location, err: unknown, severity: 'error' | 'warning' = 'error'): void => {
    if (!(err instanceof TlsFileError || err instanceof ValueError)) throw err
    out.push({ severity, file: loc.file, line: loc.line, message: err.message })
  }
  let dhparam: string | undefined
  if (g.dhParamFile !== undefined) {
    try {
      dhparam = await readText(g.dhParamFile, 'DH parameters')
    } catch (err) { report({ file: config.files[0] ?? '', line: 0 }, err) }
  }
  let anyBind = false
  for (const p of config.proxies) {
    for (const b of p.binds) {
      if (b.ssl === undefined) continue
      anyBind = true
      try {
        await loadBind(p, b.ssl, g, m => { out.push({ severity: 'warning', file: b.loc.file,
          line: b.loc.line, message: m }) })
        b.ssl.dhparam = dhparam
      } catch (err) { report(b.loc, err) }
    }
    for (let i = 0; i < p.servers.length; i++) {
      const s = p.servers[i] as Server
      if (s.ssl !== true && s.checkSsl !== true) continue
      try {
        p.servers[i] = { ...s, tls: await loadServer(p, s, g, m => { out.push({ severity: 'warning', file: s.loc.file,
          line: s.loc.line, message: m }) }) }
      } catch (err) { report(s.loc, err) }
    }
  }
  if (anyBind) {
    processTicketKeys ??= randomBytes(48).toString('base64')
    config.global.tls = { ...g, ticketKeys: processTicketKeys }
  }
  return out
}

async function loadBind (p: Proxy, b: BindTls, g: GlobalTls, warn: (m: string) => void): Promise<void> {
  b.settings = mergeTls(g.defaultBind, b.settings)
  if (b.settings.verify !== undefined && b.settings.verify !== 'none' && b.settings.caFile === undefined) {
    throw new TlsFileError(`'verify ${b.settings.verify}' needs a 'ca-file' to verify client certificates against`)
  }
  const certs: TlsCertificate[] = []
  for (const crt of b.crt) certs.push(...await loadCrtPath(resolve(g.crtBase, crt)))
  for (const list of b.crtList) {
    for (const entry of await readCrtList(resolve(g.crtBase, list), warn)) {
      const settings = mergeTls(b.settings, entry.settings)
      const caFile = entry.settings.caFile
      const ca = caFile === undefined ? undefined : await readCa(resolve(g.caBase, caFile))
      const crl = entry.settings.crlFile === undefined ? undefined : await readText(resolve(g.caBase,
        entry.settings.crlFile), 'CRL')
      for (const c of await loadCrtPath(resolve(g.crtBase, entry.file))) {
        certs.push({ ...c, filters: entry.filters.length > 0 ? entry.filters.map(f => f.toLowerCase()) : undefined,
          settings, ca, crl })
      }
    }
  }
  if (certs.length === 0) throw new TlsFileError(`no certificate found in ${[...b.crt, ...b.crtList].join(', ')}`)
  b.certs = certs
  b.ca = b.settings.caFile === undefined ? undefined : await readCa(resolve(g.caBase, b.settings.caFile))
  b.crl = b.settings.crlFile === undefined ? undefined : await readText(resolve(g.caBase, b.settings.crlFile), 'CRL')
  for (const c of certs) {
    const settings = c.settings ?? b.settings
    try {
      tls.createSecureContext({ ...secureContextOptions(settings), cert: c.cert, key: c.key, ca: c.ca ?? b.ca,
        crl: c.crl ?? b.crl, sessionTimeout: g.lifetime === undefined ? undefined : Math.ceil(g.lifetime / 1000) })
    } catch (err) {
      throw new TlsFileError(`certificate '${c.file}': ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}

/**
 * ALPN offered to a server in `mode http`: tslb speaks HTTP/1.1 to servers, so h2 is dropped (a
 * warning), never offered. (Clients may negotiate h2: an HTTP/2 connection, src/proxy/h2.)
 */
function checkAlpn (p: Proxy, alpn: string[] | undefined, warn: (m: string) => void): string[] | undefined {
  if (alpn === undefined || p.mode !== 'http' || !alpn.includes('h2')) return alpn
  const rest = alpn.filter(a => a !== 'h2')
  if (rest.length === 0) throw new TlsFileError(
    "'alpn h2': HTTP/2 to servers is not supported by tslb yet (use http/1.1)")
  warn(`'alpn ${alpn.join(',')}': h2 is not offered (HTTP/2 to servers is not supported by tslb yet): ` +
    `the server is offered ${rest.join(',')}`)
  return rest
}

async function loadServer (p: Proxy, s: Server, g: GlobalTls, warn: (m: string) => void): Promise<Server['tls']> {
  if (s.ssl === true && (s.sendProxy === true || s.sendProxyV2 === true)) throw new TlsFileError(
    `server '${s.name}': 'send-proxy' with 'ssl' is not supported by tslb yet (the header must precede the handshake)`)
  if (s.checkSendProxy === true && (s.checkSsl ?? (s.ssl === true && s.port === undefined && s.addr === undefined))) {
    throw new TlsFileError(`server '${s.name}': 'check-send-proxy' with TLS checks is not supported by tslb yet`)
  }
  const t = mergeTls(g.defaultServer, s.tls ?? {})
  // tslb speaks HTTP/1.1 to servers: a server must not be offered h2 in mode http.
  t.alpn = checkAlpn(p, t.alpn, m => {
    warn(`server '${s.name}': ${m.replace('clients get', 'the server is offered')}`)
  })
  t.verify ??= g.serverVerify ?? 'required'
  if (t.verify === 'required' && t.caFile === undefined) {
    throw new TlsFileError(`'server ${p.name}/${s.name}' : verify is enabled by default but no CA file specified. ` +
      "If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit " +
      "'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to " +
      'disable server-side verifications by default.')
  }
  if (t.caFile !== undefined) t.caPem = await readCa(resolve(g.caBase, t.caFile))
  if (t.crlFile !== undefined) t.crlPem = await readText(resolve(g.caBase, t.crlFile), 'CRL')
  if (t.crt !== undefined) {
    const [c] = await loadCrtPath(resolve(g.crtBase, t.crt))
    if (c === undefined) throw new TlsFileError(`no certificate in '${t.crt}'`)
    t.certPem = c.cert
    t.keyPem = c.key
    t.crtFile = c.file
  }
  try {
    tls.createSecureContext({ ...secureContextOptions(t), ca: t.caPem, crl: t.crlPem, cert: t.certPem, key: t.keyPem })
  } catch (err) {
    throw new TlsFileError(`server '${s.name}': ${err instanceof Error ? err.message : String(err)}`)
  }
  return t
}

function resolve (base: string | undefined, path: string): string {
  return base === undefined || isAbsolute(path) || path.startsWith('@') ? path : join(base, path)
}

async function readText (path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new TlsFileError(`unable to load ${what} from file '${path}': ${(err as NodeJS.ErrnoException).code ??
      String(err)}`)
  }
}

async function readCa (path: string): Promise<string> {
  if (path === '@system-ca') return tls.getCACertificates('system').join('\n')
  const pem = await readText(path, 'CA certificates')
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new TlsFileError(`no CA certificate in '${path}'`)
  return pem
}

/** A certificate file, or every certificate file of a directory in name order. */
async function loadCrtPath (path: string): Promise<TlsCertificate[]> {
  let isDir: boolean
  try {
    isDir = (await stat(path)).isDirectory()
  } catch (err) {
    // A multi-certificate bundle: NAME stands for NAME.rsa, NAME.ecdsa, NAME.dsa (loaded as separate certificates).
    const bundle = []
    for (const ext of BUNDLE_EXTENSIONS) {
      if ((await stat(`${path}${ext}`).catch(() => undefined))?.isFile() === true) {
        bundle.push(await loadCertificate(`${path}${ext}`))
      }
    }
    if (bundle.length > 0) return bundle
    throw new TlsFileError(`unable to stat SSL certificate from file '${path}' : ${(err as NodeJS.ErrnoException)
      .code ?? String(err)}`)
  }
  if (!isDir) return [await loadCertificate(path)]
  const names = (await readdir(path)).filter(n => !n.startsWith('.') && !SIDE_EXTENSIONS.some(e => n.endsWith(e)))
    .sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
  const certs: TlsCertificate[] = []
  for (const n of names) {
    const file = join(path, n)
    if ((await stat(file)).isFile()) certs.push(await loadCertificate(file))
  }
  return certs
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g

export async function loadCertificate (file: string): Promise<TlsCertificate> {
  const text = await readText(file, 'SSL certificate')
  const blocks = [...text.matchAll(PEM_BLOCK)]
  const certs = blocks.filter(m => m[1] === 'CERTIFICATE' || m[1] === 'TRUSTED CERTIFICATE').map(m => m[0])
  let keys = blocks.filter(m => (m[1] ?? '').endsWith('PRIVATE KEY')).map(m => m[0])
  if (keys.length === 0) {
    const side = await readFile(`${file}.key`, 'utf8').catch(() => undefined)
    keys = [...(side ?? '').matchAll(PEM_BLOCK)].filter(m => (m[1] ?? '').endsWith('PRIVATE KEY')).map(m => m[0])
  }
  if (certs.length === 0) throw new TlsFileError(`no certificate in '${file}'`)
  if (keys.length === 0) throw new TlsFileError(`no private key for '${file}' (in the file or in '${file}.key')`)
  if ((keys[0] as string).includes('ENCRYPTED')) throw new TlsFileError(
    `the private key of '${file}' is encrypted: tslb cannot ask for a passphrase`)
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(certs[0] as string)
    if (!x509.checkPrivateKey(createPrivateKey(keys[0] as string))) throw new TlsFileError(
      `the private key of '${file}' does not match its certificate`)
  } catch (err) {
    if (err instanceof TlsFileError) throw err
    throw new TlsFileError(`'${file}': ${err instanceof Error ? err.message : String(err)}`)
  }
  return { file, cert: certs.join('\n'), key: keys[0] as string, names: certificateNames(x509) }
}

/** subjectAltName DNS entries, else the subject's CN; lower case. */
export function certificateNames (x509: X509Certificate): string[] {
  const san = (x509.subjectAltName ?? '').split(', ').filter(e => e.startsWith('DNS:')).map(e => e.slice(4))
  if (san.length > 0) return san.map(n => n.toLowerCase())
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1]
  return cn === undefined ? [] : [cn.toLowerCase()]
}

/** `FILE [OPTIONS] [[!]SNI ...]` lines; `#` comments and blank lines skipped. */
export async function readCrtList (path: string, warn: (m: string) => void): Promise<CrtListEntry[]> {
  const text = await readText(path, 'crt-list')
  return parseCrtList(text, path, warn)
}

export function parseCrtList (text: string, path: string, warn: (m: string) => void): CrtListEntry[] {
  const entries: CrtListEntry[] = []
  const lines = text.split('\n')
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim()
    if (line === '' || line.startsWith('#')) continue
    const words = line.split(/\s+/)
    const file = words.shift() as string
    const settings: TlsSettings = {}
    if (words[0]?.startsWith('[') === true) {
      const opts: string[] = []
      let w = (words.shift() as string).slice(1)
      for (;;) {
        const closes = w.endsWith(']')
        if (closes) w = w.slice(0, -1)
        if (w !== '') opts.push(w)
        if (closes) break
        const next = words.shift()
        if (next === undefined) throw new TlsFileError(`${path}:${n + 1}: missing ']' in crt-list options`)
        w = next
      }
      for (let i = 0; i < opts.length; i++) {
        const o = opts[i] as string
        if (!CRT_LIST_OPTIONS.has(o)) throw new TlsFileError(`${path}:${n + 1}: crt-list option '${o}' is not ` +
          `supported (${[...CRT_LIST_OPTIONS].join(', ')})`)
        applyTlsOption(settings, o, opts[++i], warn)
      }
    }
    entries.push({ file, settings, filters: words, line: n + 1 })
  }
  return entries
}
