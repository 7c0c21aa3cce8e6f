/**
 * Listener ids (`so_id`), as HAProxy numbers the listening sockets of one frontend: one per
 * address and port of each `bind` line in order; `bind … id N` fixes a socket's id (a line with
 * a single socket only), the others take the first number from 1 that no earlier socket and no
 * `id` holds.
 */
import type { Bind } from './model.ts'

/** The number of listening sockets a `bind` line opens. */
export function socketCount (bind: Bind): number {
  let n = 0
  for (const a of bind.addresses) n += (a.portEnd ?? a.port ?? 0) - (a.port ?? 0) + 1
  return n
}

/** Per `bind` line, the ids of its sockets (in address, then port order). */
export function listenerIds (binds: readonly Bind[]): number[][] {
  const used = new Set<number>()
  for (const b of binds) if (typeof b.options.id === 'string') used.add(Number(b.options.id))
  let next = 1
  return binds.map(b => {
    if (typeof b.options.id === 'string') return [Number(b.options.id)]
    const ids: number[] = []
    for (let i = socketCount(b); i > 0; i--) {
      while (used.has(next)) next++
      used.add(next)
      ids.push(next)
    }
    return ids
  })
}
