/**
 * Stick-table data types and key types as they appear on the peers wire.
 *
 * The data type id is the bit number in a table definition's data bitfield and fixes the order of
 * the values in an update, so these ids are exactly HAProxy's `STKTABLE_DT_*` (v2.6.0
 * include/haproxy/stick_table-t.h, with `stktable_data_types[]` in src/stick_table.c for the
 * standard types). Ids 0–24 are HAProxy 2.6; 25 and 26 (glitch_cnt, glitch_rate) were added in 3.0
 * (3.0-dev4) and are known here so tslb nodes can share them: HAProxy 2.6 never parses bits >= 25,
 * and since they come last their values are trailing bytes it ignores.
 * @module
 */

/** HAProxy's `STD_T_*`: how a value is encoded. */
export type StdType = 'sint' | 'uint' | 'ull' | 'frqp' | 'dict'

export interface PeersDataType {
  /** `STKTABLE_DT_*`: bit number in the definition bitfield, position in updates. */
  readonly id: number
  /** The `store` keyword name. */
  readonly name: string
  /** Element encoding: sint/uint/ull one varint, frqp three varints, dict a dictionary reference. */
  readonly std: StdType
  /** An array (gpt, gpc, gpc_rate): `nbelem` elements, the count comes from the definition. */
  readonly isArray: boolean
  /** Decoded but never applied by HAProxy (conn_cur, `is_local`). */
  readonly isLocal: boolean
  /** Takes a period argument (frequency counters): sent in the definition's parameter blocks. */
  readonly hasPeriod: boolean
  /** First HAProxy version with this type. */
  readonly since: '2.6' | '3.0'
}

/** `STKTABLE_DT_*` ids. */
export const STKTABLE_DT = {
  SERVER_ID: 0,
  GPT0: 1,
  GPC0: 2,
  GPC0_RATE: 3,
  CONN_CNT: 4,
  CONN_RATE: 5,
  CONN_CUR: 6,
  SESS_CNT: 7,
  SESS_RATE: 8,
  HTTP_REQ_CNT: 9,
  HTTP_REQ_RATE: 10,
  HTTP_ERR_CNT: 11,
  HTTP_ERR_RATE: 12,
  BYTES_IN_CNT: 13,
  BYTES_IN_RATE: 14,
  BYTES_OUT_CNT: 15,
  BYTES_OUT_RATE: 16,
  GPC1: 17,
  GPC1_RATE: 18,
  SERVER_KEY: 19,
  HTTP_FAIL_CNT: 20,
  HTTP_FAIL_RATE: 21,
  GPT: 22,
  GPC: 23,
  GPC_RATE: 24,
  GLITCH_CNT: 25,
  GLITCH_RATE: 26
} as const

/** `STKTABLE_DATA_TYPES` in HAProxy 2.6: bits at and above it are never parsed by 2.6. */
export const HAPROXY_26_DATA_TYPE_COUNT = 25

/** Number of data types tslb knows (2.6 plus the 3.0 glitch counters). */
export const KNOWN_DATA_TYPE_COUNT = 27

function dt (id: number, name: string, std: StdType, extra: { isArray?: boolean,
  isLocal?: boolean } = {}): PeersDataType {
  return {
    id,
    name,
    std,
    isArray: extra.isArray ?? false,
    isLocal: extra.isLocal ?? false,
    hasPeriod: std === 'frqp',
    since: id < HAPROXY_26_DATA_TYPE_COUNT ? '2.6' : '3.0'
  }
}

