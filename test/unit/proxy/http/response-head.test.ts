import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { getHeader, parseResponseHead, serializeResponseHead } from '../../../../src/proxy/http/codec.ts'
import { bytes, MAX, rejectsResponse, res } from './helpers.ts'

describe('parseResponseHead: values', () => {
  test('a typical head', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n'
    const h = res(raw + 'hello world!')
    assert.equal(h.status, 200)
    assert.equal(h.reason, 'OK')
    assert.equal(h.versionMinor, 1)
    assert.deepEqual(h.headers, ['Content-Type', 'text/plain', 'Content-Length', '12', 'Connection', 'keep-alive'])
    assert.equal(h.headLength, raw.length)
    assert.equal(h.contentLength, 12)
    assert.equal(h.chunked, false)
    assert.deepEqual(h.connection, { close: false, keepAlive: true, upgrade: false })
    assert.equal(h.bodyKind, 'length')
    assert.equal(h.raw.toString('latin1'), raw)
  })

  test('null while incomplete', () => {
    const raw = 'HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n'
    for (let i = 0; i < raw.length; i++) assert.equal(parseResponseHead(bytes(raw.slice(0, i)), MAX, 'GET'), null, `prefix ${i}`)
  })

  test('reason phrase: optional, may be empty, may hold obs-text', () => {
    assert.equal(res('HTTP/1.1 200\r\n\r\n').reason, '')
    assert.equal(res('HTTP/1.1 200 \r\n\r\n').reason, '')
    assert.equal(res('HTTP/1.1 404 Not \tFound \xe9\r\n\r\n').reason, 'Not \tFound \xe9')
    assert.equal(res('HTTP/1.0 500 Oops\r\n\r\n').versionMinor, 0)
  })

  test('leading empty lines are tolerated', () => {
    assert.equal(res('\r\nHTTP/1.1 204 No Content\r\n\r\n').status, 204)
  })
})

describe('parseResponseHead: body kind (RFC 9112 §6.3)', () => {
  const cases: [string, string, string][] = [
    ['HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', 'none'],
    ['HEAD', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'none'],
    ['GET', 'HTTP/1.1 100 Continue\r\n\r\n', 'none'],
    ['GET', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', 'none'],
    ['GET', 'HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n', 'none'],
    ['GET', 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n', 'none'],
    ['GET', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n', 'none'],
    ['CONNECT', 'HTTP/1.1 200 Connection Established\r\n\r\n', 'tunnel'],
    ['CONNECT', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'tunnel'],
    ['CONNECT', 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5\r\n\r\n', 'length'],
    ['GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'chunked'],
    ['GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 'chunked'],
    ['GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 'until-close'],
    ['GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', 'until-close'],
    ['POST', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'length'],
    ['GET', 'HTTP/1.1 200 OK\r\n\r\n', 'until-close'],
    ['GET', 'HTTP/1.0 200 OK\r\n\r\n', 'until-close']
  ]
  for (const [method, raw, kind] of cases) {
    test(`${method} → ${raw.split('\r\n')[0] as string} ${raw.includes('Transfer') ? '(TE)' : raw.includes('Length') ? '(CL)' : ''} → ${kind}`, () => {
      assert.equal(res(raw, method).bodyKind, kind)
    })
  }
})

describe('parseResponseHead: framing repairs an intermediary must make', () => {
  test('TE + CL: TE wins, Content-Length is removed before forwarding, server connection not reused', () => {
    const h = res('HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n')
    assert.equal(h.bodyKind, 'chunked')
    assert.equal(h.contentLength, -1)
    assert.equal(h.rawExact, false)
    assert.equal(getHeader(h, 'content-length'), undefined)
    assert.equal(h.connection.close, true)
    const out = serializeResponseHead(h).toString('latin1')
    assert.equal(out, 'HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n')
  })
  test('TE on HTTP/1.0 ends server-side reuse', () => {
    assert.equal(res('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n').connection.close, true)
  })
  test('identical duplicate Content-Length merged', () => {
    const h = res('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n')
    assert.equal(h.contentLength, 3)
    assert.deepEqual(h.headers, ['Content-Length', '3'])
  })
})

describe('parseResponseHead: errors are 502', () => {
  test('status line', () => {
    rejectsResponse('HTTP/1.1 20 OK\r\n\r\n', 'INVALID_STATUS')
    rejectsResponse('HTTP/1.1 2000 OK\r\n\r\n', 'INVALID_STATUS')
    rejectsResponse('HTTP/1.1 099 X\r\n\r\n', 'INVALID_STATUS')
    rejectsResponse('HTTP/1.1 600 X\r\n\r\n', 'INVALID_STATUS')
    rejectsResponse('HTTP/1.1 abc OK\r\n\r\n', 'INVALID_STATUS')
    rejectsResponse('HTTP/1.1  200 OK\r\n\r\n', 'INVALID_STATUS')
    rejectsResponse('HTTP/1.1 200 O\x01K\r\n\r\n', 'INVALID_REASON')
    rejectsResponse('HTTP/1.1\t200 OK\r\n\r\n', 'INVALID_VERSION')
    rejectsResponse('HTTP/2 200 OK\r\n\r\n', 'INVALID_VERSION')
    rejectsResponse('HTTP/2.0 200 OK\r\n\r\n', 'VERSION_NOT_SUPPORTED')
    rejectsResponse('ICY 200 OK\r\n\r\n', 'INVALID_VERSION')
  })
  test('a partial response that does not start with HTTP/ fails at once', () => {
    rejectsResponse('<html>', 'INVALID_VERSION')
    rejectsResponse('HTTX', 'INVALID_VERSION')
    assert.equal(parseResponseHead(bytes('HTT'), MAX, 'GET'), null)
  })
  test('header syntax', () => {
    rejectsResponse('HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n', 'BARE_LF')
    rejectsResponse('HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n', 'BARE_CR')
    rejectsResponse('HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n', 'OBS_FOLD')
    rejectsResponse('HTTP/1.1 200 OK\r\nX : a\r\n\r\n', 'WS_BEFORE_COLON')
    rejectsResponse('HTTP/1.1 200 OK\r\nX: a\x00\r\n\r\n', 'NUL')
    rejectsResponse('HTTP/1.1 200 OK\r\nTransfer_Encoding: chunked\r\n\r\n', 'AMBIGUOUS_HEADER_NAME')
  })
  test('framing', () => {
    rejectsResponse('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'CONTENT_LENGTH_CONFLICT')
    rejectsResponse('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'INVALID_CONTENT_LENGTH')
    rejectsResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 'TE_CHUNKED_TWICE')
    rejectsResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x\r\n\r\n', 'TE_INVALID')
  })
  test('size', () => {
    rejectsResponse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(2000)}`, 'HEAD_TOO_LARGE', 'GET', 1000)
    rejectsResponse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(2000)}\r\n\r\n`, 'HEAD_TOO_LARGE', 'GET', 1000)
  })
})
