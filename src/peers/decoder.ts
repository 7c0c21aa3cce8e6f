/**
 * Incremental decoder of the peers binary stream (after the handshake), following HAProxy 2.6's
 * receiver (`peer_recv_msg()`, `peer_treat_awaited_msg()` and the `peer_treat_*msg()` parsers in
 * v2.6.0 src/peers.c, with the 2.6.12 fix 0909f6226 that makes ignored messages valid ones):
 *
 * - what HAProxy skips is yielded as a message too (`unknown`, `define-ignored`,
 *   `update-ignored`): it is still a valid message, which keeps the session alive;
 * - what HAProxy answers with `01 00` / `01 01` and a close is thrown as a
 *   {@link PeersProtocolError} whose `reply` says which.
 *
 * Updates only make sense against the table definition received before them: the decoder keeps
 * the session's {@link PeersTableRegistry} (remote table id → definition, current table, last update
 * id per table) and the receiving half of the server_key dictionary cache. One decoder per
 * connection.
 * @module
 */
import { PEERS_PROTOCOL_CODES, PeersProtocolError } from './errors.ts'
import type { PeersProtocolCode } from './errors.ts'
import { DATA_TYPES, KNOWN_DATA_TYPE_COUNT, fixedKeyLen, keyTypeName, paramShape } from './data-types.ts'
import {
  DEFAULT_MAX_PAYLOAD, DICT_CACHE_SIZE, MSG_CLASS, STKT_TYPE, tableLayout
} from './messages.ts'
import type {
  AckMessage, ControlKind, ControlMessage, DataTypeParams, DataValue, DefineMessage, DictWire, ErrorMessage,
    FreqCounterWire,
  PeersTableDefinition, StickKey, SwitchMessage, UnknownMessage, UpdateMessage, ValueSlot
} from './messages.ts'
import { varintSpan, varintValue } from './varint.ts'

/** What the local configuration says about a table name, to accept or ignore a definition. */
export interface LocalTableShape {
  /** Wire key type (`PEERS_KEY_TYPE`). */
  readonly keyType: number
  /** As HAProxy computes it (`haproxyKeyLen()`). */
  readonly keyLen: number
}

export interface MessageDecoderOptions {
  /** Largest payload accepted; above it: SIZE_LIMIT, reply `01 01`. Default 16384 (tune.bufsize). */
  readonly maxPayload?: number
  /**
   * The local table a definition's name refers to. `undefined` ignores the definition and the
   * updates that follow it, as HAProxy does for a table it does not have; a different key type or
   * key length ignores it too. Without this option every well-formed definition is accepted.
   */
  readonly resolveTable?: (name: string) => LocalTableShape | undefined
}

export type DefineIgnoreReason =
  /** `resolveTable` does not know the name. */
  | 'unknown-table'
  /** Key type or key length differ from the local table (or cannot be any table's). */
  | 'key-mismatch'
  /** A key type no table can have (0, 1, 3, >= 8). */
  | 'unsupported-key'
  /** Parameter blocks missing or out of order, or an array type without them. */
  | 'bad-params'

/** A DEFINE HAProxy would ignore: the updates that follow it are ignored too. */
export interface DefineIgnoredMessage {
  readonly kind: 'define-ignored'
  readonly tableId: number
  readonly name: string
  readonly reason: DefineIgnoreReason
  readonly detail: string
}

/** An update received while no usable table is current (none defined, or the definition was ignored). */
export interface UpdateIgnoredMessage {
  readonly kind: 'update-ignored'
  readonly msgType: number
}

export type DecodedMessage =
  | ControlMessage | ErrorMessage | DefineMessage | SwitchMessage | UpdateMessage | AckMessage | UnknownMessage
  | DefineIgnoredMessage | UpdateIgnoredMessage

/**
 * The remote side's tables as this session knows them: HAProxy's `remote_id`, `remote_table` and
 * `last_get`. A definition replaces any earlier one with the same id and any earlier id of the same
 * name; updates go to the current table.
 */
export class PeersTableRegistry {
  readonly #byId = new Map<number, PeersTableDefinition>()
  readonly #lastUpdate = new Map<string, number>()
  #current: PeersTableDefinition | undefined

