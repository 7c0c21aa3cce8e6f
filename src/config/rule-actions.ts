/**
 * The arguments of `http-request` / `http-response` actions, parsed into typed specs at load
 * (HAProxy 2.6 syntax). Only the actions tslb enforces get a spec; the others keep their words.
 */
import { parseSampleChain } from './acl.ts'
import { ValueError } from './errors.ts'
import { parseCounterAction } from './stick-counters.ts'
import type { ActionSpec, Format, FormatPart, ReplySpec, SampleExpr, VarScope } from './model.ts'

/** The statuses HAProxy has a default page for: a `deny` without a body may only use these. */
export const DEFAULT_PAGE_STATUSES: readonly number[] = [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429,
  500, 501, 502, 503, 504]

/** Headers whose edit would change where a message ends: refused in rules. */
export const FRAMING_HEADERS = ['content-length', 'transfer-encoding']

/** Parses a log-format string limited to text, `%%` and `%[fetch(args)]`. */
/** `body`: a message body, where line breaks are text like any other. */
export function parseFormat (text: string, what: string, body = false): Format {
  if (!body) noLineBreak(text, what)
  const parts: FormatPart[] = []
  let buf = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (c !== '%') { buf += c; continue }
    const next = text[i + 1]
    if (next === '%') { buf += '%'; i++; continue }
    if (next !== '[') throw new ValueError(
      `${what}: log-format tags such as '%${next ?? ''}…' are not supported in rule arguments yet (only %[sample])`)
    const end = text.indexOf(']', i)
    if (end < 0) throw new ValueError(`${what}: missing ']' after '%['`)
    if (buf !== '') parts.push({ kind: 'text', text: buf })
    buf = ''
    parts.push({ kind: 'sample', expr: parseSampleExpr(text.slice(i + 2, end), what) })
    i = end
  }
  if (buf !== '') parts.push({ kind: 'text', text: buf })
  return parts
}

/** `fetch[(args)][,conv[(args)]]…` */
export function parseSampleExpr (text: string, what: string): SampleExpr {
  try {
    const f = parseSampleChain(text, false)
    return { fetch: f.fetch, args: f.args, ...(f.converters.length > 0 ? { converters: f.converters } : {}) }
  } catch (err) {
    if (err instanceof ValueError) throw new ValueError(`${what}: ${err.message}`)
    throw err
  }
}

/** Text that goes into a message head: a CR, LF or NUL would split it. */
function noLineBreak (text: string, what: string): string {
  if (/[\r\n\0]/.test(text)) throw new ValueError(`${what}: '${JSON.stringify(text)}' holds a line break or NUL`)
  return text
}

function checkRegex (re: string, what: string): string {
  try { new RegExp(re) } catch { throw new ValueError(`${what}: invalid regular expression '${re}'`) }
  return re
}

