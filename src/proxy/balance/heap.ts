/**
 * A binary min-heap whose items know their position, so any item can be removed or re-keyed in
 * O(log n). An item belongs to at most one heap at a time.
 */
export interface HeapItem {
  /** Position in the heap holding the item, -1 when in none. */
  heapPos: number
}

export class IndexedHeap<T extends HeapItem> {
  private readonly items: T[] = []
  private readonly less: (a: T, b: T) => boolean

  constructor (less: (a: T, b: T) => boolean) {
    this.less = less
  }

  get size (): number {
    return this.items.length
  }

  peek (): T | undefined {
    return this.items[0]
  }

  has (item: T): boolean {
    return item.heapPos >= 0 && this.items[item.heapPos] === item
  }

  push (item: T): void {
    item.heapPos = this.items.length
    this.items.push(item)
    this.up(item.heapPos)
  }

  pop (): T | undefined {
    const top = this.items[0]
    if (top !== undefined) this.remove(top)
    return top
  }

  remove (item: T): void {
    const pos = item.heapPos
    const last = this.items.pop() as T
    item.heapPos = -1
    if (last === item) return
    this.items[pos] = last
    last.heapPos = pos
    this.update(last)
  }

  /** Restores the order after `item`'s key changed (either way). */
  update (item: T): void {
    if (!this.up(item.heapPos)) this.down(item.heapPos)
  }

  clear (): void {
    for (const item of this.items) item.heapPos = -1
    this.items.length = 0
  }

  /** The items in heap order (not sorted); for tests and rebuilds. */
  values (): readonly T[] {
    return this.items
  }

  private up (pos: number): boolean {
    const items = this.items
    const item = items[pos] as T
    const start = pos
    while (pos > 0) {
      const parentPos = (pos - 1) >> 1
      const parent = items[parentPos] as T
      if (!this.less(item, parent)) break
      items[pos] = parent
      parent.heapPos = pos
      pos = parentPos
    }
    items[pos] = item
    item.heapPos = pos
    return pos !== start
  }

  private down (pos: number): void {
    const items = this.items
    const n = items.length
    const item = items[pos] as T
    for (;;) {
      const l = 2 * pos + 1
      if (l >= n) break
      const r = l + 1
      let child = l
      if (r < n && this.less(items[r] as T, items[l] as T)) child = r
      const c = items[child] as T
      if (!this.less(c, item)) break
      items[pos] = c
      c.heapPos = pos
      pos = child
    }
    items[pos] = item
    item.heapPos = pos
  }
}
