/**
 * HTTP/1.1 message-head parsing (RFC 9112 §2–§6, RFC 9110): bytes in, values out, no I/O.
 *
 * The parser works on the Buffer the socket delivered: it finds the end of the head with one native
 * search, then walks the bytes once with lookup tables, allocating only the strings it returns.
 * It is deliberately strict — everything that lets two HTTP implementations disagree about where a
 * message ends (request smuggling, response splitting) is an error, never "repaired" in place.
 * @module
 */
import { Buffer } from 'node:buffer'
import { bytesEqualLower, COLON, COMMA, CR, HASH, HOST, HOST_IP_LITERAL, HT, latin1, LF, LOWER, REASON, SCHEME, SP,
  stringEqualLower, TARGET, TOKEN, VALUE } from './chars.ts'
import { HttpErrorCode as E, type HttpErrorCode, type HttpErrorStatus, HttpParseError } from './errors.ts'

/** Tokens of the Connection header that the proxy acts on (RFC 9112 §9.3, §9.6; RFC 9110 §7.8). */
export interface ConnectionOptions {
  close: boolean
  keepAlive: boolean
  upgrade: boolean
}

/** What request and response heads have in common. */
export interface HttpHead {
  versionMinor: 0 | 1
  /** Flat `[name, value, name, value, ...]`: names as received, values without surrounding OWS (latin1). */
  headers: string[]
  /** Bytes of the input this head occupies, including leading empty lines and the final CRLFCRLF. */
  headLength: number
  /** The (single, validated) Content-Length, or -1 when absent. */
  contentLength: number
  /** Transfer-Encoding present with chunked as the final coding. */
  chunked: boolean
  connection: ConnectionOptions
  /** Other Connection options, lower-cased: hop-by-hop header names the serializer drops. */
  connectionTokens: string[] | undefined
  /** The head as received (start line to final CRLFCRLF), a view into the parsed buffer. */
  raw: Buffer
  /** False when `headers` was normalized (duplicate Content-Length merged, ...) and no longer matches `raw`. */
  rawExact: boolean
  /**
   * Offsets in `raw` where each header line starts (entry i for field i), then where the final
   * empty line starts; the serializer copies kept lines from `raw` by these. Meaningful only when
   * `rawExact`.
   */
  lineOffsets: number[]
}

export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk'

export interface RequestHead extends HttpHead {
  method: string
  target: string
  targetForm: TargetForm
  /** Upgrade header value (all lines joined with ", "), when present. */
  upgrade: string | undefined
  /** `Expect: 100-continue` on an HTTP/1.1 request. */
  expectContinue: boolean
  /** Host header value; for an absolute-form target without Host (HTTP/1.0), its authority. */
  host: string | undefined
}

/**
 * How the response body is delimited (RFC 9112 §6.3): `tunnel` is a 2xx answer to CONNECT — from
 * there on both directions are raw bytes until either side closes.
 */
export type BodyKind = 'none' | 'length' | 'chunked' | 'until-close' | 'tunnel'

export interface ResponseHead extends HttpHead {
  status: number
  reason: string
  bodyKind: BodyKind
}

export interface HeadParseOptions {
  /** Header fields accepted (beyond: 431 for a request, 502 for a response). Default 100. */
  maxHeaders?: number
  /**
   * Resume hint: the first `searchFrom` bytes of `buf` were already given to a parse of the same
   * head that returned null, so they are not scanned again (linear cost for a head that arrives
   * in many small pieces). Pass the previous buffer length; 0 or absent scans everything.
   * A wrong hint cannot make a bad head pass — the full parse checks every byte — it can only
   * make the parser miss the end of the head.
   */
  searchFrom?: number
}

const NO_OPTIONS: HeadParseOptions = {}

/** Empty lines (CRLF) tolerated before a start line (RFC 9112 §2.2 asks for at least one). */
export const MAX_LEADING_EMPTY_LINES = 4
/** Header fields per head (HAProxy: tune.http.maxhdr, 101). */
export const DEFAULT_MAX_HEADERS = 100

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1')
const MAX_SAFE = Number.MAX_SAFE_INTEGER

function fail (status: HttpErrorStatus, code: HttpErrorCode, reason: string, offset: number): never {
  throw new HttpParseError(status, code, reason, offset)
}

/** Per-parse scratch state, reused (the parser is synchronous and not re-entrant). */
class Scan {
  isResponse = false
  err: HttpErrorStatus = 400
  cl = -1
  clHeaders = 0
  clRewrite = false
  te = false
  teChunked = false
  teLastChunked = false
  teUnknown = false
  hostCount = 0
  host: string | undefined = undefined
  close = false
  keepAlive = false
  upgradeToken = false
  connTokens: string[] | undefined = undefined
  upgrade: string | undefined = undefined
  expect = false

