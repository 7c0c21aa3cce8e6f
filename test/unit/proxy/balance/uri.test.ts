import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Balance } from '../../../../src/config/model.ts'
import { createBalancer } from '../../../../src/proxy/balance/index.ts'
import { sdbm } from '../../../../src/proxy/balance/hash.ts'
import { UriBalancer } from '../../../../src/proxy/balance/uri.ts'
import { makeServers } from './helpers.ts'
import { hashed, runHashingSuite } from './hashing.ts'

const URI: Balance = { algorithm: 'uri', whole: false }

runHashingSuite('uri', URI, i => ({ source: '198.18.0.2', path: `/dir${i % 7}/file${i}.html` }), { source: '198.18.0.2' })

function keyOf (balance: Balance & { algorithm: 'uri' }, uri: string): string {
  const b = createBalancer(balance, undefined, makeServers([1]), { allBackups: false })
  assert.ok(b instanceof UriBalancer)
  const start = b.keyStart(uri)
  return uri.slice(start, b.keyEnd(uri, start))
}

test('uri: the query string is ignored unless `whole`', () => {
  assert.equal(keyOf(URI, '/a/b.html?x=1&y=2'), '/a/b.html')
  assert.equal(keyOf({ algorithm: 'uri', whole: true }, '/a/b.html?x=1&y=2'), '/a/b.html?x=1&y=2')
  const { b } = hashed(URI, undefined, [1, 1, 1, 1, 1])
  for (let i = 0; i < 100; i++) assert.equal(b.pick({ source: 'x', path: `/p/${i}?session=${i * 31}` }), b.pick({ source: 'y', path: `/p/${i}` }))
})

test('uri: `len` keeps the first N characters, `depth` the first N directory levels', () => {
  assert.equal(keyOf({ algorithm: 'uri', whole: false, len: 4 }, '/abcdef/g'), '/abc')
  assert.equal(keyOf({ algorithm: 'uri', whole: false, len: 40 }, '/abcdef/g'), '/abcdef/g')
  assert.equal(keyOf({ algorithm: 'uri', whole: false, len: 0 }, '/abcdef/g'), '/abcdef/g')
  assert.equal(keyOf({ algorithm: 'uri', whole: false, depth: 1 }, '/a/b/c/d.html'), '/a')
  assert.equal(keyOf({ algorithm: 'uri', whole: false, depth: 2 }, '/a/b/c/d.html'), '/a/b')
  assert.equal(keyOf({ algorithm: 'uri', whole: false, depth: 9 }, '/a/b/c/d.html'), '/a/b/c/d.html')
  assert.equal(keyOf({ algorithm: 'uri', whole: false, depth: 2 }, '/a?x=/b/c'), '/a')
  assert.equal(keyOf({ algorithm: 'uri', whole: true, depth: 2 }, '/a?x=/b/c'), '/a?x=/b')
  // Whichever limit comes first.
  assert.equal(keyOf({ algorithm: 'uri', whole: false, depth: 2, len: 3 }, '/abc/d/e'), '/ab')
  // An absolute URI is hashed as received, authority included (HAProxy without path-only).
  assert.equal(keyOf({ algorithm: 'uri', whole: false, depth: 1 }, 'http://h/a/b'), 'http:/')
})

test('uri: `path-only` hashes from the path, an absolute URI\'s scheme and authority skipped', () => {
  const P = { algorithm: 'uri', whole: false, pathOnly: true } as const
  assert.equal(keyOf(P, 'http://127.0.0.1/url1'), '/url1')
  assert.equal(keyOf(P, 'https://h:8443/a/b?x=1'), '/a/b')
  assert.equal(keyOf(P, '/url1?ignore=this-arg'), '/url1')
  assert.equal(keyOf({ ...P, whole: true }, 'http://h/a?x=1'), '/a?x=1')
  assert.equal(keyOf({ ...P, depth: 1 }, 'http://h/a/b'), '/a')
  assert.equal(keyOf({ ...P, len: 2 }, 'http://h/abc'), '/a')
  assert.equal(keyOf(P, 'http://h'), '')
  assert.equal(keyOf(P, 'http://h?q=1'), '')
  const { b } = hashed(P, undefined, [1, 1, 1, 1, 1])
  for (let i = 0; i < 50; i++) {
    assert.equal(b.pick({ source: 'x', path: `http://example.com/p/${i}` }), b.pick({ source: 'y', path: `/p/${i}?a=${i}` }))
  }
})

test('uri: the same server as HAProxy 2.6 (map-based sdbm: map[hash % total])', () => {
  const { servers, b } = hashed(URI, undefined, [1, 1, 1])
  for (const path of ['/index.html', '/a/b.html?q=1', '/', '/images/logo.png']) {
    const key = path.split('?')[0] as string
    assert.equal(b.pick({ source: 'x', path }), servers[sdbm(key) % 3], path)
  }
})
