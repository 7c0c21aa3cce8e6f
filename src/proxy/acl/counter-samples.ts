/**
 * The stick-counter fetches (`sc_*`, `sc0_*`…`sc2_*`, `src_*`, `table_avl`, `table_cnt`) and the
 * `table_*` converters, with HAProxy 2.6's answers (src/stick_table.c): a counter that is not
 * tracked gives no sample, a key absent from its table gives 0, a data type the table does not
 * store gives no sample. The table arguments were checked (and the implicit ones filled) at load
 * (`config/stick-counters.ts`).
 */
import { counterFetch, TABLE_CONVERTERS, type CounterFetch } from '../../config/counter-fetches.ts'
import type { StickEntry, StickRateName, StickCounterName, StickTable } from '../../stick/index.ts'
import { addCounter, findEntry, stickTable, stores, trackerCount, type StickCounters } from '../stick-counters.ts'

/** What the counter fetches read of a sample source. */
export interface CounterSource {
  readonly src: string
  readonly counters?: StickCounters
}

const NONE: string[] = []

/** A counter or its array fallback (`gpc0` is `gpc[0]` in a table that stores the `gpc` array). */
function counterName (t: StickTable, name: StickCounterName, array: StickCounterName, idx: number):
  [StickCounterName, number] | undefined {
  if (stores(t, name)) return [name, 0]
  if (stores(t, array) && (t.storedType(array)?.count ?? 0) > idx) return [array, idx]
  return undefined
}

function rateName (t: StickTable, name: StickRateName, idx: number): [StickRateName, number] | undefined {
  if (stores(t, name)) return [name, 0]
  if (stores(t, 'gpc_rate') && (t.storedType('gpc_rate')?.count ?? 0) > idx) return ['gpc_rate', idx]
  return undefined
}

/** Which counter or rate a `get_*`/`*_rate`/`inc_*`/`clr_*` fetch designates in `t`. */
function gpcTargets (t: StickTable, data: string, idx: number): { counter?: [StickCounterName, number],
  rate?: [StickRateName, number] } {
  const base = data.replace(/^(get|inc|clr)_/, '').replace(/_rate$/, '')
  const indexed = base === 'gpc' || base === 'gpt'
  const n = indexed ? idx : Number(base.slice(-1))
  const isRate = data.endsWith('_rate')
  if (base.startsWith('gpt')) return { counter: indexed ? arrayElement(t, 'gpt', n) : counterName(t, 'gpt0', 'gpt', 0) }
  const counter = isRate ? undefined : indexed ? arrayElement(t, 'gpc', n) : counterName(t,
    base as StickCounterName, 'gpc', n)
  const wantsRate = isRate || data.startsWith('inc_')
  const rate = !wantsRate ? undefined : indexed ? arrayRate(t, n) : rateName(t, `${base}_rate` as StickRateName, n)
  return { counter, rate }
}

function arrayElement (t: StickTable, name: StickCounterName, idx: number): [StickCounterName, number] | undefined {
  return (t.storedType(name)?.count ?? 0) > idx ? [name, idx] : undefined
}

function arrayRate (t: StickTable, idx: number): [StickRateName, number] | undefined {
  return (t.storedType('gpc_rate')?.count ?? 0) > idx ? ['gpc_rate', idx] : undefined
}

const DIRECT: Readonly<Record<string, StickCounterName | StickRateName>> = {
  conn_cnt: 'conn_cnt', conn_cur: 'conn_cur', conn_rate: 'conn_rate', sess_cnt: 'sess_cnt', sess_rate: 'sess_rate',
  http_req_cnt: 'http_req_cnt', http_req_rate: 'http_req_rate', http_err_cnt: 'http_err_cnt',
  http_err_rate: 'http_err_rate', http_fail_cnt: 'http_fail_cnt', http_fail_rate: 'http_fail_rate',
  bytes_in_rate: 'bytes_in_rate', bytes_out_rate: 'bytes_out_rate', server_id: 'server_id'
}

/** A value read from entry `e` of `t` (absent: 0), or undefined when the table does not store it. */
function readData (t: StickTable, e: StickEntry | undefined, data: string, idx: number, now: number):
  string | undefined {
  if (data === 'kbytes_in' || data === 'kbytes_out') {
    const name = data === 'kbytes_in' ? 'bytes_in_cnt' : 'bytes_out_cnt'
    if (e === undefined) return '0'
    return stores(t, name) ? String(Math.floor(e.get(name) / 1024)) : undefined
  }
  const direct = DIRECT[data]
  if (direct !== undefined) {
    if (e === undefined) return '0'
    if (!stores(t, direct)) return undefined
    return String(direct.endsWith('_rate') ? e.rate(direct as StickRateName, now) : e.get(direct as StickCounterName))
  }
  const { counter, rate } = gpcTargets(t, data, idx)
  if (e === undefined) return '0'
  if (data.endsWith('_rate')) return rate === undefined ? undefined : String(e.rate(rate[0], now, rate[1]))
  return counter === undefined ? undefined : String(e.get(counter[0], counter[1]))
}

