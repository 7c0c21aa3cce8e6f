/**
 * Message-body framing without buffering or re-encoding (RFC 9112 §6, §7): a framer is fed the
 * bytes that follow a head, chunk after chunk as the socket delivers them, and says how many of
 * them belong to the body. The proxy forwards exactly those bytes unchanged; what is left over is
 * the next message (pipelining) or an error.
 * @module
 */
import { CR, DQUOTE, BACKSLASH, COLON, HEX, HT, LF, SEMI, SP, TOKEN, VALUE, LOWER } from './chars.ts'
import { HttpErrorCode as E, type HttpErrorCode, type HttpErrorStatus, HttpParseError } from './errors.ts'

/**
 * The answer to one `push`. A framer returns the same object every time (no allocation per
 * chunk): read it before the next push.
 */
export interface FramerResult {
  /** Bytes of `buf`, from `offset`, that belong to this body. */
  readonly consumed: number
  /** The body ended within them (or before: then `consumed` is 0). */
  readonly done: boolean
}

export interface BodyFramer {
  /** Feeds `buf` from `offset`; throws HttpParseError when the body framing is invalid. */
  push (buf: Buffer, offset: number): FramerResult
  readonly done: boolean
}

interface MutableResult {
  consumed: number
  done: boolean
}

/** A Content-Length body: the next `length` bytes. */
export class LengthFramer implements BodyFramer {
  private remaining: number
  private readonly result: MutableResult = { consumed: 0, done: false }

  constructor (length: number) {
    this.remaining = length
  }

  get done (): boolean {
    return this.remaining === 0
  }

  push (buf: Buffer, offset: number): FramerResult {
    const n = Math.min(this.remaining, buf.length - offset)
    this.remaining -= n
    this.result.consumed = n
    this.result.done = this.remaining === 0
    return this.result
  }
}

export interface ChunkedFramerOptions {
  /** Longest chunk-size line accepted, size + extensions, without CRLF. Default 4096. */
  maxChunkLine?: number
  /** Largest trailer section accepted, in bytes. Default 16384. */
  maxTrailerSize?: number
  /** Status carried by the errors: 400 for a request body (default), 502 for a response body. */
  errorStatus?: HttpErrorStatus
}

// States of the chunked-body machine.
const SIZE_FIRST = 0 // first hex digit of a chunk size
const SIZE = 1 // more hex digits
const SIZE_WS = 2 // BWS after the size, before ';' or CRLF
const EXT = 3 // chunk extensions, up to CR
const SIZE_LF = 4 // LF ending the size line
const DATA = 5 // chunk data
const DATA_CR = 6 // CR after chunk data
const DATA_LF = 7 // LF after chunk data
const TRAILER_START = 8 // start of a trailer line, or of the final empty line
const TRAILER_NAME = 9
const TRAILER_VALUE = 10
const TRAILER_LF = 11
const END_LF = 12 // LF of the final empty line
const DONE = 13

const MAX_SAFE = Number.MAX_SAFE_INTEGER
/** Trailer fields that would change framing or routing if a downstream merged them into the head (RFC 9110 §6.5.1). */
const FORBIDDEN_TRAILERS = ['content-length', 'transfer-encoding', 'host']

/**
 * A chunked body (RFC 9112 §7.1):
 * `*( chunk-size [ chunk-ext ] CRLF chunk-data CRLF ) "0" [ chunk-ext ] CRLF trailer-section CRLF`.
 *
 * Strict where implementations have disagreed (the TE.TE / chunk-size smuggling family): the size is
 * 1*HEXDIG with nothing before it (no sign, no "0x", no whitespace) and at most 2^53-1; only SP/HTAB
 * may follow it before ';' or CRLF; extensions are bounded, CTL-free, with balanced quotes (as
 * HAProxy); every line ends in CRLF; chunk data is followed by exactly CRLF; trailers obey the
 * header-line rules (no obs-fold, no whitespace before ':', no CTLs) and may not carry framing fields.
 */
export class ChunkedFramer implements BodyFramer {
  private state = SIZE_FIRST
  private size = 0
  private remaining = 0
  private line = 0
  private quote = false
  private escape = false
  private trailerBytes = 0
  private trailerName = ''
  /** Body bytes consumed so far (error offsets are relative to the body start). */
  private position = 0
  private readonly maxChunkLine: number
  private readonly maxTrailerSize: number
  private readonly errorStatus: HttpErrorStatus
  private readonly result: MutableResult = { consumed: 0, done: false }

  constructor (options: ChunkedFramerOptions = {}) {
    this.maxChunkLine = options.maxChunkLine ?? 4096
    this.maxTrailerSize = options.maxTrailerSize ?? 16384
    this.errorStatus = options.errorStatus ?? 400
  }

  get done (): boolean {
    return this.state === DONE
  }

