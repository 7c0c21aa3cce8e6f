import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MessageDecoder } from '../../../src/peers/decoder.ts'
import type { DecodedMessage } from '../../../src/peers/decoder.ts'
import { DictTxCache, buildTableDefinition, encodeMessage } from '../../../src/peers/messages.ts'
import type { DataValue, PeersTableDefinition, UpdateMessage } from '../../../src/peers/messages.ts'
import { PEERS_KEY_TYPE, STKTABLE_DT } from '../../../src/peers/data-types.ts'
import { PeersEncodeError, PeersProtocolError } from '../../../src/peers/errors.ts'
import { encodeVarint } from '../../../src/peers/varint.ts'
import { encodeAll, h } from './helpers.ts'

function protoErr (code: string, reply: 'protocol' | 'size-limit' | undefined = 'protocol') {
  return (e: unknown): boolean => {
    assert.ok(e instanceof PeersProtocolError, String(e))
    assert.equal(e.code, code)
    assert.equal(e.reply, reply)
    return true
  }
}

function encErr (code: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof PeersEncodeError, String(e))
    assert.equal(e.code, code)
    return true
  }
}

const defineBytes = (def: PeersTableDefinition): Buffer => encodeMessage({ kind: 'define', table: def })

/** Frame a stick-table payload by hand (the decoder must not rely on our encoder). */
function stkt (type: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x0a, type]), encodeVarint(payload.length), payload])
}

const strTable = (over: Partial<PeersTableDefinition> = {}): PeersTableDefinition => ({
  ...buildTableDefinition({ tableId: 1, name: 'st', keyType: PEERS_KEY_TYPE.string, keyLen: 8, expireMs: 0, store: [{ name: 'gpc0' }] }),
  ...over
})

test('framing: only types >= 0x80 carry a length; unknown messages are skipped, not errors', () => {
  const msgs = new MessageDecoder().push(h('05 01   00 05   00 80 02 aabb   01 07   0a 10   0a 87 00   42 ff 01 cc'))
  assert.deepEqual(msgs, [
    { kind: 'unknown', msgClass: 5, msgType: 1, payload: undefined },
    { kind: 'unknown', msgClass: 0, msgType: 5, payload: undefined },
    { kind: 'unknown', msgClass: 0, msgType: 0x80, payload: h('aabb') },
    { kind: 'unknown', msgClass: 1, msgType: 7, payload: undefined },
    { kind: 'unknown', msgClass: 10, msgType: 0x10, payload: undefined },
    { kind: 'unknown', msgClass: 10, msgType: 0x87, payload: Buffer.alloc(0) },
    { kind: 'unknown', msgClass: 0x42, msgType: 0xff, payload: h('cc') }
  ])
  assert.equal(Buffer.concat(encodeAll(msgs)).toString('hex'), h('0501 0005 008002aabb 0107 0a10 0a8700 42ff01cc').toString('hex'))
})

test('class 255 is a protocol error; messages before it are handed over; the decoder stays dead', () => {
  const d = new MessageDecoder()
  const { messages, error } = d.feed(h('00 04 00 04 ff 00 00 04'))
  protoErr('TSLB_ERR_PEERS_RESERVED_CLASS')(error)
  assert.deepEqual(messages, [{ kind: 'control', type: 'heartbeat' }, { kind: 'control', type: 'heartbeat' }])
  assert.throws(() => d.push(h('00 04')), protoErr('TSLB_ERR_PEERS_DECODER_FAILED', undefined))
  assert.equal(d.buffered, 0)
})

test('size limit: refused as soon as the length is read, reply 01 01; the limit itself is fine', () => {
  assert.throws(() => new MessageDecoder().push(Buffer.concat([h('0a 80'), encodeVarint(16385)])), protoErr('TSLB_ERR_PEERS_SIZE_LIMIT', 'size-limit'))
  const ok = new MessageDecoder().push(Buffer.concat([h('0a 99'), encodeVarint(16384), Buffer.alloc(16384)]))
  assert.equal(ok.length, 1)
  assert.throws(() => new MessageDecoder({ maxPayload: 10 }).push(h('0a 80 0b')), protoErr('TSLB_ERR_PEERS_SIZE_LIMIT', 'size-limit'))
})

test('a length varint must end within 5 bytes', () => {
  const d = new MessageDecoder()
  assert.deepEqual(d.push(h('0a 80 ff ff ff ff')), [], '4 continuation bytes: wait')
  assert.throws(() => d.push(h('ff')), protoErr('TSLB_ERR_PEERS_BAD_LENGTH'))
})

