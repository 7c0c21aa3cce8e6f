/**
 * Shared checks for the hashing algorithms (source, uri, url_param, hdr, rdp-cookie): the
 * conformance suite under several hash-types, key stability, and consistent hashing's minimal
 * disruption versus map-based remapping.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Balance, HashType } from '../../../../src/config/model.ts'
import { type Balancer, createBalancer, type PickContext } from '../../../../src/proxy/balance/index.ts'
import { runConformance } from './conformance.ts'
import { makeServers, type TestServer } from './helpers.ts'

export const HASH_TYPES: ReadonlyArray<HashType | undefined> = [
  undefined,
  { method: 'consistent', function: 'sdbm', avalanche: true },
  { method: 'map-based', function: 'crc32', avalanche: false },
  { method: 'consistent', function: 'wt6', avalanche: false },
  { method: 'map-based', function: 'djb2', avalanche: true },
]

export function describeHashType (h: HashType | undefined): string {
  return h === undefined ? 'default hash-type' : `${h.method} ${h.function}${h.avalanche ? ' avalanche' : ''}`
}

export function hashed (balance: Balance, hashType: HashType | undefined, specs: Parameters<typeof makeServers>[0]): { servers: TestServer[], b: Balancer<TestServer> } {
  const servers = makeServers(specs)
  return { servers, b: createBalancer(balance, hashType, servers, { allBackups: false }) }
}

/**
 * Runs the conformance suite under each hash type, then the behaviour every hashing algorithm
 * shares; `keyed(i)` must give a context carrying distinct key i, `keyless` one without a key.
 */
export function runHashingSuite (name: string, balance: Balance, keyed: (i: number) => PickContext, keyless: PickContext, hashTypes = HASH_TYPES): void {
  for (const h of hashTypes) {
    runConformance(`${name} (${describeHashType(h)})`, (servers, opts) => createBalancer(balance, h, servers, opts))
  }

  for (const h of hashTypes) {
    const label = `${name} (${describeHashType(h)})`

    test(`${label}: a key keeps its server across picks and across instances`, () => {
      const spec = [3, 1, 2, 5, 1]
      const a = hashed(balance, h, spec)
      const b = hashed(balance, h, spec)
      for (let i = 0; i < 500; i++) {
        const first = a.b.pick(keyed(i))
        assert.equal(a.b.pick(keyed(i)), first)
        assert.equal(b.b.pick(keyed(i))?.name, first?.name)
      }
      assert.equal(a.b.algorithm, balance.algorithm)
      assert.equal(a.b.dynamic, h?.method === 'consistent')
    })

    test(`${label}: keys spread over the servers in proportion to their weights`, () => {
      const { b } = hashed(balance, h, [1, 2, 3, 2])
      const n = 20_000
      const counts = new Map<string, number>()
      for (let i = 0; i < n; i++) {
        const s = b.pick(keyed(i)) as TestServer
        counts.set(s.name, (counts.get(s.name) ?? 0) + 1)
      }
      // Consistent hashing is not very smooth by design (HAProxy's own caveat): a wider tolerance.
      const tolerance = h?.method === 'consistent' ? 0.12 : 0.05
      ;[1, 2, 3, 2].forEach((w, i) => {
        const share = (counts.get(`s${i + 1}`) ?? 0) / n
        assert.ok(Math.abs(share - w / 8) < tolerance, `s${i + 1}: ${share.toFixed(3)} for ${w / 8}`)
      })
    })

    test(`${label}: without a key, round-robin over the servers`, () => {
      const { b } = hashed(balance, h, [1, 1, 1])
      const counts = new Map<string, number>()
      for (let i = 0; i < 300; i++) {
        const s = b.pick(keyless) as TestServer
        counts.set(s.name, (counts.get(s.name) ?? 0) + 1)
      }
      assert.equal(counts.size, 3)
      for (const c of counts.values()) assert.ok(c >= 80 && c <= 120, JSON.stringify([...counts]))
    })
  }

  test(`${name} (consistent): taking out 1 of 4 servers moves only that server's keys`, () => {
    for (const h of hashTypes) {
      if (h?.method !== 'consistent') continue
      const fn = describeHashType(h)
      const { servers, b } = hashed(balance, h, [1, 1, 1, 1])
      const n = 10_000
      const before = Array.from({ length: n }, (_, i) => b.pick(keyed(i)) as TestServer)
      const gone = servers[2] as TestServer
      gone.usable = false
      b.refresh()
      let moved = 0
      for (let i = 0; i < n; i++) {
        const now = b.pick(keyed(i))
        if (now === before[i]) continue
        moved++
        assert.equal(before[i], gone, `key ${i} moved from ${before[i]?.name ?? '?'} to ${now?.name ?? '?'}`)
      }
      assert.ok(moved / n > 0.1 && moved / n < 0.4, `${fn}: ${moved} of ${n} keys moved`)
      gone.usable = true
      b.refresh()
      for (let i = 0; i < n; i++) assert.equal(b.pick(keyed(i)), before[i])
    }
  })

  test(`${name} (map-based): taking out a server remaps most keys, as HAProxy documents`, () => {
    const { servers, b } = hashed(balance, undefined, [1, 1, 1, 1])
    const n = 4000
    const before = Array.from({ length: n }, (_, i) => b.pick(keyed(i)))
    ;(servers[2] as TestServer).usable = false
    b.refresh()
    let moved = 0
    for (let i = 0; i < n; i++) if (b.pick(keyed(i)) !== before[i]) moved++
    assert.ok(moved / n > 0.5, `${moved} of ${n} keys moved`)
  })
}
