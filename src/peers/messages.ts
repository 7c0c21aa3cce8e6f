/**
 * Binary messages of the peers protocol 2.1 (HAProxy 2.6): types and encoder.
 *
 * Framing: `[class u8][type u8]`, then only when type >= 0x80 a varint payload length and the
 * payload. Stick-table messages (class 10):
 *
 * ```
 * 0x82 DEFINE  varint table_id | varint name_len | name | varint key_type | varint key_len |
 *              varint data_bitfield | varint expire_ms | parameter blocks (ascending data type)
 * 0x83 SWITCH  varint table_id                          (parsed by HAProxy, never sent)
 * 0x80 UPDATE             u32be id |                  key | values
 * 0x81 INCUPDATE                                       key | values        (id = previous + 1)
 * 0x85 UPDATE_TIMED       u32be id | u32be expire_ms | key | values
 * 0x86 INCUPDATE_TIMED               u32be expire_ms | key | values
 * 0x84 ACK     varint table_id (the one from the receiver's DEFINE) | u32be last update id
 * ```
 * @module
 */
import { DATA_TYPES, KNOWN_DATA_TYPE_COUNT, dataTypeById, dataTypeByName, fixedKeyLen, keyTypeName,
  paramShape } from './data-types.ts'
import type { KeyTypeCode, PeersDataType } from './data-types.ts'
import { PEERS_ENCODE_CODES, PeersEncodeError } from './errors.ts'
import { VARINT_MAX_BYTES, varintLength, writeVarint } from './varint.ts'

export const MSG_CLASS = {
  CONTROL: 0,
  ERROR: 1,
  STICK_TABLE: 10,
  RESERVED: 255
} as const

export const CONTROL_TYPE = {
  RESYNC_REQUEST: 0,
  RESYNC_FINISHED: 1,
  RESYNC_PARTIAL: 2,
  RESYNC_CONFIRM: 3,
  HEARTBEAT: 4
} as const

export const ERROR_TYPE = {
  PROTOCOL: 0,
  SIZE_LIMIT: 1
} as const

export const STKT_TYPE = {
  UPDATE: 0x80,
  INCUPDATE: 0x81,
  DEFINE: 0x82,
  SWITCH: 0x83,
  ACK: 0x84,
  UPDATE_TIMED: 0x85,
  INCUPDATE_TIMED: 0x86
} as const

/** HAProxy refuses a payload larger than `tune.bufsize` (16384 by default) with `01 01`. */
export const DEFAULT_MAX_PAYLOAD = 16384

/** Entries of the per-connection server_key dictionary cache, ids 1..128 on the wire. */
export const DICT_CACHE_SIZE = 128

export type ControlKind = 'resync-request' | 'resync-finished' | 'resync-partial' | 'resync-confirm' | 'heartbeat'
export type ErrorKind = 'protocol' | 'size-limit'

const CONTROL_KINDS: readonly ControlKind[] = ['resync-request', 'resync-finished', 'resync-partial', 'resync-confirm',
  'heartbeat']
const ERROR_KINDS: readonly ErrorKind[] = ['protocol', 'size-limit']

/** `00 00` .. `00 04`. */
export interface ControlMessage {
  readonly kind: 'control'
  readonly type: ControlKind
}

/** `01 00` protocol error, `01 01` size limit reached; the sender closes right after. */
export interface ErrorMessage {
  readonly kind: 'error'
  readonly type: ErrorKind
}

/** One parameter block of a definition (only for data types that have one, see `paramShape`). */
export interface DataTypeParams {
  readonly dataType: number
  /** Arrays: element count. */
  readonly nbelem?: number
  /** Frequency counters: period in ms (informative: receivers use their own configuration). */
  readonly period?: number
}

/** A stick-table definition, as sent in DEFINE (0x82). */
export interface PeersTableDefinition {
  /** The sender's id for the table (1..N); updates and SWITCH refer to it, ACKs echo it. */
  readonly tableId: number
  /** Name on the wire: the backend name, or `/X` for `table X` in a peers section. */
  readonly name: string
  /** Wire key type (`PEERS_KEY_TYPE`); other codes are representable because peers may send them. */
  readonly keyType: number
  readonly keyLen: number
  /** The data types bitfield, bit n = `STKTABLE_DT` n. */
  readonly dataMask: bigint
  /** Entry lifetime in ms, 0 for none; `undefined` = field absent (then no parameter blocks either). */
  readonly expireMs: number | undefined
  /** Parameter blocks in ascending data type order. */
  readonly params: readonly DataTypeParams[]
}

