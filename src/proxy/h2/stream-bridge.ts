/**
 * One HTTP/2 stream presented to the HTTP/1.1 session as a connection carrying one request: the session reads the
 * request as HTTP/1.1 bytes (head, then the DATA frames, chunked when no content-length was given) and writes its
 * HTTP/1.1 response, which goes out as HEADERS and DATA frames. Everything the HTTP/1.1 path does to an exchange
 * (rules, balancing, persistence, queueing, logs, counters) so applies to each stream unchanged.
 *
 * It implements only the part of net.Socket the session uses (events data/close/timeout/drain, write/end/destroy,
 * pause/resume, setTimeout, the addresses), without stream machinery: a write is handled at once.
 * @module
 */
import type { Socket } from 'node:net'
import { EventEmitter } from 'node:events'
import { constants, type ServerHttp2Stream } from 'node:http2'
import { parseResponseHead, type ResponseHead } from '../http/head.ts'
import { HttpParseError } from '../http/errors.ts'
import { LAST_CHUNK, type H2Request } from './request.ts'
import { ChunkedDecoder, toH2Fields, toH2RawFields } from './response.ts'

export interface Endpoints {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localAddress: string
  readonly localPort: number
  /** The connection when it came over TLS (ALPN h2): the stream's TLS facts are the connection's. */
  readonly tlsSocket?: Socket
}

const CRLF = Buffer.from('\r\n', 'latin1')

export class StreamBridge extends EventEmitter {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localAddress: string
  readonly localPort: number
  readonly tlsSocket: Socket | undefined
  /** Never true: the request side ends with the exchange (`connection: close`), not with a half-close. */
  readonly readableEnded = false
  destroyed = false
  private readonly stream: ServerHttp2Stream
  private readonly method: string
  private readonly maxHead: number
  private readonly chunked: boolean
  /** Request bytes not yet given to the session (it paused, or has not resumed yet). */
  private inbox: Buffer[] = []
  private paused = true
  private delivering = false
  private headBuf: Buffer | undefined
  private response: ResponseHead | undefined
  private decoder: ChunkedDecoder | undefined
  /** Body bytes still to come for a response with a content-length (-1: not known). */
  private remaining = -1
  private idleMs = 0
  /** The duration `idleTimer` was made with. */
  private timerMs = 0
  private idleTimer: NodeJS.Timeout | undefined
  /** The whole response went out. */
  complete = false
  /** This side cut the stream short (RST_STREAM sent by the proxy, not the client). */
  resetByUs = false