test('updates with no current table are ignored (and take no id)', () => {
  const d = new MessageDecoder()
  const msgs = d.push(h('0a 80 05 00000009 00   0a 81 00'))
  assert.deepEqual(msgs, [{ kind: 'update-ignored', msgType: 0x80 }, { kind: 'update-ignored', msgType: 0x81 }])
  d.push(defineBytes(strTable()))
  const [u] = d.push(h('0a 81 03 01"a" 07'))
  assert.equal((u as UpdateMessage).updateId, 1)
})

test('resolveTable: unknown names and key mismatches are ignored, with the updates after them', () => {
  const local = new Map([['st', { keyType: PEERS_KEY_TYPE.string, keyLen: 8 }]])
  const d = new MessageDecoder({ resolveTable: n => local.get(n) })
  // Unknown name: HAProxy stops parsing at the name, so a truncated rest is not an error.
  const unknown = d.push(h('0a 82 05 03 02"zz" 06'))
  assert.deepEqual(unknown, [{ kind: 'define-ignored', tableId: 3, name: 'zz', reason: 'unknown-table', detail: "no local table 'zz'" }])
  // ...and the updates after it are ignored even when they would not parse.
  assert.deepEqual(d.push(h('0a 80 01 00')), [{ kind: 'update-ignored', msgType: 0x80 }])
  const mismatch = d.push(defineBytes(strTable({ keyLen: 9 })))
  assert.equal(mismatch[0]?.kind, 'define-ignored')
  assert.equal((mismatch[0] as { reason: string }).reason, 'key-mismatch')
  const ok = d.push(defineBytes(strTable()))
  assert.equal(ok[0]?.kind, 'define')
  assert.equal(d.tables.current?.name, 'st')
})

test('definitions no table can have are ignored', () => {
  const reasons = (def: PeersTableDefinition): string => {
    const [m] = new MessageDecoder().push(defineBytes(def))
    return m?.kind === 'define-ignored' ? m.reason : m?.kind ?? 'none'
  }
  assert.equal(reasons(strTable({ keyType: 3 })), 'unsupported-key')
  assert.equal(reasons(strTable({ keyType: 9 })), 'unsupported-key')
  assert.equal(reasons(strTable({ keyType: PEERS_KEY_TYPE.ip, keyLen: 8 })), 'key-mismatch')
  assert.equal(reasons(strTable({ keyLen: 0 })), 'key-mismatch')
})

test('parameter blocks: optional without expire, except for arrays; mismatches ignore the table', () => {
  const gpc = buildTableDefinition({ tableId: 4, name: 'g', keyType: PEERS_KEY_TYPE.integer, keyLen: 4, expireMs: 0, store: [{ name: 'gpc', count: 2 }, { name: 'conn_rate', period: 1000 }] })
  const payload = (tail: string): Buffer => Buffer.concat([h('04 01"g" 02 04'), encodeVarint(gpc.dataMask), h(tail)])
  const kindOf = (tail: string): string => {
    const [m] = new MessageDecoder().push(stkt(0x82, payload(tail)))
    return m?.kind === 'define-ignored' ? m.reason : m?.kind ?? 'none'
  }
  assert.equal(kindOf('00 05 f8 0e 17 02'), 'define', 'dt5 period 1000, dt23 nbelem 2')
  assert.equal(kindOf(''), 'bad-params', 'array without expire')
  assert.equal(kindOf('00 05 f8 0e'), 'bad-params', 'array block missing')
  assert.equal(kindOf('00 17 02 05 f8 0e'), 'bad-params', 'blocks out of order')
  assert.equal(kindOf('00 05'), 'bad-params', 'period missing')
  // A frequency counter alone needs no block when there is no expire.
  const rate = buildTableDefinition({ tableId: 5, name: 'r', keyType: PEERS_KEY_TYPE.integer, keyLen: 4, expireMs: 0, store: [{ name: 'conn_rate', period: 1000 }] })
  const noExpire = stkt(0x82, Buffer.concat([h('05 01"r" 02 04'), encodeVarint(rate.dataMask)]))
  const [m] = new MessageDecoder().push(noExpire)
  assert.equal(m?.kind, 'define')
  assert.equal(m.table.expireMs, undefined)
  assert.deepEqual(m.table.params, [])
  assert.equal(encodeMessage(m).toString('hex'), noExpire.toString('hex'))
})

