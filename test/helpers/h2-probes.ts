/** HTTP/2 requests that would be read differently as HTTP/1.1 (the smuggling probes of h2.test.ts and the interop test). */
/** A request with a field HTTP/1.1 would read differently, and what must happen to it. */
export interface Probe {
  name: string
  fields: [string, string][]
  body?: string[]
  /**
   * refused: RST_STREAM or GOAWAY, nothing reaches the server; dropped: nghttp2 removes the field and the request goes
   * without it (HAProxy refuses these); answered: an error status, nothing reaches the server.
   */
  outcome: 'refused' | 'dropped' | 'answered'
  /** HAProxy 2.6's outcome where it differs (the interop test's "refused; server got …" text, a prefix). */
  haproxy?: string
}

export const REQ: [string, string][] = [[':method', 'POST'], [':scheme', 'http'], [':path', '/probe'], [':authority', 'x']]
export const PROBES: Probe[] = [
  { name: 'upper-case field name', fields: [...REQ, ['X-Foo', '1']], outcome: 'refused' },
  { name: 'space in a field name', fields: [...REQ, ['x foo', '1']], outcome: 'dropped' },
  { name: 'colon in a field name', fields: [...REQ, ['x:foo', '1']], outcome: 'dropped' },
  { name: 'CR in a value', fields: [...REQ, ['x-foo', 'a\rb']], outcome: 'dropped' },
  { name: 'LF in a value', fields: [...REQ, ['x-foo', 'a\nb']], outcome: 'dropped' },
  { name: 'NUL in a value', fields: [...REQ, ['x-foo', 'a\0b']], outcome: 'dropped' },
  { name: 'CRLF header injection', fields: [...REQ, ['x-foo', 'a\r\nx-injected: 1']], outcome: 'dropped' },
  { name: 'leading space in a value', fields: [...REQ, ['x-foo', ' a']], outcome: 'dropped' },
  { name: 'connection', fields: [...REQ, ['connection', 'keep-alive']], outcome: 'refused' },
  { name: 'transfer-encoding: chunked', fields: [...REQ, ['transfer-encoding', 'chunked']],
    body: ['3\r\nabc\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n'], outcome: 'refused' },
  { name: 'upgrade', fields: [...REQ, ['upgrade', 'h2c']], outcome: 'refused' },
  { name: 'keep-alive', fields: [...REQ, ['keep-alive', '5']], outcome: 'refused' },
  { name: 'proxy-connection', fields: [...REQ, ['proxy-connection', 'close']], outcome: 'refused' },
  { name: 'te other than trailers', fields: [...REQ, ['te', 'gzip']], outcome: 'refused' },
  { name: 'content-length above the DATA sent', fields: [...REQ, ['content-length', '5']], body: ['abc'],
    outcome: 'refused' },
  { name: 'content-length below the DATA sent', fields: [...REQ, ['content-length', '2']],
    body: ['abGET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n'], outcome: 'refused' },
  { name: 'two different content-length', fields: [...REQ, ['content-length', '2'], ['content-length', '3']],
    body: ['ab'], outcome: 'refused' },
  { name: 'content-length not a number', fields: [...REQ, ['content-length', '2x']], body: ['ab'], outcome: 'refused' },
  { name: 'pseudo-header after a field', fields: [[':method', 'GET'], ['x-a', '1'], [':scheme', 'http'], [':path', '/'],
    [':authority', 'x']], outcome: 'refused' },
  { name: 'repeated :path', fields: [...REQ, [':path', '/other']], outcome: 'refused' },
  { name: 'no :path', fields: [[':method', 'GET'], [':scheme', 'http']], outcome: 'refused' },
  { name: 'space in :authority', fields: [[':method', 'GET'], [':scheme', 'http'], [':path', '/'],
    [':authority', 'a b']], outcome: 'refused', haproxy: 'answered; server got []' },
  { name: 'userinfo in :authority', fields: [[':method', 'GET'], [':scheme', 'http'], [':path', '/'],
    [':authority', 'u@h']], outcome: 'refused', haproxy: 'answered; server got [{"method":"GET","url":"/","version":"1.1","host":"u@h"' }
]
