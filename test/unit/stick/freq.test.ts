/**
 * HAProxy's freq_ctr (update_freq_ctr_period / read_freq_ctr_period, v2.6): hand-computed cases
 * and the decay a real HAProxy 2.6.12 showed (fixtures/haproxy-2.6-cli.json).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { freqFromWire, freqRead, freqSet, freqState, freqToWire, freqTotal, freqUpdate } from '../../../src/stick/freq.ts'

const P = 10000

function counter (): Uint32Array {
  return new Uint32Array(3)
}

test('a fresh counter starts its period at the first event', () => {
  const c = counter()
  // zeroed area: now - 0 >= period, rotate twice ("missed at least two periods"): prev = 0, tick = now
  assert.equal(freqUpdate(c, 0, P, 100000, 1), 1)
  assert.deepEqual(freqState(c, 0), { currTick: 100000, curr: 1, prev: 0 })
  assert.equal(freqUpdate(c, 0, P, 100000, 2), 3)
  assert.equal(freqRead(c, 0, P, 100000), 3)
})

test('within the first period the rate is the count; then the previous period fades out', () => {
  const c = counter()
  freqUpdate(c, 0, P, 100000, 3)
  assert.equal(freqRead(c, 0, P, 105000), 3) // remain 5000: 0*5000 + 3*10000
  // remain = 100000+10000-112500 = -2500 -> 7500, past = 3: 3*7500/10000 = 2.25
  assert.equal(freqRead(c, 0, P, 112500), 2)
  assert.equal(freqTotal(c, 0, P, 112500, -1), 22500)
  assert.equal(freqRead(c, 0, P, 119999), 0) // 3*1/10000
  assert.equal(freqRead(c, 0, P, 120000), 0)
  assert.equal(freqRead(c, 0, P, 130000), 0)
})

test('a single event per period does not flap to 0 (the past <= 1 correction)', () => {
  const c = counter()
  freqUpdate(c, 0, P, 100000, 1)
  assert.equal(freqRead(c, 0, P, 115000), 1) // past 1, curr 0: past * period
  assert.equal(freqRead(c, 0, P, 119999), 1)
  assert.equal(freqRead(c, 0, P, 120001), 0) // two periods: nothing left
  // without the correction (pend >= 0) the same state is 0.5 events
  assert.equal(freqTotal(c, 0, P, 115000, 0), 5000)
})

test('an event in the next period rotates: prev keeps the old count', () => {
  const c = counter()
  freqUpdate(c, 0, P, 100000, 3)
  assert.equal(freqUpdate(c, 0, P, 112000, 1), 1)
  assert.deepEqual(freqState(c, 0), { currTick: 110000, curr: 1, prev: 3 })
  assert.equal(freqRead(c, 0, P, 112000), 3) // 3*8000 + 1*10000 = 34000
  assert.equal(freqRead(c, 0, P, 118000), 1) // 3*2000 + 10000 = 16000
})

test('an event two periods later forgets the old count and restarts at now', () => {
  const c = counter()
  freqUpdate(c, 0, P, 100000, 3)
  freqUpdate(c, 0, P, 125001, 1)
  assert.deepEqual(freqState(c, 0), { currTick: 125000, curr: 1, prev: 0 }) // bit 0 cleared
  assert.equal(freqRead(c, 0, P, 125001), 1)
})

test('the 32-bit tick wraps as HAProxy now_ms does', () => {
  const c = counter()
  const t0 = 2 ** 32 - 6
  freqUpdate(c, 0, P, t0, 4)
  assert.equal(freqRead(c, 0, P, 2 ** 32 + 5000), 4) // 5006 ms later
  assert.equal(freqUpdate(c, 0, P, 2 ** 32 + 5000, 1), 5)
  assert.equal(freqRead(c, 0, P, 2 ** 32 + 20000), 0) // 20006 ms later, remain -6
})

test('set table semantics, and the decay HAProxy 2.6.12 showed (period 5 s, value 10)', () => {
  const c = counter()
  freqSet(c, 0, 1001, 10)
  assert.deepEqual(freqState(c, 0), { currTick: 1000, curr: 10, prev: 0 })
  // fixtures: 6201 ms after `set table t_int key 77 data.sess_rate 10` it read 7, 11209 ms after 0
  assert.equal(freqRead(c, 0, 5000, 1001 + 6201), 7)
  assert.equal(freqRead(c, 0, 5000, 1001 + 11209), 0)
})

test('large counters use exact 64-bit arithmetic, result truncated to 32 bits', () => {
  const c = new Uint32Array([0, 0xffffffff, 0xffffffff])
  const period = 0x7ffffffe
  c[0] = 0
  const now = period + 1000 // one rotation: remain = period - 1000
  const remain = BigInt(period - 1000)
  const total = 0xffffffffn * remain
  assert.equal(freqTotal(c, 0, period, now, -1), Number(total))
  assert.equal(freqRead(c, 0, period, now), Number(BigInt.asUintN(32, total / BigInt(period))))
})

test('wire form: elapsed since the period start, and back on the receiver clock', () => {
  const c = counter()
  freqUpdate(c, 0, P, 50000, 2)
  freqUpdate(c, 0, P, 61000, 5)
  assert.deepEqual(freqToWire(c, 0, 61500), { elapsedMs: 1500, curr: 5, prev: 2 })
  const r = counter()
  freqFromWire(r, 0, 9_000_001, { elapsedMs: 1500, curr: 5, prev: 2 })
  assert.deepEqual(freqState(r, 0), { currTick: 8_998_500, curr: 5, prev: 2 })
  assert.equal(freqRead(r, 0, P, 9_000_001), freqRead(c, 0, P, 61501))
})