  /** The table updates apply to, `undefined` when they are ignored. */
  get current (): PeersTableDefinition | undefined {
    return this.#current
  }

  get (tableId: number): PeersTableDefinition | undefined {
    return this.#byId.get(tableId)
  }

  definitions (): PeersTableDefinition[] {
    return [...this.#byId.values()]
  }

  /** Last update id received for a table name (0 before any, as HAProxy's `last_get`). */
  lastUpdateId (name: string): number {
    return this.#lastUpdate.get(name) ?? 0
  }

  /** A DEFINE arrived with this id: forget what the id meant; no table is current until accepted. */
  beginDefine (tableId: number): void {
    this.#byId.delete(tableId)
    this.#current = undefined
  }

  /** The DEFINE is accepted: it becomes the current table. */
  accept (def: PeersTableDefinition): void {
    for (const [id, d] of this.#byId) if (d.name === def.name) this.#byId.delete(id)
    this.#byId.set(def.tableId, def)
    this.#current = def
  }

  /** SWITCH: the table with that id becomes current (`undefined`: none). */
  switchTo (tableId: number): PeersTableDefinition | undefined {
    this.#current = this.#byId.get(tableId)
    return this.#current
  }

  /** Records an update's id: the explicit one, or previous + 1 (u32 wrap) for incremental updates. */
  nextUpdateId (name: string, explicit: number | undefined): number {
    const id = explicit ?? ((this.lastUpdateId(name) + 1) >>> 0)
    this.#lastUpdate.set(name, id)
    return id
  }
}

/** HAProxy's trash chunk: an inline dictionary value must leave room for its NUL in it. */
const DICT_VALUE_LIMIT = 16384

const CONTROL_KINDS: readonly ControlKind[] = ['resync-request', 'resync-finished', 'resync-partial', 'resync-confirm',
  'heartbeat']

function protocolError (code: PeersProtocolCode, message: string): PeersProtocolError {
  return new PeersProtocolError(code, message, code === PEERS_PROTOCOL_CODES.SIZE_LIMIT ? 'size-limit' : 'protocol')
}

/** Cursor over one payload; every failure is a malformed message. */
class Reader {
  pos: number
  readonly buf: Buffer
  readonly end: number
  readonly what: string

  constructor (buf: Buffer, pos: number, end: number, what: string) {
    this.buf = buf
    this.pos = pos
    this.end = end
    this.what = what
  }

  left (): number {
    return this.end - this.pos
  }

  fail (why: string): never {
    throw protocolError(PEERS_PROTOCOL_CODES.MALFORMED, `malformed ${this.what} message: ${why}`)
  }

  /** Next varint, or `undefined` when truncated (HAProxy's `intdecode()` failing). */
  tryVarint (end = this.end): number | bigint | undefined {
    if (this.pos >= end) return undefined
    const len = varintSpan(this.buf, this.pos, end)
    if (len === 0) return undefined
    const v = varintValue(this.buf, this.pos, len)
    this.pos += len
    return v
  }

  varint (field: string, end = this.end): number | bigint {
    const v = this.tryVarint(end)
    if (v === undefined) this.fail(`${field} truncated`)
    return v
  }

  /** A varint stored by HAProxy in a 32-bit C integer: the low 32 bits. */
  u32v (field: string, end = this.end): number {
    return low32(this.varint(field, end))
  }

  /** A varint used as a size, exact (`Infinity` when beyond 2^53). */
  size (field: string, end = this.end): number {
    return exact(this.varint(field, end))
  }

  u32be (field: string): number {
    if (this.left() < 4) this.fail(`${field} truncated`)
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }

  bytes (n: number, field: string): Buffer {
    if (n > this.left()) this.fail(`${field} truncated`)
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n))
    this.pos += n
    return b
  }
}

function low32 (v: number | bigint): number {
  return typeof v === 'number' ? v >>> 0 : Number(BigInt.asUintN(32, v))
}

function exact (v: number | bigint): number {
  return typeof v === 'number' ? v : Number.POSITIVE_INFINITY
}

function big (v: number | bigint): bigint {
  return typeof v === 'bigint' ? v : BigInt(v)
}

