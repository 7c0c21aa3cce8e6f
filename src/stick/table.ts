/**
 * HAProxy stick tables as a pure in-memory store with an injected clock.
 *
 * The table has no timer of its own: its owner calls `expire(now)` from one timer set from
 * `nextExpiry()`, and passes `now` (integer ms from a monotonic clock, e.g.
 * `Math.floor(performance.now())`) to every operation that depends on time. Only the low 32 bits
 * of `now` are used internally, with HAProxy's wrapping tick arithmetic, so any epoch works; `now`
 * must not go backwards (a smaller value is taken as the largest seen so far).
 *
 * ## Layout (why it is small)
 * One `Map` from the normalised key (see keys.ts: a small integer for ip/integer tables, a byte
 * string otherwise) to a slot number; everything else is in typed arrays indexed by slot
 * ("struct of arrays"): expiry tick, LRU links, update-log position, a generation, and one row of
 * 32-bit words per entry holding the stored data types back to back (frequency counters are three
 * words, as HAProxy's `struct freq_ctr`), plus a row of doubles for the two 64-bit byte counters.
 * There is no JavaScript object per entry, so the garbage collector has almost nothing to trace
 * however large the table is. Slots are reused (like HAProxy's pool); a `StickEntry` is a
 * short-lived view (slot + generation) that throws once its entry is gone.
 *
 * ## Expiry and eviction in O(1)
 * Every entry of a table shares the same `expire` period, and a local touch sets
 * `expire = now + period` with `now` never decreasing: so the order of last touch IS the order of
 * expiry. One doubly linked list ordered by last touch (touch = move to the tail) therefore gives
 * both the least recently used entry (for eviction when the table is full) and the next entry to
 * expire (the head), with `expire(now)` popping from the head in O(expired) and `nextExpiry()`
 * reading the head in O(1). HAProxy uses an ebtree of expiry dates; its purge of the "oldest"
 * entries when full walks that tree from the earliest date, the same order.
 *
 * The one way to break the order is a peer: a timed update (`applyRemote` with `expireMs`) may carry
 * an expiry earlier than the list's tail, or later than a local touch would give. Such entries go
 * to a small binary heap instead (an entry is in exactly one of the two), and expiry/eviction take
 * the earlier of the list head and the heap top. A later local touch moves the entry back to the
 * list. Tables without `expire` never expire entries; their list is plain LRU order.
 *
 * ## Updates for the peers protocol
 * Each local touch gives the entry the next local update id (1, 2, 3, ... per table) and appends
 * it to the local update log; a remote update (`applyRemote`) never does: an entry first learned
 * from a peer goes to a separate remote log, and one already in a log stays where it is, which is
 * HAProxy's rule (`__stktable_touch_with_exp()`: remote updates get keys above 2^31 and are never
 * pushed to peers, so there is no relaying; a full mesh is required). `updatesSince(id, limit)`
 * returns live entries of the local log with a larger id, in id order: binary search over the
 * log, then a forward scan skipping records superseded by a later touch; the log is compacted
 * when half of it is superseded, so the cost is amortised O(1) per touch and O(log n + returned)
 * per call. `watchUpdates()` tells the peers sync that a log grew, once per burst of writes (a
 * flag test per write), so it does not have to poll.
 * @module
 */
import type { StickTableSpec } from '../config/model.ts'
import { STICK_DATA_TYPES, stickDataType, type StickDataName, type StickDataType } from './data-types.ts'
import { StickDataTypeError, StickIndexError, StickKeyError, StickSpecError, StickStaleEntryError } from './errors.ts'
import { freqFromWire, freqRead, freqSet, freqToWire, freqUpdate, type FreqCounterWire } from './freq.ts'
import { formatKey, keyBytes, keyComparator, normalizeKey, type KeyShape, type StickKeyId, type StickKeyInput,
  type StickKeyType } from './keys.ts'

/** Counters and integers: read with `get`, written with `set`/`add`. */
export type StickCounterName = 'server_id' | 'gpt0' | 'gpc0' | 'conn_cnt' | 'conn_cur' | 'sess_cnt' | 'http_req_cnt' |
  'http_err_cnt' | 'bytes_in_cnt' | 'bytes_out_cnt' | 'gpc1' | 'http_fail_cnt' | 'gpt' | 'gpc' | 'glitch_cnt'
/** Frequency counters: read with `rate`, counted with `hit`. */
export type StickRateName = 'gpc0_rate' | 'conn_rate' | 'sess_rate' | 'http_req_rate' | 'http_err_rate' |
  'bytes_in_rate' |
  'bytes_out_rate' | 'gpc1_rate' | 'http_fail_rate' | 'gpc_rate' | 'glitch_rate'

/** A data type as this table stores it. */
export interface StoredDataType {
  readonly type: StickDataType
  /** Elements: 1, or the array size of gpt/gpc/gpc_rate. */
  readonly count: number
  /** Frequency counters: the period in ms; 0 otherwise. */
  readonly period: number
  /**
   * Word offset in the entry's 32-bit row (sint, uint, frqp: 3 words per element), or index in the double row (ull); -1
   * for server_key.
   */
  readonly offset: number
}

export interface StickTableOptions {
  /**
   * The table is the target of `stick on/match/store` rules: add server_id and server_key to the
   * stored types, as HAProxy 2.6 does (cfgparse.c), so the data bitfield a peer sees matches.
   */
  readonly stickRules?: boolean
  /** The clock at creation (default 0); only seeds the "latest now seen". */
  readonly now?: number
}

