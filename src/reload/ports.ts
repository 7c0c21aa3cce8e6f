import type { ListenerSpec } from '../supervisor/listeners.ts'

/** `*:80, 198.18.0.11:8080` for step lines. */
export function describeListeners (specs: readonly ListenerSpec[]): string {
  return specs.map(s => `${s.host === '' ? '*' : s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`).join(', ')
}

/** `specs` without repeated keys (first wins). */
export function uniqueListeners (specs: readonly ListenerSpec[]): ListenerSpec[] {
  return [...new Map(specs.map(s => [s.key, s])).values()]
}
