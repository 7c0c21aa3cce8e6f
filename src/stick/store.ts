/**
 * The storage of a stick table, in SharedArrayBuffers, and the lock that lets the threads of one
 * process use it together. table.ts describes the model (slots, LRU list, heap, update logs);
 * this file is how it is laid out in memory. Not exported from the package index.
 *
 * Every array lives in its own growable SharedArrayBuffer reserved for the table's `size` and
 * grown by doubling (the kernel gives pages only when written, so a large empty table costs
 * address space, not memory). Each thread keeps fixed-length typed-array views over them
 * (length-tracking views over growable buffers are about ten times slower in V8 13) and maps
 * them again when the header's layout epoch says another thread grew a buffer. The scalars (count,
 * list ends, log lengths and ids, clock, stats) are in the header, `ctl`.
 * @module
 */
import { threadId } from 'node:worker_threads'
import type { StickTableSpec } from '../config/model.ts'
import { STICK_DATA_TYPES, stickDataType, type StickDataName, type StickDataType } from './data-types.ts'
import { newDictBuffers, SharedDict, type DictBuffers } from './dict.ts'
import { StickDataTypeError, StickSpecError, StickStaleEntryError } from './errors.ts'
import { KeyIndex, type KeyBuffers } from './key-index.ts'
import type { KeyShape, StickKeyId, StickKeyType } from './keys.ts'

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
  readonly created: number
  /** Entries removed by `expire()` (and by lookups finding them expired). */
  readonly expired: number
  /** Entries purged because the table was full (LRU, in batches as HAProxy: size/256 + 1). */
  readonly evicted: number
  /** Creations refused because a `nopurge` table was full. */
  readonly createFailed: number
  /** Entries removed by `delete()`/`clear()`. */
  readonly deleted: number
}

/** The shared memory of a table: what a handle carries to another thread. */
export interface StoreBuffers extends KeyBuffers {
  readonly ctl: SharedArrayBuffer
  readonly exp: SharedArrayBuffer
  readonly prev: SharedArrayBuffer
  readonly next: SharedArrayBuffer
  readonly flags: SharedArrayBuffer
  readonly logPos: SharedArrayBuffer
  readonly gen: SharedArrayBuffer
  readonly u32: SharedArrayBuffer
  readonly f64: SharedArrayBuffer
  readonly dictIds: SharedArrayBuffer
  readonly heap: SharedArrayBuffer
  readonly localSlots: SharedArrayBuffer
  readonly localIds: SharedArrayBuffer
  readonly remoteSlots: SharedArrayBuffer
  readonly remoteIds: SharedArrayBuffer
  readonly dict: DictBuffers | undefined
}

// flags per slot
export const USED = 1
export const IN_LIST = 2
export const IN_HEAP = 4
export const LOG_LOCAL = 8
export const LOG_REMOTE = 16

export const MAX_TIMER = 0x7fffffff
/** Most entries a table holds (slot numbers and update-log positions are int32; 2^24 as before). */
export const STICK_MAX_SIZE = 1 << 24
const INITIAL_SLOTS = 1024
export const INITIAL_LOG = 1024

// ctl: int32 words
const LOCK = 0 // 0 free, 1 held, 2 held with waiters (Drepper's futex mutex)
const OWNER = 1 // threadId + 1 of the holder, 0 when free
const DEPTH = 2 // how many table objects of the holding thread hold it (the lock is re-entrant)
const EPOCH = 3 // bumped whenever a buffer grows: views must be mapped again
const COUNT = 4
const SLOTS = 5 // slots allocated in the per-slot buffers
const HWM = 6 // slots ever handed out; above it, slots never used
const FREE = 7 // head of the free list (through `next`)
const HEAD = 8
const TAIL = 9
const HEAP_LEN = 10
const HEAP_CAP = 11
const BUCKETS = 12
const LOCAL_LOG = 13 // len, live, cap
const REMOTE_LOG = 16 // len, live, cap
const LAST_TICK = 19
const WATCHERS = 20 // watchers registered on every thread
const ARMED = 21 // 1: the next log append tells the watchers
const SIGNAL = 22 // bumped (and notified) when watchers on another thread must be told
const DICT_COUNT = 23
const DICT_USED = 24
const SEED = 25
const CTL_INTS = 32
// ctl: float64 words, after the int32 ones
const LAST_NOW = 0
const LOCAL_LAST_ID = 1
const REMOTE_LAST_ID = 2
const ST_CREATED = 3
const ST_EXPIRED = 4
const ST_EVICTED = 5
const ST_CREATE_FAILED = 6
const ST_DELETED = 7
const PTR_BASE = 8
const CTL_DOUBLES = 16