/** Counters since the table was created (or `clear()`ed: they are not reset). */
export interface StickTableStats {
  /** Entries created (locally or from a peer). */
  created: number
  /** Entries removed by `expire()` (and by lookups finding them expired). */
  expired: number
  /** Entries purged because the table was full (LRU, in batches as HAProxy: size/256 + 1). */
  evicted: number
  /** Creations refused because a `nopurge` table was full. */
  createFailed: number
  /** Entries removed by `delete()`/`clear()`. */
  deleted: number
}

/** One value of a peer update: the shape of the peers codec's `DataValue`, structurally. */
export interface RemoteDatum {
  /** `STKTABLE_DT_*` id. */
  readonly dataType: number
  readonly value: RemoteValue
}
export type RemoteScalar = number | bigint | FreqCounterWire
/** server_key: a string, a dictionary reference `{ value }`, or null (no entry: left unchanged, as HAProxy). */
export type RemoteValue = RemoteScalar | readonly RemoteScalar[] | string | { readonly value: string | undefined } |
  null

/** One stored value, for a peer update or a dump: `STKTABLE_DT_*` id order. */
export interface ExportedDatum {
  readonly dataType: number
  readonly name: StickDataName
  /** sint/uint/ull: number; frqp: wire form at `now`; server_key: string or null; arrays: one per element. */
  readonly value: number | FreqCounterWire | string | null | readonly number[] | readonly FreqCounterWire[]
}

// flags per slot
const USED = 1
const IN_LIST = 2
const IN_HEAP = 4
const LOG_LOCAL = 8
const LOG_REMOTE = 16

const MAX_TIMER = 0x7fffffff
/** V8's Map holds at most 2^24 entries. */
export const STICK_MAX_SIZE = 1 << 24
const INITIAL_SLOTS = 1024
const INITIAL_LOG = 1024

let tableSerial = 0

interface UpdateLog {
  slots: Int32Array
  ids: Float64Array
  len: number
  live: number
  lastId: number
  readonly flag: number
}

function newLog (flag: number): UpdateLog {
  return { slots: new Int32Array(INITIAL_LOG), ids: new Float64Array(INITIAL_LOG), len: 0, live: 0, lastId: 0, flag }
}

/**
 * The storage shared by a table and its entry views. Not exported from the package index: use
 * `StickTable` and `StickEntry`.
 */
class Store {
  readonly name: string
  readonly type: StickKeyType
  readonly shape: KeyShape
  readonly capacity: number
  readonly expireMs: number | undefined
  readonly nopurge: boolean
  readonly stored: readonly StoredDataType[]
  readonly byId: readonly (StoredDataType | undefined)[]
  readonly words: number
  readonly doubles: number
  readonly hasDict: boolean
  readonly ptrBase: number
  readonly stats: StickTableStats = { created: 0, expired: 0, evicted: 0, createFailed: 0, deleted: 0 }

  index = new Map<StickKeyId, number>()
  count = 0
  slots = 0
  keys: (StickKeyId | undefined)[] = []
  exp = new Uint32Array(0)
  prev = new Int32Array(0)
  next = new Int32Array(0)
  flags = new Uint8Array(0)
  logPos = new Int32Array(0)
  gen = new Uint32Array(0)
  u32 = new Uint32Array(0)
  f64 = new Float64Array(0)
  dict: (string | undefined)[] = []
  freeHead = -1
  head = -1
  tail = -1
  heap = new Int32Array(0)
  heapLen = 0
  local = newLog(LOG_LOCAL)
  remote = newLog(LOG_REMOTE)
  lastNow = 0
  lastTick = 0
  watchers: (() => void)[] = []
  /** The watchers were told of an append and nobody has re-armed since. */
  signalled = false

