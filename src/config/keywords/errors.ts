/**
 * Error pages: `errorfile CODE FILE`, `errorfiles NAME [CODE…]`, `errorloc[302|303] CODE URL` and
 * `http-error status CODE …` in proxies, and the `errorfile` lines of `http-errors NAME` sections
 * (HAProxy 2.6's manual, §4 and §3.8). What they name is read and checked when the configuration
 * is loaded (`error-replies.ts`).
 */
import type { HttpErrorsSection, Location, Proxy } from '../model.ts'
import { parseInteger } from '../values.ts'
import { ValueError } from '../errors.ts'

/** The error-page keywords of proxies, all enforced (the status registry, `enforcement.ts`, takes them from here). */
export const ERROR_PAGE_KEYWORD_STATUS: Readonly<Record<string, 'enforced'>> = {
  errorfile: 'enforced', errorfiles: 'enforced', errorloc: 'enforced', errorloc302: 'enforced',
  errorloc303: 'enforced', 'http-error': 'enforced'
}

/** The statuses HAProxy 2.6 has a page for, with its reason phrases. */
export const ERROR_REASONS: Readonly<Record<number, string>> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone', 413: 'Payload Too Large',
  425: 'Too Early', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout'
}

function errorCode (text: string | undefined, keyword: string): number {
  const n = parseInteger(text, `${keyword} status`, 200, 599)
  if (ERROR_REASONS[n] === undefined) throw new ValueError(
    `'${keyword}': status code ${n} not handled (allowed: ${Object.keys(ERROR_REASONS).join(', ')})`)
  return n
}

/** `errorfile CODE FILE`. */
export function applyErrorfile (p: Proxy, args: readonly string[], loc: Location): void {
  const [, file, extra] = args
  const status = errorCode(args[0], 'errorfile')
  if (file === undefined || extra !== undefined) throw new ValueError("'errorfile' expects a status and a file")
  p.errorfiles.push({ kind: 'reply', status, reply: { file, loc } })
}

/** `errorloc CODE URL` (= `errorloc302`) and `errorloc303 CODE URL`: a redirection instead of the page. */
export function applyErrorloc (p: Proxy, keyword: string, args: readonly string[], loc: Location): void {
  const [, location, extra] = args
  const status = errorCode(args[0], keyword)
  if (location === undefined || extra !== undefined) throw new ValueError(`'${keyword}' expects a status and a URL`)
  p.errorfiles.push({ kind: 'reply', status, reply: { redirect: { code: keyword === 'errorloc303' ? 303 : 302,
    location }, loc } })
}

/** `errorfiles NAME [CODE…]`. */
export function applyErrorfiles (p: Proxy, args: readonly string[], loc: Location): void {
  const [section, ...codes] = args
  if (section === undefined) throw new ValueError("'errorfiles' expects the name of an http-errors section")
  p.errorfiles.push({ kind: 'import', section, codes: codes.map(c => errorCode(c, 'errorfiles')), loc })
}

const PAYLOADS = new Set(['default-errorfiles', 'errorfile', 'errorfiles', 'file', 'string', 'lf-file', 'lf-string'])

/**
 * `http-error status CODE [content-type TYPE] [default-errorfiles | errorfile FILE | errorfiles NAME
 * | file FILE | string TEXT] [hdr NAME VALUE]…`.
 */
export function applyHttpError (p: Proxy, args: readonly string[], loc: Location): void {
  if (args[0] !== 'status') throw new ValueError("'http-error' expects 'status CODE'")
  const status = errorCode(args[1], 'http-error')
  let contentType: string | undefined
  let payload: { kind: string, value: string } | undefined
  const headers: [string, string][] = []
  for (let i = 2; i < args.length; i++) {
    const w = args[i] as string
    if (w === 'content-type') {
      contentType = value(args, ++i, w)
    } else if (w === 'hdr') {
      headers.push([value(args, ++i, w), value(args, ++i, w)])
    } else if (PAYLOADS.has(w)) {
      if (payload !== undefined) throw new ValueError(`'http-error': '${w}' after '${payload.kind}': one payload only`)
      payload = { kind: w, value: w === 'default-errorfiles' ? '' : value(args, ++i, w) }
    } else {
      throw new ValueError(`'http-error': unexpected '${w}'`)
    }
  }
  const kind = payload?.kind
  if (kind === 'lf-file' || kind === 'lf-string') throw new ValueError(
    `'http-error … ${kind}': log-format bodies are not supported by tslb yet (use 'string' or 'file')`)
  if (kind === 'default-errorfiles' || kind === 'errorfile' || kind === 'errorfiles') {
    if (contentType !== undefined || headers.length > 0) throw new ValueError(
      `'http-error … ${kind}': 'content-type' and 'hdr' cannot be used with it`)
    if (kind === 'default-errorfiles') p.errorfiles.push({ kind: 'reply', status, reply: undefined })
    else if (kind === 'errorfile') p.errorfiles.push({ kind: 'reply', status, reply: { file: payload?.value, loc } })
    else p.errorfiles.push({ kind: 'import', section: payload?.value ?? '', codes: [status], loc })
    return
  }
  if (payload !== undefined && contentType === undefined) throw new ValueError(
    `'http-error … ${kind ?? ''}' needs a 'content-type'`)
  for (const [name, v] of headers) {
    if (/^(content-length|content-type|transfer-encoding|connection)$/i.test(name)) throw new ValueError(
      `'http-error … hdr ${name}': this header is set by the proxy`)
    // HAProxy reads these values as log-format strings; tslb's error replies are made once, at load.
    if (v.replaceAll('%%', '').includes('%')) throw new ValueError(`'http-error … hdr ${name}': log-format values ` +
      "are not supported by tslb yet (write the value without '%', or '%%' for one)")
  }
  p.errorfiles.push({ kind: 'reply', status, reply: { loc, generated: { status, contentType,
    headers: headers.map(([n, v]) => [n, v.replaceAll('%%', '%')] as const),
    body: kind === 'string' ? payload?.value : undefined, bodyFile: kind === 'file' ? payload?.value : undefined } } })
}

function value (args: readonly string[], i: number, keyword: string): string {
  const v = args[i]
  if (v === undefined) throw new ValueError(`'http-error … ${keyword}' expects a value`)
  return v
}

/** A keyword of an `http-errors` section: only `errorfile CODE FILE`. False: unknown keyword. */
export function applyHttpErrorsKeyword (s: HttpErrorsSection, keyword: string, args: readonly string[],
  loc: Location): boolean {
  if (keyword !== 'errorfile') return false
  const [, file, extra] = args
  const status = errorCode(args[0], 'errorfile')
  if (file === undefined || extra !== undefined) throw new ValueError("'errorfile' expects a status and a file")
  s.replies[status] = { file, loc }
  return true
}