interface Frame {
  readonly cls: number
  readonly type: number
  /** Offset of the payload in the buffer, and its end (equal when there is none). */
  readonly start: number
  readonly end: number
  readonly hasPayload: boolean
}

/** What one {@link MessageDecoder.feed} call yields. */
export interface DecodeResult {
  /** Complete messages, in order (before `error` when there is one). */
  readonly messages: DecodedMessage[]
  /** The first invalid message: the session must reply and close. */
  readonly error?: PeersProtocolError
}

/**
 * Incremental decoder: feed it what the socket delivers, get back complete messages.
 *
 * Memory is bounded: after each `push()` it keeps at most one incomplete message, i.e. at most
 * 7 + maxPayload bytes. A frame whose announced length exceeds maxPayload fails as soon as its
 * length is read.
 */
export class MessageDecoder {
  readonly tables = new PeersTableRegistry()
  readonly #maxPayload: number
  readonly #resolveTable: MessageDecoderOptions['resolveTable']
  /** Dictionary receive cache: id - 1 → value. */
  readonly #dict: (string | undefined)[] = new Array<string | undefined>(DICT_CACHE_SIZE).fill(undefined)
  #chunks: Buffer[] = []
  #pending = 0
  /** Bytes the next frame needs in total (0: unknown, try as soon as anything arrives). */
  #needed = 0
  #failure: PeersProtocolError | undefined

  constructor (options: MessageDecoderOptions = {}) {
    const max = options.maxPayload ?? DEFAULT_MAX_PAYLOAD
    if (!Number.isInteger(max) || max < 0 || max > 0x7fffffff) throw new RangeError(`maxPayload out of range: ${max}`)
    this.#maxPayload = max
    this.#resolveTable = options.resolveTable
  }

  /** Bytes held for an incomplete message. */
  get buffered (): number {
    return this.#pending
  }

  /** The value the receiving dictionary cache holds for an id (1..128). */
  dictionaryValue (id: number): string | undefined {
    return this.#dict[id - 1]
  }

  /**
   * Appends bytes and returns every message they complete, in order. Throws
   * {@link PeersProtocolError} at the first invalid message (the messages before it are lost:
   * use {@link feed} to keep them). After an error the decoder is dead: every later call fails
   * with DECODER_FAILED.
   */
  push (chunk: Uint8Array): DecodedMessage[] {
    const { messages, error } = this.feed(chunk)
    if (error !== undefined) throw error
    return messages
  }

  /**
   * Appends bytes and returns every message they complete, in order, and the
   * {@link PeersProtocolError} met at the first invalid message, if any: the messages are those
   * decoded before it (HAProxy applies them before it meets the error, so a session should too).
   * After an error the decoder is dead: every later call returns DECODER_FAILED.
   */
  feed (chunk: Uint8Array): DecodeResult {
    if (this.#failure !== undefined) {
      return { messages: [], error: new PeersProtocolError(PEERS_PROTOCOL_CODES.DECODER_FAILED,
        `decoder already failed: ${this.#failure.message}`, undefined) }
    }
    if (chunk.length === 0) return { messages: [] }
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.#pending + view.length < this.#needed) {
      // Still short of the next frame: keep a copy (the caller may reuse its buffer) and wait.
      this.#chunks.push(Buffer.from(view))
      this.#pending += view.length
      return { messages: [] }
    }
    this.#pending += view.length
    const buf = this.#chunks.length === 0 ? view : Buffer.concat([...this.#chunks, view], this.#pending)
    const out: DecodedMessage[] = []
    let pos = 0
    try {
      for (;;) {
        const f = this.#frame(buf, pos)
        if (typeof f === 'number') {
          this.#needed = f - pos
          break
        }
        out.push(this.#decode(buf, f))
        pos = f.end
      }
    } catch (err) {
      if (!(err instanceof PeersProtocolError)) throw err
      this.#failure = err
      this.#chunks = []
      this.#pending = 0
      return { messages: out, error: err }
    }
    // Keep only the incomplete tail, copied so the caller's buffers are never retained.
    const rest = buf.length - pos
    this.#chunks = rest === 0 ? [] : [Buffer.from(buf.subarray(pos))]
    this.#pending = rest
    if (rest === 0) this.#needed = 0
    return { messages: out }
  }