  reset (isResponse: boolean): void {
    this.isResponse = isResponse
    this.err = isResponse ? 502 : 400
    this.cl = -1
    this.clHeaders = 0
    this.clRewrite = false
    this.te = false
    this.teChunked = false
    this.teLastChunked = false
    this.teUnknown = false
    this.hostCount = 0
    this.host = undefined
    this.close = false
    this.keepAlive = false
    this.upgradeToken = false
    this.connTokens = undefined
    this.upgrade = undefined
    this.expect = false
  }
}

const scan = new Scan()
/** Offset of the start line (after leading empty lines), set by locateHead. */
let startLine = 0
/**
 * The head decoded once (latin1, one native call); names and values are substrings of it, which
 * V8 makes without crossing into C++ again. `strBase` is the buffer offset of `str[0]`.
 */
let str = ''
let strBase = 0

function sub (s: number, e: number): string {
  return str.slice(s - strBase, e - strBase)
}

/**
 * Finds the end of the head. Returns the offset just past CRLFCRLF, or -1 when more bytes are
 * needed. Throws when the bytes so far can never become a valid head, or exceed `maxHeadSize`.
 */
function locateHead (buf: Buffer, maxHeadSize: number, isResponse: boolean, searchFrom: number): number {
  const len = buf.length
  const err: HttpErrorStatus = isResponse ? 502 : 400
  let start = 0
  let empties = 0
  while (start < len) {
    const b = buf[start]
    if (b === CR) {
      if (start + 1 >= len) {
        startLine = start
        return -1 // an empty line still arriving
      }
      if (buf[start + 1] !== LF) fail(err, E.BARE_CR, 'CR not followed by LF', start)
      start += 2
      if (++empties > MAX_LEADING_EMPTY_LINES) fail(err, E.TOO_MANY_EMPTY_LINES,
        'too many empty lines before the start line', start)
      continue
    }
    if (b === LF) fail(err, E.BARE_LF, 'LF without CR', start)
    break
  }
  startLine = start
  const idx = start < len ? buf.indexOf(CRLFCRLF, Math.max(start, searchFrom - 3)) : -1
  if (idx !== -1) {
    const end = idx + 4
    if (end > maxHeadSize) tooLarge(buf, start, maxHeadSize, isResponse)
    return end
  }
  if (len > maxHeadSize) tooLarge(buf, start, maxHeadSize, isResponse)
  checkPartial(buf, start, isResponse, searchFrom)
  return -1
}

function tooLarge (buf: Buffer, start: number, maxHeadSize: number, isResponse: boolean): never {
  if (isResponse) fail(502, E.HEAD_TOO_LARGE, `response head larger than ${maxHeadSize} bytes`, maxHeadSize)
  const eol = buf.indexOf(LF, start)
  if (eol === -1 || eol >= maxHeadSize) fail(414, E.URI_TOO_LONG, `request line longer than ${maxHeadSize} bytes`,
    start)
  fail(431, E.HEAD_TOO_LARGE, `request head larger than ${maxHeadSize} bytes`, maxHeadSize)
}

/**
 * Fails fast on an incomplete head that can never become valid, instead of waiting for a
 * terminator that a bare-LF or binary client will never send: every LF must follow a CR, every CR
 * precede an LF, and the start line must begin with a method token (or `HTTP/`). Only the new
 * bytes (after `searchFrom`) — or without a hint the last PARTIAL_WINDOW bytes — and the first
 * bytes of the start line are looked at; the full parse, once the head is complete, checks it all.
 */
function checkPartial (buf: Buffer, start: number, isResponse: boolean, searchFrom: number): void {
  const len = buf.length
  const err: HttpErrorStatus = isResponse ? 502 : 400
  let prev = -1
  const from = searchFrom > 0 ? Math.max(start, searchFrom - 1) : Math.max(start, len - PARTIAL_WINDOW)
  for (let i = from; i < len; i++) {
    const b = buf[i]
    if (b === LF) {
      if (prev !== CR && buf[i - 1] !== CR) fail(err, E.BARE_LF, 'LF without CR', i)
    } else if (prev === CR) {
      fail(err, E.BARE_CR, 'CR not followed by LF', i - 1)
    }
    prev = b as number
  }
  if (isResponse) {
    const n = Math.min(5, len - start)
    for (let k = 0; k < n; k++) {
      if (buf[start + k] !== HTTP_SLASH[k]) fail(502, E.INVALID_VERSION, 'response does not start with HTTP/',
        start + k)
    }
    return
  }
  const end = Math.min(len, start + 32)
  let p = start
  while (p < end && TOKEN[buf[p] as number] === 1) p++
  if (p < end && (buf[p] !== SP || p === start)) fail(400, E.INVALID_METHOD, 'invalid character in method', p)
}

