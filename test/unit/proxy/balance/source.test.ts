import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ctxFor } from './helpers.ts'
import { hashed, runHashingSuite } from './hashing.ts'

// The source key is the raw address (no hash function): consistent hashing needs `avalanche` to
// spread nearby addresses over the ring, as in HAProxy.
runHashingSuite('source', { algorithm: 'source' }, i => ({ source: ctxFor(i).source }), { source: 'unix@/run/tslb.sock' }, [
  undefined,
  { method: 'consistent', function: 'sdbm', avalanche: true },
  { method: 'map-based', function: 'crc32', avalanche: false },
  { method: 'consistent', function: 'wt6', avalanche: true },
  { method: 'map-based', function: 'djb2', avalanche: true },
])

test('source: the hash function does not apply to addresses, avalanche does', () => {
  const pick = (fn: 'sdbm' | 'crc32', avalanche: boolean): string => {
    const { b } = hashed({ algorithm: 'source' }, { method: 'map-based', function: fn, avalanche }, [1, 1, 1, 1, 1, 1, 1])
    return Array.from({ length: 50 }, (_, i) => b.pick({ source: ctxFor(i * 7919).source })?.name).join(' ')
  }
  assert.equal(pick('sdbm', false), pick('crc32', false))
  assert.equal(pick('sdbm', true), pick('crc32', true))
  assert.notEqual(pick('sdbm', false), pick('sdbm', true))
  // Consistent without avalanche puts nearby addresses next to each other on the ring.
  const { b } = hashed({ algorithm: 'source' }, { method: 'consistent', function: 'sdbm', avalanche: false }, [1, 1, 1, 1])
  const servers = new Set(Array.from({ length: 200 }, (_, i) => b.pick({ source: ctxFor(i).source })))
  assert.equal(servers.size, 1)
})

test('source: the same server as HAProxy 2.6 for map-based hashing', () => {
  // map of three weight-1 servers = [s1, s2, s3]; server = map[key % 3] with key the address XOR.
  const { b } = hashed({ algorithm: 'source' }, undefined, [1, 1, 1])
  assert.equal(b.pick({ source: '198.18.0.2' })?.name, 's3') // 3323068418 % 3 = 2
  assert.equal(b.pick({ source: '10.0.0.1' })?.name, 's3') // 167772161 % 3 = 2
  assert.equal(b.pick({ source: '192.168.1.254' })?.name, 's1') // 3232236030 % 3 = 0
  assert.equal(b.pick({ source: '::1' })?.name, 's2') // 1 % 3 = 1
})

test('source: an IPv4 client hashes alike on IPv4 and dual-stack listeners', () => {
  const { b } = hashed({ algorithm: 'source' }, { method: 'consistent', function: 'sdbm', avalanche: true }, [1, 1, 1, 1, 1])
  for (let i = 0; i < 200; i++) {
    const v4 = ctxFor(i).source
    assert.equal(b.pick({ source: `::ffff:${v4}` }), b.pick({ source: v4 }))
  }
})