/** `inc_gpc*` and `clr_gpc*`: they write, creating the source's entry for `src_*`. */
function writeData (t: StickTable, key: string, data: string, idx: number, now: number, create: boolean):
  string[] {
  const e = findEntry(t, key, now) ?? (create ? t.getOrCreate(key, now) : undefined)
  if (e === undefined) return ['0']
  const { counter, rate } = gpcTargets(t, data, idx)
  if (data.startsWith('clr_')) {
    if (counter === undefined) return NONE
    const old = e.get(counter[0], counter[1])
    e.set(counter[0], 0, counter[1])
    t.touchLocal(e, now)
    return [String(old)]
  }
  if (counter === undefined && rate === undefined) return ['0']
  let value = 0
  if (rate !== undefined) value = e.hit(rate[0], now, 1, rate[1])
  if (counter !== undefined) value = e.add(counter[0], 1, counter[1])
  t.touchLocal(e, now)
  return [String(value)]
}

/** The counter fetch's table and key: the tracked counter's (another table's entry for the same key), or src's. */
function target (c: CounterFetch, args: readonly string[], s: CounterSource, i: number):
  { table: StickTable, key: string, tracked: boolean, alternate: boolean } | undefined {
  if (c.form === 'src') {
    const table = stickTable(args[i] ?? '')
    // An address the table's keys cannot hold (IPv6 in an ip table): no sample.
    return table === undefined || table.normalizeKey(s.src) === undefined ? undefined
      : { table, key: s.src, tracked: false, alternate: true }
  }
  const slot = c.form === 'sc' ? Number(args[i++]) : c.slot
  const t = s.counters?.tracker(slot)
  if (t === undefined) return undefined
  const other = args[i]
  if (other === undefined) return { table: t.table, key: t.key, tracked: true, alternate: false }
  const table = stickTable(other)
  return table === undefined ? undefined : { table, key: t.key, tracked: true, alternate: true }
}

/** The samples of a counter fetch, or undefined when `fetch` is not one. */
export function counterSamples (fetch: string, args: readonly string[], s: CounterSource): string[] | undefined {
  const c = counterFetch(fetch)
  if (c === undefined) return tableFetch(fetch, args, s)
  const now = Date.now()
  const idx = c.indexed ? Number(args[0]) : 0
  const where = target(c, args, s, c.indexed ? 1 : 0)
  if (c.data === 'tracked') return [where === undefined ? '0' : '1']
  if (where === undefined) return NONE
  const { table, key } = where
  if (c.data === 'trackers') {
    const id = table.normalizeKey(key)
    return [String(id === undefined ? 0 : trackerCount(table, id))]
  }
  if (/^(inc|clr)_/.test(c.data)) return writeData(table, key, c.data, idx, now, c.form === 'src')
  const v = readData(table, findEntry(table, key, now), c.data, idx, now)
  return v === undefined ? NONE : [v]
}

function tableFetch (fetch: string, args: readonly string[], s: CounterSource): string[] | undefined {
  if (fetch !== 'src_updt_conn_cnt' && fetch !== 'table_avl' && fetch !== 'table_cnt') return undefined
  const table = stickTable(args[0] ?? '')
  if (table === undefined) return NONE
  if (fetch === 'table_cnt') return [String(table.size)]
  if (fetch === 'table_avl') return [String(table.capacity - table.size)]
  if (!stores(table, 'conn_cnt') || table.normalizeKey(s.src) === undefined) return NONE
  const now = Date.now()
  const e = table.update(s.src, x => { addCounter(table, x, 'conn_cnt') }, now)
  return e === undefined ? NONE : [String(e.get('conn_cnt'))]
}

/** The fetch data a `table_*` converter reads, where the names differ. */
const CONVERTER_DATA: Readonly<Record<string, string>> = {
  table_gpt0: 'get_gpt0', table_gpc0: 'get_gpc0', table_gpc1: 'get_gpc1', table_gpt: 'get_gpt', table_gpc: 'get_gpc'
}

/** A `table_*` / `in_table` converter: the sample is the key. */
export function tableConverter (name: string, args: readonly string[]): ((key: string) => string | undefined) |
  undefined {
  const spec = TABLE_CONVERTERS[name]
  if (spec === undefined) return undefined
  const idx = spec.indexed ? Number(args[0]) : 0
  const tableName = args[spec.indexed ? 1 : 0] ?? ''
  const data = CONVERTER_DATA[name] ?? name.slice('table_'.length)
  return key => {
    const table = stickTable(tableName)
    if (table === undefined || table.normalizeKey(key) === undefined) return undefined
    const now = Date.now()
    const e = findEntry(table, key, now)
    if (name === 'in_table') return e === undefined ? '0' : '1'
    // HAProxy counts its own lookup among the entry's references.
    if (name === 'table_trackers') return e === undefined ? '0' : String(trackerCount(table, table.normalizeKey(key)
      ?? 0) + 1)
    return readData(table, e, data, idx, now)
  }
}
