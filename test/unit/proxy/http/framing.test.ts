import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ChunkedFramer, type ChunkedFramerOptions, LengthFramer } from '../../../../src/proxy/http/codec.ts'
import { bytes, throwsHttp } from './helpers.ts'

/** Feeds `body` in slices of `step` bytes (0: whole); returns total consumed and whether done. */
function feed (body: string, step = 0, options?: ChunkedFramerOptions): { consumed: number, done: boolean } {
  const f = new ChunkedFramer(options)
  const buf = bytes(body)
  let consumed = 0
  let done = false
  const size = step === 0 ? buf.length : step
  for (let i = 0; i < buf.length && !done; i += size) {
    const slice = buf.subarray(i, i + size)
    const r = f.push(slice, 0)
    assert.ok(r.consumed <= slice.length)
    consumed += r.consumed
    done = r.done
    if (!done) assert.equal(r.consumed, slice.length, 'an unfinished body consumes everything it is given')
  }
  assert.equal(f.done, done)
  return { consumed, done }
}

function rejects (body: string, code: string, options?: ChunkedFramerOptions): void {
  for (const step of [0, 1, 3]) throwsHttp(() => feed(body, step, options), options?.errorStatus ?? 400, code)
}

describe('LengthFramer', () => {
  test('takes exactly Content-Length bytes, over several pushes', () => {
    const f = new LengthFramer(10)
    assert.deepEqual({ ...f.push(bytes('abcd'), 0) }, { consumed: 4, done: false })
    assert.equal(f.done, false)
    assert.deepEqual({ ...f.push(bytes('xxefghijGET /'), 2) }, { consumed: 6, done: true })
    assert.equal(f.done, true)
    assert.deepEqual({ ...f.push(bytes('more'), 0) }, { consumed: 0, done: true })
  })
  test('zero length is done at once', () => {
    assert.deepEqual({ ...new LengthFramer(0).push(bytes('GET'), 0) }, { consumed: 0, done: true })
  })
  test('an empty push is harmless', () => {
    assert.deepEqual({ ...new LengthFramer(3).push(bytes(''), 0) }, { consumed: 0, done: false })
  })
})

describe('ChunkedFramer: valid bodies', () => {
  const bodies = [
    '0\r\n\r\n',
    '5\r\nhello\r\n0\r\n\r\n',
    '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    'A\r\n0123456789\r\n0\r\n\r\n',
    'a\r\n0123456789\r\n00\r\n\r\n',
    '0005\r\nhello\r\n0\r\n\r\n',
    '5;ext\r\nhello\r\n0;last\r\n\r\n',
    '5 ;a=b\r\nhello\r\n0\t;x="y z"\r\n\r\n',
    '5;a="q\\"uoted\\\\"\r\nhello\r\n0\r\n\r\n',
    '5\t\r\nhello\r\n0 \r\n\r\n',
    '5\r\nhe\r\nl\r\n0\r\n\r\n',
    '0\r\nX-Trailer: 1\r\nChecksum:\tabc def\r\nEmpty:\r\n\r\n',
    '0\r\nX-Obs: \xe9\xff\r\n\r\n'
  ]
  for (const b of bodies) {
    test(JSON.stringify(b), () => {
      for (const step of [0, 1, 2, 5]) {
        assert.deepEqual(feed(b, step), { consumed: b.length, done: true }, `step ${step}`)
        assert.deepEqual(feed(b + 'GET / HTTP/1.1\r\n', step), { consumed: b.length, done: true }, `step ${step}, pipelined`)
      }
    })
  }

  test('stops exactly at the end of the body, with an offset', () => {
    const f = new ChunkedFramer()
    const buf = bytes('XYZ3\r\nabc\r\n0\r\n\r\nNEXT')
    const r = f.push(buf, 3)
    assert.equal(r.consumed, buf.length - 3 - 4)
    assert.equal(r.done, true)
    assert.deepEqual({ ...f.push(buf, 0) }, { consumed: 0, done: true })
  })

  test('a large chunk passes through in bulk across pushes', () => {
    const f = new ChunkedFramer()
    assert.deepEqual({ ...f.push(bytes('100000\r\n'), 0) }, { consumed: 8, done: false })
    const data = Buffer.alloc(0x100000, 0x61)
    for (let i = 0; i < data.length; i += 65536) assert.equal(f.push(data.subarray(i, i + 65536), 0).consumed, 65536)
    assert.deepEqual({ ...f.push(bytes('\r\n0\r\n\r\n'), 0) }, { consumed: 7, done: true })
  })

  test('chunk size up to 2^53-1 is accepted', () => {
    const f = new ChunkedFramer()
    assert.equal(f.push(bytes('1fffffffffffff\r\nabc'), 0).consumed, 19)
    throwsHttp(() => new ChunkedFramer().push(bytes('20000000000000\r\n'), 0), 400, 'CHUNK_SIZE_TOO_LARGE')
  })

  test('the result object is reused (no allocation per push)', () => {
    const f = new ChunkedFramer()
    assert.equal(f.push(bytes('1\r\n'), 0), f.push(bytes('a'), 0))
  })
})