/** How far back from the end an incomplete head is checked for bad line endings. */
const PARTIAL_WINDOW = 256
const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f]

/**
 * Parses `HTTP/d.d` at `p` (RFC 9112 §2.3: case-sensitive, one digit each); returns the minor
 * version. Any other major, or a minor above 1, is 505 on a request (502 on a response).
 */
function parseVersion (buf: Buffer, p: number, err: HttpErrorStatus): 0 | 1 {
  for (let k = 0; k < 5; k++) {
    if (buf[p + k] !== HTTP_SLASH[k]) fail(err, E.INVALID_VERSION, 'invalid HTTP version', p + k)
  }
  const major = (buf[p + 5] as number) - 0x30
  const minor = (buf[p + 7] as number) - 0x30
  if (!(major >= 0 && major <= 9) || buf[p + 6] !== 0x2e || !(minor >= 0 && minor <= 9)) fail(err, E.INVALID_VERSION,
    'invalid HTTP version', p)
  if (major !== 1 || minor > 1) fail(err === 400 ? 505 : err, E.VERSION_NOT_SUPPORTED,
    `HTTP/${major}.${minor} not supported`, p)
  return minor as 0 | 1
}

function methodString (buf: Buffer, s: number, e: number): string {
  const c = buf[s]
  switch (e - s) {
    case 3:
      if (c === 0x47 && buf[s + 1] === 0x45 && buf[s + 2] === 0x54) return 'GET'
      if (c === 0x50 && buf[s + 1] === 0x55 && buf[s + 2] === 0x54) return 'PUT'
      break
    case 4:
      if (c === 0x50 && buf[s + 1] === 0x4f && buf[s + 2] === 0x53 && buf[s + 3] === 0x54) return 'POST'
      if (c === 0x48 && buf[s + 1] === 0x45 && buf[s + 2] === 0x41 && buf[s + 3] === 0x44) return 'HEAD'
      break
  }
  return sub(s, e)
}

/**
 * Walks the header lines from `p` (the first byte after the start line) to `headEnd`. Fills `scan`
 * and returns the flat header list.
 */
function parseHeaderLines (buf: Buffer, p: number, headEnd: number, maxHeaders: number, lines: number[]): string[] {
  const err = scan.err
  const headers: string[] = []
  const isResponse = scan.isResponse
  let b = buf[p]
  if (b === SP || b === HT) fail(err, E.WS_AFTER_START_LINE, 'whitespace between start line and first header', p)
  for (;;) {
    const ns = p
    b = buf[p]
    if (b === CR) break // the empty line: locateHead guarantees it is CRLF at headEnd - 2
    while (TOKEN[b as number] === 1) b = buf[++p]
    if (b !== COLON) badName(buf, ns, p, err)
    if (p === ns) fail(err, E.EMPTY_HEADER_NAME, 'empty header name', p)
    const ne = p
    b = buf[++p]
    while (b === SP || b === HT) b = buf[++p]
    const vs = p
    while (VALUE[b as number] === 1) b = buf[++p]
    if (b !== CR) badValue(buf, p, err)
    if (buf[p + 1] !== LF) fail(err, E.BARE_CR, 'CR not followed by LF', p)
    let ve = p
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--
    p += 2
    b = buf[p]
    if (b === SP || b === HT) fail(err, E.OBS_FOLD, 'obsolete line folding', p)
    if (headers.length >= maxHeaders * 2) fail(isResponse ? 502 : 431, E.TOO_MANY_HEADERS,
      `more than ${maxHeaders} header fields`, ns)
    headers.push(sub(ns, ne), vs === ve ? '' : sub(vs, ve))
    lines.push(ns - strBase)
    inspectHeader(buf, ns, ne, vs, ve, headers)
  }
  if (p + 2 !== headEnd) fail(err, E.BARE_CR, 'malformed end of head', p)
  lines.push(p - strBase)
  return headers
}

