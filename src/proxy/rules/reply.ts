/**
 * Responses the rules generate (`deny`, `tarpit`, `auth`, `return`, `redirect`), byte for byte as
 * HAProxy 2.6 writes them: lower-case field names in its order, its default pages, keep-alive.
 */
import { Buffer } from 'node:buffer'

/** HAProxy's default pages (http_err_msgs): the statuses a `deny` without a body may use. */
const PAGES: Readonly<Record<number, string>> = {
  200: 'Service ready.',
  400: 'Your browser sent an invalid request.',
  401: 'You need a valid user and password to access this content.',
  403: 'Request forbidden by administrative rules.',
  404: 'The resource could not be found.',
  405: 'A request was made of a resource using a request method not supported by that resource',
  407: 'You need a valid user and password to access this content.',
  408: "Your browser didn't send a complete request in time.",
  410: 'The resource is no longer available and will not be available again.',
  413: 'The request entity exceeds the maximum allowed.',
  425: 'Your browser sent early data.',
  429: 'You have sent too many requests in a given amount of time.',
  500: 'An internal server error occurred.',
  501: 'The server does not support the functionality required to fulfill the request.',
  502: 'The server returned an invalid or incomplete response.',
  503: 'No server is available to handle this request.',
  504: "The server didn't respond in time."
}

const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted',
  203: 'Non-Authoritative Information', 204: 'No Content', 205: 'Reset Content', 206: 'Partial Content',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized',
  402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone',
  411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large', 414: 'URI Too Long',
  415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed', 418: "I'm a teapot",
  421: 'Misdirected Request', 422: 'Unprocessable Content', 425: 'Too Early', 426: 'Upgrade Required',
  428: 'Precondition Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons', 500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported'
}

/** The page titles HAProxy's default pages use where they differ from the reason phrase. */
const PAGE_REASONS: Readonly<Record<number, string>> = { 400: 'Bad request', 408: 'Request Time-out',
  504: 'Gateway Time-out' }

export function reasonPhrase (status: number): string {
  return REASONS[status] ?? 'Other'
}

export function hasDefaultPage (status: number): boolean {
  return PAGES[status] !== undefined
}

function head (status: number, reason: string, fields: readonly (readonly [string, string])[]): string {
  let s = `HTTP/1.1 ${status} ${reason}\r\n`
  for (const [n, v] of fields) s += `${n}: ${v}\r\n`
  return `${s}\r\n`
}

/** HAProxy's default page for `status`, with `extra` fields after its own. */
export function defaultPage (status: number, extra: readonly (readonly [string, string])[] = []): Buffer {
  const reason = PAGE_REASONS[status] ?? reasonPhrase(status)
  const body = `<html><body><h1>${status} ${reason}</h1>\n${PAGES[status] ?? ''}\n</body></html>\n`
  return Buffer.from(head(status, reason, [['content-length', String(Buffer.byteLength(body))],
    ['cache-control', 'no-cache'], ['content-type', 'text/html'], ...extra]) + body, 'latin1')
}

/** A reply with the fields given first (`hdr`), then content-length and content-type, as HAProxy orders them. */
export function customReply (status: number, fields: readonly (readonly [string, string])[],
  contentType: string | undefined, body: string | undefined): Buffer {
  const b = body ?? ''
  const all: [string, string][] = [...fields.map(([n, v]) => [n.toLowerCase(), v] as [string, string]),
    ['content-length', String(Buffer.byteLength(b))]]
  if (contentType !== undefined) all.push(['content-type', contentType])
  return Buffer.concat([Buffer.from(head(status, reasonPhrase(status), all), 'latin1'), Buffer.from(b, 'utf8')])
}

/** `redirect`: no body; `cache-control: no-cache` for 302, 303 and 307 as HAProxy. */
export function redirectReply (code: number, location: string): Buffer {
  const fields: [string, string][] = [['content-length', '0'], ['location', location]]
  if (code === 302 || code === 303 || code === 307) fields.push(['cache-control', 'no-cache'])
  return Buffer.from(head(code, reasonPhrase(code), fields), 'latin1')
}
