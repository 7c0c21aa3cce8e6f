/**
 * An HTTP/2 client connection (h2c with prior knowledge on a `proto h2` bind; ALPN h2 once TLS is terminated):
 * nghttp2 (Node's http2) speaks the protocol on the accepted socket, each request stream becomes an HTTP/1.1 exchange
 * of the ordinary HTTP session (stream-bridge.ts). This module owns the connection: settings and limits, the
 * rapid-reset guard, the idle timeout and GOAWAY on reload.
 * @module
 */
import { constants, performServerHandshake, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2'
import type { Socket } from 'node:net'
import type { HttpFrontend } from '../frontend-context.ts'
import { socketAddresses, type ConnAddresses } from '../conn-addresses.ts'
import { startHttpSession } from '../http/session.ts'
import { H2RequestError } from './errors.ts'
import { toHttp1Request } from './request.ts'
import { ResetGuard } from './reset-guard.ts'
import { StreamBridge } from './stream-bridge.ts'

/** HAProxy 2.6's `tune.h2.*` (global), with its defaults. */
export interface H2Settings {
  readonly maxConcurrentStreams: number
  readonly initialWindowSize: number
  readonly headerTableSize: number
  readonly maxFrameSize: number
}

export const DEFAULT_H2_SETTINGS: H2Settings = { maxConcurrentStreams: 100, initialWindowSize: 65535,
  headerTableSize: 4096, maxFrameSize: 16384 }

/** Reads the `tune.h2.*` values of the global section (absent ones take HAProxy's defaults). */
export function h2Settings (tune: Readonly<Record<string, number>>): H2Settings {
  const d = DEFAULT_H2_SETTINGS
  return {
    maxConcurrentStreams: tune['tune.h2.max-concurrent-streams'] ?? d.maxConcurrentStreams,
    initialWindowSize: tune['tune.h2.initial-window-size'] ?? d.initialWindowSize,
    headerTableSize: tune['tune.h2.header-table-size'] ?? d.headerTableSize,
    maxFrameSize: tune['tune.h2.max-frame-size'] ?? d.maxFrameSize
  }
}

/** What the HTTP/2 side needs of the frontend besides what every HTTP session needs. */
export interface H2Frontend extends HttpFrontend {
  readonly h2: H2Settings
}

/**
 * The one entry point: `socket` speaks HTTP/2 (prior knowledge, or a TLSSocket whose ALPN chose h2); `addrs`: the
 * client's addresses (those of a PROXY protocol header with `accept-proxy`).
 */
export function serveH2 (socket: Socket, fe: H2Frontend, addrs = socketAddresses(socket)): void {
  new H2Connection(socket, fe, addrs).start()
}

class H2Connection {
  private readonly socket: Socket
  private readonly fe: H2Frontend
  private session: ServerHttp2Session | undefined
  private readonly guard = new ResetGuard(Date.now())
  private open = 0
  /** Streams served so far. */
  private streams = 0
  /** `sess.` variables: they live as long as the connection, as in HAProxy. */
  private readonly sessionVars = new Map<string, string>()
  private closing = false

  private readonly addrs: ConnAddresses

  constructor (socket: Socket, fe: H2Frontend, addrs: ConnAddresses) {
    this.socket = socket
    this.fe = fe
    this.addrs = addrs
  }

  start (): void {
    const s = this.fe.h2
    // The header list is bounded by tune.bufsize, as HAProxy bounds a head by its buffer.
    const session = performServerHandshake(this.socket, {
      settings: { maxConcurrentStreams: s.maxConcurrentStreams, initialWindowSize: s.initialWindowSize,
        headerTableSize: s.headerTableSize, maxFrameSize: s.maxFrameSize, maxHeaderListSize: this.fe.maxHead,
        enablePush: false },
      maxHeaderListPairs: 128,
      maxSessionInvalidFrames: 100,
      maxSessionRejectedStreams: 100
    })
    this.session = session
    session.on('error', () => {})
    this.socket.on('error', () => {})
    // The listener allows half-open connections (HTTP/1.1 needs them), HTTP/2 has no use for them: a client that closed
    // its side is gone, and the streams it left in progress are aborted (logged CH/CD), as HAProxy does.
    this.socket.once('end', () => { this.abort() })
    session.on('stream', (stream: ServerHttp2Stream, _h: unknown, _f: number, raw: string[]) => {
      this.onStream(stream, raw)
    })
    session.once('close', () => { if (!this.socket.destroyed) this.socket.destroy() })
    session.on('timeout', () => { if (this.open === 0) this.goaway() })
    const unregister = this.fe.onDrain(() => { this.goaway() })
    this.socket.once('close', unregister)
    if (this.fe.draining) this.goaway()
    this.armIdle()
    // Bytes already read (after a PROXY header) are handed to nghttp2 by Node on the next tick; reading starts after.
    process.nextTick(() => { if (!this.socket.destroyed) this.socket.resume() })
  }

  /** No stream in progress: `timeout http-keep-alive` (else `timeout client`) closes the connection with GOAWAY. */
  private armIdle (): void {
    const t = this.fe.timeouts
    const ms = this.open === 0 ? t.httpKeepAlive ?? t.client ?? 0 : 0
    this.session?.setTimeout(ms)
  }

  /** Graceful close: GOAWAY, the streams in progress finish, then the connection closes. */
  private goaway (): void {
    if (this.closing) return
    this.closing = true
    const session = this.session
    if (session === undefined || session.destroyed) return
    session.close(() => { if (!this.socket.destroyed) this.socket.end() })
  }

  private onStream (stream: ServerHttp2Stream, raw: string[]): void {
    let weReset = false
    const made: { bridge?: StreamBridge } = {}
    this.open++
    this.armIdle()
    stream.once('close', () => {
      this.open--
      // A reset by the client of a stream whose response was not yet whole (one the proxy did not reset itself).
      const fromClient = !weReset && made.bridge?.resetByUs !== true && made.bridge?.complete !== true &&
        stream.rstCode !== constants.NGHTTP2_NO_ERROR
      if (fromClient && !this.guard.reset(Date.now())) this.calm()
      if (this.open === 0 && !this.closing) this.armIdle()
    })
    let req
    try {
      req = toHttp1Request(raw, stream.endAfterHeaders)
    } catch (err) {
      if (!(err instanceof H2RequestError)) throw err
      this.fe.logTraffic(`${this.addrs.src}:${this.addrs.srcPort} rejected HTTP/2 ` +
        `request: ${err.code}: ${err.message}`)
      weReset = true
      if (err.status !== undefined) {
        stream.respond({ ':status': err.status }, { endStream: true })
      } else {
        stream.close(constants.NGHTTP2_PROTOCOL_ERROR)
      }
      return
    }
    const a = this.addrs
    const bridge = new StreamBridge(stream, req, { remoteAddress: a.src, remotePort: a.srcPort, localAddress: a.dst,
      localPort: a.dstPort, tlsSocket: this.socket }, this.fe.maxHead)
    made.bridge = bridge
    startHttpSession(bridge as unknown as Socket, this.fe, this.addrs, { version: 'HTTP/2.0',
      laterRequest: this.streams++ > 0, sessionVars: this.sessionVars })
  }

  private abort (): void {
    this.closing = true
    if (this.session !== undefined && !this.session.destroyed) this.session.destroy()
    if (!this.socket.destroyed) this.socket.destroy()
  }

  /** Too many streams reset by the client: GOAWAY ENHANCE_YOUR_CALM, then the connection is closed. */
  private calm (): void {
    const session = this.session
    if (session === undefined || session.destroyed) return
    this.fe.logTraffic(`${this.addrs.src}:${this.addrs.srcPort} HTTP/2 connection closed: ` +
      'too many streams reset by the client (rapid reset)')
    this.closing = true
    session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM)
    setImmediate(() => { session.destroy() })
  }
}
