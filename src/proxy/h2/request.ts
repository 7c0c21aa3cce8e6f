/**
 * An HTTP/2 request header list → the HTTP/1.1 request head the HTTP session parses (RFC 9113 §8.3.1, §8.2.2).
 * Everything that could mean something else once written as HTTP/1.1 is refused here (field syntax, connection-specific
 * fields, Content-Length); the HTTP/1.1 parser then applies its own rules to the result as to any request.
 * @module
 */
import { isValidAuthority } from '../http/head.ts'
import { TOKEN } from '../http/chars.ts'
import { H2ErrorCode as E, H2RequestError } from './errors.ts'

/** Fields that only have meaning for one HTTP/1.1 connection: never in an HTTP/2 request (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set(['connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade'])
const PSEUDO = new Set([':method', ':scheme', ':path', ':authority'])

export interface H2Request {
  readonly method: string
  readonly path: string
  readonly authority: string | undefined
  /** -1 when absent. */
  readonly contentLength: number
  /** The request is sent as HTTP/1.1 chunked: a body may follow and its length is not announced. */
  readonly chunked: boolean
  /** The HTTP/1.1 head (ends with the empty line). */
  readonly head: Buffer
}

/**
 * `raw`: the field list as received, `[name, value, ...]`; `endStream`: the HEADERS frame ended the stream (no body).
 * @throws H2RequestError for a malformed or refused request.
 */
export function toHttp1Request (raw: readonly string[], endStream: boolean): H2Request {
  const pseudo = new Map<string, string>()
  const lines: string[] = []
  const cookies: string[] = []
  let contentLength = -1
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    checkValue(name, value)
    if (name.startsWith(':')) {
      if (!PSEUDO.has(name) || pseudo.has(name)) throw new H2RequestError(E.PSEUDO_HEADER,
        `unknown or repeated pseudo-header '${name}'`)
      if (lines.length > 0 || cookies.length > 0) throw new H2RequestError(E.PSEUDO_HEADER,
        `pseudo-header '${name}' after a regular field`)
      pseudo.set(name, value)
      continue
    }
    checkName(name)
    if (CONNECTION_SPECIFIC.has(name)) throw new H2RequestError(E.CONNECTION_HEADER,
      `connection-specific field '${name}' in an HTTP/2 request`)
    if (name === 'te') {
      if (value.toLowerCase() !== 'trailers') throw new H2RequestError(E.CONNECTION_HEADER, "'te' other than trailers")
      continue
    }
    if (name === 'content-length') {
      if (!/^[0-9]{1,15}$/.test(value)) throw new H2RequestError(E.CONTENT_LENGTH, `invalid content-length '${value}'`)
      const n = Number(value)
      if (contentLength !== -1 && n !== contentLength) throw new H2RequestError(E.CONTENT_LENGTH,
        'conflicting content-length fields')
      if (contentLength !== -1) continue
      contentLength = n
    }
    if (name === 'cookie') {
      cookies.push(value)
      continue
    }
    if (name === 'host' && pseudo.has(':authority')) continue
    lines.push(`${name}: ${value}\r\n`)
  }
  const method = pseudo.get(':method')
  if (method === undefined || method === '' || ![...method].every(c => TOKEN[c.charCodeAt(0)] === 1)) {
    throw new H2RequestError(E.PSEUDO_HEADER, 'missing or invalid :method')
  }
  if (method === 'CONNECT') throw new H2RequestError(E.CONNECT, 'CONNECT over HTTP/2 is not supported', 501)
  const path = pseudo.get(':path')
  const scheme = pseudo.get(':scheme')
  if (scheme === undefined || path === undefined || !(path.startsWith('/') || (path === '*' &&
    method === 'OPTIONS'))) throw new H2RequestError(E.PSEUDO_HEADER, 'missing or invalid :scheme or :path')
  const authority = pseudo.get(':authority')
  if (authority !== undefined && !isValidAuthority(authority, false)) {
    throw new H2RequestError(E.AUTHORITY, `invalid :authority '${authority}'`, 400)
  }
  if (endStream && contentLength > 0) throw new H2RequestError(E.CONTENT_LENGTH,
    'content-length announces a body the stream does not have')
  const chunked = !endStream && contentLength === -1
  let text = `${method} ${path} HTTP/1.1\r\n`
  if (authority !== undefined) text += `host: ${authority}\r\n`
  text += lines.join('')
  // RFC 9113 §8.2.3: the cookie crumbs are one field again in HTTP/1.1.
  if (cookies.length > 0) text += `cookie: ${cookies.join('; ')}\r\n`
  if (chunked) text += 'transfer-encoding: chunked\r\n'
  // One exchange per stream: the session ends its side of the bridge after the response.
  text += 'connection: close\r\n\r\n'
  return { method, path, authority, contentLength, chunked, head: Buffer.from(text, 'latin1') }
}

/** Lower-case tokens only (RFC 9113 §8.2.1): upper case is malformed in HTTP/2. */
function checkName (name: string): void {
  if (name === '') throw new H2RequestError(E.HEADER_NAME, 'empty field name')
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c > 0xff || TOKEN[c] !== 1 || (c >= 0x41 && c <= 0x5a)) throw new H2RequestError(E.HEADER_NAME,
      `invalid field name '${name}'`)
  }
}

/** No CR, LF, NUL or other controls but HTAB, no leading or trailing whitespace (RFC 9113 §8.2.1). */
function checkValue (name: string, value: string): void {
  const n = value.length
  if (n > 0) {
    const first = value.charCodeAt(0)
    const last = value.charCodeAt(n - 1)
    if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) throw new H2RequestError(E.HEADER_VALUE,
      `whitespace around the value of '${name}'`)
  }
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) throw new H2RequestError(E.HEADER_VALUE,
      `forbidden character 0x${c.toString(16)} in the value of '${name}'`)
  }
}

export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1')
