/**
 * Random and mutated peers streams, cut into random chunks: the decoder must only ever throw
 * PeersProtocolError, keep its buffer bounded, finish, and what it decodes must survive
 * encode → decode unchanged. Seeded: a failure replays.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MessageDecoder, isEncodable } from '../../../src/peers/decoder.ts'
import type { DecodedMessage, MessageDecoderOptions } from '../../../src/peers/decoder.ts'
import { DictTxCache, buildTableDefinition, encodeMessage } from '../../../src/peers/messages.ts'
import type { PeersMessage, PeersTableDefinition, UpdateMessage } from '../../../src/peers/messages.ts'
import { KNOWN_DATA_TYPE_COUNT, PEERS_KEY_TYPE } from '../../../src/peers/data-types.ts'
import { PeersEncodeError, PeersProtocolError } from '../../../src/peers/errors.ts'
import { h, rng } from './helpers.ts'

const tables: PeersTableDefinition[] = [
  buildTableDefinition({
    tableId: 1, name: '/stkt', keyType: PEERS_KEY_TYPE.string, keyLen: 8, expireMs: 30000,
    store: [{ name: 'server_id' }, { name: 'gpc0' }, { name: 'conn_rate', period: 50000 }, { name: 'bytes_out_cnt' }, { name: 'server_key' },
      { name: 'gpc', count: 2 }, { name: 'gpc_rate', count: 1, period: 1000 }]
  }),
  buildTableDefinition({ tableId: 2, name: 't_ip', keyType: PEERS_KEY_TYPE.ip, keyLen: 4, expireMs: 0, store: [{ name: 'conn_cur' }, { name: 'http_req_rate', period: 10000 }] }),
  buildTableDefinition({ tableId: 3, name: 'bin', keyType: PEERS_KEY_TYPE.binary, keyLen: 5, expireMs: 1, store: [{ name: 'gpt', count: 3 }] }),
  buildTableDefinition({ tableId: 4, name: 'int', keyType: PEERS_KEY_TYPE.integer, keyLen: 4, expireMs: 2, store: [] })
]

/** A valid stream exercising every message kind. */
function corpus (): Buffer {
  const dict = new DictTxCache(4)
  const out: Buffer[] = [h('00 00 00 04 01 00 00 03 05 05 0a 90 02 abcd')]
  const [str, ip, bin, int] = tables as [PeersTableDefinition, PeersTableDefinition, PeersTableDefinition, PeersTableDefinition]
  for (const t of tables) out.push(encodeMessage({ kind: 'define', table: t }))
  out.push(encodeMessage({ kind: 'switch', tableId: 1 }))
  const upd = (table: PeersTableDefinition, i: number, key: UpdateMessage['key'], values: UpdateMessage['values']): Buffer =>
    encodeMessage({ kind: 'update', table, updateId: 100 + i, withId: i % 3 === 0, expireMs: i % 2 === 0 ? 1000 * i : undefined, key, values })
  for (let i = 0; i < 8; i++) {
    out.push(upd(str, i, { type: 'string', bytes: Buffer.from(`key${i}`) }, [
      { dataType: 0, kind: 'sint', value: i - 2 },
      { dataType: 2, kind: 'uint', value: i * 1000 },
      { dataType: 5, kind: 'frqp', value: { elapsedMs: i * 77, curr: i, prev: 2 * i } },
      { dataType: 15, kind: 'ull', value: 1n << BigInt(i * 8) },
      { dataType: 19, kind: 'dict', value: i === 5 ? null : dict.reference(`srv${i % 6}`) },
      { dataType: 23, kind: 'uint[]', value: [i, 300] },
      { dataType: 24, kind: 'frqp[]', value: [{ elapsedMs: 1, curr: 2, prev: 3 }] }
    ]))
  }
  out.push(encodeMessage({ kind: 'switch', tableId: 2 }))
  out.push(upd(ip, 0, { type: 'ip', bytes: h('c0a80001') }, [{ dataType: 6, kind: 'uint', value: 3 }, { dataType: 10, kind: 'frqp', value: { elapsedMs: 5, curr: 6, prev: 7 } }]))
  out.push(encodeMessage({ kind: 'switch', tableId: 3 }))
  out.push(upd(bin, 1, { type: 'binary', bytes: h('0102') }, [{ dataType: 22, kind: 'uint[]', value: [1, 2, 3] }]))
  out.push(encodeMessage({ kind: 'switch', tableId: 4 }))
  out.push(upd(int, 2, { type: 'integer', value: 42 }, []))
  out.push(encodeMessage({ kind: 'ack', tableId: 2, updateId: 0xfffffffe }))
  out.push(h('00 01 00 02'))
  return Buffer.concat(out)
}

type Rand = () => number

