/**
 * TLS termination for one `bind … ssl` line: a `tls.Server` that never listens — accepted
 * connections, once the frontend admitted them, are handed to it (`handshake`), so maxconn, the
 * accept gate and the counters see TLS connections as any other. After the handshake the TLS
 * socket goes to the session of the frontend's mode, which reads and writes clear text.
 */
import * as tls from 'node:tls'
import { constants, createPrivateKey } from 'node:crypto'
import type { Socket } from 'node:net'
import type { BindTls, GlobalTls, TlsCertificate, TlsSettings, TlsVerify } from '../../config/tls-model.ts'
import { secureContextOptions } from '../../config/tls-options.ts'
import { SniSelector } from './sni.ts'
import { SessionCache } from './session-cache.ts'

/** The session ID context of every bind (OpenSSL resumes only sessions made under the same one). */
const SESSION_ID_CONTEXT = 'tslb'
import type { CertStore } from './cert-store.ts'

/** HAProxy's `tune.ssl.cachesize` and `tune.ssl.lifetime` defaults. */
const DEFAULT_CACHE_SIZE = 20_000
const DEFAULT_LIFETIME_MS = 300_000
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 120_000

interface Entry {
  readonly names: readonly string[]
  readonly context: tls.SecureContext
  readonly options: tls.SecureContextOptions
  readonly settings: TlsSettings
}

export interface TerminatorOptions {
  /** Bound on the handshake (the frontend's `timeout client`). */
  readonly handshakeTimeout: number | undefined
  /** A connection whose handshake succeeded (and whose client certificate passed `verify`). */
  readonly onSecure: (socket: tls.TLSSocket) => void
  /** A handshake that failed: `reason` is for the log. */
  readonly onFailure: (raw: Socket, reason: string) => void
  /** The worker's certificates: a commit on the runtime API rebuilds the contexts of the files it replaced. */
  readonly store?: CertStore
}

export class TlsTerminator {
  private readonly server: tls.Server
  private selector: SniSelector<Entry>
  private fallback: Entry
  private readonly bind: BindTls
  private readonly verify: TlsVerify
  private readonly optionsFor: (settings: TlsSettings, group: readonly TlsCertificate[]) => tls.SecureContextOptions
  private readonly store: CertStore | undefined

