/**
 * One HTTP/2 stream presented to the HTTP/1.1 session as a connection carrying one request: the session reads the
 * request as HTTP/1.1 bytes (head, then the DATA frames, chunked when no content-length was given) and writes its
 * HTTP/1.1 response, which goes out as HEADERS and DATA frames. Everything the HTTP/1.1 path does to an exchange
 * (rules, balancing, persistence, queueing, logs, counters) so applies to each stream unchanged.
 * @module
 */
import { Duplex } from 'node:stream'
import { constants, type ServerHttp2Stream } from 'node:http2'
import { parseResponseHead, type ResponseHead } from '../http/head.ts'
import { HttpParseError } from '../http/errors.ts'
import { chunk, LAST_CHUNK, type H2Request } from './request.ts'
import { ChunkedDecoder, toH2Fields } from './response.ts'

export interface Endpoints {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localAddress: string
  readonly localPort: number
}

export class StreamBridge extends Duplex {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localAddress: string
  readonly localPort: number
  private readonly stream: ServerHttp2Stream
  private readonly method: string
  private readonly maxHead: number
  private headBuf: Buffer | undefined = Buffer.alloc(0)
  private response: ResponseHead | undefined
  private decoder: ChunkedDecoder | undefined
  private idleMs = 0
  private idleTimer: NodeJS.Timeout | undefined
  /** The response reached its end: the stream ended normally. */
  private finished = false
  /** This side cut the stream short (RST_STREAM sent by the proxy, not the client). */
  resetByUs = false

  constructor (stream: ServerHttp2Stream, req: H2Request, ends: Endpoints, maxHead: number) {
    super({ allowHalfOpen: true })
    this.stream = stream
    this.method = req.method
    this.maxHead = maxHead
    this.remoteAddress = ends.remoteAddress
    this.remotePort = ends.remotePort
    this.localAddress = ends.localAddress
    this.localPort = ends.localPort
    this.push(req.head)
    stream.on('data', (data: Buffer) => {
      this.touch()
      const ok = req.chunked ? chunk(data).map(b => this.push(b)).every(Boolean) : this.push(data)
      if (!ok) stream.pause()
    })
    if (req.chunked) stream.once('end', () => { this.push(LAST_CHUNK) })
    stream.on('error', () => {})
    stream.once('close', () => { if (!this.destroyed) this.destroy() })
  }

  /** The whole response went out. */
  get complete (): boolean {
    return this.finished
  }

  /** Net.Socket's idle timer: 'timeout' after `ms` without a byte either way; 0 stops it. */
  setTimeout (ms: number): this {
    this.idleMs = ms
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    this.idleTimer = ms > 0 ? setTimeout(() => { this.emit('timeout') }, ms) : undefined
    return this
  }

  private touch (): void {
    if (this.idleMs > 0) this.idleTimer?.refresh()
  }

  override _read (): void {
    if (this.stream.isPaused()) this.stream.resume()
  }

  override _write (data: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.touch()
    let body = data
    if (this.response === undefined) {
      const buf = (this.headBuf?.length ?? 0) === 0 ? data : Buffer.concat([this.headBuf as Buffer, data])
      let res: ResponseHead | null
      try {
        res = parseResponseHead(buf, this.maxHead, this.method)
      } catch (err) {
        cb(err instanceof HttpParseError ? err : new Error(String(err)))
        return
      }
      if (res === null) {
        this.headBuf = buf
        cb()
        return
      }
      body = buf.subarray(res.headLength)
      this.headBuf = undefined
      // Interim responses (100 Continue) are the HTTP/1.1 side's business: the client gets the final one only.
      if (res.status < 200) {
        this.headBuf = Buffer.alloc(0)
        if (body.length > 0) this._write(body, _enc, cb)
        else cb()
        return
      }
      this.response = res
      if (res.bodyKind === 'chunked') this.decoder = new ChunkedDecoder()
      const empty = res.bodyKind === 'none' || (res.bodyKind === 'length' && res.contentLength === 0)
      if (!this.stream.destroyed) this.stream.respond(toH2Fields(res), { endStream: empty })
      if (empty) this.finished = true
    }
    if (this.finished || body.length === 0) {
      cb()
      return
    }
    const parts = this.decoder === undefined ? [body] : this.decoder.push(body)
    let ok = true
    for (const p of parts) if (p.length > 0 && !this.stream.destroyed) ok = this.stream.write(p) && ok
    if (this.decoder?.done === true) this.endStream()
    if (ok || this.stream.destroyed) cb()
    else this.stream.once('drain', () => { cb() })
  }

  override _final (cb: (err?: Error | null) => void): void {
    // The session ends its side once the exchange is complete: the response is whole.
    if (this.response !== undefined) this.endStream()
    cb()
    this.destroy()
  }

  private endStream (): void {
    if (this.finished && this.stream.writableEnded) return
    this.finished = true
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end()
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    // Cut short (server gone, timeout, error, an answer that never came): the client learns it from RST_STREAM.
    if (!this.finished && !this.stream.destroyed) {
      this.resetByUs = true
      this.stream.close(constants.NGHTTP2_INTERNAL_ERROR)
    }
    cb(err)
  }
}
