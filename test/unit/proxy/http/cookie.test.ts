import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { CookieSettings } from '../../../../src/config/model.ts'
import { editResponseCookies, insertedCookie, readRequestCookie } from '../../../../src/proxy/http/cookie.ts'

const base: CookieSettings = { name: 'SERVERID', mode: 'insert', indirect: false, nocache: false, postonly: false, preserve: false, httponly: false, secure: false, domains: [], dynamic: false, attrs: [] }

test('insert: the cookie is found among others; without indirect the header is left alone', () => {
  assert.deepEqual(readRequestCookie(base, ['lang=en; SERVERID=B; x=1']), { serverValue: 'B', rewritten: undefined })
  assert.equal(readRequestCookie(base, ['lang=en']), undefined)
  assert.equal(readRequestCookie(base, []), undefined)
})

test('insert indirect: the persistence cookie is removed from what the server sees', () => {
  const s = { ...base, indirect: true }
  assert.deepEqual(readRequestCookie(s, ['lang=en; SERVERID=B; x=1']), { serverValue: 'B', rewritten: ['lang=en; x=1'] })
  assert.deepEqual(readRequestCookie(s, ['a=1', 'SERVERID=C']), { serverValue: 'C', rewritten: ['a=1'] })
})

test('prefix: SRV~value routes to SRV and the server sees value', () => {
  const s = { ...base, name: 'JSESSIONID', mode: 'prefix' as const }
  assert.deepEqual(readRequestCookie(s, ['JSESSIONID=A~abc123; x=1']), { serverValue: 'A', rewritten: ['JSESSIONID=abc123; x=1'] })
  assert.equal(readRequestCookie(s, ['JSESSIONID=abc123']), undefined)
  assert.deepEqual(editResponseCookies(s, 'A', ['JSESSIONID=abc123; path=/', 'other=1']), { setCookies: ['JSESSIONID=A~abc123; path=/', 'other=1'], serverSetIt: true })
})

test('rewrite: the server cookie value is replaced by the server name', () => {
  const s = { ...base, mode: 'rewrite' as const }
  assert.deepEqual(editResponseCookies(s, 'web1', ['SERVERID=xxx; path=/']), { setCookies: ['SERVERID=web1; path=/'], serverSetIt: true })
})

test('insert indirect drops the server own cookie unless preserve', () => {
  const s = { ...base, indirect: true }
  assert.deepEqual(editResponseCookies(s, 'A', ['SERVERID=mine', 'b=2']), { setCookies: ['b=2'], serverSetIt: true })
  assert.deepEqual(editResponseCookies({ ...s, preserve: true }, 'A', ['SERVERID=mine']), { setCookies: undefined, serverSetIt: true })
  assert.deepEqual(editResponseCookies(s, 'A', ['b=2']), { setCookies: undefined, serverSetIt: false })
})

test('inserted cookie attributes', () => {
  assert.equal(insertedCookie({ ...base, httponly: true, secure: true, domains: ['.example.com'] }, 'A'), 'SERVERID=A; path=/; domain=.example.com; HttpOnly; Secure')
})