export interface DefineMessage {
  readonly kind: 'define'
  readonly table: PeersTableDefinition
}

export interface SwitchMessage {
  readonly kind: 'switch'
  readonly tableId: number
  /** Decoder only: the definition the id refers to, `undefined` when none (updates are then ignored). */
  readonly table?: PeersTableDefinition | undefined
}

export interface AckMessage {
  readonly kind: 'ack'
  /** The id from the DEFINE of the side receiving the ACK. */
  readonly tableId: number
  /** Last update id received (u32). */
  readonly updateId: number
}

/** A stick-table key; its form follows the table's key type. */
export type StickKey =
  | { readonly type: 'integer', readonly value: number }
  | { readonly type: 'ip' | 'ipv6' | 'binary' | 'string', readonly bytes: Buffer }

/** A frequency counter as sent: times are relative, so both ends can use their own clock. */
export interface FreqCounterWire {
  /** `now - curr_tick`: ms since the current period started (u32). */
  readonly elapsedMs: number
  readonly curr: number
  readonly prev: number
}

/**
 * A server_key dictionary reference. `inline`: the string is sent with the id (first use of the
 * id on this connection); otherwise only the id is, and `value` is what the receiver's cache holds
 * for it (`undefined` when it holds nothing; the encoder ignores `value` then).
 */
export interface DictWire {
  /** 1..128. */
  readonly id: number
  readonly inline: boolean
  readonly value: string | undefined
}

interface ValueBase { readonly dataType: number }

/** One value of an update; `kind` follows the data type (`DATA_TYPES[dataType].std`, arrays `[]`). */
export type DataValue =
  | ValueBase & { readonly kind: 'sint' | 'uint', readonly value: number }
  | ValueBase & { readonly kind: 'ull', readonly value: bigint }
  | ValueBase & { readonly kind: 'frqp', readonly value: FreqCounterWire }
  | ValueBase & { readonly kind: 'dict', readonly value: DictWire | null }
  | ValueBase & { readonly kind: 'sint[]' | 'uint[]', readonly value: readonly number[] }
  | ValueBase & { readonly kind: 'ull[]', readonly value: readonly bigint[] }
  | ValueBase & { readonly kind: 'frqp[]', readonly value: readonly FreqCounterWire[] }

export type DataValueKind = DataValue['kind']

/** Entry update, 0x80/0x81/0x85/0x86 depending on `withId` and `expireMs`. */
export interface UpdateMessage {
  readonly kind: 'update'
  /** The definition the update is encoded against (the one last DEFINEd / SWITCHed to). */
  readonly table: PeersTableDefinition
  /** u32; on the wire only when `withId` (0x80, 0x85), otherwise implied as previous + 1. */
  readonly updateId: number
  readonly withId: boolean
  /** Timed updates (0x85, 0x86): ms until the entry expires (u32); `undefined` for 0x80/0x81. */
  readonly expireMs: number | undefined
  readonly key: StickKey
  /** One per known data type of the table bitfield, ascending. */
  readonly values: readonly DataValue[]
}

/** Any other class/type: HAProxy skips them (the payload is there when type >= 0x80). */
export interface UnknownMessage {
  readonly kind: 'unknown'
  readonly msgClass: number
  readonly msgType: number
  readonly payload: Buffer | undefined
}

export type PeersMessage = ControlMessage | ErrorMessage | DefineMessage | SwitchMessage | UpdateMessage | AckMessage |
  UnknownMessage

/** The type byte of an update message. */
export function updateMessageType (msg: Pick<UpdateMessage, 'withId' | 'expireMs'>): number {
  if (msg.expireMs !== undefined) return msg.withId ? STKT_TYPE.UPDATE_TIMED : STKT_TYPE.INCUPDATE_TIMED
  return msg.withId ? STKT_TYPE.UPDATE : STKT_TYPE.INCUPDATE
}

/** Value kind a data type's values carry. */
export function valueKind (t: PeersDataType): DataValueKind {
  return t.isArray ? `${t.std as 'sint' | 'uint' | 'ull' | 'frqp'}[]` : t.std
}

/* ------------------------------------------------------------------------------------------ */
/* Table definitions                                                                           */
/* ------------------------------------------------------------------------------------------ */

