import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ChunkedDecoder, toH2Fields, toH2RawFields } from '../../../../src/proxy/h2/response.ts'
import { parseResponseHead } from '../../../../src/proxy/http/head.ts'
import { ResetGuard } from '../../../../src/proxy/h2/reset-guard.ts'

describe('HTTP/1.1 response → HTTP/2', () => {
  test('fields are lower-cased, repeated ones kept, connection-specific ones (and those Connection names) dropped', () => {
    const res = parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\n' +
      'Set-Cookie: b=2\r\nConnection: close, x-hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n' +
      'Transfer-Encoding: chunked\r\n\r\n'), 16384, 'GET')
    assert.ok(res !== null)
    assert.deepEqual(toH2Fields(res), { ':status': 200, 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] })
    assert.deepEqual(toH2RawFields(res), [':status', '200', 'content-type', 'text/plain', 'set-cookie', 'a=1',
      'set-cookie', 'b=2'])
  })

  test('the chunked decoder returns the payload, whatever the split, and finds the end (trailers dropped)', () => {
    const body = Buffer.from('5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-trailer: 1\r\n\r\n')
    for (let split = 1; split < body.length; split++) {
      const d = new ChunkedDecoder()
      const out = [...d.push(body.subarray(0, split)), ...d.push(body.subarray(split))]
      assert.equal(Buffer.concat(out).toString(), 'helloabcdefghijklmnopqrstuvwxyz', `split at ${split}`)
      assert.equal(d.done, true)
    }
    const d = new ChunkedDecoder()
    d.push(Buffer.from('3\r\nabc\r\n'))
    assert.equal(d.done, false)
    d.push(Buffer.from('0\r\n\r\n'))
    assert.equal(d.done, true)
  })
})

describe('rapid-reset guard', () => {
  test('a burst up to the bound passes, one more fails; tokens come back with time', () => {
    let now = 1000
    const g = new ResetGuard(now, { burst: 3, perSecond: 2 })
    assert.equal(g.reset(now), true)
    assert.equal(g.reset(now), true)
    assert.equal(g.reset(now), true)
    assert.equal(g.reset(now), false)
    now += 500
    assert.equal(g.reset(now), true)
    assert.equal(g.reset(now), false)
    now += 10_000
    for (let i = 0; i < 3; i++) assert.equal(g.reset(now), true)
    assert.equal(g.reset(now), false)
  })
})
