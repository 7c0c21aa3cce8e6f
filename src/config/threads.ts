/**
 * How many proxy threads a configuration runs (`nbthread`), decided in one place for the supervisor (how many sockets
 * each listener's SO_REUSEPORT group has) and the worker (how many threads it starts).
 */
import type { Diagnostics } from './context.ts'
import type { Config } from './model.ts'

/** HAProxy 2.6 accepts up to 64 threads per process. */
export const MAX_THREADS = 64

/** Stick tables live per thread until they can be shared: a configuration with one runs on one thread. */
export function hasStickTables (config: Config): boolean {
  return config.proxies.some(p => p.stickTable !== undefined) || config.peers.some(ps => ps.tables.length > 0)
}

/**
 * `nbthread`, or the default: one thread (HAProxy 2.6 defaults to the CPUs the process may run on; see
 * docs/architecture.md, "Threads").
 */
export function threadCount (config: Config): number {
  return Math.min(MAX_THREADS, Math.max(1, config.global.nbthread ?? 1))
}

/** What `nbthread` above 1 cannot do yet is refused: stick tables, until they live in shared memory. */
export function validateThreads (config: Config, diag: Diagnostics): void {
  const n = config.global.nbthread ?? 1
  if (n <= 1) return
  const loc = config.global.nbthreadLoc ?? { file: config.files[0] ?? '', line: 0 }
  if (hasStickTables(config)) {
    diag.error(loc, `nbthread ${n}: stick tables are not shared between proxy threads yet, and a table per thread ` +
      'would stick and count each thread apart; use nbthread 1 with stick tables')
  }
}