export interface TableDefinitionInput {
  readonly tableId: number
  readonly name: string
  readonly keyType: KeyTypeCode
  /** As HAProxy computes it: see `haproxyKeyLen()`. */
  readonly keyLen: number
  /** 0 for none. */
  readonly expireMs: number
  /** As in `StickTableSpec.store`: `period` for rates (ms), `count` for arrays. */
  readonly store: readonly { readonly name: string, readonly period?: number, readonly count?: number }[]
}

/**
 * Builds the definition HAProxy would send for a table: bitfield from the stored types and the
 * parameter blocks in ascending type order.
 */
export function buildTableDefinition (input: TableDefinitionInput): PeersTableDefinition {
  let mask = 0n
  const byId = new Map<number, DataTypeParams>()
  for (const s of input.store) {
    const t = dataTypeByName(s.name)
    if (t === undefined) throw new PeersEncodeError(PEERS_ENCODE_CODES.SHAPE,
      `unknown stick-table data type '${s.name}'`)
    if ((mask >> BigInt(t.id)) & 1n) throw new PeersEncodeError(PEERS_ENCODE_CODES.SHAPE,
      `data type '${s.name}' stored twice`)
    mask |= 1n << BigInt(t.id)
    const shape = paramShape(t)
    if (shape === 'none') continue
    const nbelem = shape === 'period' ? undefined : s.count
    const period = shape === 'nbelem' ? undefined : (s.period ?? 0)
    if (shape !== 'period' && nbelem === undefined) throw new PeersEncodeError(PEERS_ENCODE_CODES.SHAPE,
      `array data type '${s.name}' needs a count`)
    byId.set(t.id, { dataType: t.id, ...(nbelem === undefined ? {} : { nbelem }),
      ...(period === undefined ? {} : { period }) })
  }
  const params = [...byId.values()].sort((a, b) => a.dataType - b.dataType)
  return { tableId: input.tableId, name: input.name, keyType: input.keyType, keyLen: input.keyLen, dataMask: mask,
    expireMs: input.expireMs, params }
}

/** What an update of a definition carries, in order (cached per definition object). */
export interface ValueSlot {
  readonly type: PeersDataType
  readonly kind: DataValueKind
  /** Arrays: element count from the definition's parameters (0 when absent). */
  readonly nbelem: number
}

const layouts = new WeakMap<PeersTableDefinition, readonly ValueSlot[] | string>()

/**
 * The ordered value slots of a definition's known data types (bits tslb does not know are left
 * out: their values come last, and receivers ignore them as trailing bytes), or a string saying why
 * its updates cannot be encoded or decoded (an array type without its element count).
 */
export function tableLayout (def: PeersTableDefinition): readonly ValueSlot[] | string {
  let layout = layouts.get(def)
  if (layout !== undefined) return layout
  layout = computeLayout(def)
  layouts.set(def, layout)
  return layout
}

function computeLayout (def: PeersTableDefinition): readonly ValueSlot[] | string {
  const slots: ValueSlot[] = []
  for (const t of DATA_TYPES) {
    if (!((def.dataMask >> BigInt(t.id)) & 1n)) continue
    let nbelem = 0
    if (t.isArray) {
      const p = def.params.find(x => x.dataType === t.id)
      if (p?.nbelem === undefined) return `array data type ${t.name} has no element count`
      nbelem = p.nbelem
    }
    slots.push({ type: t, kind: valueKind(t), nbelem })
  }
  return slots
}

/* ------------------------------------------------------------------------------------------ */
/* Dictionary (server_key) transmit cache                                                     */
/* ------------------------------------------------------------------------------------------ */

/**
 * The sending half of HAProxy's per-connection dictionary cache (`dcache_tx`): 128 slots filled
 * round-robin; a string already in a slot is sent as its id alone, a new one takes the next slot
 * (evicting what was there) and is sent inline. Create one per connection (HAProxy flushes it on
 * disconnect).
 */
export class DictTxCache {
  readonly #size: number
  readonly #slots: (string | undefined)[]
  readonly #index = new Map<string, number>()
  #next = 0

  constructor (size = DICT_CACHE_SIZE) {
    // HAProxy's receiving cache has 128 slots and refuses ids above them.
    if (!Number.isInteger(size) || size < 1 || size > DICT_CACHE_SIZE) throw new PeersEncodeError(
      PEERS_ENCODE_CODES.RANGE, `dictionary cache size must be 1..${DICT_CACHE_SIZE}`)
    this.#size = size
    this.#slots = new Array<string | undefined>(size).fill(undefined)
  }

