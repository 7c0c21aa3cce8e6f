/**
 * A frontend at run time: accepts connections on its listeners, applies maxconn and monitor-net,
 * picks the backend (use_backend rules, then default_backend) and starts a session of its mode.
 */
import { compileLogFormat, type LogRecord } from './log/log-format.ts'
import { parseLogFormat } from '../config/log-format.ts'
import { createServer, type Server, type Socket } from 'node:net'
import type { Proxy, Timeouts } from '../config/model.ts'
import type { BindTls, GlobalTls } from '../config/tls-model.ts'
import { TlsTerminator } from './tls/terminator.ts'
import type { CertStore } from './tls/cert-store.ts'
import { HELLO_FETCHES, HTTP_PAYLOAD_FETCHES, inspectDelay, proxyUses } from '../config/tls-fetches.ts'
import { parseClientHello } from './tls/client-hello.ts'
import { clientAddress, haproxyDate } from './log/format.ts'
import { compileCondition, type Predicate } from './acl/matcher.ts'
import type { SampleSource } from './acl/sample.ts'
import type { Backend } from './backend.ts'
import type { HttpFrontend, HttpServices, SessionStarter } from './frontend-context.ts'
import { compileAcl } from './acl/matcher.ts'
import { startHttpSession } from './http/session.ts'
import { DEFAULT_H2_SETTINGS, type H2Frontend, type H2Settings, serveH2 } from './h2/connection.ts'
import { startRoutedTcpSession } from './tcp/tcp-session.ts'
import { NO_LOG, type LogLine } from './log/sink.ts'
import { formatEmbryonicLog } from './log/format.ts'
import type { LogPolicy } from './log/policy.ts'
import { socketAddresses, type ConnAddresses, type ListenerIdentity } from './conn-addresses.ts'
import { FAILURE_TEXT, readProxyHeader, type HeaderOutcome } from './proxy-protocol/accept.ts'
import type { GatedFrontend } from './accept-gate.ts'
import { compileTcpRules, contentDecided, tcpAccepts, type TcpRuleSet } from './rules/tcp-rules.ts'
import { compileFormat } from './rules/format.ts'
import { StickCounters } from './stick-counters.ts'

const DEFAULT_MAX_HEAD = 16_384
/** Syslog severity `err`. */
const LOG_ERR = 3
/** The kernel accept queue asked for when `bind` has no `backlog`. */
const DEFAULT_BACKLOG = 1024
/** Index of `tcp-request content` among the rule phases (connection, session, content). */
const CONTENT_PHASE = 2
/** HAProxy's frontend maxconn when none is set. */
const DEFAULT_MAXCONN = 2000

export interface Route {
  /** The backend, or undefined when a dynamic name names none (the next rule is tried). */
  readonly backend: (s: SampleSource) => Backend | undefined
  readonly when: Predicate
}

export interface EngineHooks {
  logFor (proxy: Proxy): LogLine
  globalConnections (): number
  /** Called on admission and close, so the engine can keep the process-wide count. */
  connectionDelta (delta: number): void
  /** A new connection: into service at once (`fe.admit`) or later, when maxconn allows. */
  offer (fe: Frontend, socket: Socket): void
  /** The stats page and exporter answers, once the worker has set them up. */
  services (): HttpServices | undefined
}

/** How a session of each mode starts: the same call for both. */
const SESSION_STARTERS: Readonly<Record<'http' | 'tcp', SessionStarter>> = { http: startHttpSession,
  tcp: startRoutedTcpSession }