  constructor (name: string, spec: StickTableSpec, options: StickTableOptions) {
    this.name = name
    this.type = spec.type
    if (!Number.isInteger(spec.size) || spec.size < 1) throw new StickSpecError(name,
      `size must be a positive integer, got ${spec.size}`)
    if (spec.size > STICK_MAX_SIZE) throw new StickSpecError(name,
      `size ${spec.size} is above the ${STICK_MAX_SIZE} entries a table can hold`)
    this.capacity = spec.size
    if (spec.expire !== undefined && (!Number.isInteger(spec.expire) || spec.expire < 0 || spec.expire > MAX_TIMER)) {
      throw new StickSpecError(name, `expire must be 0..${MAX_TIMER} ms, got ${spec.expire}`)
    }
    this.expireMs = spec.expire === 0 ? undefined : spec.expire
    this.nopurge = spec.nopurge
    const len = spec.len
    if (len !== undefined && (!Number.isInteger(len) || len < 1)) throw new StickSpecError(name,
      `len must be a positive integer, got ${len}`)
    const maxLen = spec.type === 'ip' ? 4 : spec.type === 'integer' ? 4 : spec.type === 'ipv6' ? 16 : spec.type ===
      'string' ? (len ?? 31) : (len ?? 32)
    this.shape = { type: spec.type, maxLen }

    const wanted = new Map<number, { name: string, period?: number, count?: number }>()
    const items: { name: string, period?: number, count?: number }[] = [...spec.store]
    if (options.stickRules === true) items.push({ name: 'server_id' }, { name: 'server_key' })
    for (const item of items) {
      const t = stickDataType(item.name)
      if (t === undefined) throw new StickSpecError(name, `unknown data type '${item.name}'`)
      if (!wanted.has(t.id)) wanted.set(t.id, item)
    }
    const has = (n: StickDataName): boolean => wanted.has((stickDataType(n) as StickDataType).id)
    if (has('gpt') && has('gpt0')) throw new StickSpecError(name,
      "simultaneous usage of 'gpt' and 'gpt0' in a same table is not permitted as 'gpt' overrides 'gpt0'")
    if (has('gpc') && (has('gpc0') || has('gpc1'))) throw new StickSpecError(name,
      "simultaneous usage of 'gpc' and 'gpc[0/1]' in a same table is not permitted as 'gpc' overrides 'gpc[0/1]'")
    if (has('gpc_rate') && (has('gpc0_rate') || has('gpc1_rate'))) throw new StickSpecError(name,
      ("simultaneous usage of 'gpc_rate' and 'gpc[0/1]_rate' in a same table is not permitted as 'gpc_rate' " +
        "overrides 'gpc[0/1]_rate'"))

    const stored: StoredDataType[] = []
    const byId: (StoredDataType | undefined)[] = new Array<StoredDataType | undefined>(STICK_DATA_TYPES.length).fill(
      undefined)
    let words = 0
    let doubles = 0
    for (const t of STICK_DATA_TYPES) {
      const item = wanted.get(t.id)
      if (item === undefined) continue
      let count = 1
      if (t.isArray) {
        if (item.count === undefined || !Number.isInteger(item.count) || item.count < 1 || item.count > 100) {
          throw new StickSpecError(name, `array size is out of allowed range (1-100) for store option '${t.name}'`)
        }
        count = item.count
      }
      let period = 0
      if (t.std === 'frqp') {
        if (item.period === undefined || !Number.isInteger(item.period) || item.period < 1 || item.period > MAX_TIMER) {
          throw new StickSpecError(name, `'${t.name}' needs a period of 1..${MAX_TIMER} ms`)
        }
        period = item.period
      }
      let offset = -1
      if (t.std === 'ull') { offset = doubles; doubles += count } else if (t.std === 'frqp') { offset = words;
        words += 3 * count } else if (t.std !== 'dict') { offset = words; words += count }
      const s: StoredDataType = Object.freeze({ type: t, count, period, offset })
      stored.push(s)
      byId[t.id] = s
    }
    this.stored = Object.freeze(stored)
    this.byId = byId
    this.words = words
    this.doubles = doubles
    this.hasDict = byId[19] !== undefined
    this.ptrBase = 0x5500_0000_0000 + (tableSerial++ % 0x400) * 0x1_0000_0000
    this.lastNow = options.now ?? 0
    this.lastTick = this.lastNow >>> 0
    this.grow(Math.min(INITIAL_SLOTS, this.capacity))
  }

  /** Advances the clock: the tick (u32) of max(now, latest now seen). */
  clock (now: number): number {
    if (now > this.lastNow) {
      this.lastNow = now
      this.lastTick = Math.floor(now) >>> 0
    }
    return this.lastTick
  }

  grow (to: number): void {
    const from = this.slots
    const exp = new Uint32Array(to); exp.set(this.exp); this.exp = exp
    const prev = new Int32Array(to); prev.set(this.prev); this.prev = prev
    const next = new Int32Array(to); next.set(this.next); this.next = next
    const flags = new Uint8Array(to); flags.set(this.flags); this.flags = flags
    const logPos = new Int32Array(to); logPos.set(this.logPos); this.logPos = logPos
    const gen = new Uint32Array(to); gen.set(this.gen); this.gen = gen
    const u32 = new Uint32Array(to * this.words); u32.set(this.u32); this.u32 = u32
    if (this.doubles > 0) { const f64 = new Float64Array(to * this.doubles); f64.set(this.f64); this.f64 = f64 }
    // chain the new slots into the free list, lowest first
    for (let s = to - 1; s >= from; s--) {
      this.next[s] = this.freeHead
      this.freeHead = s
    }
    this.slots = to
  }

  // ---- LRU list and heap -------------------------------------------------------------------

  unlinkQueue (s: number): void {
    const f = this.flags[s] as number
    if ((f & IN_LIST) !== 0) {
      const p = this.prev[s] as number
      const n = this.next[s] as number
      if (p === -1) this.head = n; else this.next[p] = n
      if (n === -1) this.tail = p; else this.prev[n] = p
      this.flags[s] = f & ~IN_LIST
    } else if ((f & IN_HEAP) !== 0) {
      this.heapRemove(this.prev[s] as number)
      this.flags[s] = f & ~IN_HEAP
    }
  }

  /** Puts slot `s`, expiring at tick `e`, where the expiry order needs it (tick = current tick). */
  enqueue (s: number, e: number, tick: number): void {
    this.exp[s] = e
    const t = this.tail
    const inOrder = this.expireMs === undefined ||
      ((t === -1 || (((e - (this.exp[t] as number)) | 0) >= 0)) && ((e - tick - this.expireMs) | 0) <= 0)
    if (inOrder) {
      this.prev[s] = t
      this.next[s] = -1
      if (t === -1) this.head = s; else this.next[t] = s
      this.tail = s
      this.flags[s] = (this.flags[s] as number) | IN_LIST
    } else {
      this.heapPush(s)
      this.flags[s] = (this.flags[s] as number) | IN_HEAP
    }
  }

  /** a expires before b (wrapping ticks). */
  before (a: number, b: number): boolean {
    return (((this.exp[a] as number) - (this.exp[b] as number)) | 0) < 0
  }

  heapPush (s: number): void {
    if (this.heapLen === this.heap.length) {
      const h = new Int32Array(Math.max(64, this.heap.length * 2)); h.set(this.heap); this.heap = h
    }
    this.heap[this.heapLen] = s
    this.prev[s] = this.heapLen
    this.heapLen++
    this.siftUp(this.heapLen - 1)
  }

  heapRemove (i: number): void {
    const last = this.heap[--this.heapLen] as number
    if (i === this.heapLen) return
    this.heap[i] = last
    this.prev[last] = i
    this.siftUp(i)
    this.siftDown(this.prev[last])
  }

