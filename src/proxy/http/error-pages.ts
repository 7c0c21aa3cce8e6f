/**
 * The responses the proxy generates itself, precomputed once: HAProxy's texts (src/http.c,
 * http_err_msgs), each with Content-Type, Content-Length, Cache-Control: no-cache and
 * Connection: close — the proxy closes the connection after any of them.
 * @module
 */
import { Buffer } from 'node:buffer'

export type ErrorStatus = 400 | 403 | 404 | 408 | 414 | 431 | 500 | 501 | 502 | 503 | 504 | 505

const PAGES: Record<ErrorStatus, readonly [string, string]> = {
  400: ['Bad request', 'Your browser sent an invalid request.'],
  403: ['Forbidden', 'Request forbidden by administrative rules.'],
  404: ['Not Found', 'The resource could not be found.'],
  408: ['Request Time-out', "Your browser didn't send a complete request in time."],
  414: ['URI Too Long', 'The request line is too long.'],
  431: ['Request Header Fields Too Large', 'The request header fields are too large.'],
  500: ['Internal Server Error', 'An internal server error occurred.'],
  501: ['Not Implemented', 'The server does not support the functionality required to fulfill the request.'],
  502: ['Bad Gateway', 'The server returned an invalid or incomplete response.'],
  503: ['Service Unavailable', 'No server is available to handle this request.'],
  504: ['Gateway Time-out', "The server didn't respond in time."],
  505: ['HTTP Version Not Supported', 'The HTTP version of the request is not supported.']
}

function render (status: ErrorStatus): Buffer {
  const [reason, text] = PAGES[status]
  const body = `<html><body><h1>${status} ${reason}</h1>\n${text}\n</body></html>\n`
  return Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\n` +
    `Content-Type: text/html\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-cache\r\n' +
    'Connection: close\r\n' +
    '\r\n' +
    body, 'latin1')
}

const RENDERED = new Map<number, Buffer>()
for (const s of Object.keys(PAGES)) RENDERED.set(Number(s), render(Number(s) as ErrorStatus))

/**
 * The full response (head and body) for `status`. The same Buffer every time: write it, never
 * modify it.
 */
export function errorResponse (status: ErrorStatus): Buffer {
  return RENDERED.get(status) as Buffer
}