  push (buf: Buffer, offset: number): FramerResult {
    const len = buf.length
    let p = offset
    let state = this.state
    while (p < len && state !== DONE) {
      if (state === DATA) {
        const n = Math.min(this.remaining, len - p)
        p += n
        this.remaining -= n
        if (this.remaining === 0) state = DATA_CR
        continue
      }
      const b = buf[p] as number
      switch (state) {
        case SIZE_FIRST: {
          const h = HEX[b] as number
          if (h < 0) this.fail(b === LF ? E.BARE_LF : E.CHUNK_SIZE_INVALID, 'invalid chunk size', p, offset)
          this.size = h
          this.line = 1
          state = SIZE
          break
        }
        case SIZE: {
          const h = HEX[b] as number
          if (h >= 0) {
            this.size = this.size * 16 + h
            if (this.size > MAX_SAFE) this.fail(E.CHUNK_SIZE_TOO_LARGE, 'chunk size above 2^53-1', p, offset)
          } else if (b === CR) {
            state = SIZE_LF
            break
          } else if (b === SP || b === HT) {
            state = SIZE_WS
          } else if (b === SEMI) {
            state = EXT
            this.quote = false
            this.escape = false
          } else {
            this.fail(b === LF ? E.BARE_LF : E.CHUNK_SIZE_INVALID, 'invalid chunk size', p, offset)
          }
          if (++this.line > this.maxChunkLine) this.fail(E.CHUNK_LINE_TOO_LONG, 'chunk size line too long', p, offset)
          break
        }
        case SIZE_WS:
          if (b === CR) {
            state = SIZE_LF
            break
          }
          if (b === SEMI) {
            state = EXT
            this.quote = false
            this.escape = false
          } else if (b !== SP && b !== HT) {
            this.fail(b === LF ? E.BARE_LF : E.CHUNK_SIZE_INVALID, 'invalid chunk size', p, offset)
          }
          if (++this.line > this.maxChunkLine) this.fail(E.CHUNK_LINE_TOO_LONG, 'chunk size line too long', p, offset)
          break
        case EXT:
          // As HAProxy's h1_parse_chunk_size: anything but CTLs (HTAB allowed), quotes balanced,
          // backslash only inside quotes; the first CTL ends the extensions and must be CRLF.
          if ((b >= 0x20 && b !== 0x7f) || b === HT) {
            if (this.escape) this.escape = false
            else if (b === BACKSLASH) {
              if (!this.quote) this.fail(E.CHUNK_EXT_INVALID, 'backslash outside a quoted chunk extension', p, offset)
              this.escape = true
            } else if (b === DQUOTE) this.quote = !this.quote
          } else {
            if (b === LF) this.fail(E.BARE_LF, 'LF without CR', p, offset)
            if (b !== CR || this.quote || this.escape) this.fail(E.CHUNK_EXT_INVALID, 'invalid chunk extension', p,
              offset)
            state = SIZE_LF
            break
          }
          if (++this.line > this.maxChunkLine) this.fail(E.CHUNK_LINE_TOO_LONG, 'chunk extensions too long', p, offset)
          break
        case SIZE_LF:
          if (b !== LF) this.fail(E.BARE_CR, 'CR not followed by LF', p, offset)
          if (this.size === 0) {
            state = TRAILER_START
            this.trailerBytes = 0
          } else {
            state = DATA
            this.remaining = this.size
          }
          break
        case DATA_CR:
          if (b !== CR) this.fail(E.CHUNK_DATA_CRLF, 'chunk data not followed by CRLF', p, offset)
          state = DATA_LF
          break
        case DATA_LF:
          if (b !== LF) this.fail(E.CHUNK_DATA_CRLF, 'chunk data not followed by CRLF', p, offset)
          state = SIZE_FIRST
          break
        case TRAILER_START:
          this.countTrailer(p, offset)
          if (b === CR) state = END_LF
          else if (TOKEN[b] === 1) {
            state = TRAILER_NAME
            this.trailerName = String.fromCharCode(LOWER[b] as number)
          } else if (b === COLON) this.fail(E.EMPTY_HEADER_NAME, 'empty trailer name', p, offset)
          else if (b === SP || b === HT) this.fail(E.OBS_FOLD, 'obsolete line folding in trailers', p, offset)
          else if (b === LF) this.fail(E.BARE_LF, 'LF without CR', p, offset)
          else this.fail(E.INVALID_HEADER_NAME, 'invalid character in trailer name', p, offset)
          break
        case TRAILER_NAME:
          this.countTrailer(p, offset)
          if (TOKEN[b] === 1) {
            if (this.trailerName.length <= 17) this.trailerName += String.fromCharCode(LOWER[b] as number)
          } else if (b === COLON) {
            if (FORBIDDEN_TRAILERS.includes(this.trailerName)) this.fail(E.TRAILER_FORBIDDEN,
              `${this.trailerName} in trailers`, p, offset)
            state = TRAILER_VALUE
          } else if (b === SP || b === HT) this.fail(E.WS_BEFORE_COLON, 'whitespace between trailer name and colon', p,
            offset)
          else if (b === LF) this.fail(E.BARE_LF, 'LF without CR', p, offset)
          else this.fail(E.INVALID_HEADER_NAME, 'invalid character in trailer name', p, offset)
          break
        case TRAILER_VALUE:
          this.countTrailer(p, offset)
          if (VALUE[b] === 1) break
          if (b === CR) state = TRAILER_LF
          else if (b === LF) this.fail(E.BARE_LF, 'LF without CR', p, offset)
          else if (b === 0) this.fail(E.NUL, 'NUL in trailer value', p, offset)
          else this.fail(E.INVALID_HEADER_VALUE, 'control character in trailer value', p, offset)
          break
        case TRAILER_LF:
          this.countTrailer(p, offset)
          if (b !== LF) this.fail(E.BARE_CR, 'CR not followed by LF', p, offset)
          state = TRAILER_START
          break
        case END_LF:
          if (b !== LF) this.fail(E.BARE_CR, 'CR not followed by LF', p, offset)
          state = DONE
          break
      }
      p++
    }
    this.state = state
    const consumed = p - offset
    this.position += consumed
    this.result.consumed = consumed
    this.result.done = state === DONE
    return this.result
  }

  private countTrailer (p: number, offset: number): void {
    if (++this.trailerBytes > this.maxTrailerSize) this.fail(E.TRAILERS_TOO_LARGE, 'trailer section too large', p,
      offset)
  }

  private fail (code: HttpErrorCode, reason: string, p: number, offset: number): never {
    throw new HttpParseError(this.errorStatus, code, reason, this.position + p - offset)
  }
}
