import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bindSlot, nextSlot, slotSpec } from '../../../src/reload/slots.ts'
import { handleAddress } from '../../../src/net/listen-handle.ts'
import { listenerKey } from '../../../src/ipc/messages.ts'
import type { ListenerSpec } from '../../../src/supervisor/listeners.ts'

const spec = (host: string, port: number): ListenerSpec => ({ key: listenerKey(host, port), host, port, family: 4, sockets: 1 })

test('slots alternate, starting with A', () => {
  assert.equal(nextSlot(undefined), 'A')
  assert.equal(nextSlot('A'), 'B')
  assert.equal(nextSlot('B'), 'A')
})

test('a slot listener keeps the public address and family, with a kernel-chosen port', () => {
  assert.deepEqual(slotSpec(spec('198.18.0.11', 80)), { key: listenerKey('198.18.0.11', 80), host: '198.18.0.11', port: 0, family: 4, sockets: 1 })
})

test('bindSlot: one socket per public listener, keyed by the public key, mapped to its real port', () => {
  const slot = bindSlot('B', [spec('127.0.0.1', 80), spec('127.0.0.1', 81)])
  try {
    assert.equal(slot.name, 'B')
    assert.deepEqual([...slot.handles.keys()], ['127.0.0.1|80', '127.0.0.1|81'])
    const ports = slot.mappings.map(m => m.slotPort)
    assert.equal(new Set(ports).size, 2)
    for (const [i, m] of slot.mappings.entries()) {
      const h = slot.handles.get(m.spec.key)
      assert.ok(h !== undefined)
      assert.deepEqual(handleAddress(h), { address: '127.0.0.1', port: ports[i] })
      assert.ok(m.slotPort > 0 && m.slotPort !== m.spec.port)
    }
  } finally {
    slot.close()
    slot.close()
  }
})

test('bindSlot: a listener of two threads gets a SO_REUSEPORT group of two on one slot port', () => {
  const slot = bindSlot('A', [{ ...spec('127.0.0.1', 80), sockets: 2 }])
  try {
    assert.deepEqual([...slot.handles.keys()], ['127.0.0.1|80', '127.0.0.1|80#2'])
    const [a, b] = [...slot.handles.values()].map(h => handleAddress(h).port)
    assert.equal(a, b)
    assert.equal(slot.mappings[0]?.slotPort, a)
  } finally {
    slot.close()
  }
})

test('bindSlot closes what it bound when one address cannot be bound', () => {
  assert.throws(() => bindSlot('A', [spec('127.0.0.1', 80), spec('192.0.2.1', 80)]), { code: 'TSLB_ERR_BIND' })
})
