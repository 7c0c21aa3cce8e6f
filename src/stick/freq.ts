/**
 * HAProxy's period frequency counters (`struct freq_ctr`, include/haproxy/freq_ctr.h and
 * src/freq_ctr.c, v2.6), bit for bit, so that a rate read here equals the one HAProxy reads from
 * the same three numbers, and the peers protocol can carry them unchanged.
 *
 * A counter is three unsigned 32-bit words stored in a `Uint32Array` at `o`, `o+1`, `o+2`:
 * - `curr_tick`: start of the current period, in ms on the table's clock (wrapping at 2^32; bit 0
 *   is always clear, HAProxy uses it as a lock);
 * - `curr_ctr`: events counted in the current period;
 * - `prev_ctr`: events counted in the previous period.
 *
 * The rate over `period` is a sliding window: the current period's events plus the previous
 * period's, weighted by the part of the previous period still inside the window
 * (`read_freq_ctr_period()`); a value of 0 or 1 left from the previous period is reported as is, so
 * a rate of one event per period does not flap between 0 and 1.
 *
 * `now` is the table clock in integer ms; only its low 32 bits matter (HAProxy's `now_ms`).
 * @module
 */

const TICK = 0
const CURR = 1
const PREV = 2

/** The counter as the peers protocol sends it: `now - curr_tick`, `curr_ctr`, `prev_ctr`. */
export interface FreqCounterWire {
  /** ms since the current period started (u32). */
  readonly elapsedMs: number
  readonly curr: number
  readonly prev: number
}

/** `update_freq_ctr_period()`: counts `inc` events at `now`, rotating periods as needed. */
export function freqUpdate (a: Uint32Array, o: number, period: number, now: number, inc: number): number {
  const n = now >>> 0
  let tick = a[o + TICK] as number
  if (((n - tick) >>> 0) < period) {
    a[o + CURR] = (a[o + CURR] as number) + inc
    return a[o + CURR] as number
  }
  a[o + PREV] = a[o + CURR] as number
  a[o + CURR] = inc
  tick = (tick + period) >>> 0
  if (((n - tick) >>> 0) >= period) {
    // at least two periods missed
    a[o + PREV] = 0
    tick = n
  }
  a[o + TICK] = tick & ~1
  return inc >>> 0
}

/**
 * `freq_ctr_total()`: events over the current and the previous period times `period`, with
 * `pend` pending events; `pend < 0` enables the low-rate flapping correction (used for reads).
 */
export function freqTotal (a: Uint32Array, o: number, period: number, now: number, pend: number): number {
  let curr = a[o + CURR] as number
  let past = a[o + PREV] as number
  let remain = ((a[o + TICK] as number) + period - (now >>> 0)) | 0
  if (remain < 0) {
    // past the first period: report a part of the last one, or nothing if too far away
    remain += period
    past = remain >= 0 ? curr : 0
    curr = 0
  }
  if (pend < 0) {
    pend = 0
    if (curr === 0 && past <= 1) return past * period
  }
  // C computes this in unsigned 64-bit arithmetic; past is 0 whenever remain is still < 0
  const total = past * (remain < 0 ? 0 : remain) + (curr + pend) * period
  if (total <= Number.MAX_SAFE_INTEGER) return total
  return Number(BigInt(past) * BigInt(remain < 0 ? 0 : remain) + BigInt(curr + pend) * BigInt(period))
}

/** `read_freq_ctr_period()`: the rate over `period` at `now`, an unsigned 32-bit integer. */
export function freqRead (a: Uint32Array, o: number, period: number, now: number): number {
  const total = freqTotal(a, o, period, now, -1)
  return Math.floor(total / period) >>> 0
}

/**
 * What `set table ... data.<rate> V` does: V events in a period starting now and nothing before,
 * so the rate reads V for a whole period, then fades out over the next one.
 */
export function freqSet (a: Uint32Array, o: number, now: number, value: number): void {
  a[o + TICK] = (now >>> 0) & ~1
  a[o + PREV] = 0
  a[o + CURR] = value
}

/** The counter in wire form at `now` (`peer_prepare_updatemsg()`). */
export function freqToWire (a: Uint32Array, o: number, now: number): FreqCounterWire {
  return { elapsedMs: ((now >>> 0) - (a[o + TICK] as number)) >>> 0, curr: a[o + CURR] as number,
    prev: a[o + PREV] as number }
}

/** A counter received from a peer at `now` (`peer_treat_updatemsg()`): curr_tick = now - elapsed. */
export function freqFromWire (a: Uint32Array, o: number, now: number, w: FreqCounterWire): void {
  a[o + TICK] = ((now >>> 0) - (w.elapsedMs >>> 0)) & ~1
  a[o + CURR] = w.curr
  a[o + PREV] = w.prev
}

/** Raw state, for tests and diagnostics. */
export function freqState (a: Uint32Array, o: number): { readonly currTick: number, readonly curr: number,
  readonly prev: number } {
  return { currTick: a[o + TICK] as number, curr: a[o + CURR] as number, prev: a[o + PREV] as number }
}