  constructor (stream: ServerHttp2Stream, req: H2Request, ends: Endpoints, maxHead: number) {
    super()
    this.stream = stream
    this.method = req.method
    this.maxHead = maxHead
    this.chunked = req.chunked
    this.remoteAddress = ends.remoteAddress
    this.remotePort = ends.remotePort
    this.localAddress = ends.localAddress
    this.localPort = ends.localPort
    this.tlsSocket = ends.tlsSocket
    this.inbox.push(req.head)
    // A request without a body (END_STREAM on its HEADERS) has nothing to read.
    if (!stream.endAfterHeaders) {
      stream.on('data', (data: Buffer) => {
        this.touch()
        this.receive(this.chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), data,
          CRLF]) : data)
      })
    }
    if (req.chunked) stream.once('end', () => { this.receive(LAST_CHUNK) })
    stream.on('error', () => {})
    stream.on('drain', () => { this.emit('drain') })
    stream.once('close', () => { this.destroy() })
  }

  private receive (data: Buffer): void {
    if (this.paused || this.inbox.length > 0) {
      this.inbox.push(data)
      this.stream.pause()
    } else this.emit('data', data)
  }

  pause (): this {
    this.paused = true
    return this
  }

  resume (): this {
    this.paused = false
    if (this.inbox.length > 0) {
      // As a socket: what was held back arrives on a later tick, never inside the caller.
      if (!this.delivering) {
        this.delivering = true
        process.nextTick(() => { this.deliver() })
      }
    } else if (this.stream.isPaused()) this.stream.resume()
    return this
  }

  private deliver (): void {
    this.delivering = false
    while (!this.paused && !this.destroyed && this.inbox.length > 0) this.emit('data', this.inbox.shift())
    if (!this.paused && this.inbox.length === 0 && this.stream.isPaused()) this.stream.resume()
  }

  /**
   * Net.Socket's idle timer: 'timeout' after `ms` without a byte either way; 0 stops it. The session sets it several
   * times per exchange, mostly to the same value: one timer is kept and re-armed (while stopped it may still fire, for
   * nothing), not one made per call.
   */
  setTimeout (ms: number): this {
    this.idleMs = ms
    if (ms <= 0 || this.destroyed) return this
    if (this.idleTimer !== undefined && this.timerMs === ms) {
      this.idleTimer.refresh()
      return this
    }
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    this.timerMs = ms
    this.idleTimer = setTimeout(() => { if (this.idleMs > 0 && !this.destroyed) this.emit('timeout') }, ms)
    return this
  }

  private touch (): void {
    if (this.idleMs > 0) this.idleTimer?.refresh()
  }

  cork (): void {}
  uncork (): void {}

  /** The session's HTTP/1.1 response bytes; false when the client's window is full ('drain' follows). */
  write (data: Buffer): boolean {
    if (this.destroyed) return false
    this.touch()
    let body = data
    if (this.response === undefined) {
      const buf = this.headBuf === undefined ? data : Buffer.concat([this.headBuf, data])
      let res: ResponseHead | null
      try {
        res = parseResponseHead(buf, this.maxHead, this.method)
      } catch (err) {
        if (!(err instanceof HttpParseError)) throw err
        this.destroy()
        return false
      }
      if (res === null) {
        this.headBuf = buf
        return true
      }
      this.headBuf = undefined
      body = buf.subarray(res.headLength)
      // Interim responses (100 Continue, 103) go out as their own HEADERS frame; 101 cannot happen (no upgrade).
      if (res.status < 200) {
        if (!this.stream.destroyed && !this.stream.headersSent) this.stream.additionalHeaders(toH2Fields(res))
        return body.length === 0 || this.write(body)
      }
      this.response = res
      if (res.bodyKind === 'chunked') this.decoder = new ChunkedDecoder()
      if (res.bodyKind === 'length') this.remaining = res.contentLength
      const empty = res.bodyKind === 'none' || this.remaining === 0
      if (!this.stream.destroyed) this.stream.respond(toH2RawFields(res), { endStream: empty })
      if (empty) this.complete = true
    }
    if (this.complete || body.length === 0) return true
    if (this.stream.destroyed) return false
    if (this.remaining >= 0) {
      this.remaining -= body.length
      // The last bytes go out with END_STREAM: one write fewer, and none left pending when the stream closes.
      if (this.remaining <= 0) {
        this.complete = true
        this.stream.end(body)
        return true
      }
      return this.stream.write(body)
    }
    let ok = true
    if (this.decoder === undefined) ok = this.stream.write(body)
    else {
      for (const p of this.decoder.push(body)) if (p.length > 0) ok = this.stream.write(p) && ok
      if (this.decoder.done) this.finish()
    }
    return ok
  }

  /** The session is done with the exchange: the response is whole (or there is none). */
  end (data?: Buffer): this {
    if (data !== undefined) this.write(data)
    if (this.response !== undefined) this.finish()
    this.destroy()
    return this
  }

  private finish (): void {
    if (this.complete && this.stream.writableEnded) return
    this.complete = true
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end()
  }

  destroy (): this {
    if (this.destroyed) return this
    this.destroyed = true
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    this.inbox = []
    // Cut short (server gone, timeout, error, an answer that never came): the client learns it from RST_STREAM.
    if (!this.complete && !this.stream.destroyed) {
      this.resetByUs = true
      this.stream.close(constants.NGHTTP2_INTERNAL_ERROR)
    }
    process.nextTick(() => { this.emit('close') })
    return this
  }
}
