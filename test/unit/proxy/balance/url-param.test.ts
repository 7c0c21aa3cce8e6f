import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Balance } from '../../../../src/config/model.ts'
import { createBalancer } from '../../../../src/proxy/balance/index.ts'
import { crc32, sdbm } from '../../../../src/proxy/balance/hash.ts'
import { UrlParamBalancer } from '../../../../src/proxy/balance/url-param.ts'
import { makeServers } from './helpers.ts'
import { hashed, runHashingSuite } from './hashing.ts'

const BY_ID: Balance = { algorithm: 'url_param', param: 'id' }

runHashingSuite('url_param', BY_ID, i => ({ source: '198.18.0.2', path: `/app?lang=en&id=u${i}&x=1` }), { source: '198.18.0.2', path: '/app?lang=en' })

function hashOf (path: string | undefined): number | undefined {
  const b = createBalancer(BY_ID, { method: 'map-based', function: 'crc32', avalanche: false }, makeServers([1]), { allBackups: false })
  assert.ok(b instanceof UrlParamBalancer)
  return b.hashOf({ source: 'x', path })
}

test('url_param: hashes the value of the parameter', () => {
  assert.equal(hashOf('/a?id=42'), crc32('42'))
  assert.equal(hashOf('/a?x=1&id=42&y=2'), crc32('42'))
  assert.equal(hashOf('/a?x=1&id=42'), crc32('42'))
  assert.equal(hashOf('/a?id=42&id=43'), crc32('42')) // the first occurrence
  assert.equal(hashOf('/a?id='), crc32('')) // present but empty: HAProxy hashes the empty value
  assert.equal(hashOf('/a?id=a=b'), crc32('a=b'))
})

test('url_param: absent parameter, no query string or no URI → no key (round-robin)', () => {
  for (const path of ['/a', '/a?', '/a?x=1', '/a?xid=42', '/a?idx=42', '/a?ID=42', '/a?id', '/a?x=1&id', undefined]) {
    assert.equal(hashOf(path), undefined, String(path))
  }
})

test('url_param: the same user always reaches the same server, whatever else the URL holds', () => {
  const { b } = hashed(BY_ID, undefined, [1, 2, 3])
  for (let i = 0; i < 200; i++) {
    assert.equal(b.pick({ source: 'a', path: `/x?id=${i}` }), b.pick({ source: 'b', path: `/y/z?t=${i * 3}&id=${i}&q` }))
  }
})

test('url_param: the same server as HAProxy 2.6 (map-based sdbm)', () => {
  const { servers, b } = hashed(BY_ID, undefined, [1, 1, 1, 1, 1])
  for (const v of ['alice', 'bob', '12345', 'x']) assert.equal(b.pick({ source: 's', path: `/?id=${v}` }), servers[sdbm(v) % 5], v)
})