export class Frontend implements HttpFrontend, H2Frontend, GatedFrontend {
  readonly name: string
  readonly config: Proxy
  /** HAProxy's proxy id (`fe_id`), set by the engine. */
  proxyId = 0
  readonly timeouts: Timeouts
  readonly dontLogNull: boolean
  readonly logAsap: boolean
  readonly routes: Route[]
  readonly defaultBackend: Backend | undefined
  readonly maxconn: number
  readonly helloWait: number | undefined
  /** The rules read the ClientHello (`req.ssl_*`): the inspection waits until it is complete. */
  private readonly readsHello: boolean
  /** The rules read the first bytes as an HTTP request (`url`, `hdr()`…): the inspection waits for a whole head. */
  private readonly readsHttp: boolean
  /** Accepted connections that may wait for a slot: the sum of the listeners' accept queue sizes. */
  pendingLimit = 0
  readonly servers: Server[] = []
  private readonly backends: ReadonlyMap<string, Backend>
  private readonly monitorNet: Predicate | undefined
  private readonly monitorFail: Predicate[]
  private readonly tcpRules: TcpRuleSet | undefined
  /** Its rules or its backends' track stick counters: each connection gets its `StickCounters`. */
  private readonly tracks: boolean
  /** TLS connections' stick counters until their handshake ends (by `ADDRESS:PORT` of the client). */
  private readonly handshaking = new Map<string, { counters?: StickCounters, listener?: ListenerIdentity }>()
  /** The listening socket each accepted socket came from (`so_id`, `so_name`). */
  private readonly listenerOf = new WeakMap<Socket, ListenerIdentity>()
  private current = 0
  totalSessions = 0
  /** Set once the worker drains: responses then carry `Connection: close`. */
  draining = false
  /** Largest request or response head accepted (global tune.bufsize). */
  maxHead = DEFAULT_MAX_HEAD
  /**
   * Window over which idle keep-alive connections are closed when draining (global
   * close-spread-time); unset, they stay open until their next request or their keep-alive timeout.
   */
  closeSpreadMs: number | undefined
  private readonly drainListeners = new Set<() => void>()
  /** The global TLS settings (ticket keys, session cache), set by the engine before `listen`. */
  tlsGlobal: GlobalTls | undefined
  /** The worker's certificates (runtime API commits), set by the engine before `listen`. */
  certs: CertStore | undefined
  private readonly terminators = new Map<BindTls, TlsTerminator>()
  private readonly tlsOf = new WeakMap<Socket, TlsTerminator>()
  /** HTTP/2 settings (global tune.h2.*), set by the engine before `listen`. */
  h2: H2Settings = DEFAULT_H2_SETTINGS
  /** Connections accepted on a `proto h2` bind: HTTP/2 with prior knowledge. */
  private readonly h2Sockets = new WeakSet<Socket>()
  private readonly hooks: EngineHooks
  readonly logTraffic: LogLine
  readonly logging: boolean
  readonly customLog: ((r: LogRecord) => string) | undefined
  readonly uniqueId: ((r: LogRecord) => string) | undefined
  readonly logPolicy: LogPolicy
  /** Accepted sockets of `accept-proxy` listeners, with the listener's name for the logs. */
  private readonly proxied = new WeakMap<Socket, string>()

  constructor (config: Proxy, backends: ReadonlyMap<string, Backend>, hooks: EngineHooks) {
    this.name = config.name
    this.config = config
    this.timeouts = config.timeouts
    this.dontLogNull = config.options.dontlognull === true
    this.logAsap = config.options.logasap === true
    this.hooks = hooks
    this.backends = backends
    this.logTraffic = hooks.logFor(config)
    this.logging = this.logTraffic !== NO_LOG
    const mode = config.mode === 'http' ? 'http' : 'tcp'
    if (config.logFormat !== undefined) this.customLog = compileLogFormat(parseLogFormat(config.logFormat.text, mode,
      'log-format'))
    if (config.uniqueIdFormat !== undefined) this.uniqueId = compileLogFormat(parseLogFormat(
      config.uniqueIdFormat.text, mode, 'unique-id-format', false), false)
    this.logPolicy = { dontLogNormal: config.options['dontlog-normal'] === true,
      separateErrors: config.options['log-separate-errors'] === true }
    // 0 is taken as unset.
    this.maxconn = config.maxconn === undefined || config.maxconn === 0 ? DEFAULT_MAXCONN : config.maxconn
    this.routes = config.useBackends.flatMap(u => {
      const when = compileCondition(u.cond, config.acls)
      if (u.format !== undefined) {
        const name = compileFormat(u.format)
        return [{ backend: (s: SampleSource) => backends.get(name(s)), when }]
      }
      const backend = backends.get(u.backend)
      return backend === undefined ? [] : [{ backend: () => backend, when }]
    })
    this.helloWait = inspectDelay(config)
    this.readsHello = this.helloWait !== undefined && proxyUses(config, HELLO_FETCHES)
    this.readsHttp = this.helloWait !== undefined && proxyUses(config, HTTP_PAYLOAD_FETCHES)
    this.defaultBackend = backends.get(config.kind === 'listen' ? config.name : config.defaultBackend ?? '')
    this.monitorFail = config.monitorFail.map(c => compileCondition(c, config.acls))
    this.tcpRules = compileTcpRules(config)
    const tracking = (p: Proxy): boolean => [...p.tcpRules, ...p.httpRules].some(r => r.spec?.type === 'track-sc')
    this.tracks = tracking(config) || [...backends.values()].some(b => tracking(b.config))
    this.monitorNet = config.monitorNets.length === 0
      ? undefined
      : compileAcl({ name: 'monitor-net', fetch: 'src', fetchArgs: [], flags: { ignoreCase: false, files: [],
        noDns: false }, values: config.monitorNets, loc: config.loc })
  }

