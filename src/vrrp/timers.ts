/**
 * VRRP timer arithmetic exactly as keepalived 2.2.7 does it (include/vrrp.h): microsecond
 * integers, the same roundings, then milliseconds for the caller's clock.
 *
 *   Skew_Time            v2: (256 - Priority) / 256 s                      (RFC 3768 §6.1)
 *                        v3: ((256 - Priority) * Master_Adver_Interval) / 256  (RFC 5798 §6.1)
 *   Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time
 *
 * keepalived: VRRP_TIMER_SKEW_CALC = v3 ? pri * (mai / 10000) * 625 / 16 : pri * 1000000 / 256
 * (µs, integer division), VRRP_MS_DOWN_TIMER = down_timer_adverts * mai + skew.
 */

/** Default number of advert intervals in the master-down interval (keepalived down_timer_adverts). */
export const DOWN_TIMER_ADVERTS = 3

/** The advertisement interval keepalived actually uses for this version, and a warning if it changed it. */
export function normalizeAdvertInterval (version: 2 | 3, ms: number): { readonly ms: number,
  readonly warning?: string } {
  const us = Math.round(ms * 1000)
  if (version === 2) {
    if (us >= 256 * 1_000_000) return { ms: 255_000, warning:
      `VRRPv2 advertisement interval ${ms / 1000}s is out of range; must be less than 256s; using 255s` }
    if (us % 1_000_000 !== 0) {
      const r = Math.max(1_000_000, Math.round(us / 1_000_000) * 1_000_000)
      return { ms: r / 1000, warning:
        `VRRPv2 advertisement interval ${ms / 1000}s must be an integer; rounded to ${r / 1_000_000}s` }
    }
    return { ms: Math.max(us, 1_000_000) / 1000 }
  }
  if (us >= 4096 * 10_000) return { ms: 40_950, warning:
    `VRRPv3 advertisement interval ${ms / 1000}s is out of range; must be less than 40.96s; using 40.95s` }
  if (us % 10_000 !== 0) {
    const r = Math.max(10_000, Math.round(us / 10_000) * 10_000)
    return { ms: r / 1000, warning:
      `VRRPv3 advertisement interval ${ms / 1000}s must be in units of 10ms; rounded to ${r / 1000}ms` }
  }
  return { ms: Math.max(us, 10_000) / 1000 }
}

function skewUs (version: 2 | 3, priority: number, masterAdvertIntervalMs: number): number {
  const p = 256 - priority
  if (version === 2) return Math.floor(p * 1_000_000 / 256)
  const cs = Math.floor(Math.round(masterAdvertIntervalMs * 1000) / 10_000)
  return Math.floor(p * cs * 625 / 16)
}

/** Skew_Time in ms (fractional), from the effective priority and the master's advert interval. */
export function skewTimeMs (version: 2 | 3, priority: number, masterAdvertIntervalMs: number): number {
  return skewUs(version, priority, masterAdvertIntervalMs) / 1000
}

/** Master_Down_Interval in ms (fractional). */
export function masterDownIntervalMs (version: 2 | 3, priority: number, masterAdvertIntervalMs: number,
  downTimerAdverts = DOWN_TIMER_ADVERTS): number {
  return (downTimerAdverts * Math.round(masterAdvertIntervalMs * 1000) + skewUs(version, priority,
    masterAdvertIntervalMs)) / 1000
}
