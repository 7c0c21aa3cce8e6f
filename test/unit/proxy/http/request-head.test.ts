import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { getHeader, getHeaderValues, HttpParseError, isValidAuthority, parseRequestHead, toOriginForm } from '../../../../src/proxy/http/codec.ts'
import { bytes, MAX, rejectsRequest, req } from './helpers.ts'

const H = 'Host: example.com\r\n'

describe('parseRequestHead: values', () => {
  test('a typical head', () => {
    const raw = 'GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n'
    const buf = bytes(raw + 'NEXT')
    const h = parseRequestHead(buf, MAX)
    assert.ok(h !== null)
    assert.equal(h.method, 'GET')
    assert.equal(h.target, '/index.html?q=1')
    assert.equal(h.targetForm, 'origin')
    assert.equal(h.versionMinor, 1)
    assert.deepEqual(h.headers, ['Host', 'example.com', 'User-Agent', 'curl/8.0', 'Accept', '*/*'])
    assert.equal(h.headLength, raw.length)
    assert.equal(h.contentLength, -1)
    assert.equal(h.chunked, false)
    assert.deepEqual(h.connection, { close: false, keepAlive: false, upgrade: false })
    assert.equal(h.connectionTokens, undefined)
    assert.equal(h.upgrade, undefined)
    assert.equal(h.expectContinue, false)
    assert.equal(h.host, 'example.com')
    assert.equal(h.rawExact, true)
    assert.equal(h.raw.toString('latin1'), raw)
    assert.equal(h.raw.buffer, buf.buffer, 'raw is a view, not a copy')
    assert.deepEqual(h.lineOffsets, [30, 49, 71, 84])
  })

  test('null while incomplete, at any split point', () => {
    const raw = `POST /x HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\n`
    for (let i = 0; i < raw.length; i++) assert.equal(parseRequestHead(bytes(raw.slice(0, i)), MAX), null, `prefix ${i}`)
    assert.equal(req(raw).contentLength, 3)
  })

  test('null for a lone CR or empty lines still arriving', () => {
    assert.equal(parseRequestHead(bytes('\r'), MAX), null)
    assert.equal(parseRequestHead(bytes('\r\n'), MAX), null)
    assert.equal(parseRequestHead(bytes('\r\n\r'), MAX), null)
  })

  test('headLength stops at the first of pipelined requests; leading empty lines count', () => {
    const one = `GET /1 HTTP/1.1\r\n${H}\r\n`
    const two = `GET /2 HTTP/1.1\r\n${H}\r\n`
    const h = req(`\r\n${one}${two}`)
    assert.equal(h.target, '/1')
    assert.equal(h.headLength, one.length + 2)
    assert.equal(h.raw.toString('latin1'), one)
    const h2 = parseRequestHead(bytes(`\r\n${one}${two}`).subarray(h.headLength), MAX)
    assert.equal(h2?.target, '/2')
  })

  test('methods: common ones interned, extension methods kept as sent', () => {
    for (const m of ['GET', 'PUT', 'POST', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'PROPFIND', 'get', 'M-SEARCH']) {
      assert.equal(req(`${m} / HTTP/1.1\r\n${H}\r\n`).method, m)
    }
  })

  test('HTTP/1.0', () => {
    const h = req('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')
    assert.equal(h.versionMinor, 0)
    assert.equal(h.host, undefined)
    assert.equal(h.connection.keepAlive, true)
  })

  test('Connection options: flags and hop-by-hop names, lists over several lines', () => {
    const h = req(`GET / HTTP/1.1\r\n${H}Connection: close, , X-A\r\nConnection: Upgrade,keep-alive , x-b\r\nUpgrade: websocket\r\nUpgrade: h2c\r\n\r\n`)
    assert.deepEqual(h.connection, { close: true, keepAlive: true, upgrade: true })
    assert.deepEqual(h.connectionTokens, ['x-a', 'x-b'])
    assert.equal(h.upgrade, 'websocket, h2c')
  })

  test('Expect: 100-continue on HTTP/1.1 only', () => {
    assert.equal(req(`POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 1\r\n\r\n`).expectContinue, true)
    assert.equal(req('POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n').expectContinue, false)
    assert.equal(req(`POST / HTTP/1.1\r\n${H}Expect: something\r\nContent-Length: 1\r\n\r\n`).expectContinue, false)
  })

  test('values are trimmed of OWS, inner whitespace kept, obs-text kept byte for byte', () => {
    const h = req(`GET / HTTP/1.1\r\n${H}X-A: \t a  b \t\r\nX-B: \xe9\xff\r\n\r\n`)
    assert.equal(getHeader(h, 'x-a'), 'a  b')
    assert.equal(getHeader(h, 'X-B'), '\xe9\xff')
  })

  test('getHeader / getHeaderValues are case-insensitive, first / all in order', () => {
    const h = req(`GET / HTTP/1.1\r\n${H}Cookie: a=1\r\ncookie: b=2\r\n\r\n`)
    assert.equal(getHeader(h, 'COOKIE'), 'a=1')
    assert.deepEqual(getHeaderValues(h, 'Cookie'), ['a=1', 'b=2'])
    assert.equal(getHeader(h, 'missing'), undefined)
    assert.deepEqual(getHeaderValues(h, 'missing'), [])
  })

  test('identical Content-Length duplicates are merged into one field (HAProxy)', () => {
    const h = req(`POST / HTTP/1.1\r\n${H}Content-Length: 007\r\nX-A: 1\r\ncontent-length: 7, 7\r\n\r\n`)
    assert.equal(h.contentLength, 7)
    assert.equal(h.rawExact, false)
    assert.deepEqual(h.headers, ['Host', 'example.com', 'Content-Length', '7', 'X-A', '1'])
  })

  test('Content-Length up to 2^53-1', () => {
    assert.equal(req(`POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740991\r\n\r\n`).contentLength, Number.MAX_SAFE_INTEGER)
    rejectsRequest(`POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`, 400, 'CONTENT_LENGTH_TOO_LARGE')
  })

  test('an absolute-form HTTP/1.0 request without Host takes its host from the target', () => {
    assert.equal(req('GET http://example.com:8080/x HTTP/1.0\r\n\r\n').host, 'example.com:8080')
  })
})

