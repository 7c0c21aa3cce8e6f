/**
 * HAProxy stick tables as an in-memory store with an injected clock, shareable by the threads of
 * one process (one table per node, whatever the number of threads).
 *
 * The table has no timer of its own: its owner calls `expire(now)` from one timer set from
 * `nextExpiry()`, and passes `now` (integer ms) to every operation that depends on time. Only the
 * low 32 bits of `now` are used internally, with HAProxy's wrapping tick arithmetic, so any epoch
 * works; `now` must not go backwards (a smaller value is taken as the largest seen so far). Every
 * thread using one table must read the same clock (the proxy uses `Date.now()`; a thread's own
 * `performance.now()` starts at its own origin and would not do).
 *
 * ## Layout (why it is small)
 * Everything is in typed arrays indexed by slot ("struct of arrays"): the key (fixed-size per
 * table as in HAProxy: 4 bytes for ip/integer, 16 for ipv6, `len` for string/binary), expiry tick,
 * LRU links, update-log position, a generation, and one row of 32-bit words per entry holding
 * the stored data types back to back (frequency counters are three words, as HAProxy's `struct
 * freq_ctr`), plus a row of doubles for the two 64-bit byte counters and a dictionary id for
 * server_key. The key index is an open-addressing hash table over slot numbers (key-index.ts).
 * There is no JavaScript object per entry, so the garbage collector has almost nothing to trace
 * however large the table is. Slots are reused (like HAProxy's pool); a `StickEntry` is a
 * short-lived view (slot + generation) that throws once its entry is gone.
 *
 * ## Threads: what is shared, the lock, the costs
 * All of it lives in SharedArrayBuffers (store.ts; the server_key names in dict.ts): a table made
 * with `new StickTable()` gives `sharedHandle()`, a structured-cloneable object to post to a
 * `worker_threads` thread, where `StickTable.attach(handle)` is the same table over the same
 * memory. Single-threaded tables use the same store (no second code path). One lock per table,
 * in the shared header, is taken by every public method and every `StickEntry` accessor: a
 * compare-and-swap when free, a short spin, then `Atomics.wait` (a futex) when another thread
 * holds it. It is re-entrant (the thread holding it takes it again for free), so `update()` runs
 * its callback under the lock: get-or-create, the writes and the touch are one atomic step, and
 * the entry cannot be evicted by another thread in between. An entry view checks its slot's
 * generation under the lock, so a stale view throws on every thread. Uncontended, the lock costs
 * two atomic instructions per call (scripts/bench.d/stick-ops.ts measures a call); calls are
 * short (O(1) but `expire()`, `clear()` and the listing methods), so threads contend briefly.
 * A thread stopped (`worker.terminate()`) inside a table call would leave the lock held: stop
 * threads that use tables by letting them return, or stop the process. `expire(now)` may run on
 * any thread (the peers sync, which watches updates, runs on the main thread).
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
 * Each local touch gives the entry the next local update id (1, 2, 3, ... per table, whichever
 * thread touches) and appends it to the local update log; a remote update (`applyRemote`) never
 * does: an entry first learned from a peer goes to a separate remote log, and one already in a
 * log stays where it is, which is HAProxy's rule (`__stktable_touch_with_exp()`: remote updates
 * get keys above 2^31 and are never pushed to peers, so there is no relaying; a full mesh is
 * required). `updatesSince(id, limit)` returns live entries of the local log with a larger id, in
 * id order: binary search over the log, then a forward scan skipping records superseded by a
 * later touch; the log is compacted when half of it is superseded, so the cost is amortised O(1)
 * per touch and O(log n + returned) per call. `watchUpdates()` tells the peers sync that a log
 * grew, once per burst of writes (a flag test per write), so it does not have to poll: at once
 * when the write is made on the watcher's thread, and through a shared counter and
 * `Atomics.notify` (woken by `Atomics.waitAsync`, a later event-loop turn) when another thread
 * made it.
 * @module
 */
