/**
 * Stick counters (`track-sc0..2`), as HAProxy 2.6 keeps them: a connection's session holds the
 * counters its `tcp-request connection|session` rules track, each request (HAProxy's stream)
 * those its `tcp-request content` / `http-request` rules track, a slot taken by the session
 * being taken for the stream too (the first tracker wins). Tracking an entry counts a
 * connection on it (`conn_cur`, `conn_cnt`, `conn_rate`); the end of the request or the session
 * that tracked it takes `conn_cur` back. The other counters are counted where HAProxy counts them,
 * through the calls below (`countSession`, `countHttpRequest`, `countHttpError`, `addBytes`).
 *
 * Tables are reached only through their API (`lookup`, `getOrCreate`, `update`, `touchLocal` and the
 * entry's `get`/`set`/`add`/`rate`/`hit`); how many trackers hold an entry (HAProxy's `ref_cnt`:
 * `sc_trackers`, `table_trackers`) is counted here. A write finds the entry again by its key, so a
 * tracked entry that expired meanwhile is created again, as an entry HAProxy never expires while
 * it is tracked would still be there.
 */
import type { StickCounterName, StickEntry, StickKeyId, StickRateName, StickTable } from '../stick/index.ts'
import { STICK_COUNTER_SLOTS } from '../config/counter-fetches.ts'

let tables: ReadonlyMap<string, StickTable> = new Map()

interface Held {
  count: number
  /** A key as a rule fetched it, to find the entry again. */
  readonly key: string
}

/** The tracked entries of each table: how many trackers hold each (HAProxy's `ref_cnt`). */
let refs = new Map<StickTable, Map<StickKeyId, Held>>()

/**
 * HAProxy never expires an entry while it is tracked. The tables expire entries on their own clock, so a tracked
 * entry is touched again shortly before it would expire (checked every `KEEP_EVERY` ms): a connection that stays
 * idle longer than `expire` keeps its `conn_cur`.
 */
const KEEP_EVERY = 1000
const KEEP_MARGIN = 2500
let keeper: NodeJS.Timeout | undefined

/** Touches the tracked entries about to expire; `now` the tables' clock. */
export function keepTrackedEntries (now: number): void {
  for (const [table, held] of refs) {
    for (const h of held.values()) {
      const e = table.lookup(h.key)
      if (e !== undefined && e.expiresIn(now) < KEEP_MARGIN) table.touchLocal(e, now)
    }
  }
}

/** The engine's tables, by the names rules use (`PROXY`, `PEERS/TABLE`): set once per configuration load. */
export function setStickTables (byName: ReadonlyMap<string, StickTable>): void {
  tables = byName
  refs = new Map()
  if (keeper === undefined) {
    keeper = setInterval(() => { if (refs.size > 0) keepTrackedEntries(Date.now()) }, KEEP_EVERY)
    keeper.unref()
  }
}

export function stickTable (name: string): StickTable | undefined {
  return tables.get(name)
}

/** How many trackers hold `key` in `table`. */
export function trackerCount (table: StickTable, key: StickKeyId): number {
  return refs.get(table)?.get(key)?.count ?? 0
}

function addRef (table: StickTable, id: StickKeyId, key: string, delta: number): void {
  let m = refs.get(table)
  if (m === undefined) { m = new Map(); refs.set(table, m) }
  const h = m.get(id)
  const n = (h?.count ?? 0) + delta
  if (n > 0) {
    if (h === undefined) m.set(id, { count: n, key })
    else h.count = n
    return
  }
  m.delete(id)
  if (m.size === 0) refs.delete(table)
}

export interface Tracker {
  readonly table: StickTable
  /** The key as the rule fetched it. */
  readonly key: string
  readonly id: StickKeyId
}

/** Whether the table stores `name`. */
export function stores (table: StickTable, name: string): boolean {
  return table.storedType(name) !== undefined
}

/** Adds `n` to counter `name` when the table stores it. */
export function addCounter (table: StickTable, e: StickEntry, name: StickCounterName, n = 1): void {
  if (stores(table, name)) e.add(name, n)
}