function headerName (name: string | undefined, what: string): string {
  if (name === undefined || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new ValueError(
    `${what} expects a header name, got '${name ?? ''}'`)
  if (FRAMING_HEADERS.includes(name.toLowerCase())) throw new ValueError(
    `${what}: '${name}' frames the message and cannot be changed by a rule`)
  return name
}

function status (text: string | undefined, what: string, lo: number, hi: number): number {
  const n = Number(text)
  if (text === undefined || !/^\d+$/.test(text) || n < lo || n > hi) throw new ValueError(
    `${what} expects a status code ${lo}..${hi}, got '${text ?? ''}'`)
  return n
}

/** `[status N] [content-type T] [string S | lf-string F] [hdr NAME FMT]…`, after `start`. */
function parseReply (words: readonly string[], what: string, defaultStatus: number, start: number): ReplySpec {
  let s = defaultStatus
  let contentType: string | undefined
  let body: ReplySpec['body']
  const headers: [string, Format][] = []
  for (let i = start; i < words.length; i++) {
    const w = words[i] as string
    const v = words[i + 1]
    if (v === undefined) throw new ValueError(`${what}: '${w}' expects a value`)
    switch (w) {
      case 'status': case 'deny_status': s = status(v, `${what} ${w}`, 200, 599); i++; break
      case 'content-type': contentType = noLineBreak(v, what); i++; break
      case 'string': body = { kind: 'string', text: v }; i++; break
      case 'lf-string': body = { kind: 'lf-string', format: parseFormat(v, what, true) }; i++; break
      case 'hdr': {
        const value = words[i + 2]
        if (value === undefined) throw new ValueError(`${what}: 'hdr' expects a name and a value`)
        headers.push([headerName(v, `${what} hdr`), parseFormat(value, what)])
        i += 2
        break
      }
      case 'file': case 'lf-file': body = { kind: w, path: v }; i++; break
      case 'errorfile': case 'errorfiles': case 'default-errorfiles':
        throw new ValueError(`${what}: '${w}' is not supported yet (use 'string', 'lf-string', 'file' or 'lf-file')`)
      default:
        throw new ValueError(`${what}: unknown argument '${w}' (expected status, content-type, string, lf-string, hdr)`)
    }
  }
  if (body !== undefined && contentType === undefined) throw new ValueError(
    `${what}: a body ('string', 'lf-string', 'file' or 'lf-file') needs 'content-type'`)
  // As HAProxy: without a body (or with an empty one) there is no content-type.
  const empty = body === undefined || (body.kind === 'string' && body.text === '')
  return { status: s, contentType: empty ? undefined : contentType, body, headers }
}

function parseRedirect (words: readonly string[], what: string): ActionSpec {
  const [mode, value, ...rest] = words
  if (mode !== 'location' && mode !== 'prefix' && mode !== 'scheme') throw new ValueError(
    `${what} expects location, prefix or scheme, got '${mode ?? ''}'`)
  if (value === undefined) throw new ValueError(`${what} ${mode} expects a value`)
  let code = 302
  let dropQuery = false
  let appendSlash = false
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]
    if (w === 'code') {
      code = status(rest[++i], `${what} code`, 301, 308)
      if (![301, 302, 303, 307, 308].includes(code)) throw new ValueError(
        `${what} code expects 301, 302, 303, 307 or 308, got ${code}`)
    } else if (w === 'drop-query') dropQuery = true
    else if (w === 'append-slash') appendSlash = true
    else if (w === 'set-cookie' || w === 'clear-cookie') throw new ValueError(`${what}: '${w}' is not supported yet`)
    else throw new ValueError(
      `${what}: unknown argument '${w ?? ''}' (expected code, drop-query, append-slash)`)
  }
  return { type: 'redirect', mode, value: parseFormat(value, what), code, dropQuery, appendSlash }
}

const VAR_RE =
  /^set-var\((proc|sess|txn|req|res)\.([A-Za-z0-9_.]+)\)$|^unset-var\((proc|sess|txn|req|res)\.([A-Za-z0-9_.]+)\)$/

/**
 * The action word, `set-var(txn.x)` reduced to `set-var` (its variable is in the spec), `sc-inc-gpc0(1)` to
 * `sc-inc-gpc0`, `sc-set-gpt(0,1)` to `sc-set-gpt`.
 */