  get mode (): 'http' | 'tcp' {
    return this.config.mode === 'http' ? 'http' : 'tcp'
  }

  /** Connections in service: every proxy thread's when they share the count. */
  connections (): number {
    return this.sharedConnections === undefined ? this.current : Atomics.load(this.sharedConnections.cells,
      this.sharedConnections.index)
  }

  /** Set when proxy threads share the frontend's connection count (threads/node-state.ts). */
  sharedConnections: { readonly cells: Int32Array, readonly index: number } | undefined

  globalConnections (): number {
    return this.hooks.globalConnections()
  }

  /**
   * Starts accepting on `handle` (a bound socket from the supervisor); `bind.backlog`: `bind … backlog`;
   * `bind.acceptProxy`: connections start with a PROXY protocol header, `bind.name` names the listener in logs;
   * `bind.tls`: `ssl` and its options (one TLS terminator per bind line); `bind.h2`: `proto h2`, HTTP/2 with prior
   * knowledge.
   */
  listen (handle: object, bind: { backlog?: number, acceptProxy?: boolean, name?: string, tls?: BindTls,
    h2?: boolean, id?: number } = {}): Server {
    const identity: ListenerIdentity = { id: bind.id ?? this.servers.length + 1,
      ...(bind.name === undefined ? {} : { name: bind.name }) }
    const backlog = bind.backlog ?? DEFAULT_BACKLOG
    const proxied = bind.acceptProxy === true ? bind.name ?? String(this.servers.length + 1) : undefined
    const terminator = bind.tls === undefined ? undefined : this.terminatorFor(bind.tls, bind.name)
    const h2 = bind.h2 === true && this.mode === 'http'
    const server = createServer({ noDelay: true, allowHalfOpen: true, pauseOnConnect: true }, socket => {
      this.listenerOf.set(socket, identity)
      if (proxied !== undefined) this.proxied.set(socket, proxied)
      if (terminator !== undefined) this.tlsOf.set(socket, terminator)
      if (h2) this.h2Sockets.add(socket)
      this.hooks.offer(this, socket)
    })
    this.pendingLimit += backlog
    server.listen(handle, backlog)
    server.on('error', () => {})
    this.servers.push(server)
    return server
  }

  nbsrv (backend: string): number | undefined {
    return this.backends.get(backend)?.servers.filter(s => s.usable && !s.backup).length
  }

  proxyState (fetch: string, arg: string): string | undefined {
    if (fetch === 'fe_conn') return arg === '' || arg === this.name ? String(this.connections()) : undefined
    if (fetch === 'srv_is_up' || fetch === 'srv_conn') {
      const [be, srv] = arg.split('/')
      const server = this.backends.get(be ?? '')?.servers.find(x => x.name === srv)
      if (server === undefined) return undefined
      return fetch === 'srv_conn' ? String(server.activeConnections) : server.usable ? '1' : '0'
    }
    const backend = this.backends.get(arg)
    if (backend === undefined) return undefined
    if (fetch === 'be_conn') return String(backend.activeConnections)
    const queued = backend.admission.queueLength
    if (fetch === 'queue') return String(queued)
    if (fetch === 'avg_queue') {
      const usable = backend.servers.filter(x => x.usable).length
      return String(usable === 0 ? queued : Math.floor(queued / usable))
    }
    return undefined
  }

