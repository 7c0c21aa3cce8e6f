/**
 * `mode http`: one client connection, its sequence of requests (keep-alive, pipelining), each
 * forwarded to a server over a pooled keep-alive connection. Bodies stream through unchanged
 * (framers find where each message ends); heads are parsed strictly and rewritten.
 */
import { tlsFacts } from '../tls/facts.ts'
import type { Socket } from 'node:net'
import { connectTermination, type Backend, type Connected } from '../backend.ts'
import { ConnectError } from '../errors.ts'
import { sendsProxyHeader } from '../proxy-protocol/send.ts'
import { errorPage } from './error-pages.ts'
import type { HttpFrontend } from '../frontend-context.ts'
import { socketAddresses, type ConnAddresses } from '../conn-addresses.ts'
import type { ServerState } from '../server-state.ts'
import { formatHttpLog, type HttpLog } from '../log/format.ts'
import type { LogRecord } from '../log/log-format.ts'
import { captureBlock } from '../log/captures.ts'
import { trafficSeverity } from '../log/policy.ts'
import { compileCondition, type Predicate } from '../acl/matcher.ts'
import type { Proxy } from '../../config/model.ts'
import type { SampleSource } from '../acl/sample.ts'
import { matchesMonitorUri } from './monitor-uri.ts'
import { type BodyFramer, ChunkedFramer, errorResponse, getHeader, getHeaderValues, HttpParseError, LengthFramer,
  parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead, serializeRequestHead, serializeResponseHead,
    toOriginForm, type ErrorStatus } from './codec.ts'
import { claimUpstream, disownUpstream, reuseMode, type ReuseMode, UpstreamPool, type UpstreamOwner } from './pool.ts'
import { recordExchange } from '../counters.ts'
import { editResponseCookies, insertedCookie, readRequestCookie } from './cookie.ts'
import { RequestSample, type SampleOrigin } from './request-sample.ts'
import { afterResponseOnReply, analyseAfterResponse, analyseRequest, analyseResponse,
  type RequestOutcome } from './analysis.ts'
import { forwardForExcept } from '../rules/index.ts'
import type { StickCounters } from '../stick-counters.ts'

/** Pipelined bytes buffered ahead of the current request before the client is paused. */
const MAX_PIPELINE_BUFFER = 64 * 1024
/** HAProxy 2.6's monitor-uri answer, byte for byte (its 200 page; the connection stays open). */
const MONITOR_OK = Buffer.from(
  ('HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: ' +
    'text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n'))
const MONITOR_FAIL = errorResponse(503)
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n')
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

/** What the HTTP path needs of a backend on every request, worked out once. */
interface BackendHttp {
  readonly pool: UpstreamPool
  readonly reuse: ReuseMode
  /** httpclose or http-server-close in the backend. */
  readonly closesServer: boolean
}

const backendFacts = new WeakMap<Backend, BackendHttp>()
function httpOf (backend: Backend): BackendHttp {
  let f = backendFacts.get(backend)
  if (f === undefined) {
    const o = backend.config.options
    f = { pool: new UpstreamPool(), reuse: reuseMode(o), closesServer: o.httpclose === true ||
      o['http-server-close'] === true }
    backendFacts.set(backend, f)
  }
  return f
}

/** How an HTTP/2 stream (h2/stream-bridge.ts) differs from a client connection. */
export interface StreamOrigin {
  /** The client's protocol as logged (`HTTP/2.0`). */
  readonly version: string
  /** Not the first request of its client connection: `http-reuse safe` may give it an idle server connection. */
  readonly laterRequest: boolean
  /** The connection's `sess.` variables, shared by its streams. */
  readonly sessionVars: Map<string, string>
}

export function startHttpSession (client: Socket, fe: HttpFrontend, addrs = socketAddresses(client),
  stream?: StreamOrigin): void {
  new HttpSession(client, fe, addrs, stream).start()
}

type Phase = 'head' | 'exchange' | 'tunnel' | 'closed'

/**
 * Tr: from the server connection being ready (after the queue and the connect) to the response head; -1 without a
 * response.
 */
function serverResponseMs (ex: Exchange): number {
  if (ex.responseAt === 0) return -1
  return Math.max(0, ex.responseAt - ex.headAt - Math.max(0, ex.queuedMs) - Math.max(0, ex.connectMs))
}

/** Requests this process began (`%rt` of log and unique-id formats). */
let requestsBegun = 0
function nextRequestNumber (): number {
  return requestsBegun++
}

interface Exchange {
  readonly head: RequestHead
  readonly startedAt: number
  readonly headAt: number
  readonly backend: Backend
  readonly keepClientAlive: boolean
  server: ServerState | undefined
  upstream: Socket | undefined
  reused: boolean
  connectMs: number
  queuedMs: number
  /** Waiting for a server connection (in the queue or connecting). */
  connecting: boolean
  /** Aborts the wait in the backend queue (`option abortonclose`); made when the request has to wait. */
  abortQueue: AbortController | undefined
  retries: number
  requestFramer: BodyFramer | undefined
  requestDone: boolean
  requestBytesSent: number
  responseBuf: Buffer | undefined
  response: ResponseHead | undefined
  responseFramer: BodyFramer | undefined
  responseUntilClose: boolean
  responseDone: boolean
  responseAt: number
  /** `capture request|response header` blocks of the log line, taken as the heads arrived (before rules). */
  capturedRequest: string | undefined
  capturedResponse: string | undefined
  /** `option logasap`: the traffic line went out when the response head did. */
  loggedEarly: boolean
  bytesToClient: number
  status: number
  termination: string
  /** Server chosen by the persistence cookie. */
  persistServer: ServerState | undefined
  /** Cookie header values to send instead of the client's (persistence cookie removed or unprefixed). */
  requestCookies: string[] | undefined
  /**
   * Log flags: persistence cookie in the request (N none, I invalid, D down server, V valid) and in the response (N, I
   * inserted, P from server, R rewritten).
   */
  cookieIn: string
  cookieOut: string
  /** What the request's sample fetches read (stick rules need it again at connect and response time). */
  sample: RequestSample | undefined
  /** Answered by a rule: counted as denied (deny, auth, tarpit) or intercepted (return, redirect). */
  denied?: boolean
  intercepted?: boolean
  /** `option http-buffer-request` answered `Expect: 100-continue` itself. */
  continueSent?: boolean
  /** The request's stick counters (its own and its session's), released when it ends. */
  counters: StickCounters | undefined
}

