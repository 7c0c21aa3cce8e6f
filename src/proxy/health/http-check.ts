/**
 * `option httpchk` / `http-check send|expect` as HAProxy 2.6 runs them (src/tcpcheck.c): the
 * request put on the wire, the reading of the response with the proxy's HTTP codec, and the
 * expect rule that judges it.
 * @module
 */
import { Buffer } from 'node:buffer'
import type { HeaderMatch, HttpCheck, HttpCheckExpect } from '../../config/model.ts'
import { HttpParseError, parseResponseHead, type ResponseHead } from '../http/codec.ts'
import type { SampleSource } from '../acl/sample.ts'
import { compileFormat, compileSample } from '../rules/format.ts'
import type { CheckStatusCode } from './status.ts'

/** HAProxy reads a check response into one buffer of tune.bufsize bytes: what does not fit is never looked at. */
export const CHECK_BUFFER_SIZE = 16_384

export type ExpectKind = 'status' | 'rstatus' | 'string' | 'rstring' | 'hdr' | 'fhdr' | 'set-var' | 'unset-var'

type Match = (s: string) => boolean

/**
 * A header rule: which fields' names match, then (optionally) which values. A `-lf` pattern is a
 * function of the check's sample (its response, its variables), evaluated when the rule runs.
 */
export interface HeaderExpect {
  readonly name: Match | ((s: SampleSource) => string)
  readonly nameLf: boolean
  readonly nameMatch: HeaderMatch
  readonly value: Match | ((s: SampleSource) => string) | undefined
  readonly valueLf: boolean
  readonly valueMatch: HeaderMatch
}

/** An `http-check expect` rule ready to run. */
export interface CompiledExpect {
  readonly negate: boolean
  readonly kind: ExpectKind
  /** `status`: inclusive code ranges. */
  readonly ranges: readonly (readonly [number, number])[]
  /** `rstatus` / `rstring`. */
  readonly regex: RegExp | undefined
  /** `string`: the bytes looked for in the body. */
  readonly text: Buffer | undefined
  /** `hdr` / `fhdr`. */
  readonly header?: HeaderExpect
  /** `set-var` / `unset-var`: the variable (`check.NAME`) and the value of its expression. */
  readonly variable?: string
  readonly sample?: (s: SampleSource) => string | undefined
}

/** With no `http-check expect`, HAProxy adds `http-check expect status 200-399` (check_proxy_tcpcheck). */
export const DEFAULT_EXPECT: CompiledExpect = { negate: false, kind: 'status', ranges: [[200, 399]], regex: undefined,
  text: undefined }

/** `status 200,301-399`: a comma-separated list of codes and ranges. */
function parseStatusList (pattern: string): [number, number][] {
  const ranges: [number, number][] = []
  for (const part of pattern.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part)
    if (m === null) continue
    const lo = Number(m[1])
    ranges.push([lo, m[2] === undefined ? lo : Number(m[2])])
  }
  return ranges
}

function matcher (how: HeaderMatch, pattern: string, ignoreCase: boolean): (s: string) => boolean {
  if (how === 'reg') {
    const re = new RegExp(pattern, ignoreCase ? 'i' : '')
    return s => re.test(s)
  }
  const p = ignoreCase ? pattern.toLowerCase() : pattern
  const norm = ignoreCase ? (s: string): string => s.toLowerCase() : (s: string): string => s
  switch (how) {
    case 'str': return s => norm(s) === p
    case 'beg': return s => norm(s).startsWith(p)
    case 'end': return s => norm(s).endsWith(p)
    case 'sub': return s => norm(s).includes(p)
  }
}

/** The rules of a check in order; none: HAProxy's implicit `status 200-399`. */
export function compileExpects (expects: HttpCheck['expects']): CompiledExpect[] {
  return expects === undefined || expects.length === 0 ? [DEFAULT_EXPECT] : expects.map(compileExpect)
}