import type { StickTableSpec } from '../config/model.ts'
import { stickDataType, type StickDataName } from './data-types.ts'
import { StickDataTypeError, StickIndexError, StickKeyError, StickSpecError } from './errors.ts'
import { freqFromWire, freqRead, freqSet, freqToWire, freqUpdate, type FreqCounterWire } from './freq.ts'
import { formatKey, keyBytes, keyComparator, normalizeKey, type StickKeyId, type StickKeyInput,
  type StickKeyType } from './keys.ts'
import { LOG_LOCAL, LOG_REMOTE, MAX_TIMER, Store, USED, type StickTableOptions, type StickTableStats,
  type StoreBuffers, type StoredDataType } from './store.ts'

export { STICK_MAX_SIZE, type StickTableOptions, type StickTableStats, type StoredDataType } from './store.ts'

/** Counters and integers: read with `get`, written with `set`/`add`. */
export type StickCounterName = 'server_id' | 'gpt0' | 'gpc0' | 'conn_cnt' | 'conn_cur' | 'sess_cnt' | 'http_req_cnt' |
  'http_err_cnt' | 'bytes_in_cnt' | 'bytes_out_cnt' | 'gpc1' | 'http_fail_cnt' | 'gpt' | 'gpc' | 'glitch_cnt'
/** Frequency counters: read with `rate`, counted with `hit`. */
export type StickRateName = 'gpc0_rate' | 'conn_rate' | 'sess_rate' | 'http_req_rate' | 'http_err_rate' |
  'bytes_in_rate' |
  'bytes_out_rate' | 'gpc1_rate' | 'http_fail_rate' | 'gpc_rate' | 'glitch_rate'

/**
 * What another thread needs to use a table: post it (structured clone) and pass it to
 * `StickTable.attach()`. Opaque apart from `name`.
 */
export interface StickTableHandle {
  readonly kind: 'tslb-stick-table'
  readonly name: string
  readonly spec: StickTableSpec
  readonly options: StickTableOptions
  readonly buffers: StoreBuffers
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

function checkIndex (store: Store, l: StoredDataType, idx: number): void {
  if (!Number.isInteger(idx) || idx < 0 || idx >= l.count) throw new StickIndexError(store.name, l.type.name, idx,
    l.count)
}

/**
 * A view of one entry: valid until the entry is deleted, expires or is evicted (then every
 * accessor throws `TSLB_ERR_STICK_STALE_ENTRY`, on every thread). Views are cheap; do not keep
 * them across I/O. Each accessor takes the table lock; writes through a view do not touch the
 * entry: call `table.touchLocal(entry, now)` (or use `table.update()`) so that its expiry is
 * refreshed and the peers see the change.
 */
export class StickEntry {
  readonly #s: Store
  readonly #slot: number
  readonly #gen: number

  /** @internal Entries come from a table, which holds the lock. */
  constructor (store: Store, slot: number) {
    this.#s = store
    this.#slot = slot
    this.#gen = store.gen[slot] as number
  }