  siftUp (i: number): void {
    const h = this.heap
    const s = h[i] as number
    while (i > 0) {
      const p = (i - 1) >> 1
      const ps = h[p] as number
      if (!this.before(s, ps)) break
      h[i] = ps; this.prev[ps] = i
      i = p
    }
    h[i] = s; this.prev[s] = i
  }

  siftDown (i: number): void {
    const h = this.heap
    const n = this.heapLen
    const s = h[i] as number
    while (true) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && this.before(h[r] as number, h[l] as number) ? r : l
      const cs = h[c] as number
      if (!this.before(cs, s)) break
      h[i] = cs; this.prev[cs] = i
      i = c
    }
    h[i] = s; this.prev[s] = i
  }

  /** The slot expiring first (list head or heap top), -1 if empty. */
  oldest (): number {
    const a = this.head
    const b = this.heapLen > 0 ? this.heap[0] as number : -1
    if (a === -1) return b
    if (b === -1) return a
    return this.before(b, a) ? b : a
  }

  // ---- update logs -------------------------------------------------------------------------

  logRemove (s: number): void {
    const f = this.flags[s] as number
    if ((f & LOG_LOCAL) !== 0) this.local.live--
    else if ((f & LOG_REMOTE) !== 0) this.remote.live--
    this.flags[s] = f & ~(LOG_LOCAL | LOG_REMOTE)
  }

  logAppend (log: UpdateLog, s: number): void {
    this.logRemove(s)
    if (log.len === log.slots.length) this.logMakeRoom(log)
    log.slots[log.len] = s
    log.ids[log.len] = ++log.lastId
    this.logPos[s] = log.len
    log.len++
    log.live++
    this.flags[s] = (this.flags[s] as number) | log.flag
    if (!this.signalled && this.watchers.length > 0) this.signal()
  }

  signal (): void {
    this.signalled = true
    for (const fn of [...this.watchers]) fn()
  }

  logLive (log: UpdateLog, i: number): boolean {
    const s = log.slots[i] as number
    return ((this.flags[s] as number) & log.flag) !== 0 && this.logPos[s] === i
  }

  logMakeRoom (log: UpdateLog): void {
    if (log.live <= log.len >> 1) {
      let w = 0
      for (let i = 0; i < log.len; i++) {
        if (!this.logLive(log, i)) continue
        const s = log.slots[i] as number
        log.slots[w] = s
        log.ids[w] = log.ids[i] as number
        this.logPos[s] = w
        w++
      }
      log.len = w
    }
    if (log.len > (log.slots.length * 3) >> 2) {
      const slots = new Int32Array(log.slots.length * 2); slots.set(log.slots.subarray(0, log.len)); log.slots = slots
      const ids = new Float64Array(log.ids.length * 2); ids.set(log.ids.subarray(0, log.len)); log.ids = ids
    }
  }

  updateId (s: number): number {
    const f = this.flags[s] as number
    if ((f & LOG_LOCAL) !== 0) return this.local.ids[this.logPos[s] as number] as number
    if ((f & LOG_REMOTE) !== 0) return this.remote.ids[this.logPos[s] as number] as number
    return 0
  }

  // ---- slots -------------------------------------------------------------------------------

  /** A new slot for `key` (not yet in the index), or -1 when a nopurge table is full. */
  alloc (key: StickKeyId, tick: number): number {
    if (this.count >= this.capacity) {
      if (this.nopurge) {
        this.stats.createFailed++
        return -1
      }
      this.purgeOldest((this.capacity >> 8) + 1)
    }
    if (this.freeHead === -1) this.grow(Math.min(this.capacity, Math.max(this.slots * 2, INITIAL_SLOTS)))
    const s = this.freeHead
    this.freeHead = this.next[s] as number
    this.flags[s] = USED
    this.keys[s] = key
    if (this.words > 0) this.u32.fill(0, s * this.words, (s + 1) * this.words)
    if (this.doubles > 0) this.f64.fill(0, s * this.doubles, (s + 1) * this.doubles)
    if (this.hasDict) this.dict[s] = undefined
    this.index.set(key, s)
    this.count++
    this.stats.created++
    this.enqueue(s, this.expireMs === undefined ? tick : (tick + this.expireMs) >>> 0, tick)
    return s
  }

  free (s: number): void {
    this.unlinkQueue(s)
    this.logRemove(s)
    this.index.delete(this.keys[s] as StickKeyId)
    this.keys[s] = undefined
    if (this.hasDict) this.dict[s] = undefined
    this.flags[s] = 0
    this.gen[s] = ((this.gen[s] as number) + 1) >>> 0
    this.next[s] = this.freeHead
    this.freeHead = s
    this.count--
  }

  purgeOldest (n: number): void {
    for (let i = 0; i < n; i++) {
      const s = this.oldest()
      if (s === -1) return
      this.free(s)
      this.stats.evicted++
    }
  }

  expired (s: number, tick: number): boolean {
    return this.expireMs !== undefined && (((this.exp[s] as number) - tick) | 0) <= 0
  }

  touchLocal (s: number, tick: number): void {
    this.unlinkQueue(s)
    this.enqueue(s, this.expireMs === undefined ? tick : (tick + this.expireMs) >>> 0, tick)
    this.logAppend(this.local, s)
  }

  layout (s: number, gen: number, name: string, std: 'counter' | 'rate' | 'any'): StoredDataType {
    if (this.gen[s] !== gen || ((this.flags[s] as number) & USED) === 0) throw new StickStaleEntryError(this.name)
    const t = stickDataType(name)
    const l = t === undefined ? undefined : this.byId[t.id]
    if (l === undefined) throw new StickDataTypeError(this.name, `data type '${name}' is not stored in this table`)
    if (std === 'rate' && l.type.std !== 'frqp') throw new StickDataTypeError(this.name,
      `'${name}' is not a frequency counter`)
    if (std === 'counter' && (l.type.std === 'frqp' || l.type.std === 'dict')) throw new StickDataTypeError(this.name,
      `'${name}' is not a counter`)
    return l
  }
}

