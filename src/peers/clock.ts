/**
 * The time source of the peers sessions and sync engine, injected so the state machines run
 * deterministically under test (a manual clock) and on the real event loop in production.
 *
 * `now()` must be the clock the stick tables are given (`StickTable` operations take `now`):
 * frequency counters and expiries cross the wire as durations relative to it. The proxy engine
 * uses `Date.now()`, which is the default here.
 * @module
 */

/** An opaque timer handle. */
export interface PeersTimer {
  readonly cancelled?: boolean
}

export interface PeersClock {
  /** Integer ms, the stick tables' clock. */
  now (): number
  /** Wall-clock epoch ms, for dates printed by `show peers`. */
  wallNow (): number
  /** Runs `fn` once after `ms` (never keeps the process alive). */
  setTimer (fn: () => void, ms: number): PeersTimer
  clearTimer (timer: PeersTimer): void
  /** Runs `fn` on a later turn of the event loop (setImmediate): lets I/O and timers run in between. */
  defer (fn: () => void): void
  /** Uniform in [0, 1): jitter of the collision back-off. */
  random (): number
}

interface NodeTimer extends PeersTimer {
  readonly handle: NodeJS.Timeout
}

/** The event loop's clock: `Date.now()`, unref'd timers, setImmediate. */
export const systemClock: PeersClock = {
  now: () => Date.now(),
  wallNow: () => Date.now(),
  setTimer (fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms))
    handle.unref()
    const t: NodeTimer = { handle }
    return t
  },
  clearTimer (timer) {
    const t = timer as Partial<NodeTimer>
    if (t.handle !== undefined) clearTimeout(t.handle)
  },
  defer (fn) {
    setImmediate(fn)
  },
  random: () => Math.random()
}
