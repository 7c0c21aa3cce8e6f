import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Balance } from '../../../../src/config/model.ts'
import type { PickContext } from '../../../../src/proxy/balance/balancer.ts'
import { sdbm } from '../../../../src/proxy/balance/hash.ts'
import { hashed, runHashingSuite } from './hashing.ts'

const RDP: Balance = { algorithm: 'rdp-cookie', cookie: 'mstshash' }

function withCookie (value: string | undefined): PickContext {
  return { source: '198.18.0.2', rdpCookie: name => name === 'mstshash' ? value : undefined }
}

runHashingSuite('rdp-cookie', RDP, i => withCookie(`user${i}`), withCookie(undefined))

test('rdp-cookie: hashes the cookie value; absent or empty → round-robin', () => {
  const { servers, b } = hashed(RDP, undefined, [1, 1, 1])
  assert.equal(b.pick(withCookie('alice')), servers[sdbm('alice') % 3])
  assert.equal(b.pick(withCookie('bob')), servers[sdbm('bob') % 3])
  const seen = new Set([withCookie(''), withCookie(''), withCookie(''), { source: 'x' }].map(ctx => b.pick(ctx)))
  assert.equal(seen.size, 3)
})

test('rdp-cookie: the configured cookie name is asked for', () => {
  const asked: string[] = []
  const { b } = hashed({ algorithm: 'rdp-cookie', cookie: 'msts' }, undefined, [1, 1])
  b.pick({ source: 'x', rdpCookie: name => { asked.push(name); return 'v' } })
  assert.deepEqual(asked, ['msts'])
})