function checkIndex (store: Store, l: StoredDataType, idx: number): void {
  if (!Number.isInteger(idx) || idx < 0 || idx >= l.count) throw new StickIndexError(store.name, l.type.name, idx,
    l.count)
}

/**
 * A view of one entry: valid until the entry is deleted, expires or is evicted (then every
 * accessor throws `TSLB_ERR_STICK_STALE_ENTRY`). Views are cheap; do not keep them across I/O.
 * Writes through a view do not touch the entry: call `table.touchLocal(entry, now)` (or use
 * `table.update()`) so that its expiry is refreshed and the peers see the change.
 */
export class StickEntry {
  readonly #s: Store
  readonly #slot: number
  readonly #gen: number

  /** @internal Entries come from a table. */
  constructor (store: Store, slot: number) {
    this.#s = store
    this.#slot = slot
    this.#gen = store.gen[slot] as number
  }

  /** @internal */
  get slot (): number {
    this.#check()
    return this.#slot
  }

  #check (): void {
    if (this.#s.gen[this.#slot] !== this.#gen || ((this.#s.flags[this.#slot] as number) & USED) ===
      0) throw new StickStaleEntryError(this.#s.name)
  }

  /** The entry still exists (this view is usable). */
  get alive (): boolean {
    return this.#s.gen[this.#slot] === this.#gen && ((this.#s.flags[this.#slot] as number) & USED) !== 0
  }

  /** Normalised key (keys.ts); pass `keyBytes()` back to the table to find the entry again. */
  get key (): StickKeyId {
    this.#check()
    return this.#s.keys[this.#slot] as StickKeyId
  }

