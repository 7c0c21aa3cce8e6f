/**
 * The data types a stick-table entry can store, as HAProxy 2.6 defines them
 * (`stktable_data_types[]`, src/stick_table.c; ids are `STKTABLE_DT_*`, the bit numbers of the
 * peers protocol's data bitfield). 25 and 26 (glitch_cnt, glitch_rate) come from HAProxy 3.0;
 * the configuration accepts them, so the store keeps them too.
 *
 * Storage per HAProxy standard type:
 * - `sint`: signed 32-bit (server_id), wraps like C `int`;
 * - `uint`: unsigned 32-bit, wraps at 2^32 like HAProxy's counters;
 * - `ull`: unsigned 64-bit in HAProxy (bytes_in_cnt, bytes_out_cnt); here a JavaScript number,
 *   exact up to 2^53 (9 PB), which keeps the hot path free of bigint. Larger values from a peer
 *   are rounded to the nearest double;
 * - `frqp`: a frequency counter (`struct freq_ctr`: curr_tick, curr_ctr, prev_ctr), see freq.ts;
 * - `dict`: server_key, a string (the server name), shared between entries.
 * @module
 */

export type StickStdType = 'sint' | 'uint' | 'ull' | 'frqp' | 'dict'

export const STICK_DATA_NAMES = [
  'server_id', 'gpt0', 'gpc0', 'gpc0_rate', 'conn_cnt', 'conn_rate', 'conn_cur', 'sess_cnt',
  'sess_rate', 'http_req_cnt', 'http_req_rate', 'http_err_cnt', 'http_err_rate', 'bytes_in_cnt',
  'bytes_in_rate', 'bytes_out_cnt', 'bytes_out_rate', 'gpc1', 'gpc1_rate', 'server_key',
  'http_fail_cnt', 'http_fail_rate', 'gpt', 'gpc', 'gpc_rate', 'glitch_cnt', 'glitch_rate'
] as const

export type StickDataName = typeof STICK_DATA_NAMES[number]

export interface StickDataType {
  /** `STKTABLE_DT_*`: the bit in the peers data bitfield, and the order of `show table` fields. */
  readonly id: number
  readonly name: StickDataName
  readonly std: StickStdType
  /** gpt, gpc, gpc_rate: `count` elements (1..100), from `store gpc(N)`. */
  readonly isArray: boolean
  /** conn_cur: never applied from a peer (HAProxy's `is_local`). */
  readonly isLocal: boolean
}

const STD: Readonly<Record<StickDataName, StickStdType>> = {
  server_id: 'sint',
  gpt0: 'uint',
  gpc0: 'uint',
  gpc0_rate: 'frqp',
  conn_cnt: 'uint',
  conn_rate: 'frqp',
  conn_cur: 'uint',
  sess_cnt: 'uint',
  sess_rate: 'frqp',
  http_req_cnt: 'uint',
  http_req_rate: 'frqp',
  http_err_cnt: 'uint',
  http_err_rate: 'frqp',
  bytes_in_cnt: 'ull',
  bytes_in_rate: 'frqp',
  bytes_out_cnt: 'ull',
  bytes_out_rate: 'frqp',
  gpc1: 'uint',
  gpc1_rate: 'frqp',
  server_key: 'dict',
  http_fail_cnt: 'uint',
  http_fail_rate: 'frqp',
  gpt: 'uint',
  gpc: 'uint',
  gpc_rate: 'frqp',
  glitch_cnt: 'uint',
  glitch_rate: 'frqp'
}

/** Indexed by id. */
export const STICK_DATA_TYPES: readonly StickDataType[] = Object.freeze(STICK_DATA_NAMES.map((name,
  id) => Object.freeze({
  id,
  name,
  std: STD[name],
  isArray: name === 'gpt' || name === 'gpc' || name === 'gpc_rate',
  isLocal: name === 'conn_cur'
})))

const BY_NAME: ReadonlyMap<string, StickDataType> = new Map(STICK_DATA_TYPES.map(t => [t.name, t]))

/**
 * The data type a name designates, as `stktable_get_data_type()` does: the exact names, and
 * `server_name`, the old name of `server_key`.
 */
export function stickDataType (name: string): StickDataType | undefined {
  return BY_NAME.get(name) ?? (name === 'server_name' ? BY_NAME.get('server_key') : undefined)
}