function mutate (base: Buffer, r: Rand): Buffer {
  const b = Buffer.from(base)
  const int = (n: number): number => Math.floor(r() * n)
  switch (int(7)) {
    case 0: { // flip a few bytes
      for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] = int(256)
      return b
    }
    case 1: { // interesting bytes
      const nasty = [0x00, 0x01, 0x7f, 0x80, 0x81, 0xef, 0xf0, 0xff, 0x0a, 0x82, 0x85, 0x86]
      for (let k = 1 + int(3); k > 0; k--) b[int(b.length)] = nasty[int(nasty.length)] as number
      return b
    }
    case 2: return b.subarray(0, int(b.length)) // truncate
    case 3: { // delete a range
      const at = int(b.length)
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(16))])
    }
    case 4: { // insert random bytes
      const at = int(b.length)
      const ins = Buffer.from(Array.from({ length: 1 + int(12) }, () => int(256)))
      return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)])
    }
    case 5: { // duplicate a range
      const at = int(b.length)
      const len = 1 + int(40)
      return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)])
    }
    default: return Buffer.from(Array.from({ length: int(300) }, () => int(256))) // pure noise
  }
}

function chunks (b: Buffer, r: Rand): Buffer[] {
  const out: Buffer[] = []
  let i = 0
  while (i < b.length) {
    const n = r() < 0.3 ? 1 : 1 + Math.floor(r() * 64)
    out.push(b.subarray(i, i + n))
    i += n
  }
  return out
}

/** Decodes the chunks; returns the messages decoded before the end or the first error. */
function run (parts: readonly Buffer[], opts: MessageDecoderOptions, maxPayload: number): { msgs: DecodedMessage[], error: PeersProtocolError | undefined } {
  const d = new MessageDecoder(opts)
  const msgs: DecodedMessage[] = []
  for (const p of parts) {
    const { messages, error } = d.feed(p)
    msgs.push(...messages)
    if (error !== undefined) {
      assert.match(error.code, /^TSLB_ERR_PEERS_/)
      return { msgs, error }
    }
    assert.ok(d.buffered <= 2 + 5 + maxPayload, `buffered ${d.buffered}`)
  }
  return { msgs, error: undefined }
}

/** encode(decoded) decodes to the same messages, up to the first one that cannot be sent back. */
function checkRoundTrip (msgs: readonly DecodedMessage[], opts: MessageDecoderOptions): void {
  const kept: PeersMessage[] = []
  const bytes: Buffer[] = []
  for (const m of msgs) {
    if (m.kind === 'update-ignored') continue // no state change: leave it out of both sides
    if (!isEncodable(m)) break
    if (m.kind === 'update' && m.table.dataMask >> BigInt(KNOWN_DATA_TYPE_COUNT) !== 0n) break
    try {
      bytes.push(encodeMessage(m, { maxPayload: 1 << 20 }))
    } catch (e) {
      assert.ok(e instanceof PeersEncodeError)
      assert.fail(`decoded message does not re-encode: ${e.message}`)
    }
    kept.push(m)
  }
  const again = new MessageDecoder({ ...opts, maxPayload: 1 << 20 }).push(Buffer.concat(bytes)).filter(m => m.kind !== 'update-ignored')
  assert.deepEqual(again, kept)
}

test('the corpus itself decodes completely and round-trips byte for byte', () => {
  const c = corpus()
  const { msgs, error } = run([c], {}, 16384)
  assert.equal(error, undefined)
  assert.equal(msgs.filter(m => m.kind === 'update').length, 11)
  assert.equal(Buffer.concat(msgs.map(m => encodeMessage(m as PeersMessage))).toString('hex'), c.toString('hex'))
})

test('mutated and random streams: only PeersProtocolError, bounded buffer, stable round-trip', { timeout: 120_000 }, () => {
  const base = corpus()
  const r = rng(0x5eed)
  const names = new Map(tables.map(t => [t.name, { keyType: t.keyType, keyLen: t.keyLen }]))
  const stats = { errors: new Map<string, number>(), clean: 0 }
  for (let iter = 0; iter < 10000; iter++) {
    const stream = mutate(base, r)
    const maxPayload = r() < 0.2 ? 1 + Math.floor(r() * 64) : 16384
    const opts: MessageDecoderOptions = { maxPayload, ...(r() < 0.5 ? { resolveTable: (n: string) => names.get(n) } : {}) }
    const parts = chunks(stream, r)
    const { msgs, error } = run(parts, opts, maxPayload)
    if (error === undefined) stats.clean++
    else stats.errors.set(error.code, (stats.errors.get(error.code) ?? 0) + 1)
    // Chunking never changes the outcome.
    const whole = run([stream], opts, maxPayload)
    assert.deepEqual(whole.msgs, msgs, `iteration ${iter}`)
    assert.equal(whole.error?.code, error?.code)
    checkRoundTrip(msgs, opts)
  }
  if (process.env.PEERS_FUZZ_STATS !== undefined) console.log(stats)
  // The fuzzer reached both outcomes and several error kinds.
  assert.ok(stats.clean > 100, `clean ${stats.clean}`)
  assert.ok(stats.errors.size >= 4, JSON.stringify([...stats.errors]))
})

test('pure noise, byte by byte', { timeout: 60_000 }, () => {
  const r = rng(42)
  for (let iter = 0; iter < 300; iter++) {
    const noise = Buffer.from(Array.from({ length: 2000 }, () => Math.floor(r() * 256)))
    const parts = Array.from(noise, b => Buffer.of(b))
    run(parts, {}, 16384)
  }
})