  /** The wire form for `value`, updating the cache as HAProxy's `dcache_tx_insert()` does. */
  reference (value: string): DictWire {
    const slot = this.#index.get(value)
    if (slot !== undefined) return { id: slot + 1, inline: false, value }
    const idx = this.#next
    const old = this.#slots[idx]
    if (old !== undefined) this.#index.delete(old)
    this.#slots[idx] = value
    this.#index.set(value, idx)
    this.#next = (idx + 1) % this.#size
    return { id: idx + 1, inline: true, value }
  }

  /** The string in slot `index` (0-based, as `show peers dict` prints the TX cache), undefined when empty. */
  slot (index: number): string | undefined {
    return this.#slots[index]
  }

  get size (): number {
    return this.#size
  }

  clear (): void {
    this.#slots.fill(undefined)
    this.#index.clear()
    this.#next = 0
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Encoder                                                                                    */
/* ------------------------------------------------------------------------------------------ */

class Writer {
  buf = Buffer.allocUnsafe(128)
  len = 0

  room (n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  u8 (v: number): void {
    this.room(1)
    this.buf[this.len++] = v
  }

  u32 (v: number, what: string): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw encodeRange(what, v)
    this.room(4)
    this.buf.writeUInt32BE(v, this.len)
    this.len += 4
  }

  varint (v: number | bigint): void {
    this.room(VARINT_MAX_BYTES)
    this.len = writeVarint(this.buf, this.len, v)
  }

  bytes (b: Uint8Array): void {
    this.room(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }

  zeros (n: number): void {
    this.room(n)
    this.buf.fill(0, this.len, this.len + n)
    this.len += n
  }

  result (): Buffer {
    return this.buf.subarray(0, this.len)
  }
}

function encodeRange (what: string, v: unknown): PeersEncodeError {
  return new PeersEncodeError(PEERS_ENCODE_CODES.RANGE, `${what} out of range: ${String(v)}`)
}

function shape (message: string): PeersEncodeError {
  return new PeersEncodeError(PEERS_ENCODE_CODES.SHAPE, message)
}

function checkU32 (v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw encodeRange(what, v)
  return v
}

export interface EncodeOptions {
  /** Largest payload allowed (default 16384, HAProxy's `tune.bufsize`). */
  readonly maxPayload?: number
}

/**
 * The bytes of one message. Throws {@link PeersEncodeError} when the message cannot be sent as it
 * is (values out of range, values not matching the table definition, payload too large).
 */
export function encodeMessage (msg: PeersMessage, options: EncodeOptions = {}): Buffer {
  switch (msg.kind) {
    case 'control': {
      const t = CONTROL_KINDS.indexOf(msg.type)
      if (t < 0) throw shape(`unknown control message '${String(msg.type)}'`)
      return Buffer.from([MSG_CLASS.CONTROL, t])
    }
    case 'error': {
      const t = ERROR_KINDS.indexOf(msg.type)
      if (t < 0) throw shape(`unknown error message '${String(msg.type)}'`)
      return Buffer.from([MSG_CLASS.ERROR, t])
    }
    case 'unknown': {
      if (!isByte(msg.msgClass) || !isByte(msg.msgType)) throw encodeRange('message class/type',
        `${msg.msgClass}/${msg.msgType}`)
      if (msg.msgType < 0x80) {
        if (msg.payload !== undefined && msg.payload.length > 0) throw shape('a message type below 0x80 has no payload')
        return Buffer.from([msg.msgClass, msg.msgType])
      }
      return frame(msg.msgClass, msg.msgType, msg.payload ?? Buffer.alloc(0), options)
    }
    case 'define': return frame(MSG_CLASS.STICK_TABLE, STKT_TYPE.DEFINE, definePayload(msg.table), options)
    case 'switch': {
      const w = new Writer()
      w.varint(checkU32(msg.tableId, 'table id'))
      return frame(MSG_CLASS.STICK_TABLE, STKT_TYPE.SWITCH, w.result(), options)
    }
    case 'ack': {
      const w = new Writer()
      w.varint(checkU32(msg.tableId, 'table id'))
      w.u32(msg.updateId, 'update id')
      return frame(MSG_CLASS.STICK_TABLE, STKT_TYPE.ACK, w.result(), options)
    }
    case 'update': {
      // The payload goes to a scratch writer, copied once into the message (the hot path of a teach).
      const w = scratch
      w.len = 0
      updatePayload(w, msg)
      return frame(MSG_CLASS.STICK_TABLE, updateMessageType(msg), w.buf.subarray(0, w.len), options)
    }
  }
}

const scratch = new Writer()

function isByte (v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 255
}

function frame (cls: number, type: number, payload: Uint8Array, options: EncodeOptions): Buffer {
  const max = options.maxPayload ?? DEFAULT_MAX_PAYLOAD
  if (payload.length > max) {
    throw new PeersEncodeError(PEERS_ENCODE_CODES.TOO_LARGE,
      `message payload of ${payload.length} bytes exceeds the ${max}-byte limit`)
  }
  const lenBytes = varintLength(payload.length)
  const out = Buffer.allocUnsafe(2 + lenBytes + payload.length)
  out[0] = cls
  out[1] = type
  writeVarint(out, 2, payload.length)
  out.set(payload, 2 + lenBytes)
  return out
}

function definePayload (def: PeersTableDefinition): Buffer {
  const w = new Writer()
  w.varint(checkU32(def.tableId, 'table id'))
  const name = Buffer.from(def.name, 'utf8')
  if (name.length === 0) throw shape('a table name cannot be empty')
  w.varint(name.length)
  w.bytes(name)
  w.varint(checkU32(def.keyType, 'key type'))
  w.varint(checkU32(def.keyLen, 'key length'))
  w.varint(def.dataMask)
  if (def.expireMs === undefined) {
    if (def.params.length > 0) throw shape('parameter blocks need the expire field before them')
    return w.result()
  }
  w.varint(checkU32(def.expireMs, 'expire'))
  let last = -1
  for (const p of def.params) {
    const t = dataTypeById(p.dataType)
    if (t === undefined || p.dataType <= last) throw shape(
      `parameter blocks must be for known data types in ascending order (got ${p.dataType})`)
    last = p.dataType
    if (!((def.dataMask >> BigInt(t.id)) & 1n)) throw shape(
      `parameter block for ${t.name}, which is not in the data bitfield`)
    const s = paramShape(t)
    if (s === 'none') throw shape(`data type ${t.name} has no parameters`)
    w.varint(t.id)
    if (s === 'nbelem' || s === 'nbelem+period') {
      if (p.nbelem === undefined) throw shape(`array data type ${t.name} needs nbelem`)
      w.varint(checkU32(p.nbelem, `${t.name} nbelem`))
    }
    if (s === 'period' || s === 'nbelem+period') w.varint(checkU32(p.period ?? 0, `${t.name} period`))
  }
  return w.result()
}

function updatePayload (w: Writer, msg: UpdateMessage): void {
  const def = msg.table
  const layout = tableLayout(def)
  if (typeof layout === 'string') throw shape(layout)
  if (!encodableMask(def)) {
    throw shape(`table ${def.name}: data bitfield 0x${def.dataMask.toString(16)} has types tslb cannot encode`)
  }
  if (msg.withId) w.u32(msg.updateId, 'update id')
  else checkU32(msg.updateId, 'update id')
  if (msg.expireMs !== undefined) w.u32(msg.expireMs, 'expire')
  writeKey(w, def, msg.key)
  if (msg.values.length !== layout.length) {
    throw shape(`table ${def.name} carries ${layout.length} value(s), the update has ${msg.values.length}`)
  }
  // Values usually come in layout order; any order is accepted.
  const inOrder = msg.values.every((v, i) => v.dataType === layout[i]?.type.id)
  const byType = inOrder ? undefined : new Map(msg.values.map(v => [v.dataType, v]))
  for (let i = 0; i < layout.length; i++) {
    const slot = layout[i] as ValueSlot
    const v = byType === undefined ? msg.values[i] : byType.get(slot.type.id)
    if (v === undefined) throw shape(`update for table ${def.name} lacks a value for ${slot.type.name}`)
    if (v.kind !== slot.kind) throw shape(`${slot.type.name} is '${slot.kind}', the update gives '${v.kind}'`)
    writeValue(w, v, slot)
  }
}

const encodable = new WeakMap<PeersTableDefinition, boolean>()
function encodableMask (def: PeersTableDefinition): boolean {
  let ok = encodable.get(def)
  if (ok === undefined) {
    ok = def.dataMask >> BigInt(KNOWN_DATA_TYPE_COUNT) === 0n
    encodable.set(def, ok)
  }
  return ok
}

function writeKey (w: Writer, def: PeersTableDefinition, key: StickKey): void {
  const type = keyTypeName(def.keyType)
  if (type === undefined) throw shape(`table ${def.name} has key type ${def.keyType}, which cannot be encoded`)
  if (key.type !== type) throw shape(`table ${def.name} has ${type} keys, the update has a ${key.type} key`)
  if (key.type === 'integer') {
    // HAProxy sends the key's 32 bits; accept the signed view too.
    if (!Number.isInteger(key.value) || key.value < -0x80000000 || key.value > 0xffffffff) throw encodeRange(
      'integer key', key.value)
    w.u32(key.value >>> 0, 'integer key')
    return
  }
  if (key.type === 'string') {
    if (key.bytes.length > def.keyLen - 1) throw shape(
      `string key of ${key.bytes.length} bytes in table ${def.name} (at most key_len-1 = ${def.keyLen - 1})`)
    w.varint(key.bytes.length)
    w.bytes(key.bytes)
    return
  }
  const fixed = fixedKeyLen(key.type)
  const len = fixed ?? def.keyLen
  if (fixed !== undefined && def.keyLen !== fixed) throw shape(
    `${key.type} table ${def.name} with key_len ${def.keyLen}`)
  if (key.type === 'binary' ? key.bytes.length > len : key.bytes.length !== len) {
    throw shape(`${key.type} key of ${key.bytes.length} bytes in table ${def.name} (key_len ${len})`)
  }
  w.bytes(key.bytes)
  w.zeros(len - key.bytes.length)
}

function writeScalar (w: Writer, kind: 'sint' | 'uint' | 'ull', v: number | bigint, what: string): void {
  if (kind === 'ull') {
    if (typeof v !== 'bigint') throw shape(`${what} must be a bigint`)
    w.varint(v)
    return
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) throw encodeRange(what, v)
  if (kind === 'uint') {
    w.varint(checkU32(v, what))
    return
  }
  // sint: a C int converted to uint64, so negatives are sign-extended (-1 takes 10 bytes).
  if (v < -0x80000000 || v > 0x7fffffff) throw encodeRange(what, v)
  w.varint(v >= 0 ? v : BigInt.asUintN(64, BigInt(v)))
}

function writeFrqp (w: Writer, f: FreqCounterWire, what: string): void {
  w.varint(checkU32(f.elapsedMs, `${what} elapsed`))
  w.varint(checkU32(f.curr, `${what} curr`))
  w.varint(checkU32(f.prev, `${what} prev`))
}

function writeValue (w: Writer, v: DataValue, slot: ValueSlot): void {
  const what = slot.type.name
  switch (v.kind) {
    case 'sint':
    case 'uint':
    case 'ull':
      writeScalar(w, v.kind, v.value, what)
      return
    case 'frqp':
      writeFrqp(w, v.value, what)
      return
    case 'dict':
      writeDict(w, v.value, what)
      return
    case 'sint[]':
    case 'uint[]':
    case 'ull[]':
    case 'frqp[]': {
      if (v.value.length !== slot.nbelem) throw shape(
        `${what} has ${slot.nbelem} element(s) in the definition, the update has ${v.value.length}`)
      if (v.kind === 'frqp[]') {
        for (const f of v.value) writeFrqp(w, f, what)
      } else {
        const k = v.kind === 'sint[]' ? 'sint' : v.kind === 'uint[]' ? 'uint' : 'ull'
        for (const x of v.value) writeScalar(w, k, x, what)
      }
    }
  }
}

function writeDict (w: Writer, d: DictWire | null, what: string): void {
  if (d === null) {
    w.varint(0)
    return
  }
  if (!Number.isInteger(d.id) || d.id < 1 || d.id > DICT_CACHE_SIZE) throw encodeRange(`${what} dictionary id`, d.id)
  if (!d.inline) {
    w.varint(varintLength(d.id))
    w.varint(d.id)
    return
  }
  if (d.value === undefined) throw shape(`${what}: an inline dictionary entry needs its value`)
  const bytes = Buffer.from(d.value, 'utf8')
  const rest = varintLength(d.id) + varintLength(bytes.length) + bytes.length
  w.varint(rest)
  w.varint(d.id)
  w.varint(bytes.length)
  w.bytes(bytes)
}