export function compileExpect (expect: HttpCheckExpect | undefined): CompiledExpect {
  if (expect === undefined) return DEFAULT_EXPECT
  const kind = expect.kind as ExpectKind
  const base = { negate: expect.negate, kind, ranges: [] as [number, number][], regex: undefined, text: undefined }
  switch (kind) {
    case 'hdr':
    case 'fhdr': {
      const h = expect.header
      if (h === undefined) return DEFAULT_EXPECT
      const valueMatch = h.valueMatch ?? 'str'
      return { ...base, header: {
        name: h.nameFormat !== undefined ? compileFormat(h.nameFormat) : matcher(h.nameMatch, h.name, true),
        nameLf: h.nameFormat !== undefined, nameMatch: h.nameMatch,
        value: h.valueFormat !== undefined ? compileFormat(h.valueFormat)
          : h.value === undefined ? undefined : matcher(valueMatch, h.value, false),
        valueLf: h.valueFormat !== undefined, valueMatch } }
    }
    case 'set-var':
    case 'unset-var':
      return { ...base, variable: expect.variable,
        ...(expect.expr === undefined ? {} : { sample: compileSample(expect.expr) }) }
    case 'status': return { ...base, ranges: parseStatusList(expect.pattern) }
    case 'rstatus':
    case 'rstring': return { ...base, regex: new RegExp(expect.pattern) }
    case 'string': return { ...base, text: Buffer.from(expect.pattern, 'latin1') }
    default: return DEFAULT_EXPECT
  }
}

/**
 * The request of an HTTP check as HAProxy's H1 mux writes it: the request line, the configured
 * headers (HTX stores names in lower case, the mux writes them so), `connection: close` unless
 * the configuration sent a Connection header — left out for HTTP/1.0, where it is the default
 * (mux_h1.c h1_update_req_conn_value) — then `content-length` (0 without `body`, tcpcheck_eval_send),
 * the empty line and the body.
 */
export function buildHttpRequest (check: HttpCheck, extraHeaders: readonly (readonly [string, string])[] = []): Buffer {
  let out = `${check.method} ${check.uri} ${check.version}\r\n`
  let hasConnection = false
  const headers: [string, string][] = []
  for (const line of check.headers) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()])
  }
  for (const [name, value] of [...headers, ...extraHeaders]) {
    const lower = name.toLowerCase()
    // HAProxy skips a header whose value evaluates to nothing.
    if (value === '') continue
    if (lower === 'connection') hasConnection = true
    out += `${lower}: ${value}\r\n`
  }
  if (!hasConnection && isHttp11OrLater(check.version)) out += 'connection: close\r\n'
  const body = check.body ?? ''
  out += `content-length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`
  return Buffer.from(out, 'latin1')
}

/** HTTP/1.1 and above ("HTTP/2" too), as tcpcheck_eval_send decides HTX_SL_F_VER_11. */
function isHttp11OrLater (version: string): boolean {
  if (version.length === 6) return version[5] === '2'
  if (version.length === 8) return (version[5] as string) > '1' || (version[5] === '1' && (version[7] as string) >= '1')
  return false
}

/** Reads a check response: the head with the proxy's codec, the body de-chunked, at most CHECK_BUFFER_SIZE bytes. */
export class CheckResponseReader {
  private readonly method: string
  private raw: Buffer = Buffer.alloc(0)
  private parsedUpTo = 0
  head: ResponseHead | null = null
  /** The body so far, de-chunked. */
  body: Buffer = Buffer.alloc(0)
  /** The whole message was read (HAProxy's end-of-message). */
  complete = false
  /** The buffer is full: no more data will be looked at. */
  full = false
  /** The response cannot be parsed. */
  invalid = false

  constructor (method: string) {
    this.method = method
  }

  get received (): number {
    return this.raw.length
  }

  push (data: Buffer): void {
    if (this.full || this.invalid) return
    const room = CHECK_BUFFER_SIZE - this.raw.length
    const piece = data.length > room ? data.subarray(0, room) : data
    this.raw = this.raw.length === 0 ? piece : Buffer.concat([this.raw, piece])
    if (this.raw.length >= CHECK_BUFFER_SIZE) this.full = true
    this.parse()
  }

