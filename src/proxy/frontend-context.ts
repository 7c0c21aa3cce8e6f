/**
 * What a session sees of its frontend: the TCP and HTTP session modules import these interfaces,
 * never the Frontend class, and the Frontend starts either kind the same way
 * (`(client, frontend) => void`, chosen by the proxy's mode).
 */
import type { Socket } from 'node:net'
import type { Proxy, Timeouts } from '../config/model.ts'
import type { SampleSource } from './acl/sample.ts'
import type { Backend } from './backend.ts'
import type { RequestHead } from './http/codec.ts'
import type { ConnAddresses } from './conn-addresses.ts'
import type { LogRecord } from './log/log-format.ts'
import type { LogPolicy } from './log/policy.ts'

/** What sessions need from their frontend. */
export interface FrontendContext {
  readonly name: string
  /** HAProxy's proxy id (`fe_id`). */
  readonly proxyId?: number
  readonly timeouts: Timeouts
  readonly dontLogNull: boolean
  /** `option logasap`: HTTP lines when the response head goes out, TCP lines once connected. */
  readonly logAsap?: boolean
  /** One traffic log line; `severity` a syslog level number (info when omitted). */
  readonly logTraffic: (line: string, severity?: number) => void
  /** `option dontlog-normal` / `log-separate-errors` (none: every line at info). */
  readonly logPolicy?: LogPolicy
  /** False when the proxy has no log target: sessions then skip building log lines. */
  readonly logging: boolean
  /** `log-format`: the line of a record, instead of the tcplog/httplog line. */
  readonly customLog?: ((r: LogRecord) => string) | undefined
  /** `unique-id-format`: a request's unique id, from what is known when it is first asked for. */
  readonly uniqueId?: ((r: LogRecord) => string) | undefined
  connections (): number
  globalConnections (): number
}

/** A frontend that picks the backend of a session (use_backend rules, then default_backend). */
export interface RoutingFrontend extends FrontendContext {
  /**
   * `mode tcp`: how long to wait for the first bytes before routing (`tcp-request inspect-delay`, when the rules read
   * `req.ssl_*`, `req.len` or `req.payload`); undefined: route at once.
   */
  readonly helloWait?: number
  /** While waiting: the bytes read so far are enough (the ClientHello is complete, the content rules settled). */
  contentReady? (s: SampleSource): boolean
  /** `tcp-request content` rules over the bytes read while waiting (false: reject). */
  contentAccepts? (s: SampleSource): boolean
  route (s: SampleSource): Backend | undefined
}

/** Answers the proxy gives itself in HTTP mode: the stats page and the Prometheus exporter. */
export interface HttpServices {
  stats (head: RequestHead, proxy: Proxy): Buffer | undefined
  prometheus (target: string, isHead: boolean): Buffer
}

/** What an HTTP session needs besides routing. */
export interface HttpFrontend extends RoutingFrontend {
  readonly config: Proxy
  /** Set once the worker drains: responses then carry `Connection: close`. */
  readonly draining: boolean
  /** Largest request or response head accepted (global tune.bufsize). */
  readonly maxHead: number
  /** Window over which idle keep-alive connections are closed when draining (close-spread-time). */
  readonly closeSpreadMs: number | undefined
  /** The stats page and exporter answers, once the worker has set them up. */
  services (): HttpServices | undefined
  /** Usable active servers of a backend (the `nbsrv` fetch). */
  nbsrv (backend: string): number | undefined
  /** The proxy-state fetches (`be_conn`, `fe_conn`, `queue`, `avg_queue`, `srv_is_up`, `srv_conn`). */
  proxyState (fetch: string, arg: string): string | undefined
  /** True when a `monitor fail` condition holds: monitor-uri then answers 503. */
  monitorFailing (s: SampleSource): boolean
  /** Registers `fn` to run when the frontend starts draining; returns the unregister function. */
  onDrain (fn: () => void): () => void
}

/** Starts a session on an accepted connection the frontend took into service. */
export type SessionStarter = (client: Socket, fe: HttpFrontend, addrs: ConnAddresses) => void
