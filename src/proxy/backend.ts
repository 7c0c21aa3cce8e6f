/**
 * A backend at run time: its servers, its balancer, and connection establishment with
 * `retries` and `option redispatch` as HAProxy does them.
 */
import { connect, type OnReadOpts, type Socket } from 'node:net'
import type { Proxy } from '../config/model.ts'
import { type Balancer, createBalancer, type PickContext } from './balance/index.ts'
import { ServerState } from './server-state.ts'
import { StickRules } from './stick-rules.ts'
import type { StickTable } from '../stick/index.ts'
import { Admission, type Slot } from './admission.ts'
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls'
import type { SampleSource } from './acl/sample.ts'
import { constantSni, rememberSessions, serverName, serverTlsOptions } from './tls/client.ts'
import type { ConnAddresses } from './conn-addresses.ts'
import { proxyHeaderFor } from './proxy-protocol/send.ts'
import { ConnectError, NoServerError, QueueAbortedError, QueueTimeoutError } from './errors.ts'

export interface Connected {
  readonly server: ServerState
  readonly socket: Socket
  /** Connection attempts that failed before this one. */
  readonly retries: number
  readonly connectMs: number
  /** Time spent waiting in the queue for a free slot (Tw). */
  readonly queuedMs: number
  /** The socket came from `reuse` (an idle keep-alive connection). */
  readonly reused: boolean
}

export interface ConnectOptions {
  /** The server persistence chose. */
  readonly preferred?: ServerState
  /** Use `preferred` even when it is down (`option persist`). */
  readonly forcePreferred?: boolean
  /**
   * Leaving the queue when the client goes away (`option abortonclose`); asked for only when the request must wait for
   * a slot.
   */
  readonly signal?: () => AbortSignal
  /** An idle connection to the chosen server, if any. */
  readonly reuse?: (server: ServerState) => Socket | undefined
  /** Read the server's bytes this way instead of as 'data' events. */
  readonly onread?: OnReadOpts
  /** What a server's `sni` expression reads. */
  readonly sample?: SampleSource
  /** The client's addresses, for the PROXY protocol header of `send-proxy` servers. */
  readonly client?: ConnAddresses
}

const DEFAULT_CONNECT_TIMEOUT = 5000
const DEFAULT_FULLCONN = 200

export class Backend {
  readonly name: string
  readonly config: Proxy
  readonly servers: ServerState[]
  readonly balancer: Balancer<ServerState>
  readonly retries: number
  readonly redispatch: boolean
  readonly connectTimeout: number
  activeConnections = 0
  totalSessions = 0
  /** HAProxy's proxy id (`be_id`), set by the engine. */
  proxyId = 0
  readonly admission: Admission

  readonly stick: StickRules

  constructor (config: Proxy, tables: ReadonlyMap<string, StickTable> = new Map()) {
    this.name = config.name
    this.config = config
    this.servers = config.servers.map((s, i) => new ServerState(s.id ?? i + 1, s))
    if (this.servers.length === 0 && config.dispatch !== undefined) {
      // 1.x `dispatch ADDR:PORT`: one fixed destination, which HAProxy handles as a server.
      this.servers.push(new ServerState(1, { name: 'dispatch', address: config.dispatch, loc: config.loc }))
    }
    this.balancer = createBalancer(config.balance ?? { algorithm: 'roundrobin' }, config.hashType, this.servers,
      { allBackups: config.options.allbackups === true })
    this.retries = config.retries ?? 3
    this.redispatch = config.options.redispatch === true
    this.connectTimeout = config.timeouts.connect ?? DEFAULT_CONNECT_TIMEOUT
    // Without `fullconn`, HAProxy uses 10% of the maxconn of the frontends that reach the backend; 2000 is their
    // default.
    this.stick = new StickRules(config, this.servers, tables)
    this.admission = new Admission(this, config.fullconn ?? DEFAULT_FULLCONN,
      config.timeouts.queue ?? this.connectTimeout)
  }

  serverByName (name: string): ServerState | undefined {
    return this.servers.find(s => s.name === name)
  }

  /** Frees the slot a connection held on `server`; a queued client may take it. */
  serverReleased (server: ServerState): void {
    this.admission.release(server)
  }

  /** Notes a server change (health, admin state, weight) for the balancer. */
  refresh (): void {
    for (const s of this.servers) s.refreshUsable()
    this.balancer.refresh()
    this.admission.serveQueue()
  }

  /**
   * Connects to a server: the one `preferred` names if usable (persistence), else the balancer's pick.
   * A failed attempt is retried on the same server `retries` times; with redispatch the last retry
   * goes to another server.
   */
  async connect (ctx: PickContext, clientDstPort: number, opts: ConnectOptions = {}): Promise<Connected> {
    return await this.connectNow(ctx, clientDstPort, opts)
  }