/** Counts `n` events on rate `name` when the table stores it. */
export function hitRate (table: StickTable, e: StickEntry, name: StickRateName, now: number, n = 1): void {
  if (stores(table, name)) e.hit(name, now, n)
}

/**
 * The entry for `key`: one that a tracker holds is found even past its expiry (HAProxy never expires an entry
 * while it is tracked), any other only while it lives.
 */
export function findEntry (table: StickTable, key: string, now: number): StickEntry | undefined {
  const id = table.normalizeKey(key)
  if (id === undefined) return undefined
  return table.lookup(key, trackerCount(table, id) > 0 ? undefined : now)
}

/** A write on the tracked entry (created again if the table dropped it), then touched so that the peers push it. */
function write (t: Tracker, now: number, fn: (e: StickEntry) => void): void {
  const e = t.table.lookup(t.key) ?? t.table.getOrCreate(t.key, now)
  if (e === undefined) return
  fn(e)
  t.table.touchLocal(e, now)
}

const EMPTY: readonly undefined[] = Array<undefined>(STICK_COUNTER_SLOTS).fill(undefined)

/**
 * A session's counters, or a request's (`forStream()`): a request sees the session's counters and tracks its own,
 * which its end releases; a session used directly (mode tcp: one stream per connection) keeps both.
 */
export class StickCounters {
  private readonly session: (Tracker | undefined)[]
  private stream: (Tracker | undefined)[] | undefined

  constructor (session: (Tracker | undefined)[] = [...EMPTY]) {
    this.session = session
  }

  /** The counters of one request of this session (an HTTP/1.1 request, an HTTP/2 stream). */
  forStream (): StickCounters {
    return new StickCounters(this.session)
  }

  /** The counter of `slot`: the request's, else the session's. */
  tracker (slot: number): Tracker | undefined {
    return this.stream?.[slot] ?? this.session[slot]
  }

  /**
   * `track-sc<slot> KEY [table T]`, from a `tcp-request connection|session` rule (`session`) or a content / HTTP
   * rule: nothing when the slot is already tracked or the key does not fit the table. Counts the connection.
   */
  track (slot: number, table: StickTable, key: string, level: 'session' | 'stream', now: number):
    Tracker | undefined {
    if (this.tracker(slot) !== undefined) return undefined
    const id = table.normalizeKey(key)
    if (id === undefined) return undefined
    const e = table.getOrCreate(key, now)
    if (e === undefined) return undefined
    addCounter(table, e, 'conn_cur')
    addCounter(table, e, 'conn_cnt')
    hitRate(table, e, 'conn_rate', now)
    table.touchLocal(e, now)
    const t: Tracker = { table, key, id }
    addRef(table, id, key, 1)
    if (level === 'session') this.session[slot] = t
    else (this.stream ??= [...EMPTY])[slot] = t
    return t
  }

  private each (fn: (t: Tracker) => void): void {
    for (let i = 0; i < STICK_COUNTER_SLOTS; i++) {
      const t = this.tracker(i)
      if (t !== undefined) fn(t)
    }
  }

  /** The session is established (after the `tcp-request session` rules): `sess_cnt`, `sess_rate`. */
  countSession (now: number): void {
    for (const t of this.session) {
      if (t === undefined) continue
      write(t, now, e => { addCounter(t.table, e, 'sess_cnt'); hitRate(t.table, e, 'sess_rate', now) })
    }
  }

  /** A request was received: `http_req_cnt`, `http_req_rate` of every tracked counter. */
  countHttpRequest (now: number): void {
    this.each(t => { countRequest(t, now) })
  }

  /** A 4xx from the server, a denied or tarpitted request, a request that could not be parsed. */
  countHttpError (now: number): void {
    this.each(t => { countError(t, now) })
  }

  /** A 5xx from the server other than 501 and 505, or a failure to get one (`http_fail_*`). */
  countHttpFailure (now: number): void {
    this.each(t => { countFailure(t, now) })
  }