function badName (buf: Buffer, ns: number, p: number, err: HttpErrorStatus): never {
  const b = buf[p]
  if (b === COLON && p === ns) fail(err, E.EMPTY_HEADER_NAME, 'empty header name', p)
  if (b === SP || b === HT) fail(err, E.WS_BEFORE_COLON, 'whitespace between header name and colon', p)
  if (b === LF) fail(err, E.BARE_LF, 'LF without CR', p)
  if (b === 0) fail(err, E.NUL, 'NUL in header name', p)
  if (b === CR) fail(err, E.INVALID_HEADER_NAME, 'header line without colon', p)
  fail(err, E.INVALID_HEADER_NAME, 'invalid character in header name', p)
}

function badValue (buf: Buffer, p: number, err: HttpErrorStatus): never {
  const b = buf[p]
  if (b === LF) fail(err, E.BARE_LF, 'LF without CR', p)
  if (b === 0) fail(err, E.NUL, 'NUL in header value', p)
  fail(err, E.INVALID_HEADER_VALUE, 'control character in header value', p)
}

/** Looks at the headers that matter for framing and routing; others cost one length switch. */
function inspectHeader (buf: Buffer, ns: number, ne: number, vs: number, ve: number, headers: string[]): void {
  switch (ne - ns) {
    case 4:
      if (!scan.isResponse && bytesEqualLower(buf, ns, ne, 'host')) {
        scan.hostCount++
        scan.host = headers[headers.length - 1]
      }
      return
    case 6:
      if (!scan.isResponse && bytesEqualLower(buf, ns, ne, 'expect') && bytesEqualLower(buf, vs, ve,
        '100-continue')) scan.expect = true
      return
    case 7:
      if (!scan.isResponse && bytesEqualLower(buf, ns, ne, 'upgrade')) {
        const v = headers[headers.length - 1] as string
        scan.upgrade = scan.upgrade === undefined ? v : `${scan.upgrade}, ${v}`
      }
      return
    case 10:
      if (bytesEqualLower(buf, ns, ne, 'connection')) parseConnection(buf, vs, ve)
      return
    case 14:
      if (bytesEqualLower(buf, ns, ne, 'content-length')) parseContentLength(buf, vs, ve)
      else if (bytesEqualLower(buf, ns, ne, 'content_length')) ambiguous(ns)
      return
    case 17:
      if (bytesEqualLower(buf, ns, ne, 'transfer-encoding')) parseTransferEncoding(buf, vs, ve)
      else if (bytesEqualLower(buf, ns, ne, 'transfer_encoding')) ambiguous(ns)
  }
}

/**
 * `Content_Length` / `Transfer_Encoding` are valid tokens but not the framing fields — except to
 * back ends that map '_' and '-' together (CGI-style environments): forwarding one next to the
 * framing the proxy used would let the two disagree. Refused (nginx drops such names by default).
 */
function ambiguous (ns: number): never {
  fail(scan.err, E.AMBIGUOUS_HEADER_NAME, 'framing header name spelled with an underscore', ns)
}

/**
 * Content-Length = 1*DIGIT, possibly as a list or repeated (RFC 9110 §8.6): as HAProxy, identical
 * values are merged into one, different ones are an error; values above 2^53-1 are refused.
 */
function parseContentLength (buf: Buffer, vs: number, ve: number): void {
  const err = scan.err
  scan.clHeaders++
  if (scan.clHeaders > 1) scan.clRewrite = true
  if (vs === ve) fail(err, E.INVALID_CONTENT_LENGTH, 'empty Content-Length', vs)
  let p = vs
  for (;;) {
    while (p < ve && (buf[p] === SP || buf[p] === HT)) p++
    const ds = p
    let n = 0
    while (p < ve) {
      const d = (buf[p] as number) - 0x30
      if (d < 0 || d > 9) break
      n = n * 10 + d
      if (n > MAX_SAFE) fail(err, E.CONTENT_LENGTH_TOO_LARGE, 'Content-Length above 2^53-1', ds)
      p++
    }
    if (p === ds) fail(err, E.INVALID_CONTENT_LENGTH, 'invalid Content-Length', p)
    if (p - ds > 1 && buf[ds] === 0x30) scan.clRewrite = true
    while (p < ve && (buf[p] === SP || buf[p] === HT)) p++
    if (p < ve && buf[p] !== COMMA) fail(err, E.INVALID_CONTENT_LENGTH, 'invalid Content-Length', p)
    if (scan.cl !== -1) {
      if (n !== scan.cl) fail(err, E.CONTENT_LENGTH_CONFLICT, 'different Content-Length values', ds)
      scan.clRewrite = true
    }
    scan.cl = n
    if (p >= ve) return
    p++
  }
}