  private parse (): void {
    if (this.head === null) {
      try {
        this.head = parseResponseHead(this.raw, CHECK_BUFFER_SIZE, this.method, { searchFrom: this.parsedUpTo })
      } catch (err) {
        if (!(err instanceof HttpParseError)) throw err
        this.invalid = true
        return
      }
      this.parsedUpTo = this.raw.length
      if (this.head === null) {
        // A head that does not fit in the buffer is a parse error for HAProxy too.
        if (this.full) this.invalid = true
        return
      }
    }
    const head = this.head
    const rest = this.raw.subarray(head.headLength)
    switch (head.bodyKind) {
      case 'none':
        this.complete = true
        break
      case 'length':
        this.body = rest.subarray(0, head.contentLength)
        this.complete = rest.length >= head.contentLength
        break
      case 'chunked': {
        const decoded = decodeChunked(rest)
        if (decoded === undefined) {
          this.invalid = true
          return
        }
        this.body = decoded.body
        this.complete = decoded.complete
        break
      }
      default:
        this.body = rest
    }
  }
}

/** De-chunks what has arrived of a chunked body; undefined when the framing is invalid. */
function decodeChunked (buf: Buffer): { body: Buffer, complete: boolean } | undefined {
  const parts: Buffer[] = []
  let p = 0
  for (;;) {
    const eol = buf.indexOf('\r\n', p, 'latin1')
    if (eol === -1) return { body: Buffer.concat(parts), complete: false }
    const line = buf.toString('latin1', p, eol)
    const m = /^([0-9A-Fa-f]+)[ \t]*(?:;.*)?$/.exec(line)
    if (m === null) return undefined
    const size = parseInt(m[1] as string, 16)
    p = eol + 2
    if (size === 0) return { body: Buffer.concat(parts), complete: true }
    const end = p + size
    parts.push(buf.subarray(p, Math.min(end, buf.length)))
    if (end + 2 > buf.length) return { body: Buffer.concat(parts), complete: false }
    if (buf[end] !== 0x0d || buf[end + 1] !== 0x0a) return undefined
    p = end + 2
  }
}

export interface HttpVerdict {
  readonly status: CheckStatusCode
  readonly code: number
  readonly desc: string
}

export interface HttpJudgeOptions {
  /** One rule, or the rules in order (all must pass). */
  readonly expect: CompiledExpect | readonly CompiledExpect[]
  /** `http-check disable-on-404` and the server is not DOWN: a 404 is a conditional pass. */
  readonly accept404AsStopping: boolean
}

/**
 * tcpcheck_eval_expect_http(): the verdict on what has been read, or undefined to wait for more.
 * `lastRead`: the connection ended (or failed) and nothing more will come.
 */
export function judgeHttpResponse (reader: CheckResponseReader, opts: HttpJudgeOptions,
  lastRead: boolean): HttpVerdict | undefined {
  if (reader.invalid) return { status: 'L7RSP', code: 0, desc: '' }
  const head = reader.head
  if (head === null) {
    if (!lastRead) return undefined
    return reader.received === 0
      ? { status: 'L7RSP', code: 0, desc: 'TCPCHK got an empty response at step 2' }
      : { status: 'L7RSP', code: 0, desc: '' }
  }
  const last = lastRead || reader.full || reader.complete
  const code = head.status
  if (opts.accept404AsStopping && code === 404) return { status: 'L7OKC', code, desc: '' }
  const e = opts.expect
  const rules: readonly CompiledExpect[] = 'kind' in e ? [e] : e
  // The rules run again from the first each time more of the response arrives: the variables too.
  const vars = new Map<string, string>()
  const sample = checkSample(head, vars)
  for (const rule of rules) {
    if (rule.kind === 'set-var' || rule.kind === 'unset-var') {
      const v = rule.sample?.(sample)
      if (rule.kind === 'unset-var') vars.delete(rule.variable ?? '')
      else if (v !== undefined) vars.set(rule.variable ?? '', v)
      continue
    }
    const verdict = judgeRule(reader, head, rule, last, sample)
    if (verdict !== 'pass') return verdict
  }
  return { status: 'L7OK', code, desc: '' }
}

