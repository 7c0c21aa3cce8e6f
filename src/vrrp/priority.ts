/**
 * Effective priority from tracked scripts and interfaces, as keepalived's vrrp_track.c.
 */

/** The address owner's priority: never adjusted, immediate master with `state MASTER`. */
export const PRIORITY_OWNER = 255
/** Priority 0 in an advert: the master is stopping. */
export const PRIORITY_STOP = 0

/**
 * What one tracked object contributes while it is `ok` or failing (keepalived
 * process_script_update_priority / initialise_track_*):
 * - weight 0 (or a track_interface without weight): failing means FAULT;
 * - weight > 0: +weight while OK, nothing while failing;
 * - weight < 0: nothing while OK, weight (negative) while failing;
 * - `reverse` swaps the sign (keepalived `weight W reverse`), and for weight 0 swaps OK/fault.
 */
export function trackerContribution (weight: number | undefined, ok: boolean, reverse = false): number | 'fault' {
  const w = weight ?? 0
  if (w === 0) return ok !== reverse ? 0 : 'fault'
  const mult = reverse ? -1 : 1
  if (ok) return w > 0 ? w * mult : 0
  return w < 0 ? w * mult : 0
}

/**
 * base + Σ contributions clamped to 1..254; a base of 255 is never changed
 * (keepalived vrrp_set_effective_priority).
 */
export function computeEffectivePriority (base: number, contributions: readonly number[] = []): number {
  if (base === PRIORITY_OWNER) return PRIORITY_OWNER
  const total = contributions.reduce((a, b) => a + b, base)
  return Math.min(PRIORITY_OWNER - 1, Math.max(1, total))
}