const ME = threadId + 1
const SPINS = 100

let tableSerial = 0

function pow2AtLeast (n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

function growable (bytes: number, maxBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(bytes, { maxByteLength: Math.max(bytes, maxBytes) })
}

function ensure (b: SharedArrayBuffer, bytes: number): void {
  if (b.byteLength < bytes) b.grow(bytes)
}

/** One update log as this thread sees it: views, and where its scalars are in ctl. */
export interface UpdateLog {
  slots: Int32Array
  ids: Float64Array
  readonly slotsBuf: SharedArrayBuffer
  readonly idsBuf: SharedArrayBuffer
  /** ctl index of len (then live, cap). */
  readonly at: number
  /** ctl float index of the last id given. */
  readonly idAt: number
  readonly flag: number
}

export class Store {
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
  readonly maxLog: number
  readonly bufs: StoreBuffers
  readonly h: Int32Array
  readonly d: Float64Array
  readonly keys: KeyIndex
  readonly dict: SharedDict | undefined
  readonly stats: StickTableStats
  readonly local: UpdateLog
  readonly remote: UpdateLog

  epoch = -1
  exp: Uint32Array = new Uint32Array(0)
  prev: Int32Array = new Int32Array(0)
  next: Int32Array = new Int32Array(0)
  flags: Uint8Array = new Uint8Array(0)
  logPos: Int32Array = new Int32Array(0)
  gen: Uint32Array = new Uint32Array(0)
  u32: Uint32Array = new Uint32Array(0)
  f64: Float64Array = new Float64Array(0)
  dictIds: Int32Array = new Int32Array(0)
  heap: Int32Array = new Int32Array(0)
  /** Watchers registered through this thread's table object. */
  watchers: (() => void)[] = []
  #waiting = false
  #ownSignal = -1
  /** Nesting of the lock through this object (the header's DEPTH counts objects of this thread holding it). */
  #depth = 0

  /** A new table (`bufs` undefined) or one over another thread's memory. */
  constructor (name: string, spec: StickTableSpec, options: StickTableOptions, bufs?: StoreBuffers) {
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
    const { stored, byId, words, doubles } = layoutOf(name, spec, options)
    this.stored = stored
    this.byId = byId
    this.words = words
    this.doubles = doubles
    this.hasDict = byId[19] !== undefined
    this.maxLog = Math.max(INITIAL_LOG, INITIAL_LOG * pow2AtLeast(Math.ceil(2 * this.capacity / INITIAL_LOG)))

    const fresh = bufs === undefined
    this.bufs = bufs ?? this.#allocate()
    this.h = new Int32Array(this.bufs.ctl, 0, CTL_INTS)
    this.d = new Float64Array(this.bufs.ctl, CTL_INTS * 4, CTL_DOUBLES)
    if (fresh) this.#init(options.now ?? 0)
    this.keys = new KeyIndex(this.shape, this.h[SEED] as number)
    const b = this.bufs
    this.local = { slots: new Int32Array(0), ids: new Float64Array(0), slotsBuf: b.localSlots, idsBuf: b.localIds,
      at: LOCAL_LOG, idAt: LOCAL_LAST_ID, flag: LOG_LOCAL }
    this.remote = { slots: new Int32Array(0), ids: new Float64Array(0), slotsBuf: b.remoteSlots,
      idsBuf: b.remoteIds, at: REMOTE_LOG, idAt: REMOTE_LAST_ID, flag: LOG_REMOTE }
    const h = this.h
    this.dict = b.dict === undefined ? undefined : new SharedDict(b.dict, {
      count: () => h[DICT_COUNT] as number,
      used: () => h[DICT_USED] as number,
      append: (n: number) => {
        h[DICT_COUNT] = (h[DICT_COUNT] as number) + 1
        h[DICT_USED] = (h[DICT_USED] as number) + n
      }
    })
    const d = this.d
    this.stats = Object.freeze({
      get created () { return d[ST_CREATED] as number },
      get expired () { return d[ST_EXPIRED] as number },
      get evicted () { return d[ST_EVICTED] as number },
      get createFailed () { return d[ST_CREATE_FAILED] as number },
      get deleted () { return d[ST_DELETED] as number }
    })
    this.lock()
    this.unlock()
  }

  #allocate (): StoreBuffers {
    const cap = this.capacity
    const slots = Math.min(INITIAL_SLOTS, cap)
    const buckets = pow2AtLeast(2 * slots)
    const maxBuckets = pow2AtLeast(2 * cap)
    const keyBytes = this.shape.type === 'ip' || this.shape.type === 'integer' ? 4 : this.shape.maxLen
    const hashBytes = keyBytes === 4 && (this.shape.type === 'ip' || this.shape.type === 'integer') ? 0 : 4
    const perSlot = (bytes: number): SharedArrayBuffer => growable(slots * bytes, cap * bytes)
    return {
      ctl: new SharedArrayBuffer(CTL_INTS * 4 + CTL_DOUBLES * 8),
      exp: perSlot(4),
      prev: perSlot(4),
      next: perSlot(4),
      flags: perSlot(1),
      logPos: perSlot(4),
      gen: perSlot(4),
      u32: perSlot(4 * this.words),
      f64: perSlot(8 * this.doubles),
      dictIds: perSlot(this.hasDict ? 4 : 0),
      keys: perSlot(keyBytes),
      hashes: perSlot(hashBytes),
      buckets: growable(buckets * 4, maxBuckets * 4),
      heap: growable(0, cap * 4),
      localSlots: growable(INITIAL_LOG * 4, this.maxLog * 4),
      localIds: growable(INITIAL_LOG * 8, this.maxLog * 8),
      remoteSlots: growable(INITIAL_LOG * 4, this.maxLog * 4),
      remoteIds: growable(INITIAL_LOG * 8, this.maxLog * 8),
      dict: this.hasDict ? newDictBuffers() : undefined
    }
  }

  #init (now: number): void {
    const h = this.h
    const d = this.d
    h[SLOTS] = Math.min(INITIAL_SLOTS, this.capacity)
    h[BUCKETS] = pow2AtLeast(2 * (h[SLOTS]))
    h[FREE] = -1
    h[HEAD] = -1
    h[TAIL] = -1
    h[LOCAL_LOG + 2] = INITIAL_LOG
    h[REMOTE_LOG + 2] = INITIAL_LOG
    h[SEED] = (Math.random() * 0x1_0000_0000) | 0
    d[LAST_NOW] = now
    h[LAST_TICK] = Math.floor(now) | 0
    d[PTR_BASE] = 0x5500_0000_0000 + (tableSerial++ % 0x400) * 0x1_0000_0000
  }

  /** Maps this thread's views over the buffers at their current sizes. */
  #map (): void {
    const h = this.h
    const b = this.bufs
    const slots = h[SLOTS] as number
    this.exp = new Uint32Array(b.exp, 0, slots)
    this.prev = new Int32Array(b.prev, 0, slots)
    this.next = new Int32Array(b.next, 0, slots)
    this.flags = new Uint8Array(b.flags, 0, slots)
    this.logPos = new Int32Array(b.logPos, 0, slots)
    this.gen = new Uint32Array(b.gen, 0, slots)
    this.u32 = new Uint32Array(b.u32, 0, slots * this.words)
    this.f64 = new Float64Array(b.f64, 0, slots * this.doubles)
    if (this.hasDict) this.dictIds = new Int32Array(b.dictIds, 0, slots)
    this.heap = new Int32Array(b.heap, 0, h[HEAP_CAP])
    for (const log of [this.local, this.remote]) {
      const cap = h[log.at + 2] as number
      log.slots = new Int32Array(log.slotsBuf, 0, cap)
      log.ids = new Float64Array(log.idsBuf, 0, cap)
    }
    this.keys.map(b, slots, h[BUCKETS] as number)
    this.epoch = h[EPOCH] as number
  }

  #grew (): void {
    this.h[EPOCH] = ((this.h[EPOCH] as number) + 1) | 0
    this.#map()
  }

  // ---- the lock ----------------------------------------------------------------------------

  /**
   * Takes the table lock (re-entrant: a thread holding it takes it again at no cost), waiting
   * on `Atomics.wait` after a short spin; maps the views again if a buffer grew.
   */
  lock (): void {
    const h = this.h
    if (this.#depth > 0) this.#depth++
    else {
      if (h[OWNER] === ME) h[DEPTH] = (h[DEPTH] as number) + 1
      else {
        if (Atomics.compareExchange(h, LOCK, 0, 1) !== 0) lockSlow(h)
        h[OWNER] = ME
        h[DEPTH] = 1
      }
      this.#depth = 1
    }
    if (h[EPOCH] !== this.epoch) this.#map()
  }

  unlock (): void {
    if (--this.#depth > 0) return
    const h = this.h
    const depth = (h[DEPTH] as number) - 1
    h[DEPTH] = depth
    if (depth > 0) return
    h[OWNER] = 0
    if (Atomics.sub(h, LOCK, 1) !== 1) {
      Atomics.store(h, LOCK, 0)
      Atomics.notify(h, LOCK, 1)
    }
  }

  // ---- scalars -----------------------------------------------------------------------------

  get count (): number { return this.h[COUNT] as number }
  get head (): number { return this.h[HEAD] as number }
  get hwm (): number { return this.h[HWM] as number }
  get heapLen (): number { return this.h[HEAP_LEN] as number }
  get lastNow (): number { return this.d[LAST_NOW] as number }
  get lastTick (): number { return (this.h[LAST_TICK] as number) >>> 0 }
  get ptrBase (): number { return this.d[PTR_BASE] as number }
  logLen (log: UpdateLog): number { return this.h[log.at] as number }
  lastId (log: UpdateLog): number { return this.d[log.idAt] as number }
  count1 (stat: 'expired' | 'deleted' | 'evicted', n = 1): void {
    const i = stat === 'expired' ? ST_EXPIRED : stat === 'deleted' ? ST_DELETED : ST_EVICTED
    this.d[i] = (this.d[i] as number) + n
  }

  /** Advances the clock: the tick (u32) of max(now, latest now seen). */
  clock (now: number): number {
    if (now > (this.d[LAST_NOW] as number)) {
      this.d[LAST_NOW] = now
      this.h[LAST_TICK] = Math.floor(now) | 0
    }
    return (this.h[LAST_TICK] as number) >>> 0
  }

  // ---- LRU list and heap -------------------------------------------------------------------

  unlinkQueue (s: number): void {
    const f = this.flags[s] as number
    const h = this.h
    if ((f & IN_LIST) !== 0) {
      const p = this.prev[s] as number
      const n = this.next[s] as number
      if (p === -1) h[HEAD] = n; else this.next[p] = n
      if (n === -1) h[TAIL] = p; else this.prev[n] = p
      this.flags[s] = f & ~IN_LIST
    } else if ((f & IN_HEAP) !== 0) {
      this.heapRemove(this.prev[s] as number)
      this.flags[s] = f & ~IN_HEAP
    }
  }

  /** Puts slot `s`, expiring at tick `e`, where the expiry order needs it (tick = current tick). */
  enqueue (s: number, e: number, tick: number): void {
    const h = this.h
    this.exp[s] = e
    const t = h[TAIL] as number
    const inOrder = this.expireMs === undefined ||
      ((t === -1 || (((e - (this.exp[t] as number)) | 0) >= 0)) && ((e - tick - this.expireMs) | 0) <= 0)
    if (inOrder) {
      this.prev[s] = t
      this.next[s] = -1
      if (t === -1) h[HEAD] = s; else this.next[t] = s
      h[TAIL] = s
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
    const h = this.h
    const len = h[HEAP_LEN] as number
    if (len === h[HEAP_CAP]) {
      const cap = Math.min(this.capacity, Math.max(64, len * 2))
      ensure(this.bufs.heap, cap * 4)
      h[HEAP_CAP] = cap
      this.#grew()
    }
    this.heap[len] = s
    this.prev[s] = len
    h[HEAP_LEN] = len + 1
    this.siftUp(len)
  }

  heapRemove (i: number): void {
    const len = (this.h[HEAP_LEN] as number) - 1
    this.h[HEAP_LEN] = len
    const last = this.heap[len] as number
    if (i === len) return
    this.heap[i] = last
    this.prev[last] = i
    this.siftUp(i)
    this.siftDown(this.prev[last])
  }

  siftUp (i: number): void {
    const hp = this.heap
    const s = hp[i] as number
    while (i > 0) {
      const p = (i - 1) >> 1
      const ps = hp[p] as number
      if (!this.before(s, ps)) break
      hp[i] = ps; this.prev[ps] = i
      i = p
    }
    hp[i] = s; this.prev[s] = i
  }

  siftDown (i: number): void {
    const hp = this.heap
    const n = this.h[HEAP_LEN] as number
    const s = hp[i] as number
    while (true) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && this.before(hp[r] as number, hp[l] as number) ? r : l
      const cs = hp[c] as number
      if (!this.before(cs, s)) break
      hp[i] = cs; this.prev[cs] = i
      i = c
    }
    hp[i] = s; this.prev[s] = i
  }

  /** The slot expiring first (list head or heap top), -1 if empty. */
  oldest (): number {
    const a = this.h[HEAD] as number
    const b = (this.h[HEAP_LEN] as number) > 0 ? this.heap[0] as number : -1
    if (a === -1) return b
    if (b === -1) return a
    return this.before(b, a) ? b : a
  }

  // ---- update logs -------------------------------------------------------------------------

  logRemove (s: number): void {
    const f = this.flags[s] as number
    const h = this.h
    if ((f & LOG_LOCAL) !== 0) h[LOCAL_LOG + 1] = (h[LOCAL_LOG + 1] as number) - 1
    else if ((f & LOG_REMOTE) !== 0) h[REMOTE_LOG + 1] = (h[REMOTE_LOG + 1] as number) - 1
    this.flags[s] = f & ~(LOG_LOCAL | LOG_REMOTE)
  }

  logAppend (log: UpdateLog, s: number): void {
    this.logRemove(s)
    const h = this.h
    if (h[log.at] === h[log.at + 2]) this.logMakeRoom(log)
    const len = h[log.at] as number
    const id = (this.d[log.idAt] as number) + 1
    this.d[log.idAt] = id
    log.slots[len] = s
    log.ids[len] = id
    this.logPos[s] = len
    h[log.at] = len + 1
    h[log.at + 1] = (h[log.at + 1] as number) + 1
    this.flags[s] = (this.flags[s] as number) | log.flag
    if (h[ARMED] === 1 && (h[WATCHERS] as number) > 0) this.#signal()
  }

  logLive (log: UpdateLog, i: number): boolean {
    const s = log.slots[i] as number
    return ((this.flags[s] as number) & log.flag) !== 0 && this.logPos[s] === i
  }

  /** Compacts the log when half of it is superseded, then doubles it when 3/4 full (up to `maxLog`). */
  logMakeRoom (log: UpdateLog): void {
    const h = this.h
    let len = h[log.at] as number
    if ((h[log.at + 1] as number) <= len >> 1) {
      let w = 0
      for (let i = 0; i < len; i++) {
        if (!this.logLive(log, i)) continue
        const s = log.slots[i] as number
        log.slots[w] = s
        log.ids[w] = log.ids[i] as number
        this.logPos[s] = w
        w++
      }
      len = w
      h[log.at] = len
    }
    const cap = h[log.at + 2] as number
    if (len > (cap * 3) >> 2 && cap < this.maxLog) {
      ensure(log.slotsBuf, cap * 8)
      ensure(log.idsBuf, cap * 16)
      h[log.at + 2] = cap * 2
      this.#grew()
    }
  }

  /** Empties both logs (every record is stale); ids keep going. */
  logsReset (): void {
    for (const at of [LOCAL_LOG, REMOTE_LOG]) { this.h[at] = 0; this.h[at + 1] = 0 }
  }

  updateId (s: number): number {
    const f = this.flags[s] as number
    if ((f & LOG_LOCAL) !== 0) return this.local.ids[this.logPos[s] as number] as number
    if ((f & LOG_REMOTE) !== 0) return this.remote.ids[this.logPos[s] as number] as number
    return 0
  }

  // ---- watchers ----------------------------------------------------------------------------

  /** Tells the watchers of every thread: this thread's now, the others through `SIGNAL`. */
  #signal (): void {
    const h = this.h
    h[ARMED] = 0
    if ((h[WATCHERS] as number) > this.watchers.length) {
      this.#ownSignal = (Atomics.add(h, SIGNAL, 1) + 1) | 0
      Atomics.notify(h, SIGNAL)
    }
    for (const fn of [...this.watchers]) fn()
  }

  addWatcher (fn: () => void): void {
    this.watchers.push(fn)
    this.h[WATCHERS] = (this.h[WATCHERS] as number) + 1
    this.h[ARMED] = 1
    if (!this.#waiting) { this.#waiting = true; this.#wait() }
  }

  removeWatcher (fn: () => void): void {
    const kept = this.watchers.filter(w => w !== fn)
    this.h[WATCHERS] = (this.h[WATCHERS] as number) - (this.watchers.length - kept.length)
    this.watchers = kept
    // wake the waiter so that it ends (waiters of other threads see no new signal and wait again)
    if (kept.length === 0 && this.#waiting) Atomics.notify(this.h, SIGNAL)
  }

  /** Without the lock: an append racing with this is read by the caller's next `updatesSince()`. */
  rearm (): void {
    Atomics.store(this.h, ARMED, 1)
  }

  /**
   * Waits (without blocking nor keeping the process alive) for another thread's signal, then
   * calls this thread's watchers; stops when they are all gone.
   */
  #wait (): void {
    const h = this.h
    const seen = Atomics.load(h, SIGNAL)
    const woken = (): void => {
      if (this.watchers.length === 0) { this.#waiting = false; return }
      const v = Atomics.load(h, SIGNAL)
      if (v !== seen && v !== this.#ownSignal) for (const fn of [...this.watchers]) fn()
      this.#wait()
    }
    const r = Atomics.waitAsync(h, SIGNAL, seen)
    if (r.async) void r.value.then(woken)
    else queueMicrotask(woken)
  }

  // ---- slots -------------------------------------------------------------------------------

  #growSlots (): void {
    const h = this.h
    const from = h[SLOTS] as number
    const to = Math.min(this.capacity, Math.max(from * 2, INITIAL_SLOTS))
    const b = this.bufs
    for (const [buf, bytes] of [[b.exp, 4], [b.prev, 4], [b.next, 4], [b.flags, 1], [b.logPos, 4], [b.gen, 4],
      [b.u32, 4 * this.words], [b.f64, 8 * this.doubles], [b.dictIds, this.hasDict ? 4 : 0],
      [b.keys, this.keys.keyBytes], [b.hashes, this.keys.hashBytes]] as const) ensure(buf, to * bytes)
    h[SLOTS] = to
    const buckets = pow2AtLeast(2 * to)
    const rebuild = buckets > (h[BUCKETS] as number)
    if (rebuild) {
      ensure(b.buckets, buckets * 4)
      h[BUCKETS] = buckets
    }
    this.#grew()
    if (rebuild) this.keys.rebuild(h[HWM] as number, s => ((this.flags[s] as number) & USED) !== 0)
  }

  /** The slot of `key` (hash from `keys.hashOf`), -1 if absent. */
  find (key: StickKeyId, hash: number): number {
    return this.keys.find(key, hash)
  }

  /** A new slot for `key` (not yet in the index), or -1 when a nopurge table is full. */
  alloc (key: StickKeyId, hash: number, tick: number): number {
    const h = this.h
    if ((h[COUNT] as number) >= this.capacity) {
      if (this.nopurge) {
        this.d[ST_CREATE_FAILED] = (this.d[ST_CREATE_FAILED] as number) + 1
        return -1
      }
      this.purgeOldest((this.capacity >> 8) + 1)
    }
    let s = h[FREE] as number
    if (s !== -1) h[FREE] = this.next[s] as number
    else {
      if (h[HWM] === h[SLOTS]) this.#growSlots()
      s = h[HWM] as number
      h[HWM] = s + 1
    }
    this.flags[s] = USED
    if (this.words > 0) this.u32.fill(0, s * this.words, (s + 1) * this.words)
    if (this.doubles > 0) this.f64.fill(0, s * this.doubles, (s + 1) * this.doubles)
    if (this.hasDict) this.dictIds[s] = 0
    this.keys.insert(s, key, hash)
    h[COUNT] = (h[COUNT] as number) + 1
    this.d[ST_CREATED] = (this.d[ST_CREATED] as number) + 1
    this.enqueue(s, this.expireMs === undefined ? tick : (tick + this.expireMs) >>> 0, tick)
    return s
  }

  free (s: number): void {
    const h = this.h
    this.unlinkQueue(s)
    this.logRemove(s)
    this.keys.remove(s)
    this.flags[s] = 0
    this.gen[s] = ((this.gen[s] as number) + 1) >>> 0
    this.next[s] = h[FREE] as number
    h[FREE] = s
    h[COUNT] = (h[COUNT] as number) - 1
  }

  purgeOldest (n: number): void {
    for (let i = 0; i < n; i++) {
      const s = this.oldest()
      if (s === -1) return
      this.free(s)
      this.d[ST_EVICTED] = (this.d[ST_EVICTED] as number) + 1
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

  /** Slot `s` still holds the entry of generation `gen`. */
  live (s: number, gen: number): boolean {
    return this.gen[s] === gen && ((this.flags[s] as number) & USED) !== 0
  }

  check (s: number, gen: number): void {
    if (!this.live(s, gen)) throw new StickStaleEntryError(this.name)
  }

  layout (s: number, gen: number, name: string, std: 'counter' | 'rate' | 'any'): StoredDataType {
    if (!this.live(s, gen)) throw new StickStaleEntryError(this.name)
    const t = stickDataType(name)
    const l = t === undefined ? undefined : this.byId[t.id]
    if (l === undefined) throw new StickDataTypeError(this.name, `data type '${name}' is not stored in this table`)
    if (std === 'rate' && l.type.std !== 'frqp') throw new StickDataTypeError(this.name,
      `'${name}' is not a frequency counter`)
    if (std === 'counter' && (l.type.std === 'frqp' || l.type.std === 'dict')) throw new StickDataTypeError(this.name,
      `'${name}' is not a counter`)
    return l
  }

  serverKey (s: number): string | undefined {
    return this.dict?.name(this.dictIds[s] as number)
  }

  setServerKey (s: number, v: string | undefined): void {
    this.dictIds[s] = v === undefined || this.dict === undefined ? 0 : this.dict.intern(v)
  }

  /** Bytes of the buffers as mapped now (what the table holds, not what it reserves). */
  get arrayBytes (): number {
    const b = this.bufs
    let n = 0
    for (const buf of [b.ctl, b.exp, b.prev, b.next, b.flags, b.logPos, b.gen, b.u32, b.f64, b.dictIds, b.keys,
      b.hashes, b.buckets, b.heap, b.localSlots, b.localIds, b.remoteSlots, b.remoteIds]) n += buf.byteLength
    return n
  }
}

function lockSlow (h: Int32Array): void {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(h, LOCK) === 0 && Atomics.compareExchange(h, LOCK, 0, 1) === 0) return
  }
  while (Atomics.exchange(h, LOCK, 2) !== 0) Atomics.wait(h, LOCK, 2)
}

/** The stored data types of `spec`, in `STKTABLE_DT_*` order, with their place in an entry's rows. */
function layoutOf (name: string, spec: StickTableSpec, options: StickTableOptions): {
  stored: readonly StoredDataType[], byId: readonly (StoredDataType | undefined)[], words: number, doubles: number } {
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
  return { stored: Object.freeze(stored), byId, words, doubles }
}