/** What a check's samples read: the response head and the check's own variables. */
function checkSample (head: ResponseHead, vars: Map<string, string>): SampleSource {
  return {
    src: '', srcPort: 0, dst: '', dstPort: 0,
    responseHeaderValues: name => {
      const lower = name.toLowerCase()
      const out: string[] = []
      for (let i = 0; i + 1 < head.headers.length; i += 2) {
        if ((head.headers[i] as string).toLowerCase() === lower) out.push(head.headers[i + 1] as string)
      }
      return out
    },
    responseStatus: () => String(head.status),
    variable: name => vars.get(name)
  }
}

/** One expect rule on the response read so far: passed, failed (the verdict), or undefined to wait for more. */
function judgeRule (reader: CheckResponseReader, head: ResponseHead, expect: CompiledExpect, last: boolean,
  sample: SampleSource): HttpVerdict | 'pass' | undefined {
  const code = head.status
  let match: boolean
  let failStatus: CheckStatusCode
  let failDesc: string
  switch (expect.kind) {
    case 'status':
      match = expect.ranges.some(([lo, hi]) => code >= lo && code <= hi)
      failStatus = 'L7STS'
      failDesc = head.reason
      break
    case 'rstatus':
      match = expect.regex?.test(String(code).padStart(3, '0')) === true
      failStatus = 'L7STS'
      failDesc = head.reason
      break
    case 'hdr':
    case 'fhdr': {
      const m = headerMatches(head, expect, sample)
      if (m === undefined) return { status: 'L7RSP', code, desc: 'log-format string evaluated to an empty string' }
      match = m
      failStatus = 'L7STS'
      failDesc = head.reason
      break
    }
    case 'set-var':
    case 'unset-var':
      return 'pass'
    case 'string':
    case 'rstring': {
      const body = reader.body
      if (body.length === 0) {
        if (!last) return undefined
        return { status: 'L7RSP', code, desc: 'HTTP content check could not find a response body' }
      }
      if (!last && expect.kind === 'string' && body.length < (expect.text?.length ?? 0)) return undefined
      match = expect.kind === 'string'
        ? body.indexOf(expect.text ?? Buffer.alloc(0)) !== -1
        : expect.regex?.test(body.toString('latin1')) === true
      // On a mismatch HAProxy waits for more of the body before concluding.
      if (!match && !last) return undefined
      failStatus = 'L7RSP'
      failDesc = expect.negate ? 'HTTP check matched unwanted content' : 'HTTP content check did not match'
      break
    }
  }
  if (match !== expect.negate) return 'pass'
  return { status: failStatus, code, desc: failDesc }
}

/**
 * `hdr`: some field whose name matches has a comma-separated value that matches (or, with no value
 * pattern, exists); `fhdr`: the same with each field's whole value.
 */
function headerMatches (head: ResponseHead, expect: CompiledExpect, sample: SampleSource): boolean | undefined {
  const h0 = expect.header
  if (h0 === undefined) return false
  const resolve = (lf: boolean, f: Match | ((s: SampleSource) => string), how: HeaderMatch, icase: boolean):
  Match | undefined => {
    if (!lf) return f as Match
    const pattern = (f as (s: SampleSource) => string)(sample)
    return pattern === '' ? undefined : matcher(how, pattern, icase)
  }
  const name = resolve(h0.nameLf, h0.name, h0.nameMatch, true)
  const value = h0.value === undefined ? undefined : resolve(h0.valueLf, h0.value, h0.valueMatch, false)
  if (name === undefined || (h0.value !== undefined && value === undefined)) return undefined
  const h = { name, value }
  const fields = head.headers
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string
    const value = fields[i + 1] as string
    if (!h.name(name)) continue
    if (h.value === undefined) return true
    const values = expect.kind === 'fhdr' ? [value] : value.split(',').map(v => v.trim())
    if (values.some(h.value)) return true
  }
  return false
}