describe('parseRequestHead: framing rules', () => {
  const P = `POST / HTTP/1.1\r\n${H}`
  test('Content-Length and Transfer-Encoding together → 400', () => {
    rejectsRequest(`${P}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`, 400, 'CL_AND_TE')
    rejectsRequest(`${P}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n`, 400, 'CL_AND_TE')
  })
  test('Transfer-Encoding must end with chunked', () => {
    assert.equal(req(`${P}Transfer-Encoding: chunked\r\n\r\n`).chunked, true)
    assert.equal(req(`${P}Transfer-Encoding: deflate , Chunked\r\n\r\n`).chunked, true)
    rejectsRequest(`${P}Transfer-Encoding: gzip\r\n\r\n`, 400, 'TE_NOT_CHUNKED')
    rejectsRequest(`${P}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n`, 400, 'TE_NOT_CHUNKED')
    rejectsRequest(`${P}Transfer-Encoding: chunkedx\r\n\r\n`, 400, 'TE_NOT_CHUNKED')
    rejectsRequest(`${P}Transfer-Encoding: chunked,\r\n\r\n`, 400, 'TE_INVALID')
    rejectsRequest(`${P}Transfer-Encoding: chunked ;q=1\r\n\r\n`, 400, 'TE_INVALID')
    rejectsRequest(`${P}Transfer-Encoding: br, chunked\r\n\r\n`, 501, 'TE_UNSUPPORTED')
  })
  test('Transfer-Encoding on HTTP/1.0 → 400', () => {
    rejectsRequest('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'TE_HTTP10')
  })
  test('CONNECT may not carry a body; Content-Length: 0 is fine', () => {
    assert.equal(req('CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nContent-Length: 0\r\n\r\n').contentLength, 0)
    rejectsRequest('CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'CONNECT_BODY')
  })
})

describe('parseRequestHead: syntax rules', () => {
  test('bare LF anywhere → 400, with the offset of the LF', () => {
    const e = rejectsRequest(`GET / HTTP/1.1\r\n${H}X-A: b\nX-C: d\r\n\r\n`, 400, 'BARE_LF')
    assert.equal(e.offset, `GET / HTTP/1.1\r\n${H}X-A: b`.length)
    rejectsRequest('GET /\n', 400, 'BARE_LF')
    rejectsRequest('GET / HTTP/1.1\n', 400, 'BARE_LF')
    rejectsRequest('\nGET / HTTP/1.1\r\n', 400, 'BARE_LF')
  })
  test('bare CR → 400', () => {
    rejectsRequest(`GET / HTTP/1.1\r${H}\r\n`, 400, 'BARE_CR')
    rejectsRequest('\rGET / HTTP/1.1\r\n', 400, 'BARE_CR')
    rejectsRequest(`GET / HTTP/1.1\r\n${H}\r\r\n\r\n`, 400, 'BARE_CR')
  })
  test('an incomplete head is refused as soon as its bytes cannot become valid', () => {
    rejectsRequest('GET / HTTP/1.1\r\nHost: a\nX', 400, 'BARE_LF')
    rejectsRequest('GET / HTTP/1.1\rX', 400, 'BARE_CR')
    rejectsRequest('GE\x00', 400, 'INVALID_METHOD')
    rejectsRequest(' GET', 400, 'INVALID_METHOD')
  })
  test('obs-fold and whitespace after the start line → 400', () => {
    rejectsRequest(`GET / HTTP/1.1\r\n${H}X-A: a\r\n\tb\r\n\r\n`, 400, 'OBS_FOLD')
    rejectsRequest(`GET / HTTP/1.1\r\n\t${H}\r\n`, 400, 'WS_AFTER_START_LINE')
  })
  test('header names: token chars, no whitespace before the colon, not empty', () => {
    rejectsRequest(`GET / HTTP/1.1\r\n${H}X A: b\r\n\r\n`, 400, 'WS_BEFORE_COLON')
    rejectsRequest(`GET / HTTP/1.1\r\n${H}X-A : b\r\n\r\n`, 400, 'WS_BEFORE_COLON')
    rejectsRequest(`GET / HTTP/1.1\r\n${H}:b\r\n\r\n`, 400, 'EMPTY_HEADER_NAME')
    rejectsRequest(`GET / HTTP/1.1\r\n${H}X/A: b\r\n\r\n`, 400, 'INVALID_HEADER_NAME')
    rejectsRequest(`GET / HTTP/1.1\r\n${H}X"A: b\r\n\r\n`, 400, 'INVALID_HEADER_NAME')
  })
  test('header values: CTLs other than HTAB → 400', () => {
    for (const c of ['\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x1f', '\x7f']) {
      rejectsRequest(`GET / HTTP/1.1\r\n${H}X-A: a${c}b\r\n\r\n`, 400, 'INVALID_HEADER_VALUE')
    }
    rejectsRequest(`GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, 400, 'NUL')
    assert.equal(getHeader(req(`GET / HTTP/1.1\r\n${H}X-A: a\tb\r\n\r\n`), 'x-a'), 'a\tb')
  })
  test('method: tchar only, single SP after it', () => {
    rejectsRequest(`GET\t/ HTTP/1.1\r\n${H}\r\n`, 400, 'INVALID_METHOD')
    rejectsRequest(`G@T / HTTP/1.1\r\n${H}\r\n`, 400, 'INVALID_METHOD')
    rejectsRequest(` / HTTP/1.1\r\n${H}\r\n`, 400, 'INVALID_METHOD')
  })
  test('request-target forms', () => {
    assert.equal(req(`OPTIONS * HTTP/1.1\r\n${H}\r\n`).targetForm, 'asterisk')
    assert.equal(req('GET https://Example.COM:443/x HTTP/1.1\r\nHost: example.com\r\n\r\n').targetForm, 'absolute')
    assert.equal(req('GET ws://example.com/chat HTTP/1.1\r\nHost: example.com:80\r\n\r\n').targetForm, 'absolute')
    assert.equal(req('CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n').targetForm, 'authority')
    rejectsRequest(`OPTIONS *x HTTP/1.1\r\n${H}\r\n`, 400, 'INVALID_TARGET')
    rejectsRequest(`GET example.com:80 HTTP/1.1\r\n${H}\r\n`, 400, 'INVALID_TARGET')
    rejectsRequest(`GET http:/x HTTP/1.1\r\n${H}\r\n`, 400, 'INVALID_TARGET')
    rejectsRequest(`GET http:///x HTTP/1.1\r\n${H}\r\n`, 400, 'INVALID_TARGET')
    rejectsRequest(`CONNECT example.com:443/x HTTP/1.1\r\n${H}\r\n`, 400, 'INVALID_TARGET')
    rejectsRequest(`CONNECT example.com:https HTTP/1.1\r\n${H}\r\n`, 400, 'INVALID_TARGET')
  })
  test("a fragment ('#') in the request target → 400, in every form (as HAProxy 2.6)", () => {
    for (const target of ['/a#b', '/#', '/p?q=1#x', 'http://example.com/a#frag', 'http://example.com#f']) {
      const host = target.startsWith('/') ? H : 'Host: example.com\r\n'
      const err = rejectsRequest(`GET ${target} HTTP/1.1\r\n${host}\r\n`, 400, 'INVALID_TARGET')
      assert.match(err.message, /fragment/)
    }
  })
  test('version: exactly HTTP/1.0 or HTTP/1.1; other versions → 505', () => {
    rejectsRequest(`GET / HTTP/1.1x\r\n${H}\r\n`, 400, 'INVALID_VERSION')
    rejectsRequest(`GET / HTTP/1\r\n${H}\r\n`, 400, 'INVALID_VERSION')
    rejectsRequest(`GET / HTTP/1.\r\n${H}\r\n`, 400, 'INVALID_VERSION')
    rejectsRequest(`GET / HTTP/11\r\n${H}\r\n`, 400, 'INVALID_VERSION')
    rejectsRequest(`GET / HTTPS/1.1\r\n${H}\r\n`, 400, 'INVALID_VERSION')
    rejectsRequest(`GET / HTTP/3.0\r\n${H}\r\n`, 505, 'VERSION_NOT_SUPPORTED')
    rejectsRequest('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 505, 'VERSION_NOT_SUPPORTED')
  })
  test('leading empty lines: up to 4', () => {
    assert.equal(req(`\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`).headLength, 8 + 16 + H.length + 2)
    rejectsRequest(`\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`, 400, 'TOO_MANY_EMPTY_LINES')
  })
})

describe('parseRequestHead: Host', () => {
  test('required on HTTP/1.1, at most once', () => {
    rejectsRequest('GET / HTTP/1.1\r\n\r\n', 400, 'MISSING_HOST')
    rejectsRequest(`GET / HTTP/1.1\r\n${H}host: example.com\r\n\r\n`, 400, 'MULTIPLE_HOST')
    rejectsRequest(`GET / HTTP/1.0\r\n${H}${H}\r\n`, 400, 'MULTIPLE_HOST')
  })
  test('must be a valid authority', () => {
    for (const bad of ['a b', 'a@b', 'a/b', 'a?b', 'a#b', 'a,b', 'a\\b', '[::1', '::1', 'a:b:c', 'a:8x', '[]', 'a]']) {
      rejectsRequest(`GET / HTTP/1.1\r\nHost: ${bad}\r\n\r\n`, 400, 'INVALID_HOST')
    }
    for (const good of ['a', 'A.Example.COM', 'a:8080', 'a:', '192.0.2.1', '192.0.2.1:80', '[::1]', '[::1]:443', 'xn--bcher-kva.example', 'a_b~c%41']) {
      assert.equal(req(`GET / HTTP/1.1\r\nHost: ${good}\r\n\r\n`).host, good)
    }
  })
  test('must match an absolute-form target (case and default port aside)', () => {
    assert.ok(req('GET http://Example.com/ HTTP/1.1\r\nHost: example.COM\r\n\r\n'))
    assert.ok(req('GET http://example.com:80/ HTTP/1.1\r\nHost: example.com\r\n\r\n'))
    assert.ok(req('GET https://example.com/ HTTP/1.1\r\nHost: example.com:443\r\n\r\n'))
    rejectsRequest('GET https://example.com/ HTTP/1.1\r\nHost: example.com:80\r\n\r\n', 400, 'HOST_MISMATCH')
    rejectsRequest('GET http://example.com:8080/ HTTP/1.1\r\nHost: example.com\r\n\r\n', 400, 'HOST_MISMATCH')
    rejectsRequest('GET http://example.com/ HTTP/1.1\r\nHost:\r\n\r\n', 400, 'HOST_MISMATCH')
    rejectsRequest('CONNECT a.example:8443 HTTP/1.1\r\nHost: b.example:8443\r\n\r\n', 400, 'HOST_MISMATCH')
  })
  test('isValidAuthority', () => {
    assert.equal(isValidAuthority('example.com:443', true), true)
    assert.equal(isValidAuthority('example.com', true), false)
    assert.equal(isValidAuthority('example.com:', true), false)
    assert.equal(isValidAuthority('', false), false)
    assert.equal(isValidAuthority('\u0100', false), false)
  })
})

describe('parseRequestHead: size limits', () => {
  test('a head of exactly maxHeadSize bytes is accepted; one more byte is 431', () => {
    const base = `GET / HTTP/1.1\r\n${H}X-Pad: \r\n\r\n`
    const exact = `GET / HTTP/1.1\r\n${H}X-Pad: ${'p'.repeat(1000 - base.length)}\r\n\r\n`
    assert.equal(exact.length, 1000)
    assert.equal(req(exact, 1000).headLength, 1000)
    rejectsRequest(exact.replace('X-Pad: ', 'X-Pad: p'), 431, 'HEAD_TOO_LARGE', 1000)
  })
  test('incomplete beyond the limit: 414 while the request line is unfinished, else 431', () => {
    rejectsRequest(`GET /${'a'.repeat(2000)}`, 414, 'URI_TOO_LONG', 1000)
    rejectsRequest(`GET /${'a'.repeat(2000)} HTTP/1.1\r\n${H}`, 414, 'URI_TOO_LONG', 1000)
    rejectsRequest(`GET / HTTP/1.1\r\n${H}X-Pad: ${'p'.repeat(2000)}`, 431, 'HEAD_TOO_LARGE', 1000)
  })
  test('at most maxHeaders fields (431)', () => {
    const lines = (n: number): string => Array.from({ length: n }, (_, i) => `X-${i}: v\r\n`).join('')
    assert.equal(parseRequestHead(bytes(`GET / HTTP/1.1\r\n${H}${lines(9)}\r\n`), MAX, { maxHeaders: 10 })?.headers.length, 20)
    assert.throws(() => parseRequestHead(bytes(`GET / HTTP/1.1\r\n${H}${lines(10)}\r\n`), MAX, { maxHeaders: 10 }),
      (e: unknown) => e instanceof HttpParseError && e.status === 431 && e.code === 'TSLB_ERR_HTTP_TOO_MANY_HEADERS')
  })
})

describe('toOriginForm', () => {
  const cases: [string, string, string][] = [
    ['GET', 'http://example.com/a/b?c=d', '/a/b?c=d'],
    ['GET', 'http://example.com', '/'],
    ['GET', 'http://example.com?x=1', '/?x=1'],
    ['OPTIONS', 'http://example.com', '*'],
    ['GET', '/already/origin', '/already/origin']
  ]
  for (const [method, target, want] of cases) {
    test(`${method} ${target} → ${want}`, () => {
      const host = target.startsWith('/') ? H : 'Host: example.com\r\n'
      assert.equal(toOriginForm(req(`${method} ${target} HTTP/1.1\r\n${host}\r\n`)), want)
    })
  }
})
