/**
 * The shared store's own parts on one thread: the open-addressing key index against a `Map`
 * model (random creates/deletes/evictions over every key type, through growth), the server_key
 * dictionary and its limit, and two table objects over one memory in the same thread.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { StickTableSpec } from '../../../src/config/model.ts'
import { DICT_MAX_CHARS } from '../../../src/stick/dict.ts'
import { StickTable, type StickKeyId } from '../../../src/stick/index.ts'

const loc = { file: 't.cfg', line: 1 }
/** A key id given back as input: byte-string ids as bytes (an ipv6 id is not IPv6 text). */
const input = (id: StickKeyId): number | Buffer => typeof id === 'number' ? id : Buffer.from(id, 'latin1')

function rng (seed: number): () => number {
  let x = seed >>> 0
  return () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x >>> 8 }
}

const KEYS: Record<StickTableSpec['type'], (r: number) => string | number> = {
  ip: r => r % 2000,
  integer: r => (r % 2000) * 65537,
  ipv6: r => `2001:db8::${(r % 2000).toString(16)}`,
  // short, long (cut at len), with a NUL (cut there), empty
  string: r => r % 97 === 0 ? '' : r % 89 === 0 ? `k${r % 2000}\0tail` : `key-${r % 2000}`.repeat(1 + (r % 3)),
  // zero bytes inside and at the end (padding) are part of binary keys
  binary: r => Buffer.from([r % 7, 0, (r % 2000) & 255, (r % 2000) >> 8, 0]).toString('latin1')
}

for (const type of Object.keys(KEYS) as StickTableSpec['type'][]) {
  test(`key index (${type}): finds, deletes and evicts exactly as a Map model, through growth`, () => {
    const size = 1100
    const t = new StickTable('t', { type, len: type === 'string' ? 12 : type === 'binary' ? 6 : undefined, size,
      nopurge: false, store: [{ name: 'gpc0' }], loc })
    const model = new Map<StickKeyId, number>()
    const next = rng(type.length)
    for (let i = 0; i < 12000; i++) {
      const r = next()
      const key = KEYS[type](r >>> 4)
      const id = t.normalizeKey(key) as StickKeyId
      if (r % 5 === 0) {
        assert.equal(t.delete(key), model.delete(id))
        continue
      }
      const evicted = t.stats.evicted
      const e = t.update(key, x => { x.add('gpc0') }, i)
      assert.ok(e !== undefined)
      if (t.stats.evicted !== evicted) {
        // a purge made room: drop from the model what the table dropped
        for (const k of [...model.keys()]) if (t.lookup(input(k)) === undefined) model.delete(k)
      }
      model.set(id, (model.get(id) ?? 0) + 1)
      assert.equal(e.get('gpc0'), model.get(id))
      assert.equal(e.key, id)
    }
    assert.ok(t.stats.evicted > 0 && t.stats.deleted > 0, JSON.stringify(t.stats))
    assert.equal(t.size, model.size)
    for (const [id, n] of model) assert.equal(t.lookup(input(id))?.get('gpc0'), n)
    assert.deepEqual(new Set([...t.entries()].map(e => e.key)), new Set(model.keys()))
  })
}

test('server_key names are shared between table objects; a name beyond the dictionary is not stored', () => {
  const spec: StickTableSpec = { type: 'string', size: 100, nopurge: false, store: [{ name: 'server_key' }], loc }
  const a = new StickTable('a', spec)
  const b = StickTable.attach(a.sharedHandle())
  a.update('x', e => { e.serverKey = 'web1' }, 0)
  b.update('y', e => { e.serverKey = 'wéb2' }, 0)
  assert.equal(b.lookup('x')?.serverKey, 'web1')
  assert.equal(a.lookup('y')?.serverKey, 'wéb2')
  a.update('z', e => { e.serverKey = 'n'.repeat(DICT_MAX_CHARS + 1) }, 0)
  assert.equal(b.lookup('z')?.serverKey, undefined)
  assert.deepEqual(b.lookup('y')?.exportValues(0), [{ dataType: 19, name: 'server_key', value: 'wéb2' }])
})

test('two table objects over one memory in one thread: the lock is re-entrant across them', async () => {
  const a = new StickTable('a', { type: 'ip', size: 10, expire: 1000, nopurge: false, store: [{ name: 'gpc0' }], loc })
  const b = StickTable.attach(a.sharedHandle())
  a.update('10.0.0.1', e => {
    // b writes (and grows nothing) while a holds the lock
    b.update('10.0.0.2', f => { f.add('gpc0', 5) }, 1)
    e.add('gpc0')
  }, 1)
  assert.deepEqual([b.lookup('10.0.0.1')?.get('gpc0'), a.lookup('10.0.0.2')?.get('gpc0'), a.size, b.localUpdate],
    [1, 5, 2, 2])
  let told = 0
  a.watchUpdates(() => { told++ })
  a.update('10.0.0.3', () => {}, 2)
  assert.equal(told, 1, 'a write through the watcher\'s own object: at once')
  a.rearmWatchers()
  b.update('10.0.0.3', () => {}, 3)
  assert.equal(told, 1)
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(told, 2, 'a write through another object: on a later turn, as from another thread')
})