  /** The frame at `pos`, or the total buffer length needed to know it. */
  #frame (buf: Buffer, pos: number): Frame | number {
    const avail = buf.length - pos
    if (avail < 2) return pos + 2
    const cls = buf[pos] as number
    const type = buf[pos + 1] as number
    if (type < 0x80) return { cls, type, start: pos + 2, end: pos + 2, hasPayload: false }
    // The length is read into HAProxy's 7-byte header buffer: at most 5 bytes of varint.
    const window = Math.min(avail - 2, 5)
    const lenBytes = window === 0 ? 0 : varintSpan(buf, pos + 2, pos + 2 + window)
    if (lenBytes === 0) {
      if (window < 5) return pos + 2 + window + 1
      throw protocolError(PEERS_PROTOCOL_CODES.BAD_LENGTH,
        `message ${hex(cls)} ${hex(type)}: length does not end within 5 bytes`)
    }
    const len = varintValue(buf, pos + 2, lenBytes) as number // < 2^33 with at most 5 bytes
    if (len > this.#maxPayload) {
      throw protocolError(PEERS_PROTOCOL_CODES.SIZE_LIMIT,
        `message ${hex(cls)} ${hex(type)}: payload of ${len} bytes exceeds the ${this.#maxPayload}-byte limit`)
    }
    const start = pos + 2 + lenBytes
    if (buf.length < start + len) return start + len
    return { cls, type, start, end: start + len, hasPayload: true }
  }

  #decode (buf: Buffer, f: Frame): DecodedMessage {
    switch (f.cls) {
      case MSG_CLASS.CONTROL: {
        const kind = f.type < CONTROL_KINDS.length ? CONTROL_KINDS[f.type] : undefined
        if (kind !== undefined) return { kind: 'control', type: kind }
        break
      }
      case MSG_CLASS.ERROR:
        if (f.type === 0) return { kind: 'error', type: 'protocol' }
        if (f.type === 1) return { kind: 'error', type: 'size-limit' }
        break
      case MSG_CLASS.STICK_TABLE:
        switch (f.type) {
          case STKT_TYPE.DEFINE: return this.#define(new Reader(buf, f.start, f.end, 'table definition'))
          case STKT_TYPE.SWITCH: return this.#switch(new Reader(buf, f.start, f.end, 'table switch'))
          case STKT_TYPE.ACK: return ack(new Reader(buf, f.start, f.end, 'ack'))
          case STKT_TYPE.UPDATE:
          case STKT_TYPE.INCUPDATE:
          case STKT_TYPE.UPDATE_TIMED:
          case STKT_TYPE.INCUPDATE_TIMED:
            return this.#update(new Reader(buf, f.start, f.end, 'update'), f.type)
        }
        break
      case MSG_CLASS.RESERVED:
        throw protocolError(PEERS_PROTOCOL_CODES.RESERVED_CLASS,
          `message of the reserved class 255 (type ${hex(f.type)})`)
    }
    return { kind: 'unknown', msgClass: f.cls, msgType: f.type,
      payload: f.hasPayload ? Buffer.from(buf.subarray(f.start, f.end)) : undefined }
  }

  /** `peer_treat_definemsg()`: malformed up to the bitfield, ignored after. */
  #define (r: Reader): DefineMessage | DefineIgnoredMessage {
    const tableId = r.u32v('table id')
    const nameLen = r.size('name length')
    // HAProxy: an empty name, or one reaching the end of the message, is malformed.
    if (nameLen === 0 || nameLen >= r.left()) r.fail('bad table name length')
    const name = r.bytes(nameLen, 'name').toString('utf8')
    this.tables.beginDefine(tableId)
    const ignored = (reason: DefineIgnoreReason, detail: string): DefineIgnoredMessage => ({ kind: 'define-ignored',
      tableId, name, reason, detail })

    const local = this.#resolveTable === undefined ? undefined : this.#resolveTable(name)
    if (this.#resolveTable !== undefined && local === undefined) return ignored('unknown-table',
      `no local table '${name}'`)

    const keyType = exact(r.varint('key type'))
    const keyLen = exact(r.varint('key length'))
    const dataMask = big(r.varint('data bitfield'))

    const keyName = keyTypeName(keyType)
    if (keyName === undefined) return ignored('unsupported-key', `key type ${keyType}`)
    const fixed = fixedKeyLen(keyName)
    if ((fixed !== undefined && keyLen !== fixed) || keyLen === 0 || keyLen > 0xffffffff) {
      return ignored('key-mismatch', `${keyName} key with key_len ${keyLen}`)
    }
    if (local !== undefined && (local.keyType !== keyType || local.keyLen !== keyLen)) {
      return ignored('key-mismatch', `remote key ${keyType}/${keyLen}, local key ${local.keyType}/${local.keyLen}`)
    }

    // Optional expire field; when present, the parameter blocks of every set known type follow.
    const expire = r.tryVarint()
    const params: DataTypeParams[] = []
    for (const t of DATA_TYPES) {
      if (!((dataMask >> BigInt(t.id)) & 1n)) continue
      const s = paramShape(t)
      if (s === 'none') continue
      if (expire === undefined) {
        if (t.isArray) return ignored('bad-params', `array ${t.name} without its element count`)
        continue
      }
      const dt = r.tryVarint()
      if (dt === undefined || exact(dt) !== t.id) return ignored('bad-params', `expected the parameters of ${t.name}`)
      let nbelem: number | undefined
      let period: number | undefined
      if (s !== 'period') {
        const v = r.tryVarint()
        if (v === undefined) return ignored('bad-params', `${t.name} element count missing`)
        nbelem = low32(v)
      }
      if (s !== 'nbelem') {
        const v = r.tryVarint()
        if (v === undefined) return ignored('bad-params', `${t.name} period missing`)
        period = low32(v)
      }
      params.push({ dataType: t.id, ...(nbelem === undefined ? {} : { nbelem }),
        ...(period === undefined ? {} : { period }) })
    }
    // Anything left (blocks of types tslb does not know) is ignored, as HAProxy does.
    const table: PeersTableDefinition = {
      tableId, name, keyType, keyLen, dataMask, expireMs: expire === undefined ? undefined : low32(expire), params
    }
    this.tables.accept(table)
    return { kind: 'define', table }
  }

  #switch (r: Reader): SwitchMessage {
    const tableId = r.u32v('table id')
    const table = this.tables.switchTo(tableId)
    return { kind: 'switch', tableId, table }
  }

  /** `peer_treat_updatemsg()`. */
  #update (r: Reader, type: number): UpdateMessage | UpdateIgnoredMessage {
    const def = this.tables.current
    if (def === undefined) return { kind: 'update-ignored', msgType: type }
    const withId = type === STKT_TYPE.UPDATE || type === STKT_TYPE.UPDATE_TIMED
    const timed = type === STKT_TYPE.UPDATE_TIMED || type === STKT_TYPE.INCUPDATE_TIMED
    const updateId = this.tables.nextUpdateId(def.name, withId ? r.u32be('update id') : undefined)
    const expireMs = timed ? r.u32be('expire') : undefined
    const key = readKey(r, def)
    const layout = tableLayout(def)
    if (typeof layout === 'string') r.fail(layout) // not for accepted definitions: arrays have their counts
    const values: DataValue[] = []
    for (const slot of layout) values.push(this.#value(r, slot))
    return { kind: 'update', table: def, updateId, withId, expireMs, key, values }
  }

  #value (r: Reader, slot: ValueSlot): DataValue {
    const dataType = slot.type.id
    switch (slot.kind) {
      case 'sint': return { dataType, kind: 'sint', value: sint(r.varint(slot.type.name)) }
      case 'uint': return { dataType, kind: 'uint', value: r.u32v(slot.type.name) }
      case 'ull': return { dataType, kind: 'ull', value: big(r.varint(slot.type.name)) }
      case 'frqp': return { dataType, kind: 'frqp', value: frqp(r, slot.type.name) }
      case 'dict': return { dataType, kind: 'dict', value: this.#dictValue(r) }
      case 'sint[]':
      case 'uint[]':
      case 'ull[]':
      case 'frqp[]': {
        // Every element takes at least one byte (three for a counter): no loop past the payload.
        if (slot.nbelem * (slot.kind === 'frqp[]' ? 3 : 1) > r.left()) r.fail(`${slot.type.name} truncated`)
        const what = slot.type.name
        if (slot.kind === 'frqp[]') {
          const value: FreqCounterWire[] = []
          for (let i = 0; i < slot.nbelem; i++) value.push(frqp(r, what))
          return { dataType, kind: 'frqp[]', value }
        }
        if (slot.kind === 'ull[]') {
          const value: bigint[] = []
          for (let i = 0; i < slot.nbelem; i++) value.push(big(r.varint(what)))
          return { dataType, kind: 'ull[]', value }
        }
        const value: number[] = []
        for (let i = 0; i < slot.nbelem; i++) value.push(slot.kind === 'sint[]' ? sint(r.varint(what)) : r.u32v(what))
        return { dataType, kind: slot.kind, value }
      }
    }
  }

  /**
   * `STD_T_DICT`: `varint(L)`, 0 = none; otherwise within the next L bytes `varint(id)`, alone
   * for a cached entry, or followed by `varint(len) bytes` for a new one. Like HAProxy, parsing
   * resumes right after the value, not at the end of the L bytes.
   */
  #dictValue (r: Reader): DictWire | null {
    const l = r.size('server_key length')
    if (l === 0) return null
    if (l > r.left()) r.fail('server_key truncated')
    const end = r.pos + l
    const id = r.size('server_key id', end)
    if (id === 0 || id > DICT_CACHE_SIZE) r.fail(`server_key dictionary id ${id} (1..${DICT_CACHE_SIZE})`)
    if (r.pos === end) return { id, inline: false, value: this.#dict[id - 1] }
    const vlen = r.size('server_key value length', end)
    if (vlen > end - r.pos || vlen + 1 >= DICT_VALUE_LIMIT) r.fail('server_key value truncated or too long')
    const value = r.bytes(vlen, 'server_key value').toString('utf8')
    this.#dict[id - 1] = value
    return { id, inline: true, value }
  }
}