/** Indexed by id. */
export const DATA_TYPES: readonly PeersDataType[] = Object.freeze([
  dt(0, 'server_id', 'sint'),
  dt(1, 'gpt0', 'uint'),
  dt(2, 'gpc0', 'uint'),
  dt(3, 'gpc0_rate', 'frqp'),
  dt(4, 'conn_cnt', 'uint'),
  dt(5, 'conn_rate', 'frqp'),
  dt(6, 'conn_cur', 'uint', { isLocal: true }),
  dt(7, 'sess_cnt', 'uint'),
  dt(8, 'sess_rate', 'frqp'),
  dt(9, 'http_req_cnt', 'uint'),
  dt(10, 'http_req_rate', 'frqp'),
  dt(11, 'http_err_cnt', 'uint'),
  dt(12, 'http_err_rate', 'frqp'),
  dt(13, 'bytes_in_cnt', 'ull'),
  dt(14, 'bytes_in_rate', 'frqp'),
  dt(15, 'bytes_out_cnt', 'ull'),
  dt(16, 'bytes_out_rate', 'frqp'),
  dt(17, 'gpc1', 'uint'),
  dt(18, 'gpc1_rate', 'frqp'),
  dt(19, 'server_key', 'dict'),
  dt(20, 'http_fail_cnt', 'uint'),
  dt(21, 'http_fail_rate', 'frqp'),
  dt(22, 'gpt', 'uint', { isArray: true }),
  dt(23, 'gpc', 'uint', { isArray: true }),
  dt(24, 'gpc_rate', 'frqp', { isArray: true }),
  dt(25, 'glitch_cnt', 'uint'),
  dt(26, 'glitch_rate', 'frqp')
].map(t => Object.freeze(t)))

const BY_NAME: ReadonlyMap<string, PeersDataType> = new Map(DATA_TYPES.map(t => [t.name, t]))

export function dataTypeById (id: number): PeersDataType | undefined {
  return DATA_TYPES[id]
}

export function dataTypeByName (name: string): PeersDataType | undefined {
  return BY_NAME.get(name)
}

/**
 * The parameter block a data type carries after the definition's expire field:
 * `[dt, period]` for a frequency counter, `[dt, nbelem]` for an array, `[dt, nbelem, period]` for
 * an array of frequency counters, nothing for the others.
 */
export function paramShape (t: PeersDataType): 'none' | 'period' | 'nbelem' | 'nbelem+period' {
  if (t.isArray) return t.std === 'frqp' ? 'nbelem+period' : 'nbelem'
  return t.std === 'frqp' ? 'period' : 'none'
}

/** Table key types on the wire (HAProxy's `PEER_KT_*`). */
export const PEERS_KEY_TYPE = {
  integer: 2,
  ip: 4,
  ipv6: 5,
  string: 6,
  binary: 7
} as const

export type KeyTypeName = keyof typeof PEERS_KEY_TYPE
export type KeyTypeCode = typeof PEERS_KEY_TYPE[KeyTypeName]

/** The key type name of a wire code, `undefined` for codes HAProxy maps to "any" (0, 1, 3, >= 8). */
export function keyTypeName (code: number): KeyTypeName | undefined {
  switch (code) {
    case 2: return 'integer'
    case 4: return 'ip'
    case 5: return 'ipv6'
    case 6: return 'string'
    case 7: return 'binary'
    default: return undefined
  }
}

/**
 * The `key_len` HAProxy announces for a table (stick_table.c `stktable_parse_type`): ip and integer
 * 4, ipv6 16, string and binary 32 without `len`; `string len N` is N+1 (room for the NUL),
 * `binary len N` is N. `len` must be `undefined` when the configuration has no `len`.
 */
export function haproxyKeyLen (type: KeyTypeName, len: number | undefined): number {
  switch (type) {
    case 'ip': return 4
    case 'integer': return 4
    case 'ipv6': return 16
    case 'string': return len === undefined ? 32 : len + 1
    case 'binary': return len ?? 32
  }
}

/**
 * The key length every HAProxy table of this key type has, for the fixed-size types; a definition
 * announcing another length can never match a local table.
 */
export function fixedKeyLen (type: KeyTypeName): number | undefined {
  switch (type) {
    case 'ip': return 4
    case 'integer': return 4
    case 'ipv6': return 16
    default: return undefined
  }
}