/** Codings a request may carry before the final chunked (RFC 9110 §8.4.1, IANA registry). */
const KNOWN_CODINGS = ['gzip', 'deflate', 'compress', 'x-gzip', 'x-compress']

/**
 * Transfer-Encoding = #transfer-coding, all lines of it taken as one list (RFC 9112 §6.1). Each
 * element must be a bare token (no parameters, no empty elements — as HAProxy); chunked may appear
 * once; in a request it must be last (checked at the end, across lines).
 */
function parseTransferEncoding (buf: Buffer, vs: number, ve: number): void {
  const err = scan.err
  scan.te = true
  if (vs === ve) fail(err, E.TE_INVALID, 'empty Transfer-Encoding', vs)
  let p = vs
  for (;;) {
    while (p < ve && (buf[p] === SP || buf[p] === HT)) p++
    const es = p
    while (p < ve && TOKEN[buf[p] as number] === 1) p++
    const ee = p
    while (p < ve && (buf[p] === SP || buf[p] === HT)) p++
    if (p < ve && buf[p] !== COMMA) fail(err, E.TE_INVALID, 'invalid transfer coding', p)
    if (ee === es) fail(err, E.TE_INVALID, 'empty transfer coding', es)
    if (bytesEqualLower(buf, es, ee, 'chunked')) {
      if (scan.teChunked) fail(err, E.TE_CHUNKED_TWICE, 'chunked applied more than once', es)
      scan.teChunked = true
      scan.teLastChunked = true
    } else {
      if (scan.teChunked && !scan.isResponse) fail(400, E.TE_NOT_CHUNKED, 'chunked is not the final transfer coding',
        es)
      scan.teLastChunked = false
      let known = false
      for (const c of KNOWN_CODINGS) {
        if (bytesEqualLower(buf, es, ee, c)) {
          known = true
          break
        }
      }
      if (!known) scan.teUnknown = true
    }
    if (p >= ve) return
    p++
  }
}

/** Connection = #connection-option (RFC 9110 §7.6.1); empty elements are ignored. */
function parseConnection (buf: Buffer, vs: number, ve: number): void {
  let p = vs
  while (p < ve) {
    while (p < ve && (buf[p] === SP || buf[p] === HT || buf[p] === COMMA)) p++
    const es = p
    while (p < ve && buf[p] !== COMMA) p++
    let ee = p
    while (ee > es && (buf[ee - 1] === SP || buf[ee - 1] === HT)) ee--
    if (ee === es) continue
    if (bytesEqualLower(buf, es, ee, 'close')) scan.close = true
    else if (bytesEqualLower(buf, es, ee, 'keep-alive')) scan.keepAlive = true
    else if (bytesEqualLower(buf, es, ee, 'upgrade')) scan.upgradeToken = true
    else (scan.connTokens ??= []).push(sub(es, ee).toLowerCase())
  }
}

/** Drops repeated Content-Length fields and rewrites the first one to the plain decimal value. */
function normalizeContentLength (headers: string[], keep: boolean): void {
  let seen = false
  let w = 0
  for (let r = 0; r < headers.length; r += 2) {
    const name = headers[r] as string
    if (stringEqualLower(name, 'content-length')) {
      if (!keep || seen) continue
      seen = true
      headers[w++] = name
      headers[w++] = String(scan.cl)
      continue
    }
    headers[w++] = name
    headers[w++] = headers[r + 1] as string
  }
  headers.length = w
}

/**
 * Parses a request head at the start of `buf`.
 *
 * @returns the head, or `null` when `buf` holds an incomplete head still within `maxHeadSize`.
 * @throws HttpParseError (400, 414, 431, 501, 505) when the request must be refused.
 */