  /** @internal */
  get slot (): number {
    const s = this.#s
    s.lock()
    try {
      s.check(this.#slot, this.#gen)
      return this.#slot
    } finally { s.unlock() }
  }

  /** The entry still exists (this view is usable). */
  get alive (): boolean {
    const s = this.#s
    s.lock()
    try {
      return s.live(this.#slot, this.#gen)
    } finally { s.unlock() }
  }

  /** Normalised key (keys.ts); pass `keyBytes()` back to the table to find the entry again. */
  get key (): StickKeyId {
    const s = this.#s
    s.lock()
    try {
      s.check(this.#slot, this.#gen)
      return s.keys.keyOf(this.#slot)
    } finally { s.unlock() }
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
    const s = this.#s
    s.lock()
    try {
      s.check(this.#slot, this.#gen)
      return s.lastNow + (((s.exp[this.#slot] as number) - s.lastTick) | 0)
    } finally { s.unlock() }
  }

  /**
   * ms until expiry, 0 if past or the table has no `expire` (`tick_remain()`: `exp=` of `show table`, the expiry a
   * timed peer update carries).
   */
  expiresIn (now: number): number {
    const s = this.#s
    s.lock()
    try {
      s.check(this.#slot, this.#gen)
      if (s.expireMs === undefined) return 0
      const r = ((s.exp[this.#slot] as number) - s.clock(now)) | 0
      return r > 0 ? r : 0
    } finally { s.unlock() }
  }

  /** The entry's latest update id in its log (0: never touched), see `origin`. */
  get updateId (): number {
    const s = this.#s
    s.lock()
    try {
      s.check(this.#slot, this.#gen)
      return s.updateId(this.#slot)
    } finally { s.unlock() }
  }

  /**
   * Which update log the entry is in: `local` (will be pushed to peers), `remote` (learned from a peer, never pushed),
   * or undefined (created, never touched).
   */
  get origin (): 'local' | 'remote' | undefined {
    const s = this.#s
    s.lock()
    try {
      s.check(this.#slot, this.#gen)
      const f = s.flags[this.#slot] as number
      return (f & LOG_LOCAL) !== 0 ? 'local' : (f & LOG_REMOTE) !== 0 ? 'remote' : undefined
    } finally { s.unlock() }
  }

  /** A counter or integer (sint/uint/ull), element `idx` for gpt/gpc. */
  get (name: StickCounterName, idx = 0): number {
    const s = this.#s
    s.lock()
    try {
      const l = s.layout(this.#slot, this.#gen, name, 'counter')
      if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
      if (l.type.std === 'ull') return s.f64[this.#slot * s.doubles + l.offset + idx] as number
      const v = s.u32[this.#slot * s.words + l.offset + idx] as number
      return l.type.std === 'sint' ? v | 0 : v
    } finally { s.unlock() }
  }

  /** Sets a counter: sint/uint keep the low 32 bits (as C's cast), ull is kept as a number ≥ 0. */
  set (name: StickCounterName, value: number, idx = 0): void {
    const s = this.#s
    s.lock()
    try {
      const l = s.layout(this.#slot, this.#gen, name, 'counter')
      if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
      if (l.type.std === 'ull') s.f64[this.#slot * s.doubles + l.offset + idx] = value < 0 ? 0 : Math.floor(value)
      else s.u32[this.#slot * s.words + l.offset + idx] = wrap32(value)
    } finally { s.unlock() }
  }

  /** Adds `delta` (default 1) and returns the new value; uint wraps at 2^32 like HAProxy's counters. */
  add (name: StickCounterName, delta = 1, idx = 0): number {
    const s = this.#s
    s.lock()
    try {
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
    } finally { s.unlock() }
  }

  /** A frequency counter's rate at `now` (`read_freq_ctr_period()`). */
  rate (name: StickRateName, now: number, idx = 0): number {
    const s = this.#s
    s.lock()
    try {
      const l = s.layout(this.#slot, this.#gen, name, 'rate')
      if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
      return freqRead(s.u32, this.#slot * s.words + l.offset + 3 * idx, l.period, s.clock(now))
    } finally { s.unlock() }
  }

  /** Counts `inc` events (default 1) at `now` (`update_freq_ctr_period()`); returns the current period's count. */
  hit (name: StickRateName, now: number, inc = 1, idx = 0): number {
    const s = this.#s
    s.lock()
    try {
      const l = s.layout(this.#slot, this.#gen, name, 'rate')
      if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
      return freqUpdate(s.u32, this.#slot * s.words + l.offset + 3 * idx, l.period, s.clock(now), inc)
    } finally { s.unlock() }
  }

  /** As `set table ... data.<rate> V`: V in a period starting now, nothing before. */
  setRate (name: StickRateName, value: number, now: number, idx = 0): void {
    const s = this.#s
    s.lock()
    try {
      const l = s.layout(this.#slot, this.#gen, name, 'rate')
      if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
      freqSet(s.u32, this.#slot * s.words + l.offset + 3 * idx, s.clock(now), wrap32(value))
    } finally { s.unlock() }
  }

  /** The counter as the peers protocol sends it at `now`. */
  freqWire (name: StickRateName, now: number, idx = 0): FreqCounterWire {
    const s = this.#s
    s.lock()
    try {
      const l = s.layout(this.#slot, this.#gen, name, 'rate')
      if (idx !== 0 || l.count !== 1) checkIndex(s, l, idx)
      return freqToWire(s.u32, this.#slot * s.words + l.offset + 3 * idx, s.clock(now))
    } finally { s.unlock() }
  }

  /** server_key (the server name), undefined when unset. */
  get serverKey (): string | undefined {
    const s = this.#s
    s.lock()
    try {
      s.layout(this.#slot, this.#gen, 'server_key', 'any')
      return s.serverKey(this.#slot)
    } finally { s.unlock() }
  }

  /** Sets server_key (a name beyond the shared dictionary's limits, dict.ts, is not stored). */
  set serverKey (v: string | undefined) {
    const s = this.#s
    s.lock()
    try {
      s.layout(this.#slot, this.#gen, 'server_key', 'any')
      s.setServerKey(this.#slot, v)
    } finally { s.unlock() }
  }

  /** Every stored value in data-type id order, frequency counters in wire form at `now`. */
  exportValues (now: number): ExportedDatum[] {
    const s = this.#s
    s.lock()
    try {
      s.check(this.#slot, this.#gen)
      return exportValues(s, this.#slot, s.clock(now))
    } finally { s.unlock() }
  }
}

function exportValues (s: Store, slot: number, tick: number): ExportedDatum[] {
  const out: ExportedDatum[] = []
  for (const l of s.stored) {
    const t = l.type
    const base = slot * s.words + l.offset
    let value: ExportedDatum['value']
    if (t.std === 'dict') value = s.serverKey(slot) ?? null
    else if (t.std === 'frqp') {
      const arr: FreqCounterWire[] = []
      for (let i = 0; i < l.count; i++) arr.push(freqToWire(s.u32, base + 3 * i, tick))
      value = t.isArray ? arr : arr[0] as FreqCounterWire
    } else {
      const arr: number[] = []
      for (let i = 0; i < l.count; i++) {
        if (t.std === 'ull') arr.push(s.f64[slot * s.doubles + l.offset + i] as number)
        else if (t.std === 'sint') arr.push((s.u32[base + i] as number) | 0)
        else arr.push(s.u32[base + i] as number)
      }
      value = t.isArray ? arr : arr[0] as number
    }
    out.push({ dataType: t.id, name: t.name, value })
  }
  return out
}

function wrap32 (v: number): number {
  if (Number.isSafeInteger(v)) return v >>> 0
  if (!Number.isFinite(v)) return 0
  return Number(BigInt.asUintN(32, BigInt(Math.trunc(v))))
}

function toNumber (v: RemoteScalar): number | undefined {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  return undefined
}

/** A HAProxy stick table. See the module comment for the model. */
export class StickTable {
  readonly #s: Store
  readonly #spec: StickTableSpec
  readonly #options: StickTableOptions
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
  /** Shared by every thread's view of the table. */
  readonly stats: StickTableStats

  constructor (name: string, spec: StickTableSpec, options: StickTableOptions = {}, shared?: StoreBuffers) {
    const s = new Store(name, spec, options, shared)
    this.#s = s
    this.#spec = spec
    this.#options = options
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

  /**
   * This table as a structured-cloneable handle: post it to another thread of this process and
   * `StickTable.attach()` it there.
   */
  sharedHandle (): StickTableHandle {
    return { kind: 'tslb-stick-table', name: this.name, spec: this.#spec, options: this.#options,
      buffers: this.#s.bufs }
  }

  /** The table of `handle` (from `sharedHandle()` on another thread), over the same memory. */
  static attach (handle: StickTableHandle): StickTable {
    if (handle.kind !== 'tslb-stick-table') throw new StickSpecError(handle.name, 'not a stick table handle')
    return new StickTable(handle.name, handle.spec, handle.options, handle.buffers)
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
    const hash = s.keys.hashOf(id)
    s.lock()
    try {
      const slot = s.find(id, hash)
      if (slot === -1) return undefined
      if (now !== undefined && s.expired(slot, s.clock(now))) {
        s.free(slot)
        s.count1('expired')
        return undefined
      }
      return new StickEntry(s, slot)
    } finally { s.unlock() }
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
    const hash = s.keys.hashOf(id)
    s.lock()
    try {
      const slot = this.#getOrCreate(id, hash, s.clock(now))
      return slot === -1 ? undefined : new StickEntry(s, slot)
    } finally { s.unlock() }
  }

  #getOrCreate (id: StickKeyId, hash: number, tick: number): number {
    const s = this.#s
    let slot = s.find(id, hash)
    if (slot !== -1 && s.expired(slot, tick)) {
      s.free(slot)
      s.count1('expired')
      slot = -1
    }
    return slot === -1 ? s.alloc(id, hash, tick) : slot
  }

  /**
   * A local change (`stktable_touch_local()`): expiry refreshed to now + expire, moved to the
   * tail of the LRU order, given the next local update id so the peers push it.
   */
  touchLocal (entry: StickEntry, now: number): void {
    const s = this.#s
    s.lock()
    try {
      s.touchLocal(entry.slot, s.clock(now))
    } finally { s.unlock() }
  }

  /**
   * `getOrCreate`, then `fn(entry)`, then `touchLocal`: the usual write path, one atomic step
   * (`fn` runs under the table lock: it must only read and write the entry). Undefined when a
   * nopurge table is full.
   */
  update (key: StickKeyInput, fn: (entry: StickEntry) => void, now: number): StickEntry | undefined {
    const s = this.#s
    const id = this.#id(key)
    const hash = s.keys.hashOf(id)
    s.lock()
    try {
      const slot = this.#getOrCreate(id, hash, s.clock(now))
      if (slot === -1) return undefined
      const gen = s.gen[slot] as number
      const e = new StickEntry(s, slot)
      fn(e)
      s.check(slot, gen)
      s.touchLocal(slot, s.clock(now))
      return e
    } finally { s.unlock() }
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
    const hash = s.keys.hashOf(id)
    s.lock()
    try {
      const tick = s.clock(now)
      let slot = s.find(id, hash)
      if (slot === -1) {
        slot = s.alloc(id, hash, tick)
        if (slot === -1) return undefined
      }
      for (const d of values) this.#applyDatum(slot, d, tick)
      const ms = expireMs === undefined ? (s.expireMs ?? 0) : Math.min(Math.max(0, Math.floor(expireMs)), MAX_TIMER)
      s.unlinkQueue(slot)
      s.enqueue(slot, (tick + ms) >>> 0, tick)
      if (((s.flags[slot] as number) & (LOG_LOCAL | LOG_REMOTE)) === 0) s.logAppend(s.remote, slot)
      return new StickEntry(s, slot)
    } finally { s.unlock() }
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
      if (typeof v === 'string') s.setServerKey(slot, v)
      else if (typeof v === 'object' && !Array.isArray(v) && 'value' in v) {
        if (typeof v.value === 'string') s.setServerKey(slot, v.value)
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
    if (id === undefined) return false
    const hash = s.keys.hashOf(id)
    s.lock()
    try {
      const slot = s.find(id, hash)
      if (slot === -1) return false
      s.free(slot)
      s.count1('deleted')
      return true
    } finally { s.unlock() }
  }

  /** Removes `entry` (a live view); false if it was already gone. */
  remove (entry: StickEntry): boolean {
    const s = this.#s
    s.lock()
    try {
      if (!entry.alive) return false
      s.free(entry.slot)
      s.count1('deleted')
      return true
    } finally { s.unlock() }
  }

  /** Removes every entry. Update ids keep increasing (the peers protocol relies on it). */
  clear (): void {
    const s = this.#s
    s.lock()
    try {
      const hwm = s.hwm
      let n = 0
      for (let slot = 0; slot < hwm; slot++) {
        if (((s.flags[slot] as number) & USED) === 0) continue
        s.free(slot)
        n++
      }
      s.count1('deleted', n)
      // every record is stale now: drop them, keep the ids going
      s.logsReset()
    } finally { s.unlock() }
  }

  /** Removes the entries whose expiry is at or before `now`; returns how many. O(removed). */
  expire (now: number): number {
    const s = this.#s
    if (s.expireMs === undefined) return 0
    s.lock()
    try {
      const tick = s.clock(now)
      let n = 0
      while (s.head !== -1 && s.expired(s.head, tick)) { s.free(s.head); n++ }
      while (s.heapLen > 0 && s.expired(s.heap[0] as number, tick)) { s.free(s.heap[0] as number); n++ }
      s.count1('expired', n)
      return n
    } finally { s.unlock() }
  }

  /**
   * When the next entry expires (absolute ms, the caller's clock), undefined if none will. Set one timer for it and
   * call `expire()`.
   */
  nextExpiry (): number | undefined {
    const s = this.#s
    if (s.expireMs === undefined) return undefined
    s.lock()
    try {
      const o = s.oldest()
      if (o === -1) return undefined
      return s.lastNow + (((s.exp[o] as number) - s.lastTick) | 0)
    } finally { s.unlock() }
  }

  /** The last local update id given (0: none yet). */
  get localUpdate (): number {
    return this.#s.lastId(this.#s.local)
  }

  /** The last remote-log id given (ids of the remote log are a separate sequence). */
  get remoteUpdate (): number {
    return this.#s.lastId(this.#s.remote)
  }

  /**
   * Calls `fn` at the first append to an update log (a local touch, or an entry first learned
   * from a peer), by any thread, after the latest `rearmWatchers()`, then no more until someone
   * re-arms: a burst of writes costs one call. An append made on this thread calls `fn`
   * synchronously, from the write (it should only schedule work); one made on another thread
   * calls it on a later turn of this thread's event loop. A watcher re-arms before it reads
   * `updatesSince()`, so no update goes unnoticed. Returns the function that removes the watcher.
   */
  watchUpdates (fn: () => void): () => void {
    const s = this.#s
    s.lock()
    try {
      s.addWatcher(fn)
    } finally { s.unlock() }
    return () => {
      s.lock()
      try {
        s.removeWatcher(fn)
      } finally { s.unlock() }
    }
  }

  /** The next update-log append calls the watchers again. */
  rearmWatchers (): void {
    this.#s.rearm()
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
    s.lock()
    try {
      const len = s.logLen(log)
      let lo = 0
      let hi = len
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if ((log.ids[mid] as number) <= afterId) lo = mid + 1; else hi = mid
      }
      const out: StickEntry[] = []
      for (let i = lo; i < len && out.length < limit; i++) {
        if (s.logLive(log, i)) out.push(new StickEntry(s, log.slots[i] as number))
      }
      return out
    } finally { s.unlock() }
  }

  /** Every entry, in slot order (creation order until slots are reused); a snapshot taken at the first step. */
  * entries (): IterableIterator<StickEntry> {
    yield * this.#snapshot()
  }

  #snapshot (): StickEntry[] {
    const s = this.#s
    s.lock()
    try {
      const out: StickEntry[] = []
      const hwm = s.hwm
      for (let slot = 0; slot < hwm; slot++) {
        if (((s.flags[slot] as number) & USED) !== 0) out.push(new StickEntry(s, slot))
      }
      return out
    } finally { s.unlock() }
  }

  /** Every entry in HAProxy's key-tree order (what `show table` prints): O(n log n). */
  sortedEntries (): StickEntry[] {
    const s = this.#s
    const cmp = keyComparator(s.type)
    const pairs: { id: StickKeyId, e: StickEntry }[] = []
    s.lock()
    try {
      const hwm = s.hwm
      for (let slot = 0; slot < hwm; slot++) {
        if (((s.flags[slot] as number) & USED) !== 0) pairs.push({ id: s.keys.keyOf(slot), e: new StickEntry(s, slot) })
      }
    } finally { s.unlock() }
    return pairs.sort((a, b) => cmp(a.id, b.id)).map(p => p.e)
  }

  /** Entries from least to most recently touched (eviction order), for diagnostics and tests; a snapshot. */
  * lruOrder (): IterableIterator<StickEntry> {
    const s = this.#s
    const out: StickEntry[] = []
    s.lock()
    try {
      for (let slot = s.head; slot !== -1; slot = s.next[slot] as number) out.push(new StickEntry(s, slot))
    } finally { s.unlock() }
    yield * out
  }

  /** Bytes of the table's shared buffers as they are now (committed, not reserved). */
  get arrayBytes (): number {
    const s = this.#s
    s.lock()
    try {
      return s.arrayBytes
    } finally { s.unlock() }
  }
}