describe('ChunkedFramer: invalid bodies', () => {
  test('chunk size syntax', () => {
    rejects('0x0\r\n\r\n', 'CHUNK_SIZE_INVALID')
    rejects('-1\r\n\r\n', 'CHUNK_SIZE_INVALID')
    rejects('+1\r\na\r\n0\r\n\r\n', 'CHUNK_SIZE_INVALID')
    rejects(' 1\r\na\r\n0\r\n\r\n', 'CHUNK_SIZE_INVALID')
    rejects('\t1\r\na\r\n0\r\n\r\n', 'CHUNK_SIZE_INVALID')
    rejects('g\r\n', 'CHUNK_SIZE_INVALID')
    rejects('1g\r\n', 'CHUNK_SIZE_INVALID')
    rejects('1 1\r\n', 'CHUNK_SIZE_INVALID')
    rejects('\r\n', 'CHUNK_SIZE_INVALID')
    rejects('1,\r\n', 'CHUNK_SIZE_INVALID')
  })
  test('line endings', () => {
    rejects('1\na\r\n0\r\n\r\n', 'BARE_LF')
    rejects('1 \na\r\n0\r\n\r\n', 'BARE_LF')
    rejects('1\rXa', 'BARE_CR')
    rejects('\n', 'BARE_LF')
    rejects('1\r\na\n0\r\n\r\n', 'CHUNK_DATA_CRLF')
    rejects('1\r\na\rX', 'CHUNK_DATA_CRLF')
    rejects('1\r\nab\r\n', 'CHUNK_DATA_CRLF')
    rejects('0\r\n\rX', 'BARE_CR')
  })
  test('chunk extensions: bounded, CTL-free, balanced quotes', () => {
    rejects(`1;${'x'.repeat(100)}\r\na\r\n0\r\n\r\n`, 'CHUNK_LINE_TOO_LONG', { maxChunkLine: 64 })
    rejects(`${'0'.repeat(100)}1\r\na\r\n0\r\n\r\n`, 'CHUNK_LINE_TOO_LONG', { maxChunkLine: 64 })
    rejects(`1${' '.repeat(100)}\r\na\r\n0\r\n\r\n`, 'CHUNK_LINE_TOO_LONG', { maxChunkLine: 64 })
    assert.deepEqual(feed(`1;${'x'.repeat(60)}\r\na\r\n0\r\n\r\n`, 0, { maxChunkLine: 64 }).done, true)
    rejects('1;a="b\r\na\r\n0\r\n\r\n', 'CHUNK_EXT_INVALID')
    rejects('1;a=b\\c\r\na\r\n0\r\n\r\n', 'CHUNK_EXT_INVALID')
    rejects('1;a="b\\\r\n', 'CHUNK_EXT_INVALID')
    rejects('1;a\x00\r\na\r\n0\r\n\r\n', 'CHUNK_EXT_INVALID')
    rejects('1;a\x7f\r\na\r\n0\r\n\r\n', 'CHUNK_EXT_INVALID')
    rejects('1;a\nb\r\n', 'BARE_LF')
  })
  test('trailers: header-line rules, no framing fields, bounded', () => {
    rejects('0\r\n X: a\r\n\r\n', 'OBS_FOLD')
    rejects('0\r\nX: a\r\n\tb\r\n\r\n', 'OBS_FOLD')
    rejects('0\r\nX : a\r\n\r\n', 'WS_BEFORE_COLON')
    rejects('0\r\n: a\r\n\r\n', 'EMPTY_HEADER_NAME')
    rejects('0\r\nX(: a\r\n\r\n', 'INVALID_HEADER_NAME')
    rejects('0\r\nX\r\n\r\n', 'INVALID_HEADER_NAME')
    rejects('0\r\nX: a\x01\r\n\r\n', 'INVALID_HEADER_VALUE')
    rejects('0\r\nX: a\x00\r\n\r\n', 'NUL')
    rejects('0\r\nX: a\n\r\n', 'BARE_LF')
    rejects('0\r\nX: a\rb\r\n\r\n', 'BARE_CR')
    rejects('0\r\ncontent-LENGTH: 5\r\n\r\n', 'TRAILER_FORBIDDEN')
    rejects('0\r\nTransfer-Encoding: chunked\r\n\r\n', 'TRAILER_FORBIDDEN')
    rejects('0\r\nHost: evil\r\n\r\n', 'TRAILER_FORBIDDEN')
    assert.equal(feed('0\r\nContent-Length-X: 5\r\nHostname: a\r\n\r\n').done, true)
    rejects(`0\r\nX: ${'a'.repeat(200)}\r\n\r\n`, 'TRAILERS_TOO_LARGE', { maxTrailerSize: 100 })
  })
  test('errors carry the configured status and the body offset', () => {
    const e = throwsHttp(() => feed('5\r\nhello\r\nZ\r\n', 0, { errorStatus: 502 }), 502, 'CHUNK_SIZE_INVALID')
    assert.equal(e.offset, 10)
    const f = new ChunkedFramer()
    f.push(bytes('5\r\nhel'), 0)
    const e2 = throwsHttp(() => f.push(bytes('lo\r\nZ'), 0), 400, 'CHUNK_SIZE_INVALID')
    assert.equal(e2.offset, 10)
  })
})