export function parseRequestHead (buf: Buffer, maxHeadSize: number,
  options: HeadParseOptions = NO_OPTIONS): RequestHead | null {
  const headEnd = locateHead(buf, maxHeadSize, false, Math.min(options.searchFrom ?? 0, buf.length))
  if (headEnd === -1) return null
  const start = startLine
  scan.reset(false)
  str = latin1(buf, start, headEnd)
  strBase = start

  // request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3)
  let p = start
  let b = buf[p]
  while (TOKEN[b as number] === 1) b = buf[++p]
  if (b !== SP || p === start) {
    if (b === LF) fail(400, E.BARE_LF, 'LF without CR', p)
    if (b === 0) fail(400, E.NUL, 'NUL in method', p)
    fail(400, E.INVALID_METHOD, p === start ? 'empty method' : 'invalid character in method', p)
  }
  const method = methodString(buf, start, p)
  const ts = ++p
  b = buf[p]
  while (TARGET[b as number] === 1) b = buf[++p]
  if (b !== SP || p === ts) {
    if (b === CR && p > ts) fail(400, E.INVALID_VERSION, 'missing HTTP version (HTTP/0.9 request)', p)
    if (b === LF) fail(400, E.BARE_LF, 'LF without CR', p)
    if (b === 0) fail(400, E.NUL, 'NUL in request target', p)
    if (b === HASH) fail(400, E.INVALID_TARGET, "fragment ('#') in request target", p)
    fail(400, E.INVALID_TARGET, p === ts ? 'empty request target' : 'invalid character in request target', p)
  }
  const te = p++
  const versionMinor = parseVersion(buf, p, 400)
  p += 8
  if (buf[p] !== CR) {
    if (buf[p] === LF) fail(400, E.BARE_LF, 'LF without CR', p)
    fail(400, E.INVALID_VERSION, 'junk after HTTP version', p)
  }
  if (buf[p + 1] !== LF) fail(400, E.BARE_CR, 'CR not followed by LF', p)
  const target = sub(ts, te)
  const form = targetForm(buf, ts, te, method)

  const lines: number[] = []
  const headers = parseHeaderLines(buf, p + 2, headEnd, options.maxHeaders ?? DEFAULT_MAX_HEADERS, lines)

  // Framing (RFC 9112 §6.1–§6.3), stricter than HAProxy where HAProxy repairs: both CL and TE,
  // or TE in HTTP/1.0, are refused rather than forwarded with CL removed.
  if (scan.te) {
    if (scan.cl !== -1) fail(400, E.CL_AND_TE, 'both Content-Length and Transfer-Encoding', start)
    if (versionMinor === 0) fail(400, E.TE_HTTP10, 'Transfer-Encoding in an HTTP/1.0 request', start)
    if (!scan.teLastChunked) fail(400, E.TE_NOT_CHUNKED, 'chunked is not the final transfer coding', start)
    if (scan.teUnknown) fail(501, E.TE_UNSUPPORTED, 'unsupported transfer coding', start)
  }
  if (method === 'CONNECT' && (scan.te || scan.cl > 0)) fail(400, E.CONNECT_BODY, 'CONNECT request with a body', start)

  // Host (RFC 9112 §3.2): exactly one on HTTP/1.1, a valid authority, matching an absolute target.
  let host = scan.host
  if (scan.hostCount > 1) fail(400, E.MULTIPLE_HOST, 'more than one Host header', start)
  if (host === undefined) {
    if (versionMinor === 1) fail(400, E.MISSING_HOST, 'HTTP/1.1 request without Host', start)
    if (form === 'absolute' || form === 'authority') host = authorityOf(target, form)
  } else {
    if (host !== '' && !isValidAuthority(host, false)) fail(400, E.INVALID_HOST, 'invalid Host header', start)
    if (form === 'absolute' || form === 'authority') {
      if (!hostMatches(authorityOf(target, form), host, schemeOf(target, form))) fail(400, E.HOST_MISMATCH,
        'Host does not match the request target authority', start)
    }
  }

  const rawExact = !scan.clRewrite
  if (!rawExact) normalizeContentLength(headers, true)
  return {
    method,
    target,
    targetForm: form,
    versionMinor,
    headers,
    headLength: headEnd,
    contentLength: scan.cl,
    chunked: scan.te,
    connection: { close: scan.close, keepAlive: scan.keepAlive, upgrade: scan.upgradeToken },
    connectionTokens: scan.connTokens,
    upgrade: scan.upgrade,
    expectContinue: scan.expect && versionMinor === 1,
    host,
    raw: buf.subarray(start, headEnd),
    rawExact,
    lineOffsets: lines
  }
}

/**
 * request-target forms (RFC 9112 §3.2), as HAProxy 3.0 checks them: origin-form for everything but
 * CONNECT; absolute-form (scheme "://" authority) for everything but CONNECT; authority-form
 * (host:port) for CONNECT only; asterisk-form (exactly "*") for OPTIONS only.
 */
