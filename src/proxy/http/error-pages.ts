/**
 * The responses the proxy generates itself, precomputed once: HAProxy 2.6's pages byte for byte
 * (http_err_msgs: its texts, its lower-case headers in its order, captured from HAProxy 2.6.12),
 * each followed by `connection: close` (HAProxy's own 400 and 408 carry it; tslb closes the
 * connection after any of them, so every page says so). 414, 431 and 505 are tslb's, in the same
 * style.
 * @module
 */
import { Buffer } from 'node:buffer'
import type { Proxy } from '../../config/model.ts'

export type ErrorStatus = 200 | 400 | 401 | 403 | 404 | 405 | 407 | 408 | 410 | 413 | 414 | 425 | 429 | 431 | 500 |
  501 | 502 | 503 | 504 | 505

const UNAUTHORIZED = 'You need a valid user and password to access this content.'

const PAGES: Record<ErrorStatus, readonly [string, string]> = {
  200: ['OK', 'Service ready.'],
  400: ['Bad request', 'Your browser sent an invalid request.'],
  401: ['Unauthorized', UNAUTHORIZED],
  403: ['Forbidden', 'Request forbidden by administrative rules.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed',
    'A request was made of a resource using a request method not supported by that resource'],
  407: ['Unauthorized', UNAUTHORIZED],
  408: ['Request Time-out', "Your browser didn't send a complete request in time."],
  410: ['Gone', 'The resource is no longer available and will not be available again.'],
  413: ['Payload Too Large', 'The request entity exceeds the maximum allowed.'],
  414: ['URI Too Long', 'The request line is too long.'],
  425: ['Too Early', 'Your browser sent early data.'],
  429: ['Too Many Requests', 'You have sent too many requests in a given amount of time.'],
  431: ['Request Header Fields Too Large', 'The request header fields are too large.'],
  500: ['Internal Server Error', 'An internal server error occurred.'],
  // The leading dot is HAProxy's.
  501: ['Not Implemented', '.The server does not support the functionality required to fulfill the request.'],
  502: ['Bad Gateway', 'The server returned an invalid or incomplete response.'],
  503: ['Service Unavailable', 'No server is available to handle this request.'],
  504: ['Gateway Time-out', "The server didn't respond in time."],
  505: ['HTTP Version Not Supported', 'The HTTP version of the request is not supported.']
}

export const ERROR_STATUSES = Object.keys(PAGES).map(Number) as ErrorStatus[]

function render (status: ErrorStatus): Buffer {
  const [reason, text] = PAGES[status]
  const body = `<html><body><h1>${status} ${reason}</h1>\n${text}\n</body></html>\n`
  return Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'cache-control: no-cache\r\n' +
    'content-type: text/html\r\n' +
    'connection: close\r\n' +
    '\r\n' +
    body, 'latin1')
}

const RENDERED = new Map<number, Buffer>()
for (const s of ERROR_STATUSES) RENDERED.set(s, render(s))

/**
 * The full response (head and body) for `status`. The same Buffer every time: write it, never
 * modify it.
 */
export function errorResponse (status: ErrorStatus): Buffer {
  return RENDERED.get(status) as Buffer
}

const proxyPages = new WeakMap<Proxy, ReadonlyMap<number, Buffer>>()

/** A proxy's `errorfile` / `errorfiles` / `http-error` replies, rendered once (each closes the connection). */
function pagesOf (p: Proxy): ReadonlyMap<number, Buffer> {
  let pages = proxyPages.get(p)
  if (pages === undefined) {
    const m = new Map<number, Buffer>()
    for (const [status, reply] of Object.entries(p.errorReplies ?? {})) {
      if (reply.head === undefined) continue
      // An empty errorfile (`errorfile 408 /dev/null`): nothing is sent, the connection is closed.
      m.set(Number(status), reply.head === '' ? Buffer.alloc(0)
        : Buffer.from(`${reply.head}connection: close\r\n\r\n${reply.body ?? ''}`, 'latin1'))
    }
    pages = m
    proxyPages.set(p, pages)
  }
  return pages
}

/**
 * The response for `status`, as HAProxy 2.6 picks it (http_error_message): the backend's reply,
 * else the frontend's, else the default page.
 */
export function errorPage (status: ErrorStatus, frontend: Proxy, backend?: Proxy): Buffer {
  return (backend === undefined ? undefined : pagesOf(backend).get(status)) ?? pagesOf(frontend).get(status) ??
    errorResponse(status)
}
