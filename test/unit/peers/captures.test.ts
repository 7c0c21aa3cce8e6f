/**
 * Every hex capture of the protocol notes (/work/shared/reference/haproxy-peers-protocol.md,
 * recorded against HAProxy 2.6.12): decoded, checked field by field, re-encoded byte-identical.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MessageDecoder } from '../../../src/peers/decoder.ts'
import type { DecodedMessage } from '../../../src/peers/decoder.ts'
import { buildTableDefinition, encodeMessage } from '../../../src/peers/messages.ts'
import type { PeersTableDefinition, UpdateMessage } from '../../../src/peers/messages.ts'
import { PEERS_KEY_TYPE, STKTABLE_DT, haproxyKeyLen } from '../../../src/peers/data-types.ts'
import { encodeAll, h } from './helpers.ts'

const DEFINE_T_IP = '0a 82 12 02 04"t_ip" 04 04 f5b603 f0c40d 0a f0e203'
const UPDATE_T_IP = '0a 80 19 00000001 0a000001 03 07 fc03 00 f1a0c448 00 00 f091bd809400'

function one (d: MessageDecoder, hex: string): DecodedMessage {
  const msgs = d.push(h(hex))
  assert.equal(msgs.length, 1)
  const m = msgs[0] as DecodedMessage
  assert.equal(encodeAll([m])[0]?.toString('hex'), h(hex).toString('hex'), 're-encodes byte-identical')
  return m
}

test('DEFINE of t_ip: id 2, ipv4 key, bits 0,2,4,6,10,13, expire 30s, http_req_rate period 10s', () => {
  const m = one(new MessageDecoder(), DEFINE_T_IP)
  assert.equal(m.kind, 'define')
  const t = m.table
  assert.equal(t.tableId, 2)
  assert.equal(t.name, 't_ip')
  assert.equal(t.keyType, PEERS_KEY_TYPE.ip)
  assert.equal(t.keyLen, 4)
  assert.equal(t.dataMask, (1n << 0n) | (1n << 2n) | (1n << 4n) | (1n << 6n) | (1n << 10n) | (1n << 13n))
  assert.equal(t.expireMs, 30000)
  assert.deepEqual(t.params, [{ dataType: STKTABLE_DT.HTTP_REQ_RATE, period: 10000 }])
  // What HAProxy builds from the configuration gives the same bytes.
  const built = buildTableDefinition({
    tableId: 2,
    name: 't_ip',
    keyType: PEERS_KEY_TYPE.ip,
    keyLen: haproxyKeyLen('ip', undefined),
    expireMs: 30000,
    store: [{ name: 'server_id' }, { name: 'gpc0' }, { name: 'conn_cnt' }, { name: 'conn_cur' }, { name: 'http_req_rate', period: 10000 }, { name: 'bytes_in_cnt' }]
  })
  assert.deepEqual(built, t)
  assert.equal(encodeMessage({ kind: 'define', table: built }).toString('hex'), h(DEFINE_T_IP).toString('hex'))
})

test('incremental push 0x80 on t_ip: id 1, key 10.0.0.1, every value', () => {
  const d = new MessageDecoder()
  one(d, DEFINE_T_IP)
  const m = one(d, UPDATE_T_IP)
  assert.equal(m.kind, 'update')
  assert.equal(m.table.name, 't_ip')
  assert.equal(m.updateId, 1)
  assert.equal(m.withId, true)
  assert.equal(m.expireMs, undefined)
  assert.deepEqual(m.key, { type: 'ip', bytes: h('0a000001') })
  assert.deepEqual(m.values, [
    { dataType: STKTABLE_DT.SERVER_ID, kind: 'sint', value: 3 },
    { dataType: STKTABLE_DT.GPC0, kind: 'uint', value: 7 },
    { dataType: STKTABLE_DT.CONN_CNT, kind: 'uint', value: 300 },
    { dataType: STKTABLE_DT.CONN_CUR, kind: 'uint', value: 0 },
    { dataType: STKTABLE_DT.HTTP_REQ_RATE, kind: 'frqp', value: { elapsedMs: 19278577, curr: 0, prev: 0 } },
    { dataType: STKTABLE_DT.BYTES_IN_CNT, kind: 'ull', value: 5_000_000_000n }
  ])
  assert.equal(d.tables.lastUpdateId('t_ip'), 1)
})

test('parameter blocks of gpc(3),gpc_rate(2,5s): 17 03 18 02 f8a901', () => {
  const def = buildTableDefinition({
    tableId: 1, name: '/stkt', keyType: PEERS_KEY_TYPE.string, keyLen: haproxyKeyLen('string', undefined), expireMs: 0,
    store: [{ name: 'gpc_rate', period: 5000, count: 2 }, { name: 'gpc', count: 3 }]
  })
  assert.deepEqual(def.params, [{ dataType: 23, nbelem: 3 }, { dataType: 24, nbelem: 2, period: 5000 }])
  const bytes = encodeMessage({ kind: 'define', table: def })
  assert.equal(bytes.subarray(bytes.length - 7).toString('hex'), '17031802f8a901')
  // bitfield bits 23, 24 and expire 0 before them
  assert.equal(bytes.toString('hex'), h('0a 82 15 01 05"/stkt" 06 20 f0f1fe5e 00 17 03 18 02 f8a901').toString('hex'))
  const [m] = new MessageDecoder().push(bytes)
  assert.deepEqual(m, { kind: 'define', table: def })
})

test('ACK: 0a 84 05 07 000003e8', () => {
  assert.deepEqual(one(new MessageDecoder(), '0a 84 05 07 000003e8'), { kind: 'ack', tableId: 7, updateId: 1000 })
})

test('resync teach: 0x85 with id and expire, then 0x86 with the implied next id', () => {
  // The notes do not show the DEFINE before these; a string table with two one-varint types fits
  // them (assumed: gpc0 and conn_cnt; any two of gpt0/gpc0/conn_cnt/... decode the same way).
  const def: PeersTableDefinition = buildTableDefinition({
    tableId: 0x12, name: 'st_str', keyType: PEERS_KEY_TYPE.string, keyLen: 32, expireMs: 60000, store: [{ name: 'gpc0' }, { name: 'conn_cnt' }]
  })
  const d = new MessageDecoder()
  d.push(encodeMessage({ kind: 'define', table: def }))
  const a = one(d, '0a 85 12 00000003 0000af23 07"fromold" 05 06') as UpdateMessage
  assert.equal(a.kind, 'update')
  assert.deepEqual([a.updateId, a.withId, a.expireMs], [3, true, 0xaf23])
  assert.deepEqual(a.key, { type: 'string', bytes: Buffer.from('fromold') })
  assert.deepEqual(a.values.map(v => v.value), [5, 6])
  const b = one(d, '0a 86 0b 0000766f 04"old2" 03 04') as UpdateMessage
  assert.deepEqual([b.updateId, b.withId, b.expireMs], [4, false, 0x766f])
  assert.deepEqual(b.key, { type: 'string', bytes: Buffer.from('old2') })
  assert.deepEqual(b.values.map(v => v.value), [3, 4])
})

test('an entry learned from a peer keeps its id 2^31+1 in a full teach', () => {
  const d = new MessageDecoder()
  d.push(h(DEFINE_T_IP))
  const bytes = h('0a 85 16 80000001 00007530 0a000002 01 00 01 00 f000 00 00 f000')
  const m = one(d, bytes.toString('hex')) as UpdateMessage
  assert.equal(m.updateId, 2147483649)
  assert.equal(m.expireMs, 30000)
})

test('control and error messages', () => {
  const d = new MessageDecoder()
  const msgs = d.push(h('00 00 00 01 00 02 00 03 00 04 01 00 01 01'))
  assert.deepEqual(msgs, [
    { kind: 'control', type: 'resync-request' },
    { kind: 'control', type: 'resync-finished' },
    { kind: 'control', type: 'resync-partial' },
    { kind: 'control', type: 'resync-confirm' },
    { kind: 'control', type: 'heartbeat' },
    { kind: 'error', type: 'protocol' },
    { kind: 'error', type: 'size-limit' }
  ])
  assert.equal(Buffer.concat(encodeAll(msgs)).toString('hex'), '00000001000200030004' + '01000101')
})

test('the whole capture stream in one push, and byte by byte', () => {
  const stream = h(`${DEFINE_T_IP} ${UPDATE_T_IP} 0a 84 05 07 000003e8 00 04`)
  const whole = new MessageDecoder().push(stream)
  const d = new MessageDecoder()
  const bytewise: DecodedMessage[] = []
  for (const b of stream) bytewise.push(...d.push(Uint8Array.of(b)))
  assert.deepEqual(bytewise, whole)
  assert.equal(Buffer.concat(encodeAll(whole)).toString('hex'), stream.toString('hex'))
})