function targetForm (buf: Buffer, ts: number, te: number, method: string): TargetForm {
  const first = buf[ts]
  const connect = method === 'CONNECT'
  if (first === 0x2f) {
    if (connect) fail(400, E.INVALID_TARGET, 'CONNECT needs an authority-form target', ts)
    return 'origin'
  }
  if (first === 0x2a) {
    if (te - ts !== 1 || method !== 'OPTIONS') fail(400, E.INVALID_TARGET, 'asterisk-form is only for OPTIONS', ts)
    return 'asterisk'
  }
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://"
  let p = ts
  const lc = LOWER[first as number] as number
  if (lc >= 0x61 && lc <= 0x7a) {
    p++
    while (p < te && SCHEME[buf[p] as number] === 1) p++
    if (p + 2 < te && buf[p] === COLON && buf[p + 1] === 0x2f && buf[p + 2] === 0x2f) {
      if (connect) fail(400, E.INVALID_TARGET, 'CONNECT needs an authority-form target', ts)
      const as = p + 3
      let ae = as
      while (ae < te && buf[ae] !== 0x2f && buf[ae] !== 0x3f && buf[ae] !== 0x23) ae++
      if (ae === as || !isValidAuthority(sub(as, ae), false)) fail(400, E.INVALID_TARGET,
        'invalid authority in absolute-form target', as)
      return 'absolute'
    }
  }
  if (!connect) fail(400, E.INVALID_TARGET, 'request target is not origin-form or absolute-form', ts)
  if (!isValidAuthority(sub(ts, te), true)) fail(400, E.INVALID_TARGET, 'invalid authority-form target', ts)
  return 'authority'
}

/**
 * authority = host [ ":" port ] with host = IP-literal / IPv4address / reg-name (RFC 3986 §3.2),
 * no userinfo (RFC 9110 §4.2.4), no ',' (HAProxy). `requirePort` for CONNECT's authority-form.
 */
