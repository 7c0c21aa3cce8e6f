import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { errorResponse, type ErrorStatus, parseRequestHead, serializeRequestHead, serializeResponseHead, toOriginForm } from '../../../../src/proxy/http/codec.ts'
import { readFileSync } from 'node:fs'
import { ERROR_STATUSES } from '../../../../src/proxy/http/error-pages.ts'
import { MAX, req, res } from './helpers.ts'
import { VALID_TRICKY } from './smuggling-corpus.ts'

const text = (b: Buffer): string => b.toString('latin1')

describe('serializeRequestHead', () => {
  const raw = 'GET /a HTTP/1.1\r\nHost: example.com\r\nconnection: Keep-Alive, X-Hop, Content-Length, Host\r\nKeep-Alive: timeout=5\r\n' +
    'X-Hop: secret\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nUpgrade: websocket\r\nTrailer: X-Sum\r\nAccept: */*\r\nContent-Length: 0\r\n\r\n'

  test('no edits: the received bytes themselves, no copy', () => {
    const h = req(raw)
    assert.equal(serializeRequestHead(h), h.raw)
    assert.equal(serializeRequestHead(h, { removeHopByHop: false, keepUpgrade: false, add: [] }), h.raw)
    assert.equal(serializeRequestHead(h, { target: '/a' }), h.raw)
    const plain = req('GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n')
    assert.equal(serializeRequestHead(plain, { removeHopByHop: true }), plain.raw, 'nothing hop-by-hop to drop')
  })

  test('hop-by-hop removal keeps framing fields and Host even when Connection names them', () => {
    const out = text(serializeRequestHead(req(raw), { removeHopByHop: true, keepUpgrade: false, add: [] }))
    assert.equal(out, 'GET /a HTTP/1.1\r\nHost: example.com\r\nTrailer: X-Sum\r\nAccept: */*\r\nContent-Length: 0\r\n\r\n')
  })

  test('keepUpgrade keeps Upgrade; added fields go last, in order', () => {
    const out = text(serializeRequestHead(req(raw), { removeHopByHop: true, keepUpgrade: true, add: [['Connection', 'upgrade'], ['X-Forwarded-For', '198.18.0.2']] }))
    assert.equal(out, 'GET /a HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nTrailer: X-Sum\r\nAccept: */*\r\nContent-Length: 0\r\n' +
      'Connection: upgrade\r\nX-Forwarded-For: 198.18.0.2\r\n\r\n')
  })

  test('remove by name, case-insensitive; first and last fields', () => {
    const h = req('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n'.replace('A: 1', 'Host: h\r\nA: 1'))
    assert.equal(text(serializeRequestHead(h, { remove: ['host', 'c'] })), 'GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n')
    assert.equal(text(serializeRequestHead(h, { remove: ['HOST', 'a', 'B', 'c'] })), 'GET / HTTP/1.1\r\n\r\n')
    assert.equal(text(serializeRequestHead(h, { remove: ['b'], add: [['D', '4']] })), 'GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nC: 3\r\nD: 4\r\n\r\n')
  })

  test('received bytes are kept exactly: name case, OWS, obs-text', () => {
    const h = req('GET / HTTP/1.1\r\nhOsT:example.com\r\nX-A:  a \t\r\nX-B: \xe9\r\nConnection: close\r\n\r\n')
    assert.equal(text(serializeRequestHead(h, { removeHopByHop: true, add: [['X-F', 'v']] })),
      'GET / HTTP/1.1\r\nhOsT:example.com\r\nX-A:  a \t\r\nX-B: \xe9\r\nX-F: v\r\n\r\n')
  })

  test('target rewrite: absolute-form to origin-form', () => {
    const h = req('GET http://example.com/p?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n')
    assert.equal(text(serializeRequestHead(h, { target: toOriginForm(h) })), 'GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n')
    const h10 = req('GET http://example.com/p HTTP/1.0\r\nX: y\r\n\r\n')
    assert.equal(text(serializeRequestHead(h10, { target: '/p', remove: ['x'] })), 'GET /p HTTP/1.0\r\n\r\n')
  })

  test('normalized heads are rebuilt from the parsed fields', () => {
    const h = req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 03\r\nConnection: close\r\n\r\n')
    assert.equal(text(serializeRequestHead(h)), 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\n')
    assert.equal(text(serializeRequestHead(h, { removeHopByHop: true, add: [['X', '1']], target: '/t' })), 'POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nX: 1\r\n\r\n')
  })

  test('refuses to emit a field or target that would split the head', () => {
    const h = req('GET / HTTP/1.1\r\nHost: a\r\n\r\n')
    assert.throws(() => serializeRequestHead(h, { add: [['X', 'a\r\nInjected: 1']] }), TypeError)
    assert.throws(() => serializeRequestHead(h, { add: [['X', 'a\nb']] }), TypeError)
    assert.throws(() => serializeRequestHead(h, { add: [['X', 'a\u0000']] }), TypeError)
    assert.throws(() => serializeRequestHead(h, { add: [['X', '\u2028']] }), TypeError)
    assert.throws(() => serializeRequestHead(h, { add: [['X Y', 'a']] }), TypeError)
    assert.throws(() => serializeRequestHead(h, { add: [['', 'a']] }), TypeError)
    assert.throws(() => serializeRequestHead(h, { target: '/a b' }), TypeError)
    assert.throws(() => serializeRequestHead(h, { target: '' }), TypeError)
  })

  test('round trip: what is serialized parses back to the same request', () => {
    for (const c of VALID_TRICKY) {
      const h = req(c.raw)
      for (const edits of [{}, { removeHopByHop: true }, { removeHopByHop: true, add: [['X-Forwarded-For', '198.18.0.2']] as [string, string][] }]) {
        const again = parseRequestHead(serializeRequestHead(h, edits), MAX)
        assert.ok(again !== null, c.name)
        assert.equal(again.method, h.method, c.name)
        assert.equal(again.target, h.target, c.name)
        assert.equal(again.contentLength, h.contentLength, c.name)
        assert.equal(again.chunked, h.chunked, c.name)
        assert.equal(again.host, h.host, c.name)
      }
    }
  })
})

describe('serializeResponseHead', () => {
  test('no edits: raw bytes', () => {
    const h = res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
    assert.equal(serializeResponseHead(h), h.raw)
  })
  test('hop-by-hop dropped, Connection: close added', () => {
    const h = res('HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\nContent-Length: 2\r\n\r\n')
    assert.equal(text(serializeResponseHead(h, { removeHopByHop: true, add: [['Connection', 'close']] })), 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n')
  })
  test('101 keeps Upgrade with keepUpgrade', () => {
    const h = res('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n')
    assert.equal(text(serializeResponseHead(h, { removeHopByHop: true, keepUpgrade: true, add: [['Connection', 'Upgrade']] })),
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\nConnection: Upgrade\r\n\r\n')
  })
  test('rebuilt status line for normalized heads, reason kept, empty reason keeps its SP', () => {
    const h = res('HTTP/1.0 404\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n')
    assert.equal(text(serializeResponseHead(h)), 'HTTP/1.0 404 \r\nContent-Length: 1\r\n\r\n')
  })
})

describe('errorResponse', () => {
  for (const s of ERROR_STATUSES) {
    test(`${s}: a complete, valid response that closes the connection`, () => {
      const buf = errorResponse(s)
      assert.equal(errorResponse(s), buf, 'precomputed')
      const h = res(text(buf))
      assert.equal(h.status, s)
      assert.equal(h.bodyKind, 'length')
      assert.equal(h.connection.close, true)
      assert.equal(buf.length - h.headLength, h.contentLength)
      assert.deepEqual(h.headers.filter((_, i) => i % 2 === 0), ['content-length', 'cache-control', 'content-type', 'connection'])
      assert.match(text(buf.subarray(h.headLength)), new RegExp(`^<html><body><h1>${s} `))
    })
  }
  test('every page is HAProxy 2.6\'s (captured), with connection: close', () => {
    const captured = readFileSync(new URL('./haproxy-2.6-error-pages.txt', import.meta.url), 'utf8').trim().split('\n')
    assert.equal(captured.length, 17)
    for (const line of captured) {
      const status = Number(line.slice(0, 3)) as ErrorStatus
      const page = JSON.parse(line.slice(4)) as string
      const expected = page.includes('connection: close') ? page : page.replace('\r\n\r\n', '\r\nconnection: close\r\n\r\n')
      assert.equal(text(errorResponse(status)), expected, String(status))
    }
  })
})