  /** The key as `show table` prints it. */
  get keyText (): string {
    return formatKey(this.#s.type, this.key)
  }

  /** The key as the peers protocol carries it (see `keyBytes()` in keys.ts). */
  keyBytes (): Buffer {
    return keyBytes(this.#s.type, this.key)
  }

  /** A stable id for the entry's storage, printed where HAProxy prints the entry's address. */
  get pointer (): string {
    return '0x' + (this.#s.ptrBase + this.slot * 0x30).toString(16)
  }

  /** Absolute expiry (ms, the caller's clock); for tables without `expire`, the last touch. */
  get expire (): number {
    this.#check()
    const s = this.#s
    return s.lastNow + (((s.exp[this.#slot] as number) - s.lastTick) | 0)
  }

  /**
   * ms until expiry, 0 if past or the table has no `expire` (`tick_remain()`: `exp=` of `show table`, the expiry a
   * timed peer update carries).
   */
  expiresIn (now: number): number {
    this.#check()
    const s = this.#s
    if (s.expireMs === undefined) return 0
    const r = ((s.exp[this.#slot] as number) - s.clock(now)) | 0
    return r > 0 ? r : 0
  }

  /** The entry's latest update id in its log (0: never touched), see `origin`. */
  get updateId (): number {
    this.#check()
    return this.#s.updateId(this.#slot)
  }

  /**
   * Which update log the entry is in: `local` (will be pushed to peers), `remote` (learned from a peer, never pushed),
   * or undefined (created, never touched).
   */
  get origin (): 'local' | 'remote' | undefined {
    this.#check()
    const f = this.#s.flags[this.#slot] as number
    return (f & LOG_LOCAL) !== 0 ? 'local' : (f & LOG_REMOTE) !== 0 ? 'remote' : undefined
  }

  /** A counter or integer (sint/uint/ull), element `idx` for gpt/gpc. */
  get (name: StickCounterName, idx = 0): number {
    const s = this.#s
    const l = s.layout(this.#slot, this.#gen, name, 'counter')
    if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
    if (l.type.std === 'ull') return s.f64[this.#slot * s.doubles + l.offset + idx] as number
    const v = s.u32[this.#slot * s.words + l.offset + idx] as number
    return l.type.std === 'sint' ? v | 0 : v
  }

  /** Sets a counter: sint/uint keep the low 32 bits (as C's cast), ull is kept as a number ≥ 0. */
  set (name: StickCounterName, value: number, idx = 0): void {
    const s = this.#s
    const l = s.layout(this.#slot, this.#gen, name, 'counter')
    if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
    if (l.type.std === 'ull') s.f64[this.#slot * s.doubles + l.offset + idx] = value < 0 ? 0 : Math.floor(value)
    else s.u32[this.#slot * s.words + l.offset + idx] = wrap32(value)
  }

  /** Adds `delta` (default 1) and returns the new value; uint wraps at 2^32 like HAProxy's counters. */
  add (name: StickCounterName, delta = 1, idx = 0): number {
    const s = this.#s
    const l = s.layout(this.#slot, this.#gen, name, 'counter')
    if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
    if (l.type.std === 'ull') {
      const o = this.#slot * s.doubles + l.offset + idx
      const v = Math.max(0, Math.floor((s.f64[o] as number) + delta))
      s.f64[o] = v
      return v
    }
    const o = this.#slot * s.words + l.offset + idx
    s.u32[o] = wrap32((s.u32[o] as number) + delta)
    return l.type.std === 'sint' ? (s.u32[o]) | 0 : s.u32[o]
  }

  /** A frequency counter's rate at `now` (`read_freq_ctr_period()`). */
  rate (name: StickRateName, now: number, idx = 0): number {
    const s = this.#s
    const l = s.layout(this.#slot, this.#gen, name, 'rate')
    if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
    return freqRead(s.u32, this.#slot * s.words + l.offset + 3 * idx, l.period, s.clock(now))
  }

  /** Counts `inc` events (default 1) at `now` (`update_freq_ctr_period()`); returns the current period's count. */
  hit (name: StickRateName, now: number, inc = 1, idx = 0): number {
    const s = this.#s
    const l = s.layout(this.#slot, this.#gen, name, 'rate')
    if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
    return freqUpdate(s.u32, this.#slot * s.words + l.offset + 3 * idx, l.period, s.clock(now), inc)
  }

  /** As `set table ... data.<rate> V`: V in a period starting now, nothing before. */
  setRate (name: StickRateName, value: number, now: number, idx = 0): void {
    const s = this.#s
    const l = s.layout(this.#slot, this.#gen, name, 'rate')
    if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
    freqSet(s.u32, this.#slot * s.words + l.offset + 3 * idx, s.clock(now), wrap32(value))
  }

  /** The counter as the peers protocol sends it at `now`. */
  freqWire (name: StickRateName, now: number, idx = 0): FreqCounterWire {
    const s = this.#s
    const l = s.layout(this.#slot, this.#gen, name, 'rate')
    if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
    return freqToWire(s.u32, this.#slot * s.words + l.offset + 3 * idx, s.clock(now))
  }

  /** server_key (the server name), undefined when unset. */
  get serverKey (): string | undefined {
    const s = this.#s
    s.layout(this.#slot, this.#gen, 'server_key', 'any')
    return s.dict[this.#slot]
  }

  set serverKey (v: string | undefined) {
    const s = this.#s
    s.layout(this.#slot, this.#gen, 'server_key', 'any')
    s.dict[this.#slot] = v === undefined ? undefined : intern(v)
  }

  /** Every stored value in data-type id order, frequency counters in wire form at `now`. */
  exportValues (now: number): ExportedDatum[] {
    this.#check()
    const s = this.#s
    const tick = s.clock(now)
    const out: ExportedDatum[] = []
    for (const l of s.stored) {
      const t = l.type
      const base = this.#slot * s.words + l.offset
      let value: ExportedDatum['value']
      if (t.std === 'dict') value = s.dict[this.#slot] ?? null
      else if (t.std === 'frqp') {
        const arr: FreqCounterWire[] = []
        for (let i = 0; i < l.count; i++) arr.push(freqToWire(s.u32, base + 3 * i, tick))
        value = t.isArray ? arr : arr[0] as FreqCounterWire
      } else {
        const arr: number[] = []
        for (let i = 0; i < l.count; i++) {
          if (t.std === 'ull') arr.push(s.f64[this.#slot * s.doubles + l.offset + i] as number)
          else if (t.std === 'sint') arr.push((s.u32[base + i] as number) | 0)
          else arr.push(s.u32[base + i] as number)
        }
        value = t.isArray ? arr : arr[0] as number
      }
      out.push({ dataType: t.id, name: t.name, value })
    }
    return out
  }
}

function wrap32 (v: number): number {
  if (Number.isSafeInteger(v)) return v >>> 0
  if (!Number.isFinite(v)) return 0
  return Number(BigInt.asUintN(32, BigInt(Math.trunc(v))))
}

const interned = new Map<string, string>()
/** Server names are few: share one string per name (HAProxy's dictionary), bounded. */
function intern (v: string): string {
  const hit = interned.get(v)
  if (hit !== undefined) return hit
  if (interned.size < 4096) interned.set(v, v)
  return v
}

function toNumber (v: RemoteScalar): number | undefined {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  return undefined
}

/** A HAProxy stick table. See the module comment for the model. */
export class StickTable {
  readonly #s: Store
  readonly name: string
  /** Key type. */
  readonly type: StickKeyType
  /** `size`: the most entries the table holds. */
  readonly capacity: number
  /** `expire` in ms; undefined when entries never expire. */
  readonly expireMs: number | undefined
  readonly nopurge: boolean
  /** The `peers` section the table is shared through, if any. */
  readonly peers: string | undefined
  /** Stored data types in `STKTABLE_DT_*` order (the order of updates and of `show table`). */
  readonly stored: readonly StoredDataType[]
  /** The data bitfield of the peers protocol's table definition. */
  readonly dataMask: bigint
  /**
   * HAProxy's `key_size`, the `key_len` of the peers definition: ip/integer 4, ipv6 16, string len+1 (32 without len),
   * binary len (32).
   */
  readonly keySize: number
  /** Most key bytes kept: string keySize-1; others keySize. */
  readonly maxKeyLength: number
  readonly stats: StickTableStats

  constructor (name: string, spec: StickTableSpec, options: StickTableOptions = {}) {
    const s = new Store(name, spec, options)
    this.#s = s
    this.name = name
    this.type = s.type
    this.capacity = s.capacity
    this.expireMs = s.expireMs
    this.nopurge = s.nopurge
    this.peers = spec.peers
    this.stored = s.stored
    this.dataMask = s.stored.reduce((m, l) => m | (1n << BigInt(l.type.id)), 0n)
    this.maxKeyLength = s.shape.maxLen
    this.keySize = s.type === 'string' ? s.shape.maxLen + 1 : s.shape.maxLen
    this.stats = s.stats
  }

  /** Entries in the table (`used:` of `show table`). */
  get size (): number {
    return this.#s.count
  }

  /** The stored type `name` (undefined if not stored). */
  storedType (name: string): StoredDataType | undefined {
    const t = stickDataType(name)
    return t === undefined ? undefined : this.#s.byId[t.id]
  }

  /** The normalised key of `input`, or undefined if it cannot be a key of this table (keys.ts). */
  normalizeKey (input: StickKeyInput): StickKeyId | undefined {
    return normalizeKey(this.#s.shape, input)
  }

  #id (input: StickKeyInput): StickKeyId {
    const id = normalizeKey(this.#s.shape, input)
    if (id === undefined) throw new StickKeyError(this.name, this.type, input)
    return id
  }

  /**
   * The entry for `key`, without touching it (HAProxy's `stktable_lookup_key()`; a `stick match`
   * hit then calls `touchLocal`, as stream.c does). Undefined for an absent or invalid key. With
   * `now`, an entry already past its expiry is removed and not returned: the owner's expiry timer
   * may run late, HAProxy's task never does.
   */
  lookup (key: StickKeyInput, now?: number): StickEntry | undefined {
    const s = this.#s
    const id = normalizeKey(s.shape, key)
    if (id === undefined) return undefined
    const slot = s.index.get(id)
    if (slot === undefined) return undefined
    if (now !== undefined && s.expired(slot, s.clock(now))) {
      s.free(slot)
      s.stats.expired++
      return undefined
    }
    return new StickEntry(s, slot)
  }

  /**
   * The entry for `key`, created if absent (`stktable_get_entry()`): a new entry has zeroed data,
   * expires `expire` ms from now and is not in the update log until touched. When the table is
   * full, the oldest entries are purged first (size/256 + 1 of them, as HAProxy); a full `nopurge`
   * table returns undefined and counts `stats.createFailed`. Throws `TSLB_ERR_STICK_KEY` for an
   * invalid key (check with `normalizeKey()` first when the input is untrusted).
   */
  getOrCreate (key: StickKeyInput, now: number): StickEntry | undefined {
    const s = this.#s
    const id = this.#id(key)
    const tick = s.clock(now)
    let slot = s.index.get(id)
    if (slot !== undefined && s.expired(slot, tick)) {
      s.free(slot)
      s.stats.expired++
      slot = undefined
    }
    if (slot === undefined) {
      slot = s.alloc(id, tick)
      if (slot === -1) return undefined
    }
    return new StickEntry(s, slot)
  }

  /**
   * A local change (`stktable_touch_local()`): expiry refreshed to now + expire, moved to the
   * tail of the LRU order, given the next local update id so the peers push it.
   */
  touchLocal (entry: StickEntry, now: number): void {
    const s = this.#s
    s.touchLocal(entry.slot, s.clock(now))
  }

  /**
   * `getOrCreate`, then `fn(entry)`, then `touchLocal`: the usual write path. Undefined when a nopurge table is full.
   */
  update (key: StickKeyInput, fn: (entry: StickEntry) => void, now: number): StickEntry | undefined {
    const e = this.getOrCreate(key, now)
    if (e === undefined) return undefined
    fn(e)
    this.touchLocal(e, now)
    return e
  }

  /**
   * An update received from a peer (`peer_treat_updatemsg()`): creates the entry if needed
   * (purging or failing as `getOrCreate`), overwrites the values given (last writer wins; types
   * this table does not store and conn_cur are dropped; a server_key of null leaves it as is),
   * sets the expiry to now + `expireMs` (a timed update) or now + the table's own `expire`, and
   * does NOT schedule a push to peers: an entry not yet in an update log joins the remote log,
   * one already in a log stays where it is.
   */
  applyRemote (key: StickKeyInput, values: Iterable<RemoteDatum>, expireMs: number | undefined,
    now: number): StickEntry | undefined {
    const s = this.#s
    const id = this.#id(key)
    const tick = s.clock(now)
    let slot = s.index.get(id)
    if (slot === undefined) {
      slot = s.alloc(id, tick)
      if (slot === -1) return undefined
    }
    for (const d of values) this.#applyDatum(slot, d, tick)
    const ms = expireMs === undefined ? (s.expireMs ?? 0) : Math.min(Math.max(0, Math.floor(expireMs)), MAX_TIMER)
    s.unlinkQueue(slot)
    s.enqueue(slot, (tick + ms) >>> 0, tick)
    if (((s.flags[slot] as number) & (LOG_LOCAL | LOG_REMOTE)) === 0) s.logAppend(s.remote, slot)
    return new StickEntry(s, slot)
  }

  #applyDatum (slot: number, d: RemoteDatum, tick: number): void {
    const s = this.#s
    const l = s.byId[d.dataType]
    if (l === undefined || l.type.isLocal) return
    const t = l.type
    const bad = (): never => { throw new StickDataTypeError(this.name,
      `peer value for '${t.name}' has the wrong shape`) }
    const v = d.value
    if (t.std === 'dict') {
      if (v === null) return
      if (typeof v === 'string') s.dict[slot] = intern(v)
      else if (typeof v === 'object' && !Array.isArray(v) && 'value' in v) {
        if (typeof v.value === 'string') s.dict[slot] = intern(v.value)
      } else bad()
      return
    }
    const elems: readonly unknown[] = t.isArray ? (Array.isArray(v) ? v as readonly unknown[] : bad()) : [v]
    const n = Math.min(elems.length, l.count)
    for (let i = 0; i < n; i++) {
      const e = elems[i] as RemoteScalar
      if (t.std === 'frqp') {
        if (typeof e !== 'object' || e === null) bad()
        freqFromWire(s.u32, slot * s.words + l.offset + 3 * i, tick, e as FreqCounterWire)
        continue
      }
      const num = toNumber(e)
      if (num === undefined) return bad()
      if (t.std === 'ull') s.f64[slot * s.doubles + l.offset + i] = num < 0 || !Number.isFinite(num) ? 0 : Math.floor(
        num)
      else s.u32[slot * s.words + l.offset + i] = typeof e === 'bigint' ? Number(BigInt.asUintN(32, e)) : wrap32(num)
    }
  }

  /** Removes the entry for `key`; false if there was none. */
  delete (key: StickKeyInput): boolean {
    const s = this.#s
    const id = normalizeKey(s.shape, key)
    const slot = id === undefined ? undefined : s.index.get(id)
    if (slot === undefined) return false
    s.free(slot)
    s.stats.deleted++
    return true
  }

  /** Removes `entry` (a live view); false if it was already gone. */
  remove (entry: StickEntry): boolean {
    if (!entry.alive) return false
    this.#s.free(entry.slot)
    this.#s.stats.deleted++
    return true
  }

  /** Removes every entry. Update ids keep increasing (the peers protocol relies on it). */
  clear (): void {
    const s = this.#s
    for (const slot of [...s.index.values()]) {
      s.free(slot)
      s.stats.deleted++
    }
    // every record is stale now: drop them (and a log grown by a big table), keep the ids going
    for (const log of [s.local, s.remote]) {
      log.len = 0
      log.live = 0
      if (log.slots.length > INITIAL_LOG) { log.slots = new Int32Array(INITIAL_LOG);
        log.ids = new Float64Array(INITIAL_LOG) }
    }
  }

  /** Removes the entries whose expiry is at or before `now`; returns how many. O(removed). */
  expire (now: number): number {
    const s = this.#s
    if (s.expireMs === undefined) return 0
    const tick = s.clock(now)
    let n = 0
    while (s.head !== -1 && s.expired(s.head, tick)) { s.free(s.head); n++ }
    while (s.heapLen > 0 && s.expired(s.heap[0] as number, tick)) { s.free(s.heap[0] as number); n++ }
    s.stats.expired += n
    return n
  }

  /**
   * When the next entry expires (absolute ms, the caller's clock), undefined if none will. Set one timer for it and
   * call `expire()`.
   */
  nextExpiry (): number | undefined {
    const s = this.#s
    if (s.expireMs === undefined) return undefined
    const o = s.oldest()
    if (o === -1) return undefined
    return s.lastNow + (((s.exp[o] as number) - s.lastTick) | 0)
  }

  /** The last local update id given (0: none yet). */
  get localUpdate (): number {
    return this.#s.local.lastId
  }

  /** The last remote-log id given (ids of the remote log are a separate sequence). */
  get remoteUpdate (): number {
    return this.#s.remote.lastId
  }

  /**
   * Calls `fn` (synchronously, from the write: it should only schedule work) at the first append
   * to an update log (a local touch, or an entry first learned from a peer) after the latest
   * `rearmWatchers()`, then no more until someone re-arms: a burst of writes costs one call. A
   * watcher re-arms before it reads `updatesSince()`, so no update goes unnoticed. Returns the
   * function that removes the watcher.
   */
  watchUpdates (fn: () => void): () => void {
    const s = this.#s
    s.watchers.push(fn)
    s.signalled = false
    return () => { s.watchers = s.watchers.filter(w => w !== fn) }
  }

  /** The next update-log append calls the watchers again. */
  rearmWatchers (): void {
    this.#s.signalled = false
  }

  /**
   * Entries whose latest update in the `origin` log (default `local`, what must be pushed to
   * peers) has an id above `afterId`, in id order, at most `limit`. Each entry appears once, at
   * its latest update. For a full teach (resync), walk the `remote` log first and the `local` one
   * second: entries only move from the remote log to the local one (on a local touch), never
   * back, so none is missed if the table changes during the walk.
   */
  updatesSince (afterId: number, limit: number, origin: 'local' | 'remote' = 'local'): StickEntry[] {
    const s = this.#s
    const log = origin === 'local' ? s.local : s.remote
    let lo = 0
    let hi = log.len
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((log.ids[mid] as number) <= afterId) lo = mid + 1; else hi = mid
    }
    const out: StickEntry[] = []
    for (let i = lo; i < log.len && out.length < limit; i++) {
      if (s.logLive(log, i)) out.push(new StickEntry(s, log.slots[i] as number))
    }
    return out
  }

  /** Every entry, in creation order of its key (the order of the key index). */
  * entries (): IterableIterator<StickEntry> {
    const s = this.#s
    for (const slot of s.index.values()) yield new StickEntry(s, slot)
  }

  /** Every entry in HAProxy's key-tree order (what `show table` prints): O(n log n). */
  sortedEntries (): StickEntry[] {
    const s = this.#s
    const cmp = keyComparator(s.type)
    const ids = [...s.index.keys()].sort(cmp)
    return ids.map(id => new StickEntry(s, s.index.get(id) as number))
  }

  /** Entries from least to most recently touched (eviction order), for diagnostics and tests. */
  * lruOrder (): IterableIterator<StickEntry> {
    const s = this.#s
    for (let slot = s.head; slot !== -1; slot = s.next[slot] as number) yield new StickEntry(s, slot)
  }

  /** Approximate bytes held by the store's arrays (not the key index nor key strings). */
  get arrayBytes (): number {
    const s = this.#s
    return s.exp.byteLength + s.prev.byteLength + s.next.byteLength + s.flags.byteLength + s.logPos.byteLength +
      s.gen.byteLength + s.u32.byteLength + s.f64.byteLength + s.heap.byteLength +
      s.local.slots.byteLength + s.local.ids.byteLength + s.remote.slots.byteLength + s.remote.ids.byteLength
  }
}