export function isValidAuthority (s: string, requirePort: boolean): boolean {
  const len = s.length
  if (len === 0) return false
  let p = 0
  if (s.charCodeAt(0) === 0x5b) {
    p = 1
    while (p < len && s.charCodeAt(p) !== 0x5d) {
      const c = s.charCodeAt(p)
      if (c > 0xff || HOST_IP_LITERAL[c] !== 1) return false
      p++
    }
    if (p >= len || p === 1) return false
    p++
  } else {
    while (p < len && s.charCodeAt(p) !== COLON) {
      const c = s.charCodeAt(p)
      if (c > 0xff || HOST[c] !== 1) return false
      p++
    }
    if (p === 0) return false
  }
  if (p === len) return !requirePort
  if (s.charCodeAt(p) !== COLON) return false
  p++
  if (requirePort && p === len) return false
  for (; p < len; p++) {
    const c = s.charCodeAt(p)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

function authorityOf (target: string, form: TargetForm): string {
  if (form === 'authority') return target
  const as = target.indexOf('://') + 3
  let ae = as
  while (ae < target.length) {
    const c = target.charCodeAt(ae)
    if (c === 0x2f || c === 0x3f || c === 0x23) break
    ae++
  }
  return target.slice(as, ae)
}

function schemeOf (target: string, form: TargetForm): string {
  return form === 'absolute' ? target.slice(0, target.indexOf(':')).toLowerCase() : ''
}

function splitPort (a: string): [string, string] {
  const close = a.lastIndexOf(']')
  const colon = a.lastIndexOf(':')
  return colon > close ? [a.slice(0, colon), a.slice(colon + 1)] : [a, '']
}

function isDefaultPort (port: string, scheme: string): boolean {
  if (scheme === 'http' || scheme === 'ws') return port === '80'
  if (scheme === 'https' || scheme === 'wss') return port === '443'
  return scheme === '' && (port === '80' || port === '443')
}

/**
 * Host vs the target's authority, ignoring case and a default port on either side (HAProxy's
 * h1_validate_mismatch_authority / h1_validate_connect_authority).
 */
function hostMatches (authority: string, host: string, scheme: string): boolean {
  if (authority.length === host.length && authority.toLowerCase() === host.toLowerCase()) return true
  const [ah, ap] = splitPort(authority)
  const [hh, hp] = splitPort(host)
  if (ah.toLowerCase() !== hh.toLowerCase()) return false
  if (ap === hp) return true
  if (ap === '') return isDefaultPort(hp, scheme)
  if (hp === '') return isDefaultPort(ap, scheme)
  return false
}

/**
 * The request target in origin-form (RFC 9112 §3.2.1), for forwarding an absolute-form request to
 * a server: `http://h/p?q` → `/p?q`, `http://h` → `/` (or `*` for OPTIONS, RFC 9112 §3.2.4).
 */
export function toOriginForm (head: RequestHead): string {
  if (head.targetForm !== 'absolute') return head.target
  const t = head.target
  const as = t.indexOf('://') + 3
  let p = as
  while (p < t.length) {
    const c = t.charCodeAt(p)
    if (c === 0x2f || c === 0x3f) break
    p++
  }
  if (p === t.length) return head.method === 'OPTIONS' ? '*' : '/'
  // The parser refuses a fragment ('#'), so none is left to strip.
  const rest = t.slice(p)
  return rest.charCodeAt(0) === 0x3f ? `/${rest}` : rest
}

/**
 * Parses a response head at the start of `buf`; `requestMethod` is the method of the request it
 * answers (it decides whether a body follows).
 *
 * @returns the head, or `null` when incomplete and still within `maxHeadSize`.
 * @throws HttpParseError with status 502 when the response cannot be relayed.
 */
export function parseResponseHead (buf: Buffer, maxHeadSize: number, requestMethod: string,
  options: HeadParseOptions = NO_OPTIONS): ResponseHead | null {
  const headEnd = locateHead(buf, maxHeadSize, true, Math.min(options.searchFrom ?? 0, buf.length))
  if (headEnd === -1) return null
  const start = startLine
  scan.reset(true)
  str = latin1(buf, start, headEnd)
  strBase = start

  // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (RFC 9112 §4)
  const versionMinor = parseVersion(buf, start, 502)
  let p = start + 8
  if (buf[p] !== SP) fail(502, E.INVALID_VERSION, 'junk after HTTP version', p)
  p++
  const d0 = (buf[p] as number) - 0x30
  const d1 = (buf[p + 1] as number) - 0x30
  const d2 = (buf[p + 2] as number) - 0x30
  if (!(d0 >= 1 && d0 <= 5 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) fail(502, E.INVALID_STATUS,
    'invalid status code', p)
  const status = d0 * 100 + d1 * 10 + d2
  p += 3
  let reason = ''
  if (buf[p] === SP) {
    const rs = ++p
    while (REASON[buf[p] as number] === 1) p++
    if (p > rs) reason = sub(rs, p)
  }
  if (buf[p] !== CR) {
    if (buf[p] === LF) fail(502, E.BARE_LF, 'LF without CR', p)
    fail(502, p === start + 12 ? E.INVALID_STATUS : E.INVALID_REASON, 'invalid status line', p)
  }
  if (buf[p + 1] !== LF) fail(502, E.BARE_CR, 'CR not followed by LF', p)

  const lines: number[] = []
  const headers = parseHeaderLines(buf, p + 2, headEnd, options.maxHeaders ?? DEFAULT_MAX_HEADERS, lines)

  let close = scan.close
  let rawExact = !scan.clRewrite
  let contentLength = scan.cl
  if (scan.te) {
    // RFC 9112 §6.3 (3): Transfer-Encoding overrides Content-Length; an intermediary removes the
    // Content-Length before forwarding. Both, or TE on HTTP/1.0, also end server-side reuse (HAProxy).
    if (contentLength !== -1) {
      normalizeContentLength(headers, false)
      rawExact = false
      contentLength = -1
      close = true
    } else if (!rawExact) {
      normalizeContentLength(headers, true)
    }
    if (versionMinor === 0) close = true
  } else if (!rawExact) {
    normalizeContentLength(headers, true)
  }

  const chunked = scan.te && scan.teLastChunked
  let bodyKind: BodyKind
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) bodyKind = 'none'
  else if (requestMethod === 'CONNECT' && status < 300) bodyKind = 'tunnel'
  else if (scan.te) bodyKind = chunked ? 'chunked' : 'until-close'
  else if (contentLength !== -1) bodyKind = 'length'
  else bodyKind = 'until-close'

  return {
    status,
    reason,
    versionMinor,
    headers,
    headLength: headEnd,
    contentLength,
    chunked,
    connection: { close, keepAlive: scan.keepAlive, upgrade: scan.upgradeToken },
    connectionTokens: scan.connTokens,
    raw: buf.subarray(start, headEnd),
    rawExact,
    lineOffsets: lines,
    bodyKind
  }
}

/** First value of header `name` (case-insensitive), or undefined. */
export function getHeader (head: { readonly headers: readonly string[] }, name: string): string | undefined {
  const h = head.headers
  const lower = name.toLowerCase()
  for (let i = 0; i < h.length; i += 2) {
    if (stringEqualLower(h[i] as string, lower)) return h[i + 1]
  }
  return undefined
}

/** Every value of header `name` (case-insensitive), in order. */
export function getHeaderValues (head: { readonly headers: readonly string[] }, name: string): string[] {
  const h = head.headers
  const lower = name.toLowerCase()
  const out: string[] = []
  for (let i = 0; i < h.length; i += 2) {
    if (stringEqualLower(h[i] as string, lower)) out.push(h[i + 1] as string)
  }
  return out
}