  constructor (bind: BindTls, global: GlobalTls | undefined, opts: TerminatorOptions) {
    this.bind = bind
    this.store = opts.store
    this.verify = bind.settings.verify ?? 'none'
    const lifetime = global?.lifetime ?? DEFAULT_LIFETIME_MS
    const ticketKeys = global?.ticketKeys === undefined ? undefined : Buffer.from(global.ticketKeys, 'base64')
    this.optionsFor = (settings, group) => {
      const c = group[0] as TlsCertificate
      return {
        ...secureContextOptions(settings),
        cert: group.map(g => g.cert),
        key: group.map(g => g.key),
        ca: c.ca ?? bind.ca,
        crl: c.crl ?? bind.crl,
        // HAProxy offers DHE by default (2048-bit groups): OpenSSL's built-in groups here.
        dhparam: bind.dhparam ?? 'auto',
        sessionTimeout: Math.ceil(lifetime / 1000),
        ticketKeys,
        // no-tls-tickets: no stateless tickets; resumption goes through the session cache (TLSv1.3 stateful tickets).
        secureOptions: settings.noTlsTickets === true ? constants.SSL_OP_NO_TICKET : undefined
      }
    }
    const entries = this.entries()
    this.selector = new SniSelector(entries)
    this.fallback = this.selector.fallback as Entry
    const requestCert = [bind.settings, ...entries.map(e => e.settings)].some(s => (s.verify ?? 'none') !== 'none')
    // The server's own context (no SNI, or no match) is built from the default certificate's options. The callbacks
    // run in JavaScript in the middle of each handshake: they are set only when there is something to choose.
    const serverOptions: tls.TlsOptions = {
      ...this.serverContextOptions(),
      requestCert,
      rejectUnauthorized: false,
      handshakeTimeout: opts.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      allowHalfOpen: true
    }
    if (bind.strictSni === true) {
      // strict-sni: without a matching name the handshake goes on with a context that has no certificate, so OpenSSL
      // aborts it with an alert, as HAProxy does (a client without SNI gets the server's own context: the same).
      const none = tls.createSecureContext({ ...this.fallback.options, cert: undefined, key: undefined })
      serverOptions.SNICallback = (name, cb) => { cb(null, this.selector.match(name)?.context ?? none) }
    } else if (entries.length > 1) {
      serverOptions.SNICallback = (name, cb) => { cb(null, (this.selector.match(name) ?? this.fallback).context) }
    }
    const alpnLists = entries.map(e => e.settings.alpn?.join(',')).filter(a => a !== undefined)
    if (new Set(alpnLists).size > 1) {
      serverOptions.ALPNCallback = ({ servername, protocols }) => {
        const mine = this.entryFor(servername).settings.alpn ?? bind.settings.alpn
        return mine?.find(p => protocols.includes(p))
      }
    } else if (bind.settings.alpn !== undefined || alpnLists.length > 0) {
      serverOptions.ALPNProtocols = this.fallback.settings.alpn ?? bind.settings.alpn
    }
    this.server = tls.createServer(serverOptions)
    // The session cache only where tickets are off: its lookups run in JavaScript, in the middle of every handshake
    // (TLSv1.3 clients send a session ID too), and cost more than they save where tickets resume sessions.
    if ([bind.settings, ...entries.map(e => e.settings)].some(s => s.noTlsTickets === true)) {
      const cache = new SessionCache(global?.cacheSize ?? DEFAULT_CACHE_SIZE, lifetime)
      this.server.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => { cache.set(id, data); cb() })
      this.server.on('resumeSession', (id: Buffer, cb: (err: Error | null, data?: Buffer | null) => void) => {
        cb(null, cache.get(id) ?? null)
      })
    }
    this.server.on('secureConnection', (socket: tls.TLSSocket) => {
      const refusal = this.refusal(socket)
      if (refusal === undefined) {
        // As for plain connections (Frontend.admit): an error is followed by 'close', which the session handles.
        socket.on('error', () => {})
        opts.onSecure(socket)
        return
      }
      opts.onFailure(socket, refusal)
      socket.destroy()
    })
    this.server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      opts.onFailure(socket, handshakeReason(err))
      socket.destroy()
    })
    this.store?.onCommit(file => { if (bind.certs.some(c => c.file === file)) this.rebuild() })
  }

  /** One entry per group of certificates served together, with the certificates the store holds now. */
  private entries (): Entry[] {
    const certs = this.bind.certs.map(c => this.store?.current(c) ?? c)
    return keyTypeGroups(certs).map(group => {
      const c = group[0] as TlsCertificate
      const settings = c.settings ?? this.bind.settings
      const options = this.optionsFor(settings, group)
      return { names: c.filters ?? c.names, context: tls.createSecureContext(options), options, settings }
    })
  }

  /** The server's own context: the default certificate's (none with strict-sni: a name must match). */
  private serverContextOptions (): tls.SecureContextOptions & { sessionIdContext: string } {
    // Node's default session ID context hashes process.argv, which differs in a proxy thread (and setSecureContext
    // resets it): a session made on one thread would not resume on another. One context everywhere, as HAProxy's.
    const options = { ...this.fallback.options, sessionIdContext: SESSION_ID_CONTEXT }
    if (this.bind.strictSni === true) {
      delete options.cert
      delete options.key
    }
    return options
  }

  /**
   * A certificate of this line was replaced at runtime: new contexts for new handshakes; a handshake under way keeps
   * the context it started with.
   */
  private rebuild (): void {
    const entries = this.entries()
    this.selector = new SniSelector(entries)
    this.fallback = this.selector.fallback as Entry
    this.server.setSecureContext(this.serverContextOptions())
  }

  /** Starts the handshake on an accepted connection. */
  handshake (raw: Socket): void {
    this.server.emit('connection', raw)
  }

  private entryFor (servername: string | false | undefined): Entry {
    const name = typeof servername === 'string' ? servername : undefined
    return this.selector.match(name) ?? this.fallback
  }

  /** Why a completed handshake is refused: strict-sni, or a client certificate `verify` rejects. */
  private refusal (socket: tls.TLSSocket): string | undefined {
    const name = (socket as tls.TLSSocket & { servername?: string | false }).servername
    const sni = typeof name === 'string' ? name : undefined
    const matched = this.selector.match(sni)
    if (this.bind.strictSni === true && matched === undefined) return 'SSL handshake failure (strict-sni: no ' +
      `certificate for '${sni ?? ''}')`
    const verify = (matched ?? this.fallback).settings.verify ?? this.verify
    if (verify === 'none') return undefined
    const hasCert = socket.getPeerX509Certificate() !== undefined
    if (!hasCert) return verify === 'required' ? 'SSL client certificate missing' : undefined
    if (!socket.authorized) return `SSL client certificate not trusted (${String(socket.authorizationError)})`
    return undefined
  }
}

function handshakeReason (err: Error): string {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'Timeout during SSL handshake'
  return 'SSL handshake failure'
}

/**
 * Certificates for the same names and options but of different key types (RSA and ECDSA) share one context: OpenSSL
 * then presents the one the client's signature algorithms allow, as HAProxy does — for the default context; see below
 * for SNI-selected ones. Of two of one type, the first wins.
 */
function keyTypeGroups (certs: readonly TlsCertificate[]): TlsCertificate[][] {
  const groups = new Map<string, { certs: TlsCertificate[], types: Set<string> }>()
  for (const c of certs) {
    const key = JSON.stringify([[...(c.filters ?? c.names)].sort(), c.settings ?? null, c.ca ?? null, c.crl ?? null])
    const type = createPrivateKey(c.key).asymmetricKeyType ?? 'unknown'
    const g = groups.get(key)
    if (g === undefined) groups.set(key, { certs: [c], types: new Set([type]) })
    else if (!g.types.has(type)) {
      g.certs.push(c)
      g.types.add(type)
    }
  }
  // Node switches to an SNI-selected context with its last certificate only: ECDSA last, so that the clients of today
  // get it there too (a client that cannot take ECDSA then gets the RSA certificate of the default context, if any).
  const ecLast = (c: TlsCertificate): number => createPrivateKey(c.key).asymmetricKeyType === 'ec' ? 1 : 0
  return [...groups.values()].map(g => g.certs.sort((a, b) => ecLast(a) - ecLast(b)))
}
