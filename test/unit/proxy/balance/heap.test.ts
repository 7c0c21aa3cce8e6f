import { test } from 'node:test'
import assert from 'node:assert/strict'
import { type HeapItem, IndexedHeap } from '../../../../src/proxy/balance/heap.ts'
import { seeded } from './helpers.ts'

class Item implements HeapItem {
  heapPos = -1
  key: number
  readonly id: number
  constructor (id: number, key: number) {
    this.id = id
    this.key = key
  }
}

test('indexed heap: push, pop, remove and re-key agree with a sorted reference', () => {
  const rnd = seeded(11)
  const less = (a: Item, b: Item): boolean => a.key < b.key || (a.key === b.key && a.id < b.id)
  const heap = new IndexedHeap<Item>(less)
  const live = new Set<Item>()
  let id = 0
  for (let step = 0; step < 5000; step++) {
    const op = rnd()
    const items = [...live]
    if (op < 0.4 || items.length === 0) {
      const it = new Item(id++, Math.floor(rnd() * 100))
      heap.push(it)
      live.add(it)
    } else if (op < 0.6) {
      const expected = items.sort((a, b) => (less(a, b) ? -1 : 1))[0]
      assert.equal(heap.pop(), expected)
      live.delete(expected as Item)
    } else if (op < 0.8) {
      const it = items[Math.floor(rnd() * items.length)] as Item
      heap.remove(it)
      live.delete(it)
      assert.equal(it.heapPos, -1)
      assert.ok(!heap.has(it))
    } else {
      const it = items[Math.floor(rnd() * items.length)] as Item
      it.key = Math.floor(rnd() * 100)
      heap.update(it)
    }
    assert.equal(heap.size, live.size)
    for (const it of live) assert.ok(heap.has(it))
  }
  const drained: Item[] = []
  for (let it = heap.pop(); it !== undefined; it = heap.pop()) drained.push(it)
  assert.deepEqual(drained, [...live].sort((a, b) => (less(a, b) ? -1 : 1)))
  heap.push(new Item(1, 1))
  heap.clear()
  assert.equal(heap.size, 0)
  assert.equal(heap.peek(), undefined)
})
