import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Balance } from '../../../../src/config/model.ts'
import { createBalancer, type PickContext } from '../../../../src/proxy/balance/index.ts'
import { sdbm } from '../../../../src/proxy/balance/hash.ts'
import { domainOnly, HdrBalancer } from '../../../../src/proxy/balance/hdr.ts'
import { makeServers } from './helpers.ts'
import { hashed, runHashingSuite } from './hashing.ts'

const HOST: Balance = { algorithm: 'hdr', header: 'Host', useDomainOnly: false }
const DOMAIN: Balance = { algorithm: 'hdr', header: 'host', useDomainOnly: true }

function withHeaders (headers: Record<string, string>): PickContext {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  return { source: '198.18.0.2', header: name => lower.get(name.toLowerCase()) }
}

runHashingSuite('hdr', HOST, i => withHeaders({ Host: `www${i}.example.com` }), withHeaders({ 'User-Agent': 'x' }))
runHashingSuite('hdr use_domain_only', DOMAIN, i => withHeaders({ host: `www.site${i}.example` }), withHeaders({}))

function hashOf (balance: Balance, ctx: PickContext): number | undefined {
  const b = createBalancer(balance, undefined, makeServers([1]), { allBackups: false })
  assert.ok(b instanceof HdrBalancer)
  return b.hashOf(ctx)
}

test('hdr: hashes the first value of the header', () => {
  assert.equal(hashOf(HOST, withHeaders({ host: 'example.com' })), sdbm('example.com'))
  assert.equal(hashOf(HOST, withHeaders({ HOST: '  example.com\t' })), sdbm('example.com'))
  assert.equal(hashOf(HOST, withHeaders({ Host: 'a, b' })), sdbm('a'))
  const ua: Balance = { algorithm: 'hdr', header: 'User-Agent', useDomainOnly: false }
  assert.equal(hashOf(ua, withHeaders({ 'user-agent': 'Mozilla/5.0 (X11; Linux)' })), sdbm('Mozilla/5.0 (X11; Linux)'))
})

test('hdr: an absent or empty header → no key (round-robin)', () => {
  assert.equal(hashOf(HOST, withHeaders({})), undefined)
  assert.equal(hashOf(HOST, withHeaders({ host: '' })), undefined)
  assert.equal(hashOf(HOST, withHeaders({ host: '  ' })), undefined)
  assert.equal(hashOf(HOST, withHeaders({ host: ', x' })), undefined)
  assert.equal(hashOf(HOST, { source: 'x' }), undefined)
})

test('hdr use_domain_only: only the label before the last dot', () => {
  const key = (v: string): string => {
    const [s, e] = domainOnly(v, 0, v.length)
    return v.slice(s, e)
  }
  assert.equal(key('haproxy.1wt.eu'), '1wt')
  assert.equal(key('www.example.com'), 'example')
  assert.equal(key('example.com'), 'example')
  assert.equal(key('a.b.c.d.example.org'), 'example')
  assert.equal(key('example.com:8080'), 'example')
  assert.equal(key('localhost'), 'localhost')
  assert.equal(key('x..com'), 'x.') // HAProxy keeps at least one character before the dot
  assert.equal(key('.com'), '.com') // a leading dot is never taken for the last one
  assert.equal(hashOf(DOMAIN, withHeaders({ Host: 'www.example.com' })), sdbm('example'))
  const { b } = hashed(DOMAIN, undefined, [1, 1, 1, 1, 1, 1, 1])
  for (let i = 0; i < 100; i++) {
    assert.equal(b.pick(withHeaders({ host: `www.s${i}.com` })), b.pick(withHeaders({ host: `img.cdn.s${i}.net` })))
  }
})