test('malformed definitions', () => {
  for (const hex of ['0a 82 00', '0a 82 01 01', '0a 82 02 01 00 ', '0a 82 03 01 01"x"', '0a 82 04 01 05"ab"', '0a 82 04 01 01"x" 06', '0a 82 05 01 01"x" 06 f0']) {
    assert.throws(() => new MessageDecoder().push(h(hex)), protoErr('TSLB_ERR_PEERS_MALFORMED'), hex)
  }
})

test('switch selects an earlier definition; a redefinition under a new id retires the old id', () => {
  const d = new MessageDecoder()
  d.push(defineBytes(strTable({ tableId: 1, name: 'a' })))
  d.push(defineBytes(strTable({ tableId: 2, name: 'b' })))
  assert.equal(d.tables.current?.name, 'b')
  const [sw] = d.push(h('0a 83 01 01'))
  assert.deepEqual(sw, { kind: 'switch', tableId: 1, table: d.tables.get(1) })
  assert.equal(encodeMessage(sw as { kind: 'switch', tableId: number }).toString('hex'), '0a830101')
  const [u] = d.push(h('0a 80 07 00000005 01"k" 02'))
  assert.equal((u as UpdateMessage).table.name, 'a')
  assert.deepEqual(d.push(h('0a 83 01 09')), [{ kind: 'switch', tableId: 9, table: undefined }])
  assert.equal(d.push(h('0a 81 03 01"k" 02'))[0]?.kind, 'update-ignored')
  d.push(defineBytes(strTable({ tableId: 7, name: 'a' })))
  assert.equal(d.tables.get(1), undefined)
  assert.equal(d.tables.get(7)?.name, 'a')
  assert.throws(() => d.push(h('0a 83 00')), protoErr('TSLB_ERR_PEERS_MALFORMED'))
})

test('update ids: explicit, implied (+1, u32 wrap), per table', () => {
  const d = new MessageDecoder()
  d.push(defineBytes(strTable()))
  const ids = d.push(h('0a 80 07 ffffffff 01"a" 01  0a 81 03 01"b" 02  0a 86 07 00000000 01"c" 03')).map(m => (m as UpdateMessage).updateId)
  assert.deepEqual(ids, [0xffffffff, 0, 1])
  assert.equal(d.tables.lastUpdateId('st'), 1)
})

test('malformed updates', () => {
  const cases = [
    '0a 80 03 000000', // id truncated
    '0a 85 06 00000001 0000', // expire truncated
    '0a 81 02 05"a"', // key truncated
    '0a 81 02 01"a"', // value missing
    '0a 81 03 01"a" f0' // value varint truncated
  ]
  for (const hex of cases) {
    const d = new MessageDecoder()
    d.push(defineBytes(strTable()))
    assert.throws(() => d.push(h(hex)), protoErr('TSLB_ERR_PEERS_MALFORMED'), hex)
  }
  assert.throws(() => new MessageDecoder().push(h('0a 84 04 07 000003')), protoErr('TSLB_ERR_PEERS_MALFORMED'))
})

test('string keys: HAProxy keeps key_len-1 bytes and skips the rest', () => {
  const d = new MessageDecoder()
  d.push(defineBytes(strTable({ keyLen: 4, dataMask: 0n, params: [] })))
  const [u] = d.push(h('0a 81 06 05"abcde"'))
  assert.deepEqual((u as UpdateMessage).key, { type: 'string', bytes: Buffer.from('abc') })
  // Announcing more than the payload holds is only an error when values follow.
  assert.equal(d.push(h('0a 81 04 09"abc"'))[0]?.kind, 'update')
  const d2 = new MessageDecoder()
  d2.push(defineBytes(strTable({ keyLen: 4 })))
  assert.throws(() => d2.push(h('0a 81 05 09"abc" 01')), protoErr('TSLB_ERR_PEERS_MALFORMED'))
})