class HttpSession implements UpstreamOwner {
  private readonly client: Socket
  private readonly fe: HttpFrontend
  private readonly maxHead: number
  private phase: Phase = 'head'
  private pending: Buffer = Buffer.alloc(0)
  private ex: Exchange | undefined
  private exchanges = 0
  /** The request capture of the request being analysed (taken before its rules run). */
  private requestCapture: string | undefined
  /** `http-reuse never`: this session's idle server connections, shared with no other session. */
  private ownIdle: UpstreamPool | undefined
  private readonly clientIp: string
  private readonly srcPort: number
  private readonly addrs: ConnAddresses
  private readonly acceptedAt = Date.now()
  private headStartedAt = Date.now()
  /** How much of `pending` the head parser already searched (its resume hint). */
  private parsedUpTo = 0
  private sampleOrigin: SampleOrigin | undefined
  /** `timeout http-request`: a deadline for the whole head (and the body with `option http-buffer-request`). */
  private requestDeadline: NodeJS.Timeout | undefined
  /** The deadline timer is reused from request to request (refreshed, not reallocated); it is void when not armed. */
  private deadlineArmed = false
  /** Between two requests with no byte of the next one yet: `timeout http-keep-alive` runs, not the deadline. */
  private keepAliveWait = false
  /** `option http-buffer-request`: finds the end of the body being waited for before the server is chosen. */
  private bodyWait: BodyFramer | undefined
  /** The stick counters of the request being analysed. */
  private streamCounters: StickCounters | undefined

  /** Set for an HTTP/2 stream. */
  private readonly stream: StreamOrigin | undefined

  constructor (client: Socket, fe: HttpFrontend, addrs: ConnAddresses, stream?: StreamOrigin) {
    this.client = client
    this.fe = fe
    this.stream = stream
    this.maxHead = fe.maxHead
    this.addrs = addrs
    this.clientIp = addrs.src
    this.srcPort = addrs.srcPort
  }

  start (): void {
    const c = this.client
    c.on('data', (chunk: Buffer) => { this.onClientData(chunk) })
    c.on('end', () => { this.onClientEnd() })
    c.on('close', () => { this.onClientClose() })
    c.on('timeout', () => { this.onClientTimeout() })
    c.on('drain', () => { this.ex?.upstream?.resume() })
    const unregister = this.fe.onDrain(() => {
      // By default, and with `option idle-close-on-response`, idle connections stay open until
      // their next request, answered with Connection: close, or until `timeout http-keep-alive`
      // as in normal operation: the drain adds no race with a client's next request.
      const spreadMs = this.fe.closeSpreadMs
      if (spreadMs === undefined || this.fe.config.options['idle-close-on-response'] === true) return
      // With close-spread-time, as HAProxy: a busy connection closes after its response (Connection: close). An idle
      // one
      // is closed at a random moment within close-spread-time, unless a request arrives first
      // and is served with Connection: close: closing every idle connection at once would race
      // with the requests clients are sending on them right now.
      // Only a connection between two requests is idle: one that has not sent its first request
      // yet is a client about to speak (it was accepted just before the drain; its request may
      // still be in the client's hands), served like the others under `timeout http-request`.
      // The check runs after the next poll phase (setImmediate): a worker that was busy runs
      // expired timers before it reads its sockets, and closing then would throw away (and
      // reset) a request that had already arrived.
      let immediate: NodeJS.Immediate | undefined
      const timer = setTimeout(() => {
        immediate = setImmediate(() => {
          if (this.phase === 'head' && this.pending.length === 0 && this.exchanges > 0) this.close()
        })
      }, Math.random() * spreadMs)
      c.once('close', () => {
        clearTimeout(timer)
        if (immediate !== undefined) clearImmediate(immediate)
      })
    })
    c.once('close', unregister)
    this.armHeadTimer()
    c.resume()
  }

  /**
   * Waiting for a request head. Between two requests (nothing of the next one yet) `timeout http-keep-alive` (else
   * `timeout http-request`, else `timeout client`) bounds the wait. Otherwise `timeout client` is the idle timer
   * and `timeout http-request` a deadline, from the accept for the first request and from the first byte for the
   * next ones: trickling bytes does not extend it (HAProxy's rule; without it, only the idle timer runs).
   */
  private armHeadTimer (): void {
    const t = this.fe.timeouts
    this.clearRequestDeadline()
    this.keepAliveWait = this.pending.length === 0 && this.exchanges > 0
    if (this.keepAliveWait) {
      this.clientTimeout(t.httpKeepAlive ?? t.httpRequest ?? t.client ?? 0)
      return
    }
    this.clientTimeout(t.client ?? 0)
    // 0 is no timeout, as in HAProxy.
    if (t.httpRequest === undefined || t.httpRequest === 0) return
    this.deadlineArmed = true
    if (this.requestDeadline === undefined) {
      this.requestDeadline = setTimeout(() => { if (this.deadlineArmed) this.onRequestDeadline() }, t.httpRequest)
    } else this.requestDeadline.refresh()
  }

  private clearRequestDeadline (): void {
    this.deadlineArmed = false
  }

  /** Idle timeout of the client socket; a call that changes nothing costs no timer. */
  private clientTimeout (ms: number): void {
    if (this.client.timeout !== ms) this.client.setTimeout(ms)
  }

  /** `timeout http-request` expired: 408 and close, logged `cR--` as HAProxy does. */
  private onRequestDeadline (): void {
    this.deadlineArmed = false
    if (this.bodyWait !== undefined && this.ex !== undefined) {
      this.bodyWait = undefined
      this.ex.termination = 'cR'
      this.respondError(408)
    } else if (this.phase === 'head') this.onClientTimeout()
  }

  private onClientTimeout (): void {
    if (this.phase === 'head') {
      // As HAProxy: a connection that sent nothing of its first request gets a 408 too, unless
      // `option http-ignore-probes` (browsers' pre-connections); `option dontlognull` keeps it out of the log.
      const probe = this.pending.length === 0
      const options = this.fe.config.options
      if (probe && (this.exchanges > 0 || options['http-ignore-probes'] === true)) this.close()
      else this.reject(408, 'cR', !(probe && this.fe.dontLogNull))
      return
    }
    if (this.ex !== undefined) this.ex.termination = 'cD'
    if (this.bodyWait !== undefined) {
      // Waiting for the body (http-buffer-request): 408, as HAProxy (cD).
      this.bodyWait = undefined
      this.respondError(408)
      return
    }
    this.abort()
  }

