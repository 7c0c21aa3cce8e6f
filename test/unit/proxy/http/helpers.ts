/** Shared helpers for the HTTP codec tests. */
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { HttpParseError, parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from '../../../../src/proxy/http/codec.ts'

export const MAX = 16384

export function bytes (s: string): Buffer {
  return Buffer.from(s, 'latin1')
}

/** Parses a complete request head (fails the test when incomplete). */
export function req (s: string, max = MAX): RequestHead {
  const h = parseRequestHead(bytes(s), max)
  assert.ok(h !== null, 'head incomplete')
  return h
}

/** Parses a complete response head. */
export function res (s: string, method = 'GET', max = MAX): ResponseHead {
  const h = parseResponseHead(bytes(s), max, method)
  assert.ok(h !== null, 'head incomplete')
  return h
}

/** Asserts that `fn` throws HttpParseError with this status and code (short form: without TSLB_ERR_HTTP_). */
export function throwsHttp (fn: () => unknown, status: number, code: string): HttpParseError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof HttpParseError, `not an HttpParseError: ${String(err)}`)
    assert.equal(err.code, `TSLB_ERR_HTTP_${code}`, err.message)
    assert.equal(err.status, status, err.message)
    return err
  }
  assert.fail(`did not throw (expected ${status} ${code})`)
}

export function rejectsRequest (s: string, status: number, code: string, max = MAX): HttpParseError {
  return throwsHttp(() => parseRequestHead(bytes(s), max), status, code)
}

export function rejectsResponse (s: string, code: string, method = 'GET', max = MAX): HttpParseError {
  return throwsHttp(() => parseResponseHead(bytes(s), max, method), 502, code)
}
