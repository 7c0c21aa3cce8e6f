/**
 * The names of the stick-counter fetches and of the `table_*` converters (HAProxy 2.6,
 * src/stick_table.c): `sc_X(SC[,TABLE])`, `sc0_X([TABLE])`…`sc2_X`, `src_X([TABLE])`, and
 * `KEY,table_X([TABLE])`. Pure data: the proxy evaluates them (`proxy/acl/counter-samples.ts`).
 */

/** Stick counters per session and stream: track-sc0, track-sc1, track-sc2 (HAProxy's MAX_SESS_STKCTR). */
export const STICK_COUNTER_SLOTS = 3

/** What `sc*_X` and `src_X` read: every form. */
const PLAIN = ['bytes_in_rate', 'bytes_out_rate', 'clr_gpc0', 'clr_gpc1', 'conn_cnt', 'conn_cur', 'conn_rate',
  'get_gpt0', 'get_gpc0', 'get_gpc1', 'gpc0_rate', 'gpc1_rate', 'http_err_cnt', 'http_err_rate', 'http_fail_cnt',
  'http_fail_rate', 'http_req_cnt', 'http_req_rate', 'inc_gpc0', 'inc_gpc1', 'kbytes_in', 'kbytes_out', 'sess_cnt',
  'sess_rate']
/** Only about a tracked counter (`sc_`, `scN_`). */
const TRACKED_ONLY = ['tracked', 'trackers']
/** With an array index first: `sc_get_gpc(IDX,SC[,TABLE])`, `src_get_gpc(IDX[,TABLE])`. */
const INDEXED = ['clr_gpc', 'get_gpt', 'get_gpc', 'gpc_rate', 'inc_gpc']

export interface CounterFetch {
  /** `sc`: the counter number is the first argument (after the index); `slot`: `scN_`; `src`: the source address. */
  readonly form: 'sc' | 'slot' | 'src'
  /** `scN_`: N. */
  readonly slot: number
  /** What is read: `conn_cur`, `get_gpc0`, `tracked`… */
  readonly data: string
  /** Takes an array index as first argument. */
  readonly indexed: boolean
}

const parsed = new Map<string, CounterFetch | undefined>()

/** The counter fetch `name` designates, or undefined. */
export function counterFetch (name: string): CounterFetch | undefined {
  if (parsed.has(name)) return parsed.get(name)
  const m = /^(sc_|sc([0-2])_|src_)(.+)$/.exec(name)
  let r: CounterFetch | undefined
  if (m !== null) {
    const data = m[3] as string
    const form = m[1] === 'src_' ? 'src' : m[1] === 'sc_' ? 'sc' : 'slot'
    const indexed = INDEXED.includes(data) && form !== 'slot'
    const known = PLAIN.includes(data) || indexed || (TRACKED_ONLY.includes(data) && form !== 'src')
    if (known) r = { form, slot: m[2] === undefined ? 0 : Number(m[2]), data, indexed }
  }
  parsed.set(name, r)
  return r
}

/** Fetches over a table's source-address entry or the table itself: `src_updt_conn_cnt([T])`, `table_avl([T])`… */
export const TABLE_FETCHES: readonly string[] = ['src_updt_conn_cnt', 'table_avl', 'table_cnt']

/** Every counter fetch name, for the registry. */
export const COUNTER_FETCH_NAMES: readonly string[] = [
  ...['sc_', 'sc0_', 'sc1_', 'sc2_', 'src_'].flatMap(p => [...PLAIN, ...TRACKED_ONLY, ...INDEXED].map(d => p + d)),
  ...TABLE_FETCHES
].filter(n => counterFetch(n) !== undefined || TABLE_FETCHES.includes(n))

/** `KEY,table_X([TABLE])` converters (`table_gpt(IDX[,TABLE])` and the other arrays take an index first). */
export const TABLE_CONVERTERS: Readonly<Record<string, { readonly indexed: boolean }>> = tableConverters()

function tableConverters (): Record<string, { readonly indexed: boolean }> {
  const out: Record<string, { readonly indexed: boolean }> = {}
  for (const n of ['in_table', 'table_bytes_in_rate', 'table_bytes_out_rate', 'table_conn_cnt', 'table_conn_cur',
    'table_conn_rate', 'table_gpt0', 'table_gpc0', 'table_gpc1', 'table_gpc0_rate', 'table_gpc1_rate',
    'table_http_err_cnt', 'table_http_err_rate', 'table_http_fail_cnt', 'table_http_fail_rate', 'table_http_req_cnt',
    'table_http_req_rate', 'table_kbytes_in', 'table_kbytes_out', 'table_server_id', 'table_sess_cnt',
    'table_sess_rate', 'table_trackers']) out[n] = { indexed: false }
  for (const n of ['table_gpt', 'table_gpc', 'table_gpc_rate']) out[n] = { indexed: true }
  return out
}

/** The match method a counter fetch or table converter calls for: `bool` for `*_tracked` and `in_table`. */
export function counterMatch (name: string): 'int' | 'bool' | undefined {
  if (name === 'in_table' || counterFetch(name)?.data === 'tracked') return 'bool'
  return counterFetch(name) !== undefined || TABLE_FETCHES.includes(name) || name in TABLE_CONVERTERS ? 'int'
    : undefined
}
