/**
 * The key index of a stick table, in shared memory: every thread of the process finds the same
 * slot for a key without a JavaScript `Map` (which cannot be shared).
 *
 * Keys are fixed-size per table, as in HAProxy: ip and integer keys are one 32-bit word per slot
 * (the key id itself, see keys.ts); ipv6, string and binary keys are `width` bytes per slot (a
 * string key shorter than `width` is NUL-padded: string keys never hold a NUL) plus the key's
 * 32-bit hash, kept so that a probe compares bytes only when the hashes match and a rebuild needs
 * no rehash. The buckets are an open-addressing table with linear probing (bucket = slot + 1,
 * 0 = empty), a power of two at least twice the slots allocated (load factor <= 1/2); removal
 * shifts the following run back (no tombstones). Hashes are seeded per table (FNV-1a then
 * murmur3's finaliser), so a client cannot choose keys that all land in one run.
 *
 * The caller (the store) holds the table lock around every call and maps the views again when
 * the buffers grow (`map`).
 * @module
 */
import type { KeyShape, StickKeyId } from './keys.ts'

export interface KeyBuffers {
  /** Int32 per slot (ip/integer) or `width` bytes per slot. */
  readonly keys: SharedArrayBuffer
  /** Uint32 hash per slot (byte keys only; empty for ip/integer). */
  readonly hashes: SharedArrayBuffer
  /** Int32 per bucket: slot + 1, 0 when empty. */
  readonly buckets: SharedArrayBuffer
}

function fmix (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

export class KeyIndex {
  /** ip/integer: the key id is an int32 stored as is. */
  readonly intKeys: boolean
  /** Bytes per key (byte keys). */
  readonly width: number
  /** string keys: shorter keys end at the first NUL. */
  readonly nulPadded: boolean
  readonly seed: number
  keys32: Int32Array = new Int32Array(0)
  keys8: Uint8Array = new Uint8Array(0)
  hashes: Uint32Array = new Uint32Array(0)
  buckets: Int32Array = new Int32Array(0)
  mask = 0

  constructor (shape: KeyShape, seed: number) {
    this.intKeys = shape.type === 'ip' || shape.type === 'integer'
    this.width = this.intKeys ? 4 : shape.maxLen
    this.nulPadded = shape.type === 'string'
    this.seed = seed | 0
  }

  /** Bytes per slot in `keys` and `hashes`. */
  get keyBytes (): number {
    return this.intKeys ? 4 : this.width
  }

  get hashBytes (): number {
    return this.intKeys ? 0 : 4
  }

  map (b: KeyBuffers, slots: number, buckets: number): void {
    if (this.intKeys) this.keys32 = new Int32Array(b.keys, 0, slots)
    else {
      this.keys8 = new Uint8Array(b.keys, 0, slots * this.width)
      this.hashes = new Uint32Array(b.hashes, 0, slots)
    }
    this.buckets = new Int32Array(b.buckets, 0, buckets)
    this.mask = buckets - 1
  }

  hashOf (id: StickKeyId): number {
    if (typeof id === 'number') return fmix(id ^ this.seed)
    let h = 0x811c9dc5 ^ this.seed
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193)
    return fmix(h)
  }

  /** The slot holding `id` (whose hash is `hash`), -1 if none. */
  find (id: StickKeyId, hash: number): number {
    const b = this.buckets
    const mask = this.mask
    let i = hash & mask
    if (typeof id === 'number') {
      const k = this.keys32
      while (true) {
        const v = b[i] as number
        if (v === 0) return -1
        if (k[v - 1] === id) return v - 1
        i = (i + 1) & mask
      }
    }
    const hs = this.hashes
    while (true) {
      const v = b[i] as number
      if (v === 0) return -1
      if (hs[v - 1] === hash && this.#equal(v - 1, id)) return v - 1
      i = (i + 1) & mask
    }
  }

  #equal (s: number, id: string): boolean {
    const k = this.keys8
    const base = s * this.width
    const n = id.length
    for (let i = 0; i < n; i++) if (k[base + i] !== id.charCodeAt(i)) return false
    return n === this.width || k[base + n] === 0
  }

  /** Stores `id` as the key of slot `s` (not in the index) and indexes it. */
  insert (s: number, id: StickKeyId, hash: number): void {
    if (typeof id === 'number') this.keys32[s] = id
    else {
      const k = this.keys8
      const base = s * this.width
      for (let i = 0; i < id.length; i++) k[base + i] = id.charCodeAt(i)
      if (id.length < this.width) k.fill(0, base + id.length, base + this.width)
      this.hashes[s] = hash
    }
    this.#place(s, hash)
  }

  #place (s: number, hash: number): void {
    const b = this.buckets
    const mask = this.mask
    let i = hash & mask
    while (b[i] !== 0) i = (i + 1) & mask
    b[i] = s + 1
  }

  #home (s: number): number {
    return (this.intKeys ? fmix((this.keys32[s] as number) ^ this.seed) : this.hashes[s] as number) & this.mask
  }

  /** Removes slot `s` (which is indexed) from the index. */
  remove (s: number): void {
    const b = this.buckets
    const mask = this.mask
    let i = this.#home(s)
    while (b[i] !== s + 1) i = (i + 1) & mask
    // backward-shift deletion: move back every later member of the run whose home is not in (i, j]
    let j = i
    while (true) {
      j = (j + 1) & mask
      const v = b[j] as number
      if (v === 0) break
      const h = this.#home(v - 1)
      const stays = i <= j ? (h > i && h <= j) : (h > i || h <= j)
      if (stays) continue
      b[i] = v
      i = j
    }
    b[i] = 0
  }

  /** The key id of slot `s` (keys.ts form). */
  keyOf (s: number): StickKeyId {
    if (this.intKeys) return this.keys32[s] as number
    const k = this.keys8
    const base = s * this.width
    let n = this.width
    if (this.nulPadded) {
      n = 0
      while (n < this.width && k[base + n] !== 0) n++
    }
    return Buffer.from(k.buffer, k.byteOffset + base, n).toString('latin1')
  }

  /** Empties the buckets and indexes again every slot below `hwm` for which `used(s)`. */
  rebuild (hwm: number, used: (s: number) => boolean): void {
    this.buckets.fill(0)
    for (let s = 0; s < hwm; s++) if (used(s)) this.#place(s, this.intKeys ? this.#home(s) : this.hashes[s] as number)
  }
}