export function actionName (word: string): string {
  const m = /^(set-var|unset-var|sc-inc-gpc[01]?|sc-set-gpt0?)\(/.exec(word)
  return m === null ? word : m[1] as string
}

/**
 * Parses the words of one rule (action first, condition removed) into its spec; `undefined` for
 * an action tslb does not enforce. Throws ValueError for bad arguments.
 */
export function parseAction (phase: 'request' | 'response' | 'after-response',
  words: readonly string[]): ActionSpec | undefined {
  const [word, ...args] = words as [string, ...string[]]
  const action = actionName(word)
  const what = `'http-${phase} ${action}'`
  const none = (): void => {
    if (args.length > 0) throw new ValueError(`${what} takes no argument, got '${args.join(' ')}'`)
  }
  switch (action) {
    case 'allow': none(); return { type: 'allow' }
    case 'reject': none(); return { type: 'reject' }
    case 'silent-drop': none(); return { type: 'silent-drop' }
    case 'deny': case 'tarpit': {
      const dflt = phase === 'response' ? 502 : action === 'tarpit' ? 500 : 403
      if (args.length === 0) return { type: action, reply: undefined, status: dflt }
      const reply = parseReply(args, what, dflt, 0)
      const simple = reply.body === undefined && reply.headers.length === 0
      if (reply.body === undefined && !DEFAULT_PAGE_STATUSES.includes(reply.status)) throw new ValueError(
        `${what}: status ${reply.status} has no default page: give it a body ('content-type … string …')`)
      return { type: action, reply: simple ? undefined : reply, status: reply.status }
    }
    case 'auth': {
      if (args.length === 0) return { type: 'auth', realm: undefined }
      if (args[0] !== 'realm' || args.length !== 2) throw new ValueError(`${what} expects [realm REALM]`)
      return { type: 'auth', realm: args[1] }
    }
    case 'redirect':
      if (phase === 'response' && args[0] !== 'location') throw new ValueError(
        `${what}: only 'location' redirects are possible on a response`)
      return parseRedirect(args, what)
    case 'return': return { type: 'return', reply: parseReply(args, what, 200, 0) }
    case 'set-header': case 'add-header': {
      if (args.length !== 2) throw new ValueError(`${what} expects a header name and a value`)
      return { type: action, name: headerName(args[0], what), value: parseFormat(args[1] as string, what) }
    }
    case 'del-header': {
      const name = headerName(args[0], what)
      if (args.length === 1) return { type: 'del-header', name, match: 'str' }
      const m = args[2]
      if (args[1] !== '-m' || args.length !== 3 || (m !== 'str' && m !== 'beg' && m !== 'end' && m !== 'sub' &&
        m !== 'reg')) throw new ValueError(`${what} expects NAME [-m str|beg|end|sub|reg]`)
      if (m === 'reg') checkRegex(name, what)
      return { type: 'del-header', name, match: m }
    }
    case 'replace-header': case 'replace-value': {
      if (args.length !== 3) throw new ValueError(`${what} expects a header name, a regex and a replacement`)
      return { type: action, name: headerName(args[0], what), regex: checkRegex(args[1] as string, what),
        replace: parseFormat(args[2] as string, what) }
    }
    case 'set-path': case 'set-pathq': case 'set-uri': case 'set-query': case 'set-method': {
      if (phase !== 'request') return undefined
      if (args.length !== 1) throw new ValueError(`${what} expects one value`)
      return { type: action, value: parseFormat(args[0] as string, what) }
    }
    case 'replace-path': case 'replace-pathq': case 'replace-uri': {
      if (args.length !== 2) throw new ValueError(`${what} expects a regex and a replacement`)
      return { type: action, regex: checkRegex(args[0] as string, what), replace: parseFormat(args[1] as string, what) }
    }
    case 'set-status': {
      if (args.length !== 1 && !(args.length === 3 && args[1] === 'reason')) throw new ValueError(
        `${what} expects STATUS [reason TEXT]`)
      return { type: 'set-status', status: status(args[0], what, 100, 999), reason: args[2] === undefined ? undefined
        : noLineBreak(args[2], what) }
    }
    case 'set-var': case 'unset-var': {
      const m = VAR_RE.exec(word)
      if (m === null) throw new ValueError(
        `${what} expects ${action}(SCOPE.NAME) with SCOPE proc, sess, txn, req or res`)
      const scope = (m[1] ?? m[3]) as VarScope
      const name = (m[2] ?? m[4]) as string
      if (action === 'unset-var') { none(); return { type: 'unset-var', scope, name } }
      if (args.length !== 1) throw new ValueError(`${what} expects one sample expression`)
      return { type: 'set-var', scope, name, expr: parseSampleExpr(args[0] as string, what) }
    }
    case 'use-service': return { type: 'use-service' }
    case 'set-src': {
      if (args.length !== 1) throw new ValueError(`${what} expects one sample expression`)
      return { type: 'set-src', expr: parseSampleExpr(args[0] as string, what) }
    }
    default: return parseCounterAction(word, args, what)
  }
}
