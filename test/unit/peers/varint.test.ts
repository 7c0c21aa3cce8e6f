import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  U64_MAX, VARINT_MIN_BY_LENGTH, decodeVarint, decodeVarintNumber, encodeVarint, varintLength, varintSpan, writeVarint
} from '../../../src/peers/varint.ts'
import { PeersEncodeError, PeersProtocolError } from '../../../src/peers/errors.ts'

const M64 = (1n << 64n) - 1n

/** A line-by-line port of HAProxy's intencode() with uint64 arithmetic, as an independent oracle. */
function cIntencode (value: bigint): Buffer {
  const out: number[] = []
  let i = value & M64
  if (i < 0xf0n) return Buffer.from([Number(i)])
  out.push(Number((i & 0xffn) | 0xf0n))
  i = ((i - 0xf0n) & M64) >> 4n
  while (i >= 0x80n) {
    out.push(Number((i & 0xffn) | 0x80n))
    i = ((i - 0x80n) & M64) >> 7n
  }
  out.push(Number(i))
  return Buffer.from(out)
}

/** HAProxy's intdecode() (uint64 wrap, no length limit); null when truncated. */
function cIntdecode (buf: Uint8Array): { value: bigint, length: number } | null {
  if (buf.length === 0) return null
  let i = BigInt(buf[0] as number)
  let p = 1
  if (i >= 0xf0n) {
    let shift = 4n
    let c: number
    do {
      if (p >= buf.length) return null
      c = buf[p++] as number
      i = (i + (BigInt(c) << shift)) & M64
      shift += 7n
    } while (c >= 0x80)
  }
  return { value: i, length: p }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

test('the examples verified against HAProxy 2.6.12', () => {
  assert.equal(hex(encodeVarint(0x1234)), 'f49401')
  assert.equal(hex(encodeVarint(30000)), 'f0c40d')
  assert.equal(hex(encodeVarint(5e9)), 'f091bd809400')
  assert.equal(hex(encodeVarint(10000)), 'f0e203')
  assert.equal(hex(encodeVarint(5000)), 'f8a901')
  assert.equal(hex(encodeVarint(9301)), 'f5b603')
  assert.equal(decodeVarint(Buffer.from('f091bd809400', 'hex'))?.value, 5_000_000_000n)
  assert.deepEqual(decodeVarintNumber(Buffer.from('f49401', 'hex')), { value: 0x1234, length: 3 })
})

test('edge values: bytes match the C oracle, and decode back', () => {
  const values = [0n, 1n, 239n, 240n, 241n, 255n, 256n, 2047n, 2287n, 2288n, 264431n, 264432n, 33818863n, 33818864n,
    4328786159n, 4328786160n, (1n << 31n) - 1n, 1n << 31n, (1n << 32n) - 1n, 1n << 32n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n,
    9078122083518703n, 9078122083518704n, 1161999626690365679n, 1161999626690365680n, 1n << 63n, M64 - 1n, M64]
  for (const v of values) {
    const expected = cIntencode(v)
    const got = encodeVarint(v)
    assert.equal(hex(got), hex(expected), `encode ${v}`)
    assert.equal(varintLength(v), expected.length, `length ${v}`)
    if (v <= BigInt(Number.MAX_SAFE_INTEGER)) {
      assert.equal(hex(encodeVarint(Number(v))), hex(expected), `number path ${v}`)
      assert.deepEqual(decodeVarintNumber(got), { value: Number(v), length: got.length })
    }
    assert.deepEqual(decodeVarint(got), { value: v, length: got.length }, `decode ${v}`)
  }
  assert.equal(hex(encodeVarint(239)), 'ef')
  assert.equal(hex(encodeVarint(240)), 'f000')
  assert.equal(hex(encodeVarint(2047)), 'ff70')
  assert.equal(hex(encodeVarint(2 ** 32)), 'f0f1fefe7e') // 5 bytes: below 4328786160
  assert.equal(hex(encodeVarint(2 ** 53)), 'f0f1fefefefefe7e')
  assert.equal(hex(encodeVarint(U64_MAX)), 'fff0fefefefefefefe0e')
  assert.equal(encodeVarint(2 ** 60).length, 9) // an unsafe but exact number goes through bigint
})

test('boundaries: PEER_ENC_nBYTES_MIN from peers.c', () => {
  assert.deepEqual(VARINT_MIN_BY_LENGTH.slice(2), [240n, 2288n, 264432n, 33818864n, 4328786160n, 554084600048n, 70922828777712n,
    9078122083518704n, 1161999626690365680n])
  for (let n = 2; n <= 10; n++) {
    const min = VARINT_MIN_BY_LENGTH[n] as bigint
    assert.equal(varintLength(min), n)
    assert.equal(varintLength(min - 1n), n - 1)
  }
})

test('every 1- to 3-byte string decodes to the value the C decoder gives, and re-encodes to itself', () => {
  const check = (bytes: number[]): void => {
    const b = Buffer.from(bytes)
    const c = cIntdecode(b)
    const ours = decodeVarint(b)
    assert.deepEqual(ours, c, hex(b))
    if (ours !== null && ours.length === b.length) assert.equal(hex(encodeVarint(ours.value)), hex(b), 'bijection')
  }
  for (let a = 0; a < 256; a++) {
    check([a])
    for (let b = 0; b < 256; b++) {
      check([a, b])
      if (a >= 0xf0 && b >= 0x80) for (let c = 0; c < 256; c += 7) check([a, b, c])
    }
  }
})

test('random 64-bit values round-trip and match the oracle', () => {
  let x = 0x9e3779b97f4a7c15n
  for (let k = 0; k < 5000; k++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & M64
    const v = x >> BigInt(k % 64)
    const e = encodeVarint(v)
    assert.equal(hex(e), hex(cIntencode(v)))
    assert.deepEqual(decodeVarint(e), { value: v, length: e.length })
    const buf = Buffer.alloc(12, 0xaa)
    assert.equal(writeVarint(buf, 1, v), 1 + e.length)
    assert.equal(hex(buf.subarray(1, 1 + e.length)), hex(e))
  }
})

test('truncated input means "need more bytes"', () => {
  for (const v of [240n, 5_000_000_000n, M64]) {
    const e = encodeVarint(v)
    for (let cut = 0; cut < e.length; cut++) {
      assert.equal(decodeVarint(e.subarray(0, cut)), null, `${v} cut at ${cut}`)
      assert.equal(decodeVarintNumber(e, 0, cut), null)
      assert.equal(varintSpan(e, 0, cut), 0)
    }
  }
  assert.equal(decodeVarint(Buffer.from([0x05]), 1), null)
})

test('overlong encodings are errors: more than 10 bytes, or 2^64 and above', () => {
  const tooMany = Buffer.from('ff' + '80'.repeat(9) + '00', 'hex')
  assert.throws(() => decodeVarint(tooMany), (e: unknown) => e instanceof PeersProtocolError && e.code === 'TSLB_ERR_PEERS_VARINT_OVERFLOW')
  // The 10th byte still continues: refused at once, without waiting for an 11th.
  assert.throws(() => decodeVarint(tooMany.subarray(0, 10)), { code: 'TSLB_ERR_PEERS_VARINT_OVERFLOW' })
  // 10 bytes whose value wraps past 2^64 (HAProxy would silently wrap it).
  assert.throws(() => decodeVarint(Buffer.from('ff' + 'ff'.repeat(8) + '7f', 'hex')), { code: 'TSLB_ERR_PEERS_VARINT_OVERFLOW' })
  assert.throws(() => decodeVarint(Buffer.from('fff0fefefefefefefe0f', 'hex')), { code: 'TSLB_ERR_PEERS_VARINT_OVERFLOW' })
  assert.equal(decodeVarint(Buffer.from('fff0fefefefefefefe0e', 'hex'))?.value, M64)
  // The number API refuses what it cannot hold exactly.
  assert.throws(() => decodeVarintNumber(encodeVarint(1n << 53n)), { code: 'TSLB_ERR_PEERS_VARINT_RANGE' })
  assert.equal(decodeVarintNumber(encodeVarint(Number.MAX_SAFE_INTEGER))?.value, Number.MAX_SAFE_INTEGER)
})

test('values that cannot be encoded', () => {
  for (const v of [-1, 1.5, Number.NaN, Infinity, 2 ** 64, -1n, 1n << 64n]) {
    assert.throws(() => encodeVarint(v), (e: unknown) => e instanceof PeersEncodeError && e.code === 'TSLB_ERR_PEERS_ENCODE_RANGE', String(v))
  }
})