test('key kinds: integer, ipv6, binary (padded to key_len)', () => {
  const mk = (keyType: number, keyLen: number): PeersTableDefinition => buildTableDefinition({ tableId: 1, name: 'k', keyType: keyType as 2, keyLen, expireMs: 0, store: [] })
  const round = (def: PeersTableDefinition, key: UpdateMessage['key'], expectHex: string): void => {
    const msg: UpdateMessage = { kind: 'update', table: def, updateId: 1, withId: true, expireMs: undefined, key, values: [] }
    const bytes = encodeMessage(msg)
    assert.equal(bytes.toString('hex'), h(expectHex).toString('hex'))
    const d = new MessageDecoder()
    d.push(defineBytes(def))
    const [u] = d.push(bytes)
    assert.equal(u?.kind, 'update')
    if (key.type !== 'binary') assert.deepEqual(u.key, key)
  }
  round(mk(PEERS_KEY_TYPE.integer, 4), { type: 'integer', value: 0xdeadbeef }, '0a 80 08 00000001 deadbeef')
  round(mk(PEERS_KEY_TYPE.ipv6, 16), { type: 'ipv6', bytes: h('20010db8000000000000000000000001') }, '0a 80 14 00000001 20010db8000000000000000000000001')
  round(mk(PEERS_KEY_TYPE.binary, 6), { type: 'binary', bytes: h('0102') }, '0a 80 0a 00000001 010200000000')
  assert.throws(() => round(mk(PEERS_KEY_TYPE.binary, 2), { type: 'binary', bytes: h('010203') }, ''), encErr('TSLB_ERR_PEERS_ENCODE_SHAPE'))
  assert.throws(() => round(mk(PEERS_KEY_TYPE.string, 3), { type: 'string', bytes: Buffer.from('abc') }, ''), encErr('TSLB_ERR_PEERS_ENCODE_SHAPE'))
  assert.throws(() => round(mk(PEERS_KEY_TYPE.ip, 4), { type: 'string', bytes: Buffer.from('a') }, ''), encErr('TSLB_ERR_PEERS_ENCODE_SHAPE'))
})

test('server_id is a C int: -1 is sign-extended to 10 bytes and comes back as -1', () => {
  const def = buildTableDefinition({ tableId: 1, name: 's', keyType: PEERS_KEY_TYPE.integer, keyLen: 4, expireMs: 0, store: [{ name: 'server_id' }] })
  const bytes = h('0a 80 12 00000001 00000001 fff0fefefefefefefe0e')
  const d = new MessageDecoder()
  d.push(defineBytes(def))
  const [u] = d.push(bytes)
  assert.deepEqual((u as UpdateMessage).values, [{ dataType: 0, kind: 'sint', value: -1 }])
  assert.equal(encodeMessage(u as UpdateMessage).toString('hex'), bytes.toString('hex'))
})

test('server_key goes through the per-connection dictionary cache', () => {
  const def = buildTableDefinition({ tableId: 1, name: 'b', keyType: PEERS_KEY_TYPE.string, keyLen: 32, expireMs: 0, store: [{ name: 'server_id' }, { name: 'server_key' }] })
  const d = new MessageDecoder()
  d.push(defineBytes(def))
  const stream = h(`0a 81 0a 01"a" 01 06 01 04"web1"   0a 81 05 01"b" 01 01 01   0a 81 04 01"c" 00 00   0a 81 05 01"d" 02 01 02`)
  const msgs = d.push(stream)
  assert.deepEqual(msgs.map(m => (m as UpdateMessage).values[1]?.value), [
    { id: 1, inline: true, value: 'web1' },
    { id: 1, inline: false, value: 'web1' },
    null,
    { id: 2, inline: false, value: undefined } // never sent: HAProxy leaves the value alone
  ])
  assert.equal(d.dictionaryValue(1), 'web1')
  assert.equal(Buffer.concat(encodeAll(msgs)).toString('hex'), stream.toString('hex'))
  for (const bad of ['0a 81 05 01"e" 01 01 00', '0a 81 06 01"e" 01 02 f0 80', '0a 81 07 01"e" 01 03 01 05"x"', '0a 81 05 01"e" 01 09 01']) {
    const d2 = new MessageDecoder()
    d2.push(defineBytes(def))
    assert.throws(() => d2.push(h(bad)), protoErr('TSLB_ERR_PEERS_MALFORMED'), bad)
  }
  // id 129 does not fit HAProxy's 128-slot cache
  const d3 = new MessageDecoder()
  d3.push(defineBytes(def))
  assert.throws(() => d3.push(h('0a 81 05 01"e" 01 01 81')), protoErr('TSLB_ERR_PEERS_MALFORMED'))
})