  /**
   * `connect`, without a promise when a slot is free at once and `reuse` yields an idle connection (keep-alive's common
   * case).
   */
  connectNow (ctx: PickContext, clientDstPort: number, opts: ConnectOptions = {}): Connected | Promise<Connected> {
    const started = Date.now()
    const force = opts.forcePreferred === true
    const chosen = this.admission.tryAcquire(ctx, opts.preferred, force)
    if (chosen === 'none') return Promise.reject(new NoServerError(this.name))
    if (chosen === 'full') return this.admission.wait(ctx, opts.preferred, force,
      opts.signal?.()).then(async slot => await this.openSlot(slot, true, ctx, clientDstPort, opts, started))
    const reused = reusable(chosen) ? opts.reuse?.(chosen) : undefined
    if (reused !== undefined) return { server: chosen, socket: reused, retries: 0, connectMs: 0, queuedMs: 0,
      reused: true }
    return this.openSlot({ server: chosen, queuedMs: 0 }, false, ctx, clientDstPort, opts, started)
  }

  private async openSlot (slot: Slot, tryReuse: boolean, ctx: PickContext, clientDstPort: number, opts: ConnectOptions,
    started: number): Promise<Connected> {
    const failed = new Set<ServerState>()
    let server = slot.server
    const queuedMs = slot.queuedMs
    const reused = tryReuse && reusable(server) ? opts.reuse?.(server) : undefined
    if (reused !== undefined) return { server, socket: reused, retries: 0, connectMs: 0, queuedMs, reused: true }
    for (let attempt = 0; ; attempt++) {
      try {
        const socket = await this.open(server, clientDstPort, opts)
        return { server, socket, retries: attempt, connectMs: Date.now() - started - queuedMs, queuedMs, reused: false }
      } catch (err) {
        if (!(err instanceof ConnectError)) throw err
        failed.add(err.server)
        if (attempt >= this.retries) {
          this.admission.release(server)
          throw err
        }
        if (this.redispatch && attempt === this.retries - 1) {
          // The last retry goes to another server, when one has a free slot.
          const other = this.balancer.pick(ctx, failed)
          if (other !== undefined && other !== server && !this.admission.isFull(other)) {
            this.admission.release(server)
            server = (await this.admission.acquire(ctx, other, false, opts.signal?.()))?.server ?? server
          }
        }
      }
    }
  }

  private async open (server: ServerState, clientDstPort: number, opts: ConnectOptions): Promise<Socket> {
    const port = server.port ?? clientDstPort
    const onread = opts.onread
    const header = proxyHeaderFor(server.config, opts.client)
    const localAddress = server.config.source ?? this.config.source
    // send-proxy with ssl is refused at load (the header would have to precede the handshake).
    const t = server.config.ssl === true ? server.config.tls : undefined
    const sample = opts.sample
    return await new Promise<Socket>((resolve, reject) => {
      const where = server.path !== undefined ? { path: server.path } : { host: server.host, port }
      const socket = t !== undefined
        ? tlsConnect(tcpOptions({ ...where, ...serverTlsOptions(t, serverName(t, sample)) },
          server.path !== undefined ? undefined : localAddress, onread))
        : server.path !== undefined ? connect({ path: server.path, allowHalfOpen: true, onread })
          : connect({ host: server.host, port, noDelay: true, allowHalfOpen: true, localAddress, onread })
      const timer = setTimeout(() => { fail(new ConnectError(server, true, undefined)) }, this.connectTimeout)
      const fail = (err: ConnectError): void => {
        clearTimeout(timer)
        socket.destroy()
        server.connectFailures++
        reject(err)
      }
      socket.once(t === undefined ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        if (t !== undefined) {
          socket.setNoDelay(true)
          rememberSessions(t, socket as TLSSocket)
        }
        if (header !== undefined) socket.write(header)
        resolve(socket)
      })
      socket.once('error', (e: Error) => { fail(new ConnectError(server, false, e)) })
    })
  }
}

/** tls.connect hands its options to the TCP socket, which takes `localAddress` and `onread` (not in the types). */
function tcpOptions (o: ConnectionOptions, localAddress: string | undefined, onread: OnReadOpts | undefined):
ConnectionOptions {
  const all: ConnectionOptions & { localAddress?: string, onread?: OnReadOpts } = o
  if (localAddress !== undefined) all.localAddress = localAddress
  if (onread !== undefined) all.onread = onread
  return all
}

/** A server's idle connections serve any request unless its SNI depends on the request. */
function reusable (server: ServerState): boolean {
  return server.config.ssl !== true || constantSni(server.config.tls)
}

/**
 * Log termination flags for a failed connect: no server (SC), queue timeout (sQ), client left the queue (CQ), connect
 * timeout (sC).
 */
export function connectTermination (err: unknown): string {
  if (err instanceof QueueTimeoutError) return 'sQ'
  if (err instanceof QueueAbortedError) return 'CQ'
  if (err instanceof ConnectError) return err.timedOut ? 'sC' : 'SC'
  return err instanceof NoServerError ? 'SC' : 'PC'
}
