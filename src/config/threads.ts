/**
 * How many proxy threads a configuration runs (`nbthread`), decided in one place for the supervisor (how many sockets
 * each listener's SO_REUSEPORT group has) and the worker (how many threads it starts).
 */
import type { Config } from './model.ts'

/** HAProxy 2.6 accepts up to 64 threads per process. */
export const MAX_THREADS = 64

/**
 * `nbthread`, or the default: one thread (HAProxy 2.6 defaults to the CPUs the process may run on; see
 * docs/architecture.md, "Threads").
 */
export function threadCount (config: Config): number {
  return Math.min(MAX_THREADS, Math.max(1, config.global.nbthread ?? 1))
}