test('DictTxCache: ids 1..128 filled round-robin, like dcache_tx_insert()', () => {
  const c = new DictTxCache()
  assert.deepEqual(c.reference('web1'), { id: 1, inline: true, value: 'web1' })
  assert.deepEqual(c.reference('web1'), { id: 1, inline: false, value: 'web1' })
  assert.deepEqual(c.reference('web2'), { id: 2, inline: true, value: 'web2' })
  for (let i = 3; i <= 128; i++) assert.equal(c.reference(`s${i}`).id, i)
  assert.deepEqual(c.reference('s129'), { id: 1, inline: true, value: 's129' }, 'wraps and evicts web1')
  assert.deepEqual(c.reference('web1'), { id: 2, inline: true, value: 'web1' })
  c.clear()
  assert.deepEqual(c.reference('web2'), { id: 1, inline: true, value: 'web2' })
  // Encoder + decoder agree through a full cycle.
  const def = buildTableDefinition({ tableId: 1, name: 'b', keyType: PEERS_KEY_TYPE.string, keyLen: 32, expireMs: 0, store: [{ name: 'server_key' }] })
  const tx = new DictTxCache()
  const rx = new MessageDecoder()
  rx.push(defineBytes(def))
  for (let i = 0; i < 400; i++) {
    const name = `srv${(i * 7) % 150}`
    const msg: UpdateMessage = { kind: 'update', table: def, updateId: i, withId: true, expireMs: undefined, key: { type: 'string', bytes: Buffer.from(`k${i}`) }, values: [{ dataType: STKTABLE_DT.SERVER_KEY, kind: 'dict', value: tx.reference(name) }] }
    const [u] = rx.push(encodeMessage(msg))
    assert.equal(((u as UpdateMessage).values[0]?.value as { value: string }).value, name)
  }
})

test('arrays take their element count from the definition', () => {
  const def = buildTableDefinition({ tableId: 3, name: 'arr', keyType: PEERS_KEY_TYPE.integer, keyLen: 4, expireMs: 1000, store: [{ name: 'gpt', count: 2 }, { name: 'gpc', count: 3 }, { name: 'gpc_rate', count: 2, period: 5000 }] })
  const values: DataValue[] = [
    { dataType: STKTABLE_DT.GPT, kind: 'uint[]', value: [1, 0xffffffff] },
    { dataType: STKTABLE_DT.GPC, kind: 'uint[]', value: [0, 239, 240] },
    { dataType: STKTABLE_DT.GPC_RATE, kind: 'frqp[]', value: [{ elapsedMs: 10, curr: 2, prev: 3 }, { elapsedMs: 4999, curr: 0, prev: 0 }] }
  ]
  const msg: UpdateMessage = { kind: 'update', table: def, updateId: 9, withId: true, expireMs: 500, key: { type: 'integer', value: 5 }, values }
  const d = new MessageDecoder()
  const [m1, m2] = d.push(Buffer.concat([defineBytes(def), encodeMessage(msg)]))
  assert.deepEqual(m1, { kind: 'define', table: def })
  assert.deepEqual(m2, { ...msg, table: (m1 as { table: PeersTableDefinition }).table })
  assert.throws(() => encodeMessage({ ...msg, values: [values[0] as DataValue, { dataType: STKTABLE_DT.GPC, kind: 'uint[]', value: [1] }, values[2] as DataValue] }), encErr('TSLB_ERR_PEERS_ENCODE_SHAPE'))
  // A huge element count fails at once instead of looping.
  const huge = stkt(0x82, Buffer.concat([h('01 01"h" 02 04'), encodeVarint(1n << 23n), h('00 17 fe ff ff ff 0f')]))
  const d2 = new MessageDecoder()
  assert.equal(d2.push(huge)[0]?.kind, 'define')
  assert.throws(() => d2.push(h('0a 80 06 00000001 00000001')), protoErr('TSLB_ERR_PEERS_MALFORMED'))
})

test('data types beyond what tslb knows: values ignored like HAProxy 2.6 does; the encoder refuses them', () => {
  const mask = (1n << 2n) | (1n << 40n)
  const def: PeersTableDefinition = { tableId: 1, name: 'x', keyType: PEERS_KEY_TYPE.integer, keyLen: 4, dataMask: mask, expireMs: 0, params: [] }
  const d = new MessageDecoder()
  assert.equal(d.push(defineBytes(def))[0]?.kind, 'define')
  const [u] = d.push(h('0a 80 0a 00000001 00000001 07 99'))
  assert.deepEqual((u as UpdateMessage).values, [{ dataType: 2, kind: 'uint', value: 7 }])
  assert.throws(() => encodeMessage(u as UpdateMessage), encErr('TSLB_ERR_PEERS_ENCODE_SHAPE'))
})

