import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHttp1Request } from '../../../../src/proxy/h2/request.ts'
import { H2ErrorCode, H2RequestError } from '../../../../src/proxy/h2/errors.ts'
import { parseRequestHead } from '../../../../src/proxy/http/head.ts'

const BASE = [':method', 'GET', ':scheme', 'http', ':path', '/a?b', ':authority', 'example.com']

function refused (raw: string[], code: string, endStream = true): void {
  assert.throws(() => toHttp1Request(raw, endStream), (e: unknown) => e instanceof H2RequestError && e.code === code)
}

describe('HTTP/2 request → HTTP/1.1 head', () => {
  test('pseudo-headers become the request line and Host; the result parses as a strict HTTP/1.1 head', () => {
    const r = toHttp1Request([...BASE, 'accept', '*/*'], true)
    assert.equal(r.head.toString('latin1'),
      'GET /a?b HTTP/1.1\r\nhost: example.com\r\naccept: */*\r\nconnection: close\r\n\r\n')
    const head = parseRequestHead(r.head, 16384)
    assert.equal(head?.host, 'example.com')
    assert.equal(r.chunked, false)
  })

  test('a body without content-length is sent chunked; with one, as announced', () => {
    assert.match(toHttp1Request([...BASE], false).head.toString(), /transfer-encoding: chunked\r\n/)
    const r = toHttp1Request([...BASE, 'content-length', '5'], false)
    assert.equal(r.chunked, false)
    assert.equal(r.contentLength, 5)
    assert.doesNotMatch(r.head.toString(), /transfer-encoding/)
  })

  test('cookie crumbs are joined into one field (RFC 9113 §8.2.3); :authority wins over host', () => {
    const r = toHttp1Request([...BASE, 'cookie', 'a=1', 'host', 'other.example', 'cookie', 'b=2'], true)
    const text = r.head.toString()
    assert.match(text, /cookie: a=1; b=2\r\n/)
    assert.doesNotMatch(text, /other\.example/)
  })

  test('te: trailers is dropped, any other te is refused', () => {
    assert.doesNotMatch(toHttp1Request([...BASE, 'te', 'trailers'], true).head.toString(), /^te:/m)
    refused([...BASE, 'te', 'gzip'], H2ErrorCode.CONNECTION_HEADER)
  })

  for (const name of ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']) {
    test(`connection-specific field '${name}' is refused`, () => {
      refused([...BASE, name, 'chunked'], H2ErrorCode.CONNECTION_HEADER)
    })
  }

  test('upper-case and non-token names are refused', () => {
    refused([...BASE, 'X-Foo', '1'], H2ErrorCode.HEADER_NAME)
    refused([...BASE, 'x foo', '1'], H2ErrorCode.HEADER_NAME)
    refused([...BASE, '', '1'], H2ErrorCode.HEADER_NAME)
  })

  for (const [what, value] of [['CR', 'a\rb'], ['LF', 'a\nb'], ['NUL', 'a\0b'], ['CRLF injection',
    'x\r\nx-injected: 1'], ['leading space', ' a'], ['trailing tab', 'a\t'], ['DEL', 'a\x7f']]) {
    test(`${what as string} in a value is refused`, () => {
      refused([...BASE, 'x-foo', value as string], H2ErrorCode.HEADER_VALUE)
      refused([':method', 'GET', ':scheme', 'http', ':path', value as string], H2ErrorCode.HEADER_VALUE)
    })
  }

  test('content-length: not a number, two different values, or a body announced on an ended stream', () => {
    refused([...BASE, 'content-length', '1x'], H2ErrorCode.CONTENT_LENGTH, false)
    refused([...BASE, 'content-length', '-1'], H2ErrorCode.CONTENT_LENGTH, false)
    refused([...BASE, 'content-length', '3', 'content-length', '4'], H2ErrorCode.CONTENT_LENGTH, false)
    refused([...BASE, 'content-length', '3'], H2ErrorCode.CONTENT_LENGTH, true)
    const same = toHttp1Request([...BASE, 'content-length', '3', 'content-length', '3'], false)
    assert.equal(same.head.toString().match(/content-length/g)?.length, 1)
  })

  test('pseudo-headers: missing, unknown, repeated, after a field, bad :path or :authority', () => {
    refused([':scheme', 'http', ':path', '/'], H2ErrorCode.PSEUDO_HEADER)
    refused([':method', 'GET', ':path', '/'], H2ErrorCode.PSEUDO_HEADER)
    refused([...BASE, ':status', '200'], H2ErrorCode.PSEUDO_HEADER)
    refused([...BASE, ':path', '/x'], H2ErrorCode.PSEUDO_HEADER)
    refused([':method', 'GET', 'accept', '*', ':scheme', 'http', ':path', '/'], H2ErrorCode.PSEUDO_HEADER)
    refused([':method', 'GET', ':scheme', 'http', ':path', 'noslash'], H2ErrorCode.PSEUDO_HEADER)
    refused([':method', 'G T', ':scheme', 'http', ':path', '/'], H2ErrorCode.PSEUDO_HEADER)
    assert.throws(() => toHttp1Request([':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'u@h'], true),
      (e: unknown) => e instanceof H2RequestError && e.code === H2ErrorCode.AUTHORITY && e.status === 400)
    assert.equal(toHttp1Request([':method', 'OPTIONS', ':scheme', 'http', ':path', '*', ':authority', 'h'], true)
      .path, '*')
  })

  test('CONNECT is answered 501, not forwarded', () => {
    assert.throws(() => toHttp1Request([':method', 'CONNECT', ':authority', 'h:443'], true),
      (e: unknown) => e instanceof H2RequestError && e.code === H2ErrorCode.CONNECT && e.status === 501)
  })
})