  services (): HttpServices | undefined {
    return this.hooks.services()
  }

  /** True when a `monitor fail` condition holds: monitor-uri then answers 503. */
  monitorFailing (s: SampleSource): boolean {
    return this.monitorFail.some(p => p(s))
  }

  route (s: SampleSource): Backend | undefined {
    for (const r of this.routes) {
      if (!r.when(s)) continue
      const backend = r.backend(s)
      if (backend !== undefined) return backend
    }
    return this.defaultBackend
  }

  /** Takes an accepted connection into service (the accept gate found it a slot). */
  admit (socket: Socket): void {
    this.current++
    const shared = this.sharedConnections
    if (shared !== undefined) Atomics.add(shared.cells, shared.index, 1)
    this.totalSessions++
    this.hooks.connectionDelta(1)
    socket.once('close', () => {
      this.current--
      if (shared !== undefined) Atomics.sub(shared.cells, shared.index, 1)
      this.hooks.connectionDelta(-1)
    })
    socket.on('error', () => {})
    const listener = this.listenerOf.get(socket)
    const own = listener === undefined ? socketAddresses(socket) : { ...socketAddresses(socket), listener }
    if (this.monitorNet?.({ src: own.src, srcPort: 0, dst: '', dstPort: 0 }) === true) {
      // monitor-net: answer "alive" without logging or forwarding, as HAProxy does.
      if (this.mode === 'http') socket.end('HTTP/1.0 200 OK\r\n\r\n')
      else socket.end()
      return
    }
    const counters = this.tracks ? new StickCounters() : undefined
    // After the session's own close handlers: its last request and its bytes are counted first.
    if (counters !== undefined) socket.once('close', () => { setImmediate(() => { counters.endSession(Date.now()) }) })
    const proxiedBy = this.proxied.get(socket)
    if (proxiedBy === undefined) {
      const addrs = counters === undefined ? own : { ...own, counters }
      if (!this.tcpAllows(socket, addrs, 0)) return
      counters?.countSession(Date.now())
      const terminator = this.tlsOf.get(socket)
      if (terminator !== undefined) {
        if (counters !== undefined || listener !== undefined) {
          const key = `${own.src}:${own.srcPort}`
          this.handshaking.set(key, { counters, listener })
          socket.once('close', () => { this.handshaking.delete(key) })
        }
        terminator.handshake(socket)
      } else this.startSession(socket, addrs)
      return
    }
    // accept-proxy, in HAProxy's order: `tcp-request connection` rules judge the connection itself
    // (the proxy that sent it), before the header; `session` and `content` rules see the addresses
    // the header carried.
    if (!this.tcpAllows(socket, counters === undefined ? own : { ...own, counters }, 0, 1)) return
    const acceptedAt = Date.now()
    readProxyHeader(socket, this.timeouts.client, outcome => {
      if (!outcome.ok) {
        this.refuse(socket, outcome, proxiedBy, acceptedAt)
        return
      }
      const { source: src, destination: dst } = outcome.header
      const carried = src === undefined || dst === undefined ? own :
        { src: src.address, srcPort: src.port, dst: dst.address, dstPort: dst.port, listener }
      const addrs = counters === undefined ? carried : { ...carried, counters }
      if (!this.tcpAllows(socket, addrs, 1)) return
      counters?.countSession(Date.now())
      this.startSession(socket, addrs)
    })
  }

  private startSession (socket: Socket, addrs: ConnAddresses): void {
    if (this.h2Sockets.has(socket)) serveH2(socket, this, addrs)
    else SESSION_STARTERS[this.mode](socket, this, addrs)
  }