test('glitch_cnt / glitch_rate (HAProxy 3.0 ids 25, 26) round-trip between tslb nodes', () => {
  const def = buildTableDefinition({ tableId: 1, name: 'g', keyType: PEERS_KEY_TYPE.ip, keyLen: 4, expireMs: 0, store: [{ name: 'glitch_rate', period: 10000 }, { name: 'glitch_cnt' }] })
  assert.equal(def.dataMask, (1n << 25n) | (1n << 26n))
  const msg: UpdateMessage = {
    kind: 'update', table: def, updateId: 1, withId: true, expireMs: undefined, key: { type: 'ip', bytes: h('c6120001') },
    values: [{ dataType: 25, kind: 'uint', value: 4 }, { dataType: 26, kind: 'frqp', value: { elapsedMs: 1, curr: 2, prev: 3 } }]
  }
  const d = new MessageDecoder()
  const [, u] = d.push(Buffer.concat([defineBytes(def), encodeMessage(msg)]))
  assert.deepEqual((u as UpdateMessage).values, msg.values)
})

test('encoder checks: ranges, shapes, payload size', () => {
  const def = strTable()
  const base: UpdateMessage = { kind: 'update', table: def, updateId: 1, withId: true, expireMs: undefined, key: { type: 'string', bytes: Buffer.from('a') }, values: [{ dataType: 2, kind: 'uint', value: 1 }] }
  assert.throws(() => encodeMessage({ ...base, values: [] }), encErr('TSLB_ERR_PEERS_ENCODE_SHAPE'))
  assert.throws(() => encodeMessage({ ...base, values: [{ dataType: 2, kind: 'ull', value: 1n }] }), encErr('TSLB_ERR_PEERS_ENCODE_SHAPE'))
  assert.throws(() => encodeMessage({ ...base, values: [{ dataType: 3, kind: 'uint', value: 1 }] }), encErr('TSLB_ERR_PEERS_ENCODE_SHAPE'))
  assert.throws(() => encodeMessage({ ...base, values: [{ dataType: 2, kind: 'uint', value: 2 ** 32 }] }), encErr('TSLB_ERR_PEERS_ENCODE_RANGE'))
  assert.throws(() => encodeMessage({ ...base, updateId: -1 }), encErr('TSLB_ERR_PEERS_ENCODE_RANGE'))
  assert.throws(() => encodeMessage({ ...base, expireMs: 1.5 }), encErr('TSLB_ERR_PEERS_ENCODE_RANGE'))
  assert.throws(() => encodeMessage({ kind: 'ack', tableId: 1, updateId: 2 ** 32 }), encErr('TSLB_ERR_PEERS_ENCODE_RANGE'))
  assert.throws(() => encodeMessage({ kind: 'define', table: { ...def, name: '' } }), encErr('TSLB_ERR_PEERS_ENCODE_SHAPE'))
  assert.throws(() => encodeMessage({ kind: 'unknown', msgClass: 0, msgType: 0x90, payload: Buffer.alloc(20) }, { maxPayload: 10 }), encErr('TSLB_ERR_PEERS_ENCODE_TOO_LARGE'))
  assert.equal(encodeMessage({ ...base, withId: false, expireMs: 7 }).toString('hex'), h('0a 86 07 00000007 01"a" 01').toString('hex'))
})

test('bounded memory: at most one incomplete frame is kept, and caller buffers are copied', () => {
  const d = new MessageDecoder({ maxPayload: 1000 })
  const frame = Buffer.concat([h('0a 99'), encodeVarint(1000), Buffer.alloc(1000, 7)])
  const out: DecodedMessage[] = []
  const scratch = Buffer.alloc(1)
  for (let round = 0; round < 3; round++) {
    for (const b of frame) {
      scratch[0] = b
      out.push(...d.push(scratch)) // the same buffer, rewritten every time
      assert.ok(d.buffered <= 2 + 5 + 1000)
    }
  }
  assert.equal(out.length, 3)
  for (const m of out) assert.deepEqual(m, { kind: 'unknown', msgClass: 10, msgType: 0x99, payload: Buffer.alloc(1000, 7) })
  assert.equal(d.buffered, 0)
})
