/**
 * The server_key dictionary of a stick table in shared memory (HAProxy's `server_key` is a
 * dictionary entry too): each entry of the table stores a small integer, the names are written
 * once, append-only, into shared buffers that every thread reads.
 *
 * Shared: `refs` (Int32 pairs: start, length in UTF-16 units, for up to `DICT_MAX_NAMES` names)
 * and `chars` (UTF-16 units, growable up to `DICT_MAX_CHARS`); the count of names and of units
 * used live in the table header (`count`/`used` callbacks). Per thread: a cache in both
 * directions, filled from the shared names as they are needed, never invalidated (a name never
 * changes its id). Server names come from the configuration (and from peers, whose names come
 * from theirs), so the limits are generous; beyond them a new name is not stored (`intern`
 * returns 0 and the entry's server_key stays unset; `stick match` uses server_id).
 *
 * The caller holds the table lock around every call.
 * @module
 */

export const DICT_MAX_NAMES = 65536
export const DICT_MAX_CHARS = 1 << 22

export interface DictBuffers {
  readonly refs: SharedArrayBuffer
  readonly chars: SharedArrayBuffer
}

export interface DictCounters {
  /** Names stored. */
  count: () => number
  /** UTF-16 units used in `chars`. */
  used: () => number
  /** Records a new name: count + 1, used + `length`. */
  append: (length: number) => void
}

export function newDictBuffers (): DictBuffers {
  return {
    refs: new SharedArrayBuffer(DICT_MAX_NAMES * 8),
    chars: new SharedArrayBuffer(0, { maxByteLength: DICT_MAX_CHARS * 2 })
  }
}

export class SharedDict {
  readonly #b: DictBuffers
  readonly #c: DictCounters
  readonly #refs: Int32Array
  #chars: Uint16Array = new Uint16Array(0)
  /** Names known to this thread: index = id - 1. */
  readonly #names: string[] = []
  readonly #ids = new Map<string, number>()

  constructor (b: DictBuffers, c: DictCounters) {
    this.#b = b
    this.#c = c
    this.#refs = new Int32Array(b.refs)
  }

  /** Learns the names other threads added. */
  #sync (): void {
    const count = this.#c.count()
    if (this.#names.length === count) return
    const used = this.#c.used()
    if (this.#chars.length < used) this.#chars = new Uint16Array(this.#b.chars, 0, this.#b.chars.byteLength >> 1)
    for (let i = this.#names.length; i < count; i++) {
      const start = this.#refs[2 * i] as number
      const len = this.#refs[2 * i + 1] as number
      const name = Buffer.from(this.#b.chars, start * 2, len * 2).toString('utf16le')
      this.#names.push(name)
      if (!this.#ids.has(name)) this.#ids.set(name, i + 1)
    }
  }

  /** The id (>= 1) of `name`, added if new; 0 when the dictionary is full. */
  intern (name: string): number {
    const hit = this.#ids.get(name)
    if (hit !== undefined) return hit
    this.#sync()
    const again = this.#ids.get(name)
    if (again !== undefined) return again
    const count = this.#c.count()
    const used = this.#c.used()
    if (count >= DICT_MAX_NAMES || used + name.length > DICT_MAX_CHARS) return 0
    const chars = this.#b.chars
    if (chars.byteLength < (used + name.length) * 2) {
      chars.grow(Math.min(DICT_MAX_CHARS * 2, Math.max(chars.byteLength * 2, 4096, (used + name.length) * 2)))
    }
    this.#chars = new Uint16Array(chars, 0, chars.byteLength >> 1)
    for (let i = 0; i < name.length; i++) this.#chars[used + i] = name.charCodeAt(i)
    this.#refs[2 * count] = used
    this.#refs[2 * count + 1] = name.length
    this.#c.append(name.length)
    this.#names.push(name)
    this.#ids.set(name, count + 1)
    return count + 1
  }

  /** The name of id (0: undefined). */
  name (id: number): string | undefined {
    if (id === 0) return undefined
    if (id > this.#names.length) this.#sync()
    return this.#names[id - 1]
  }
}