  /**
   * `tcp-request` phases `from`..`to` (connection, session, content) over `addrs`; a reject closes the socket. A
   * frontend waiting for the ClientHello runs its content rules once it is there (`contentAccepts`).
   */
  private tcpAllows (socket: Socket, addrs: ConnAddresses, from: number, to?: number): boolean {
    // In mode http the content rules run on each request (`contentAccepts`, from the HTTP session).
    const waits = this.helloWait !== undefined || this.mode === 'http'
    const end = !waits ? to : Math.min(to ?? CONTENT_PHASE, CONTENT_PHASE)
    if (this.tcpRules === undefined || tcpAccepts(this.tcpRules, addrs, from, end)) return true
    // tcp-request … reject: closed before anything is read or logged, as HAProxy does.
    socket.destroy()
    return false
  }

  contentReady (s: SampleSource): boolean {
    if (this.readsHello && (s.payload === undefined || parseClientHello(s.payload).state === 'incomplete')) return false
    if (this.readsHttp && s.url === undefined) return false
    return this.tcpRules === undefined || contentDecided(this.tcpRules, s)
  }

  /** `tcp-request content` rules over the first bytes, before routing (`req.ssl_*`, `req.len`, `req.payload`). */
  contentAccepts (s: SampleSource): boolean {
    return this.tcpRules === undefined || tcpAccepts(this.tcpRules, s, CONTENT_PHASE)
  }

  private terminatorFor (tls: BindTls, name: string | undefined): TlsTerminator {
    let t = this.terminators.get(tls)
    if (t === undefined) {
      const label = name ?? String(this.config.binds.findIndex(b => b.ssl === tls) + 1)
      t = new TlsTerminator(tls, this.tlsGlobal, {
        handshakeTimeout: this.timeouts.client,
        store: this.certs,
        // The session of the negotiated protocol: ALPN h2 is an HTTP/2 connection, anything else HTTP/1.1 (or TCP).
        onSecure: socket => {
          const own = socketAddresses(socket)
          const { counters, listener } = this.handshaking.get(`${own.src}:${own.srcPort}`) ?? {}
          const addrs = { ...own, ...(counters === undefined ? {} : { counters }),
            ...(listener === undefined ? {} : { listener }) }
          if (this.mode === 'http' && (socket as { alpnProtocol?: string | false }).alpnProtocol === 'h2') {
            serveH2(socket, this, addrs)
          } else SESSION_STARTERS[this.mode](socket, this, addrs)
        },
        onFailure: (socket, reason) => {
          if (!this.logging || this.dontLogNull) return
          this.logTraffic(`${clientAddress(socket.remoteAddress ?? '', socket.remotePort ?? 0)} ` +
            `[${haproxyDate(Date.now())}] ${this.name}/${label}: ${reason}`)
        }
      })
      this.terminators.set(tls, t)
    }
    return t
  }

  /**
   * A connection without a valid PROXY header: logged as HAProxy logs an embryonic session (not a
   * client that only closed, with dontlognull), then reset (refused header) or closed (timeout).
   */
  private refuse (socket: Socket, outcome: HeaderOutcome & { ok: false }, listener: string, acceptedAt: number):
  void {
    if (this.logging && !(outcome.failure === 'closed' && this.dontLogNull)) {
      this.logTraffic(formatEmbryonicLog(socket.remoteAddress ?? '', socket.remotePort ?? 0, acceptedAt, this.name,
        listener, FAILURE_TEXT[outcome.failure]), this.logPolicy.separateErrors ? LOG_ERR : undefined)
    }
    if (outcome.failure === 'missing' || outcome.failure === 'malformed') socket.resetAndDestroy()
    else socket.destroy()
  }

  /** Registers `fn` to run when the frontend starts draining; returns the unregister function. */
  onDrain (fn: () => void): () => void {
    this.drainListeners.add(fn)
    return () => { this.drainListeners.delete(fn) }
  }

  /** Stops accepting: closes this process's listening handles only (the socket stays open in the supervisor). */
  stopAccepting (): void {
    this.draining = true
    for (const s of this.servers) s.close()
    for (const fn of [...this.drainListeners]) fn()
  }
}