  /** Bytes received from the client (`bytes_in_*`) and sent to it (`bytes_out_*`). */
  addBytes (bytesIn: number, bytesOut: number, now: number): void {
    if (bytesIn <= 0 && bytesOut <= 0) return
    this.each(t => {
      write(t, now, e => {
        if (bytesIn > 0) { addCounter(t.table, e, 'bytes_in_cnt', bytesIn); hitRate(t.table, e, 'bytes_in_rate', now,
          bytesIn) }
        if (bytesOut > 0) { addCounter(t.table, e, 'bytes_out_cnt', bytesOut); hitRate(t.table, e, 'bytes_out_rate',
          now, bytesOut) }
      })
    })
  }

  /** The request ends: its own counters give their connection back (`conn_cur`). */
  endStream (now: number): void {
    const s = this.stream
    if (s === undefined) return
    this.stream = undefined
    for (const t of s) if (t !== undefined) release(t, now)
  }

  /** The connection ends. */
  endSession (now: number): void {
    this.endStream(now)
    for (let i = 0; i < STICK_COUNTER_SLOTS; i++) {
      const t = this.session[i]
      if (t === undefined) continue
      this.session[i] = undefined
      release(t, now)
    }
  }
}

export function countRequest (t: Tracker, now: number): void {
  write(t, now, e => { addCounter(t.table, e, 'http_req_cnt'); hitRate(t.table, e, 'http_req_rate', now) })
}

export function countError (t: Tracker, now: number): void {
  write(t, now, e => { addCounter(t.table, e, 'http_err_cnt'); hitRate(t.table, e, 'http_err_rate', now) })
}

export function countFailure (t: Tracker, now: number): void {
  write(t, now, e => { addCounter(t.table, e, 'http_fail_cnt'); hitRate(t.table, e, 'http_fail_rate', now) })
}

/** `conn_cur` back (never below 0), the entry touched; one tracker fewer. */
function release (t: Tracker, now: number): void {
  addRef(t.table, t.id, t.key, -1)
  const e = t.table.lookup(t.key)
  if (e === undefined) return
  if (stores(t.table, 'conn_cur') && e.get('conn_cur') > 0) e.add('conn_cur', -1)
  t.table.touchLocal(e, now)
}

function element<N extends string> (table: StickTable, name: N, idx: number): boolean {
  return (table.storedType(name)?.count ?? 0) > idx
}

/**
 * `sc-inc-gpc0|1(SC)` (`array` false: gpc0/gpc1 and their rates, else the arrays' element `idx`) and
 * `sc-inc-gpc(IDX,SC)` (the arrays only): the rate counted, then the counter, when the table stores them.
 */
export function incrementGpc (t: Tracker, idx: number, array: boolean, now: number): void {
  const table = t.table
  const single = `gpc${idx}` as 'gpc0' | 'gpc1'
  const counter: [StickCounterName, number] | undefined = !array && stores(table, single) ? [single, 0]
    : element(table, 'gpc', idx) ? ['gpc', idx] : undefined
  const rate: [StickRateName, number] | undefined = !array && stores(table, `${single}_rate`)
    ? [`${single}_rate` as StickRateName, 0] : element(table, 'gpc_rate', idx) ? ['gpc_rate', idx] : undefined
  if (counter === undefined && rate === undefined) return
  write(t, now, e => {
    if (rate !== undefined) e.hit(rate[0], now, 1, rate[1])
    if (counter !== undefined) e.add(counter[0], 1, counter[1])
  })
}

/** `sc-set-gpt0(SC) VALUE` (gpt0, else gpt[0]) and `sc-set-gpt(IDX,SC) VALUE` (gpt[IDX]), as an unsigned int. */
export function setGpt (t: Tracker, idx: number, array: boolean, value: number, now: number): void {
  const table = t.table
  const target: [StickCounterName, number] | undefined = !array && stores(table, 'gpt0') ? ['gpt0', 0]
    : element(table, 'gpt', idx) ? ['gpt', idx] : undefined
  if (target === undefined) return
  write(t, now, e => { e.set(target[0], value, target[1]) })
}