function sint (v: number | bigint): number {
  // A C int receiving a uint64: the low 32 bits, signed.
  return typeof v === 'number' ? v | 0 : Number(BigInt.asIntN(32, v))
}

function frqp (r: Reader, what: string): FreqCounterWire {
  const elapsedMs = r.u32v(`${what} elapsed`)
  const curr = r.u32v(`${what} curr`)
  const prev = r.u32v(`${what} prev`)
  return { elapsedMs, curr, prev }
}

function readKey (r: Reader, def: PeersTableDefinition): StickKey {
  const type = keyTypeName(def.keyType)
  switch (type) {
    case 'string': {
      // HAProxy keeps at most key_len-1 bytes and skips the rest of what was announced.
      const toRead = r.size('key length')
      const toStore = Math.min(toRead, def.keyLen - 1)
      const bytes = r.bytes(toStore, 'key')
      r.pos += toRead - toStore
      return { type, bytes }
    }
    case 'integer': return { type, value: r.u32be('key') }
    case 'ip':
    case 'ipv6':
    case 'binary':
      return { type, bytes: r.bytes(def.keyLen, 'key') }
    case undefined:
      return r.fail(`table ${def.name} has key type ${def.keyType}`)
  }
}

/** `peer_treat_ackmsg()`. */
function ack (r: Reader): AckMessage {
  const tableId = r.u32v('table id')
  const updateId = r.u32be('update id')
  return { kind: 'ack', tableId, updateId }
}

function hex (b: number): string {
  return b.toString(16).padStart(2, '0')
}

/** Whether a definition's bitfield uses only data types tslb knows (so its updates can be re-encoded). */
export function definitionIsComplete (def: PeersTableDefinition): boolean {
  return def.dataMask >> BigInt(KNOWN_DATA_TYPE_COUNT) === 0n
}

/** Whether a decoded message can be given back to `encodeMessage()` (ignored ones cannot). */
export function isEncodable (m: DecodedMessage): m is Exclude<DecodedMessage,
  DefineIgnoredMessage | UpdateIgnoredMessage> {
  return m.kind !== 'define-ignored' && m.kind !== 'update-ignored'
}