  private onClientData (chunk: Buffer): void {
    if (this.phase === 'tunnel') {
      if (this.ex?.upstream?.write(chunk) === false) this.client.pause()
      return
    }
    if (this.phase === 'exchange' && this.ex !== undefined && !this.ex.requestDone && this.ex.upstream !== undefined) {
      this.forwardRequestBody(chunk)
      return
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    if (this.phase === 'head') this.tryHead()
    else if (this.bodyWait !== undefined) this.waitBody(chunk)
    else if (this.pending.length > MAX_PIPELINE_BUFFER) this.client.pause()
  }

  private onClientEnd (): void {
    // The client half-closed: finish the exchange in progress, then close — unless it is still
    // waiting for a server and `option abortonclose` says a client that gives up leaves the queue.
    if (this.phase === 'head') this.close()
    else if (this.ex?.connecting === true && this.ex.backend.config.options.abortonclose === true) this.onClientClose()
  }

  private onClientClose (): void {
    this.clearRequestDeadline()
    clearTimeout(this.requestDeadline)
    if (this.phase === 'closed') return
    if (this.ex?.connecting === true && this.ex.backend.config.options.abortonclose === true) {
      this.ex.abortQueue?.abort()
      this.ex.termination = 'CQ'
    }
    if (this.ex !== undefined && !this.ex.responseDone) {
      if (this.bodyWait !== undefined) this.ex.termination = 'CR'
      if (this.ex.termination === '--') this.ex.termination = this.ex.response === undefined ? 'CH' : 'CD'
      this.finishExchange(false)
    }
    this.close()
  }

  private tryHead (): void {
    let head: RequestHead | null
    try {
      head = parseRequestHead(this.pending, this.maxHead, { searchFrom: this.parsedUpTo })
    } catch (err) {
      if (!(err instanceof HttpParseError)) throw err
      this.logRejected(err)
      // As HAProxy: a request that cannot be parsed counts as a request and an error on the session's counters.
      const counters = this.addrs.counters
      if (counters !== undefined && err.status === 400) {
        const now = Date.now()
        counters.countHttpRequest(now)
        counters.countHttpError(now)
      }
      this.reject(err.status, 'PR')
      return
    }
    if (head === null) {
      this.parsedUpTo = this.pending.length
      // The first byte of a keep-alive request starts its deadline.
      if (this.keepAliveWait && this.pending.length > 0) this.armHeadTimer()
      return
    }
    this.parsedUpTo = 0
    const rest = this.pending.subarray(head.headLength)
    this.pending = Buffer.alloc(0)
    this.beginExchange(head, rest)
  }

  /** The client's address, as `http-request set-src` may have replaced it. */
  private get srcIp (): string {
    return this.sampleOrigin?.srcIp ?? this.clientIp
  }

  private origin (): SampleOrigin {
    if (this.sampleOrigin === undefined) {
      const fe = this.fe
      this.sampleOrigin = { srcIp: this.clientIp, srcPort: this.srcPort, dstIp: this.addrs.dst,
        dstPort: this.addrs.dstPort, nbsrv: name => fe.nbsrv(name), frontendName: fe.name,
        listener: this.addrs.listener, frontendId: fe.proxyId,
        proxyState: (f, a) => fe.proxyState(f, a), tls: tlsFacts(this.client),
        httpVersion: this.stream?.version.slice(5), sessionVars: this.stream?.sessionVars }
    }
    return this.sampleOrigin
  }

  private beginExchange (head: RequestHead, rest: Buffer): void {
    this.phase = 'exchange'
    this.exchanges++
    this.requestCapture = captureBlock(this.fe.config.captures, 'request', head)
    const counters = this.addrs.counters?.forStream()
    this.streamCounters = counters
    const sample = new RequestSample(head, this.origin(), counters)
    sample.firstRequest = this.exchanges === 1
    sample.requestNumber = nextRequestNumber()
    const makeId = this.fe.uniqueId
    if (makeId !== undefined) sample.uniqueIdMaker = () => makeId(this.requestRecord(head, sample))
    // Mode http: the `tcp-request content` rules run on each request (HAProxy's stream), then it is counted.
    if (this.fe.contentAccepts?.(sample) === false) {
      counters?.endStream(Date.now())
      this.close()
      return
    }
    counters?.countHttpRequest(Date.now())
    const monitorUri = this.fe.config.monitorUri
    if (monitorUri !== undefined && matchesMonitorUri(monitorUri, head.target)) {
      this.answerMonitor(head, sample, rest)
      return
    }
    const outcome = analyseRequest(this.fe, { request: head, sample })
    if (outcome.kind !== 'forward') { this.answerRule(head, rest, sample, outcome); return }
    const backend = outcome.backend
    if (this.answerService(head, sample, backend)) return
    const ex = this.newExchange(head, backend)
    this.ex = ex
    // `timeout client` from here on; set by whatever waits next (a request attached to a server at once sets its own).
    if (backend === undefined) {
      ex.termination = 'PR'
      this.respondError(503)
      return
    }
    this.pending = rest
    ex.sample = sample
    this.applyRequestCookie(ex)
    if (ex.persistServer === undefined && !backend.stick.empty) this.applyStickMatch(ex, sample)
    if (!ex.requestDone && (this.fe.config.options['http-buffer-request'] === true ||
      backend.config.options['http-buffer-request'] === true)) {
      this.bodyWait = framerFor(head)
      this.clientTimeout(this.fe.timeouts.client ?? 0)
      // As HAProxy: the proxy, not the server, invites the body, and the server does not see the Expect.
      if (head.expectContinue) {
        ex.continueSent = true
        ex.bytesToClient += CONTINUE.length
        this.client.write(CONTINUE)
      }
      this.waitBody(Buffer.alloc(0))
      return
    }
    this.clearRequestDeadline()
    this.connectUpstream(ex, sample)
  }

  private newExchange (head: RequestHead, backend: Backend | undefined, keepClientAlive = this.keepsAlive(head,
    backend)): Exchange {
    const ex: Exchange = {
      capturedRequest: this.requestCapture, capturedResponse: undefined,
      head, startedAt: this.headStartedAt, headAt: Date.now(), backend: backend as Backend, keepClientAlive,
      server: undefined, upstream: undefined, response: undefined, sample: undefined, reused: false, connectMs: -1,
        queuedMs: -1, connecting: false, abortQueue: undefined, retries: 0, requestFramer: framerFor(head),
          requestDone: false, requestBytesSent: 0,
      responseBuf: undefined, responseFramer: undefined, responseUntilClose: false, responseDone: false, responseAt: 0,
        loggedEarly: false,
      bytesToClient: 0, status: 0, termination: '--', persistServer: undefined, requestCookies: undefined,
        cookieIn: '-', cookieOut: '-', counters: this.streamCounters
    }
    ex.requestDone = ex.requestFramer === undefined
    return ex
  }

  private keepsAlive (head: RequestHead, backend: Backend | undefined): boolean {
    const httpclose = this.fe.config.options.httpclose === true || backend?.config.options.httpclose === true
    return !httpclose && (head.versionMinor === 1 ? !head.connection.close : head.connection.keepAlive)
  }

  /** A rule answered (deny, auth, return, redirect, tarpit) or dropped the request; keep-alive as HAProxy. */
  private answerRule (head: RequestHead, rest: Buffer, sample: RequestSample,
    outcome: Exclude<RequestOutcome, { kind: 'forward' }>): void {
    const ex = this.newExchange(head, undefined)
    this.ex = ex
    ex.sample = sample
    this.clearRequestDeadline()
    this.clientTimeout(this.fe.timeouts.client ?? 0)
    if (outcome.kind === 'drop') {
      ex.termination = 'PR'
      ex.denied = true
      this.abort()
      return
    }
    const bytes = afterResponseOnReply(this.fe.config, outcome.backend?.config, { request: head, sample },
      outcome.bytes)
    ex.status = outcome.status
    ex.bytesToClient = bytes.length
    if (outcome.kind === 'reply') {
      ex.termination = outcome.termination
      if (outcome.denied) ex.denied = true
      else ex.intercepted = true
    } else {
      ex.termination = 'PT'
      ex.denied = true
    }
    // deny, tarpit and auth count an HTTP error on the tracked counters, as HAProxy.
    if (outcome.kind === 'tarpit' || outcome.denied || outcome.auth === true) ex.counters?.countHttpError(Date.now())
    // A request body is not read: the connection closes after the answer.
    const keep = ex.keepClientAlive && ex.requestFramer === undefined && !this.fe.draining
    const send = (): void => {
      if (this.ex !== ex || this.client.destroyed) return
      if (!keep) {
        this.client.end(bytes)
        this.finishExchange(false)
        this.phase = 'closed'
        return
      }
      this.client.write(bytes)
      this.finishExchange(false)
      this.phase = 'head'
      // What the client sent while a tarpit held the answer follows what came with the request.
      this.pending = this.pending.length === 0 ? rest : Buffer.concat([rest, this.pending])
      this.headStartedAt = Date.now()
      this.armHeadTimer()
      this.client.resume()
      if (this.pending.length > 0) this.tryHead()
    }
    if (outcome.kind === 'tarpit') {
      const t = this.fe.config.timeouts
      const timer = setTimeout(send, t.tarpit ?? t.connect ?? 0)
      this.client.once('close', () => { clearTimeout(timer) })
    } else {
      send()
    }
  }

  /**
   * `option http-buffer-request`: the request's body (up to tune.bufsize) is read before the server is chosen, under
   * the request's `timeout http-request` deadline; `chunk` is what has just been added to `pending`.
   */
  private waitBody (chunk: Buffer): void {
    const ex = this.ex
    const framer = this.bodyWait
    if (ex === undefined || framer === undefined) return
    let done = this.pending.length >= this.maxHead
    if (!done) {
      try {
        done = framer.push(chunk.length === 0 ? this.pending : chunk, 0).done
      } catch (err) {
        // Forwarding answers it (400): the body framer meets the same bytes.
        if (!(err instanceof HttpParseError)) throw err
        done = true
      }
    }
    if (!done) return
    this.bodyWait = undefined
    this.clearRequestDeadline()
    this.connectUpstream(ex, ex.sample as RequestSample)
  }

  /** The stats page (`stats uri`) and `http-request use-service prometheus-exporter`, answered by the proxy itself. */
  private answerService (head: RequestHead, sample: SampleSource, backend: Backend | undefined): boolean {
    const services = this.fe.services()
    if (services === undefined || !(offersService(this.fe.config) || (backend !== undefined && offersService(
      backend.config)))) return false
    let answer = services.stats(head, this.fe.config) ?? (backend === undefined ? undefined : services.stats(head,
      backend.config))
    if (answer === undefined && [this.fe.config, backend?.config].some(p => p !== undefined && usesService(p,
      sample))) {
      answer = services.prometheus(head.target, head.method === 'HEAD')
    }
    if (answer === undefined) return false
    recordExchange({ frontend: this.fe, http: true, status: Number(answer.toString('latin1', 9, 12)),
      bytesOut: answer.length, intercepted: true })
    this.streamCounters?.addBytes(head.headLength, answer.length, Date.now())
    this.streamCounters?.endStream(Date.now())
    this.client.end(answer)
    this.phase = 'closed'
    return true
  }

  /**
   * monitor-uri: answered here, neither forwarded nor logged; 503 while a `monitor fail` condition holds. `rest`:
   * what the client sent after the head (pipelined requests, answered next, in order).
   */
  private answerMonitor (head: RequestHead, sample: SampleSource, rest: Buffer): void {
    this.streamCounters?.endStream(Date.now())
    const failing = this.fe.monitorFailing(sample)
    // `errorfile 200` / `errorfile 503` replace the answers; such a page closes the connection.
    const custom = this.fe.config.errorReplies?.[failing ? 503 : 200] !== undefined
    const body = custom ? errorPage(failing ? 503 : 200, this.fe.config) : failing ? MONITOR_FAIL : MONITOR_OK
    if (custom || (head.versionMinor === 1 ? head.connection.close : !head.connection.keepAlive)) {
      this.clearRequestDeadline()
      this.client.end(body)
      this.phase = 'closed'
      return
    }
    this.phase = 'head'
    this.client.write(body)
    this.headStartedAt = Date.now()
    this.pending = rest
    this.armHeadTimer()
    if (this.pending.length > 0) this.tryHead()
  }

  /** `stick match`: the server stored for this client's key, if it may serve. */
  private applyStickMatch (ex: Exchange, sample: SampleSource): void {
    const server = ex.backend.stick.match(sample, Date.now())
    if (server === undefined) return
    if (server.persistable || (ex.backend.config.options.persist === true && server.admin !==
      'maint')) ex.persistServer = server
  }

  /**
   * Persistence: the server the client's cookie names, if it may serve (UP, NOLB or drain, or down with `option
   * persist`).
   */
  private applyRequestCookie (ex: Exchange): void {
    const settings = ex.backend.config.cookie
    if (settings?.mode === undefined) return
    const found = readRequestCookie(settings, getHeaderValues(ex.head, 'cookie'))
    ex.cookieIn = 'N'
    ex.cookieOut = 'N'
    if (found === undefined) return
    ex.requestCookies = found.rewritten
    // As HAProxy: a down server with this cookie value gives way to another one that is up
    // (backup servers sharing the cookie of the server they stand in for).
    const named = ex.backend.servers.filter(s => s.config.cookie === found.serverValue)
    const server = named.find(s => s.persistable) ?? named[0]
    if (server === undefined) {
      ex.cookieIn = 'I'
    } else if (server.persistable) {
      ex.cookieIn = 'V'
      ex.persistServer = server
    } else {
      ex.cookieIn = 'D'
      if (ex.backend.config.options.persist === true && server.admin !== 'maint') ex.persistServer = server
    }
  }

  private connectUpstream (ex: Exchange, sample: SampleSource): void {
    const facts = httpOf(ex.backend)
    const pool = facts.pool
    const mode = facts.reuse
    // http-reuse: the session's own idle connection first; the shared ones never (never), not for the session's first
    // request (safe), for it only those that already carried two requests (aggressive), or always (always).
    const first = this.exchanges <= 1 && this.stream?.laterRequest !== true
    const shared = mode === 'never' || (mode === 'safe' && first) ? undefined
      : mode === 'aggressive' && first ? pool.takeProven : pool.takeIdle
    const mine = this.ownIdle
    // A connection that began with a PROXY header (send-proxy) carries this client's addresses: never shared.
    const reuse = (server: ServerState): Socket | undefined => mine?.take(server) ??
      (sendsProxyHeader(server.config) ? undefined : shared?.(server))
    const ctx = { source: sample.src, path: ex.head.target, header: (name: string) => getHeader(ex.head, name) }
    ex.connecting = true
    const connected = ex.backend.connectNow(ctx, sample.dstPort, {
      preferred: ex.persistServer,
      forcePreferred: ex.persistServer !== undefined,
      signal: () => (ex.abortQueue ??= new AbortController()).signal,
      reuse,
      client: this.addrs,
      sample
    })
    if (!(connected instanceof Promise)) {
      this.onConnected(ex, connected)
      return
    }
    this.clientTimeout(this.fe.timeouts.client ?? 0)
    connected.then(c => { this.onConnected(ex, c) }, (err: unknown) => {
      ex.connecting = false
      if (this.ex !== ex) return
      ex.termination = connectTermination(err)
      if (err instanceof ConnectError) ex.retries = ex.backend.retries
      this.respondError(503)
    })
  }

  private onConnected (ex: Exchange, c: Connected): void {
    ex.connecting = false
    if (this.ex !== ex || this.phase === 'closed') {
      // The client went away while this connection was being made: free the slot.
      c.socket.destroy()
      ex.backend.serverReleased(c.server)
      return
    }
    ex.reused = c.reused
    ex.connectMs = c.connectMs
    ex.queuedMs = c.queuedMs
    ex.retries = c.retries
    this.attach(ex, c.server, c.socket)
  }

  private attach (ex: Exchange, server: ServerState, up: Socket): void {
    ex.server = server
    if (ex.sample !== undefined) ex.sample.server = server
    ex.upstream = up
    ex.backend.activeConnections++
    ex.backend.totalSessions++
    if (!ex.backend.stick.empty && ex.sample !== undefined) ex.backend.stick.store('request', ex.sample, server,
      Date.now())
    claimUpstream(up, this)
    up.setTimeout(ex.backend.config.timeouts.server ?? 0)
    up.write(this.requestHeadBytes(ex))
    // While the server prepares its answer the client has nothing to send: only `timeout server` runs.
    this.clientTimeout(ex.requestDone ? 0 : this.fe.timeouts.client ?? 0)
    const body = this.pending
    this.pending = Buffer.alloc(0)
    if (body.length > 0) this.forwardRequestBody(body)
    else if (!ex.requestDone || this.phase === 'exchange') this.client.resume()
  }

  private requestHeadBytes (ex: Exchange): Buffer {
    const head = ex.head
    const add: [string, string][] = []
    const owner = this.fe.config.forwardFor !== undefined ? this.fe.config : ex.backend.config
    const ff = owner.forwardFor
    const s = { src: this.srcIp, srcPort: this.srcPort, dst: '', dstPort: 0 }
    if (ff !== undefined && forwardForExcept(owner)?.(s) !== true && !(ff.ifNone && getHeader(head,
      ff.header) !== undefined)) {
      add.push([ff.header, this.srcIp.startsWith('::ffff:') ? this.srcIp.slice(7) : this.srcIp])
    }
    const idHeader = this.fe.config.uniqueIdHeader
    const id = idHeader === undefined ? undefined : ex.sample?.uniqueId()
    if (idHeader !== undefined && id !== undefined) add.push([idHeader, id])
    if (closesServerSide(this.fe, ex.backend)) add.push(['Connection', 'close'])
    else if (head.versionMinor === 0) add.push(['Connection', 'keep-alive'])
    const upgrade = head.upgrade !== undefined && head.connection.upgrade
    if (upgrade) add.push(['Connection', 'upgrade'])
    const target = head.targetForm === 'absolute' ? toOriginForm(head) : undefined
    const remove: string[] = []
    if (ex.continueSent === true) remove.push('expect')
    if (ex.requestCookies !== undefined) {
      remove.push('cookie')
      for (const c of ex.requestCookies) add.push(['Cookie', c])
    }
    return serializeRequestHead(head, { removeHopByHop: true, keepUpgrade: upgrade, add, target, remove })
  }

  private forwardRequestBody (chunk: Buffer): void {
    const ex = this.ex
    const up = ex?.upstream
    if (ex === undefined || up === undefined) return
    if (ex.requestDone) {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
      if (this.pending.length > MAX_PIPELINE_BUFFER) this.client.pause()
      return
    }
    let consumed: number
    try {
      const r = (ex.requestFramer as BodyFramer).push(chunk, 0)
      consumed = r.consumed
      ex.requestDone = r.done
    } catch (err) {
      if (!(err instanceof HttpParseError)) throw err
      ex.termination = 'PR'
      this.logRejected(err)
      this.respondError(400)
      return
    }
    ex.requestBytesSent += consumed
    if (ex.requestDone) this.clientTimeout(0)
    const ok = up.write(consumed === chunk.length ? chunk : chunk.subarray(0, consumed))
    if (consumed < chunk.length) {
      this.pending = Buffer.concat([this.pending, chunk.subarray(consumed)])
    }
    if (!ok) this.client.pause()
    if (ex.requestDone && ex.responseDone) this.completeExchange(ex)
  }

  onUpstreamData (chunk: Buffer): void {
    const ex = this.ex
    if (ex === undefined) return
    // Head and body parts of one read leave in one writev, not one syscall each.
    this.client.cork()
    try {
      this.forwardResponse(ex, chunk)
    } finally {
      this.client.uncork()
    }
    // The response is on its way to the client: `timeout client` runs (a response complete in this read has already
    // set the keep-alive timeout instead, so no timer is made for nothing).
    if (this.ex === ex && this.phase === 'exchange' && ex.response !== undefined) {
      this.clientTimeout(this.fe.timeouts.client ?? 0)
    }
  }

  private forwardResponse (ex: Exchange, chunk: Buffer): void {
    if (this.phase === 'tunnel') {
      ex.bytesToClient += chunk.length
      if (!this.client.write(chunk)) ex.upstream?.pause()
      return
    }
    let data = chunk
    while (data.length > 0 && !ex.responseDone) {
      if (ex.response === undefined || ex.responseBuf !== undefined) {
        const buf = ex.responseBuf === undefined ? data : Buffer.concat([ex.responseBuf, data])
        let res: ResponseHead | null
        try {
          res = parseResponseHead(buf, this.maxHead, ex.head.method)
        } catch (err) {
          if (!(err instanceof HttpParseError)) throw err
          ex.termination = 'PH'
          this.respondError(502)
          return
        }
        if (res === null) {
          ex.responseBuf = buf
          return
        }
        ex.responseBuf = undefined
        data = buf.subarray(res.headLength)
        if (res.status >= 100 && res.status < 200 && res.status !== 101) {
          const interim = serializeResponseHead(res, { removeHopByHop: false, keepUpgrade: false, add: [] })
          ex.bytesToClient += interim.length
          this.client.write(interim)
          continue
        }
        if (res.status === 101 && !upgradeGranted(ex.head, res)) {
          // Never a blind tunnel the request did not ask for: what follows would reach the server unparsed.
          ex.termination = 'PH'
          this.respondError(502)
          return
        }
        this.onResponseHead(ex, res)
        if ((this.phase as Phase) === 'tunnel') {
          if (data.length > 0) {
            ex.bytesToClient += data.length
            this.client.write(data)
          }
          return
        }
        continue
      }
      if (ex.responseUntilClose) {
        ex.bytesToClient += data.length
        if (!this.client.write(data)) ex.upstream?.pause()
        return
      }
      let r: { consumed: number, done: boolean }
      try {
        r = (ex.responseFramer as BodyFramer).push(data, 0)
      } catch (err) {
        if (!(err instanceof HttpParseError)) throw err
        ex.termination = 'SD'
        this.abort()
        return
      }
      const part = r.consumed === data.length ? data : data.subarray(0, r.consumed)
      ex.bytesToClient += part.length
      if (!this.client.write(part)) ex.upstream?.pause()
      data = data.subarray(r.consumed)
      if (r.done) {
        ex.responseDone = true
        if (data.length > 0) ex.termination = 'SD'
      }
    }
    if (ex.responseDone) this.completeExchange(ex)
  }

  private onResponseHead (ex: Exchange, res: ResponseHead): void {
    ex.response = res
    ex.capturedResponse = captureBlock(this.fe.config.captures, 'response', res)
    ex.status = res.status
    ex.responseAt = Date.now()
    if (res.status === 101 || res.bodyKind === 'tunnel') {
      const head = serializeResponseHead(res, { removeHopByHop: res.status !== 101, keepUpgrade: true, add: [] })
      ex.bytesToClient += head.length
      this.client.write(head)
      this.phase = 'tunnel'
      ex.requestDone = true
      const tunnel = ex.backend.config.timeouts.tunnel
      this.clientTimeout(tunnel ?? this.fe.timeouts.client ?? 0)
      if (tunnel !== undefined) ex.upstream?.setTimeout(tunnel)
      this.client.resume()
      return
    }
    if (ex.counters !== undefined) countResponse(ex.counters, res.status)
    if (ex.sample !== undefined) {
      ex.sample.response = res
      const verdict = analyseResponse(this.fe.config, ex.backend.config, { request: ex.head, response: res,
        sample: ex.sample })
      if (verdict !== undefined) { this.answerResponseRule(ex, verdict); return }
      analyseAfterResponse(this.fe.config, ex.backend.config, { request: ex.head, response: res, sample: ex.sample })
      ex.status = res.status
    }
    const untilClose = res.bodyKind === 'until-close'
    const closeClient = !ex.keepClientAlive || untilClose || this.fe.draining
    const add: [string, string][] = []
    const remove: string[] = []
    if (ex.backend.stick.storesResponses && ex.server !== undefined && ex.sample !== undefined) {
      ex.backend.stick.store('response', ex.sample, ex.server, Date.now())
    }
    this.responseCookieEdits(ex, res, add, remove)
    if (closeClient) add.push(['Connection', 'close'])
    else if (ex.head.versionMinor === 0) add.push(['Connection', 'keep-alive'])
    const head = serializeResponseHead(res, { removeHopByHop: true, keepUpgrade: false, add, remove })
    ex.bytesToClient += head.length
    this.client.write(head)
    if (this.fe.logAsap && this.fe.logging) {
      ex.loggedEarly = true
      this.logExchange(ex, Date.now(), true)
    }
    ex.responseUntilClose = untilClose
    if (res.bodyKind === 'none') {
      ex.responseDone = true
    } else if (res.bodyKind === 'length') {
      ex.responseFramer = new LengthFramer(res.contentLength)
      if (res.contentLength === 0) ex.responseDone = true
    } else if (res.bodyKind === 'chunked') {
      ex.responseFramer = new ChunkedFramer({ errorStatus: 502 })
    }
  }

  /** An `http-response` rule replaced the server's answer (deny: 502) or dropped it: the connection closes. */
  private answerResponseRule (ex: Exchange, verdict: NonNullable<ReturnType<typeof analyseResponse>>): void {
    if (verdict.kind === 'reply') {
      const bytes = ex.sample === undefined ? verdict.bytes : afterResponseOnReply(this.fe.config, ex.backend.config,
        { request: ex.head, sample: ex.sample }, verdict.bytes)
      ex.status = verdict.status
      ex.termination = verdict.termination
      if (verdict.denied) ex.denied = true
      else ex.intercepted = true
      ex.bytesToClient += bytes.length
      if (!this.client.destroyed) this.client.end(bytes)
      this.finishExchange(false)
      this.phase = 'closed'
      return
    }
    ex.termination = 'PH'
    ex.denied = true
    this.abort()
  }

  /**
   * insert: Set-Cookie for a client not already sent to this server by its cookie; prefix/rewrite: the server's own
   * cookie rewritten.
   */
  private responseCookieEdits (ex: Exchange, res: ResponseHead, add: [string, string][], remove: string[]): void {
    const settings = ex.backend.config.cookie
    const server = ex.server
    const value = server?.config.cookie
    if (settings?.mode === undefined || server === undefined || value === undefined) return
    const edit = editResponseCookies(settings, value, getHeaderValues(res, 'set-cookie'))
    if (edit.setCookies !== undefined) {
      remove.push('set-cookie')
      for (const c of edit.setCookies) add.push(['Set-Cookie', c])
      ex.cookieOut = settings.mode === 'insert' ? 'N' : 'R'
    } else if (edit.serverSetIt) {
      ex.cookieOut = 'P'
    }
    const direct = ex.persistServer === server && ex.cookieIn === 'V'
    const insert = settings.mode === 'insert' && !direct && !(settings.preserve && edit.serverSetIt) &&
      (!settings.postonly || ex.head.method === 'POST')
    if (insert) {
      add.push(['Set-Cookie', insertedCookie(settings, value)])
      ex.cookieOut = 'I'
      if (settings.nocache) {
        add.push(['Cache-Control', 'private'])
      }
    }
  }

  onUpstreamDrain (): void {
    this.client.resume()
  }

  onUpstreamTimeout (): void {
    const ex = this.ex
    if (ex === undefined) return
    ex.termination = ex.response === undefined ? 'sH' : 'sD'
    if (ex.response === undefined) this.respondError(504)
    else this.abort()
  }

  onUpstreamEnd (): void {
    const ex = this.ex
    if (ex === undefined) return
    if (ex.responseUntilClose && ex.response !== undefined) {
      ex.responseDone = true
      ex.upstream?.destroy()
      this.completeExchange(ex)
      return
    }
    if (this.phase === 'tunnel') {
      this.client.end()
      return
    }
    this.onUpstreamClose()
  }

  onUpstreamClose (): void {
    const ex = this.ex
    if (ex === undefined || ex.responseDone) return
    if (this.phase === 'tunnel') {
      this.close()
      return
    }
    // A pooled connection the server closed while idle: retry the request once on a fresh one.
    const staleRetry = ex.reused && ex.response === undefined && ex.responseBuf === undefined &&
      IDEMPOTENT.has(ex.head.method) && ex.requestFramer === undefined
    if (staleRetry) {
      this.releaseServer(ex, false)
      ex.reused = false
      ex.upstream = undefined
      ex.server = undefined
      ex.backend.connect({ source: this.srcIp, path: ex.head.target, header: name => getHeader(ex.head, name) },
        this.addrs.dstPort, { client: this.addrs, sample: ex.sample }).then(c => {
        if (this.ex !== ex || this.phase === 'closed') {
          c.socket.destroy()
          ex.backend.serverReleased(c.server)
          return
        }
        ex.connectMs = c.connectMs
        this.attach(ex, c.server, c.socket)
      }, () => {
        if (this.ex !== ex) return
        ex.termination = 'SC'
        this.respondError(503)
      })
      return
    }
    if (ex.response === undefined) {
      ex.termination = 'SH'
      this.respondError(502)
    } else {
      ex.termination = 'SD'
      this.abort()
    }
  }

  /** Both directions of the exchange are complete: log it, recycle the server connection, read the next request. */
  private completeExchange (ex: Exchange): void {
    if (!ex.requestDone || !ex.responseDone || this.ex !== ex) return
    const res = ex.response
    const reusable = res !== undefined && !ex.responseUntilClose && !res.connection.close &&
      (res.versionMinor === 1 || res.connection.keepAlive) && ex.termination === '--' && !closesServerSide(this.fe,
        ex.backend)
    this.finishExchange(reusable)
    if (!ex.keepClientAlive || ex.responseUntilClose || this.fe.draining || this.client.destroyed ||
      this.client.readableEnded) {
      this.client.end()
      this.phase = 'closed'
      return
    }
    this.phase = 'head'
    this.headStartedAt = Date.now()
    this.armHeadTimer()
    this.client.resume()
    if (this.pending.length > 0) this.tryHead()
  }

  private finishExchange (reusable: boolean): void {
    const ex = this.ex
    if (ex === undefined) return
    this.ex = undefined
    const now = this.record(ex)
    if (ex.counters !== undefined) {
      ex.counters.addBytes(ex.requestBytesSent + ex.head.headLength, ex.bytesToClient, now)
      ex.counters.endStream(now)
    }
    this.releaseServer(ex, reusable)
    // After the release, as HAProxy logs: %bc and %sc no longer count this exchange.
    if (!this.fe.logging || ex.loggedEarly || (this.fe.dontLogNull && ex.status === 0 && ex.bytesToClient === 0)) return
    this.logExchange(ex, now, false)
  }

  private releaseServer (ex: Exchange, reusable: boolean): void {
    const up = ex.upstream
    if (up !== undefined) disownUpstream(up)
    // A connection kept gets the pool's idle timeout, one closed no timer: no `timeout server` survives the exchange.
    if (ex.server === undefined) up?.setTimeout(0)
    else {
      ex.backend.serverReleased(ex.server)
      ex.backend.activeConnections--
      if (up !== undefined && reusable) {
        // http-reuse never: the connection stays the session's own, for its next requests only.
        const facts = httpOf(ex.backend)
        if (facts.reuse === 'never' || sendsProxyHeader(ex.server.config)) {
          (this.ownIdle ??= new UpstreamPool()).release(ex.server, up)
        } else facts.pool.release(ex.server, up)
      } else up?.destroy()
    }
  }

  private respondError (status: 400 | 408 | 502 | 503 | 504): void {
    const ex = this.ex
    if (ex !== undefined) {
      ex.status = status
      // A server that answered badly or not in time: an HTTP failure on the tracked counters, as HAProxy.
      if ((status === 502 || status === 504) && ex.server !== undefined) ex.counters?.countHttpFailure(Date.now())
      if (ex.response === undefined && !this.client.destroyed) {
        // No backend when no rule routed the request: `backend` is typed as set for the rest of the exchange.
        const page = errorPage(status, this.fe.config, (ex.backend as Backend | undefined)?.config)
        ex.bytesToClient += page.length
        this.client.end(page)
      }
      this.finishExchange(false)
    }
    this.close()
  }

  private reject (status: ErrorStatus, termination: string, log = true): void {
    this.clearRequestDeadline()
    const body = errorPage(status, this.fe.config)
    if (!this.client.destroyed) this.client.end(body)
    this.phase = 'closed'
    if (!this.fe.logging || !log) return
    const severity = trafficSeverity(this.fe.logPolicy, { termination, retries: 0, status })
    if (severity === undefined) return
    const line: HttpLog = {
      clientIp: this.srcIp, clientPort: this.srcPort, acceptedAt: this.headStartedAt, frontend: this.fe.name,
        backend: this.fe.name,
      server: '<NOSRV>', tq: -1, tw: -1, tc: -1, tr: -1, tt: Date.now() - this.headStartedAt, status,
        bytesRead: body.length,
      termination, actconn: this.fe.globalConnections(), feconn: this.fe.connections(), beconn: 0, srvConn: 0,
        retries: 0,
      srvQueue: 0, backendQueue: 0, requestLine: '<BADREQ>'
    }
    const custom = this.fe.customLog
    this.fe.logTraffic(custom === undefined ? formatHttpLog(line) : custom({ ...line,
      ...this.recordExtras(undefined) }),
      severity)
  }

  private logRejected (err: HttpParseError): void {
    this.fe.logTraffic(`${this.srcIp}:${this.srcPort} rejected request: ${err.code}: ${err.message}`)
  }

  private abort (): void {
    if (this.ex !== undefined) this.finishExchange(false)
    this.close()
  }

  private close (): void {
    if (this.phase === 'closed' && this.client.destroyed) return
    this.phase = 'closed'
    this.clearRequestDeadline()
    clearTimeout(this.requestDeadline)
    this.client.destroy()
    this.ownIdle?.closeAll()
  }

  /** The exchange's counters (while it still holds its connections: the session maxima count it); returns now. */
  private record (ex: Exchange): number {
    const now = Date.now()
    recordExchange({
      frontend: this.fe, backend: ex.backend, server: ex.server, http: true, status: ex.status,
        bytesIn: ex.requestBytesSent + ex.head.headLength,
      bytesOut: ex.bytesToClient, tw: ex.queuedMs, tc: ex.connectMs,
        tr: serverResponseMs(ex), tt: now - ex.startedAt,
      retries: ex.retries, reused: ex.reused, termination: ex.termination, feconn: this.fe.connections(),
        denied: ex.denied, intercepted: ex.intercepted,
        beconn: ex.backend?.activeConnections,
      srvConn: ex.server?.activeConnections
    }, now)
    if (ex.server !== undefined) {
      ex.server.bytesIn += ex.requestBytesSent + ex.head.headLength
      ex.server.bytesOut += ex.bytesToClient
    }
    return now
  }

  private logExchange (ex: Exchange, now: number, early: boolean): void {
    const severity = trafficSeverity(this.fe.logPolicy, { termination: ex.termination, retries: ex.retries,
      status: ex.status })
    if (severity !== undefined) this.fe.logTraffic(this.trafficLine(ex, now, early), severity)
  }

  /** What a unique id made while the request is analysed may show: the connection, the request, no outcome yet. */
  private requestRecord (head: RequestHead, sample: RequestSample): LogRecord {
    return { ...this.recordExtras(sample, false), clientIp: this.srcIp, clientPort: this.srcPort,
      acceptedAt: this.headStartedAt, frontend: this.fe.name, backend: sample.backendName ?? this.fe.name,
      server: '<NOSRV>', tq: -1, tw: -1, tc: -1, tr: -1, tt: -1, status: -1, bytesRead: 0, termination: '--',
      actconn: this.fe.globalConnections(), feconn: this.fe.connections(), beconn: 0, srvConn: 0, retries: 0,
      srvQueue: 0, backendQueue: 0,
      requestLine: `${head.method} ${head.target} ${this.stream?.version ?? `HTTP/1.${head.versionMinor}`}` }
  }

  /** `withId`: the record shows the unique id (not while it is being made). */
  private recordExtras (sample: RequestSample | undefined, withId = true): Omit<LogRecord, keyof HttpLog> {
    const tls = tlsFacts(this.client)
    return { http: true, tls: tls !== undefined, frontendIp: this.addrs.dst, frontendPort: this.addrs.dstPort,
      sample, uniqueId: withId ? sample?.uniqueId() : undefined, requestCounter: sample?.requestNumber,
        tlsCipher: tls?.cipher,
      tlsVersion: tls?.protocol }
  }

  /** The `option httplog` line, or the `log-format` one; `early` (logasap): Tt and the bytes are so far. */
  private trafficLine (ex: Exchange, now: number, early: boolean): string {
    const line = this.httpLog(ex, now, early)
    const custom = this.fe.customLog
    if (custom === undefined) return formatHttpLog(line)
    const up = ex.upstream
    return custom({ ...line, ...this.recordExtras(ex.sample), serverIp: ex.server?.host, serverPort: ex.server?.port ??
      (ex.server === undefined ? undefined : this.addrs.dstPort), sourceIp: up?.localAddress, sourcePort: up?.localPort,
      bytesUploaded: ex.requestBytesSent + ex.head.headLength })
  }

  private httpLog (ex: Exchange, now: number, early: boolean): HttpLog {
    const h = ex.head
    return {
      early,
      clientIp: this.srcIp, clientPort: this.srcPort, acceptedAt: ex.startedAt, frontend: this.fe.name,
        backend: ex.backend?.name ?? this.fe.name,
      server: ex.server?.name ?? '<NOSRV>', tq: ex.headAt - ex.startedAt, tw: ex.queuedMs, tc: ex.connectMs,
      tr: serverResponseMs(ex), tt: now - ex.startedAt,
        status: ex.status === 0 ? -1 : ex.status,
      bytesRead: ex.bytesToClient, termination: `${ex.termination}${ex.cookieIn}${ex.cookieOut}`,
        actconn: this.fe.globalConnections(), feconn: this.fe.connections(),
      beconn: ex.backend?.activeConnections ?? 0, srvConn: ex.server?.activeConnections ?? 0, retries: ex.retries,
      srvQueue: ex.server === undefined ? 0 : ex.backend.admission.serverQueueLength(ex.server),
      // No backend (no use_backend matched, no default_backend): the request was answered 503.
      backendQueue: ex.backend?.admission.queueLength ?? 0,
      requestLine: `${h.method} ${h.target} ${this.stream?.version ?? `HTTP/1.${h.versionMinor}`}`,
      capturedRequest: ex.capturedRequest,
      // HAProxy prints the response block (empty) even when no response came.
      capturedResponse: ex.capturedResponse ?? captureBlock(this.fe.config.captures, 'response', undefined)
    }
  }
}

const serviceRules = new WeakMap<Proxy, Predicate[]>()
const servicesOffered = new WeakMap<Proxy, boolean>()

/** The proxy answers some requests itself: a stats page or an `http-request use-service` rule. */
function offersService (proxy: Proxy): boolean {
  let offers = servicesOffered.get(proxy)
  if (offers === undefined) {
    offers = proxy.stats.enabled === true || proxy.httpRules.some(r => r.action === 'use-service')
    servicesOffered.set(proxy, offers)
  }
  return offers
}

/** An `http-request use-service prometheus-exporter [if|unless COND]` of `proxy` applies to the request. */
function usesService (proxy: Proxy, sample: SampleSource): boolean {
  let rules = serviceRules.get(proxy)
  if (rules === undefined) {
    rules = proxy.httpRules.filter(r => r.action === 'use-service').map(r => compileCondition(r.cond, proxy.acls))
    serviceRules.set(proxy, rules)
  }
  return rules.some(p => p(sample))
}

/** httpclose and http-server-close both close the server connection after each response. */
function closesServerSide (fe: HttpFrontend, backend: Backend): boolean {
  const o = fe.config.options
  return httpOf(backend).closesServer || o.httpclose === true || o['http-server-close'] === true
}

/**
 * A 101 switches to a protocol the request offered (Connection: upgrade and Upgrade, as forwarded), never to h2c
 * (HTTP/2 is not relayed), and names only offered protocols in its own Upgrade.
 */
function upgradeGranted (req: RequestHead, res: ResponseHead): boolean {
  if (req.upgrade === undefined || !req.connection.upgrade) return false
  const offered = protocols(req.upgrade).filter(p => p !== 'h2c')
  const chosen = protocols(getHeaderValues(res, 'upgrade').join(','))
  return chosen.length > 0 && chosen.every(p => offered.includes(p))
}

function protocols (list: string): string[] {
  return list.split(',').map(p => p.trim().toLowerCase()).filter(p => p !== '')
}

/** A server's answer on the tracked counters: a 4xx is an HTTP error, a 5xx but 501 and 505 a failure (HAProxy). */
function countResponse (counters: StickCounters, status: number): void {
  if (status >= 400 && status < 500) counters.countHttpError(Date.now())
  else if (status >= 500 && status < 600 && status !== 501 && status !== 505) counters.countHttpFailure(Date.now())
}

function framerFor (head: RequestHead): BodyFramer | undefined {
  if (head.chunked) return new ChunkedFramer()
  if (head.contentLength > 0) return new LengthFramer(head.contentLength)
  return undefined
}
