import type { Proxy } from './model.ts'

/**
 * HAProxy's automatic proxy ids: explicit `id`s are kept, the others take the first free number
 * from a counter that every proxy advances; the stats socket's own proxy holds #0 and advances it,
 * so with a `stats socket` the first proxy is #2.
 */
export function proxyIds (proxies: readonly Proxy[], statsSocket: boolean): Map<Proxy, number> {
  const used = new Set<number>()
  for (const p of proxies) if (p.id !== undefined) used.add(p.id)
  const ids = new Map<Proxy, number>()
  let next = statsSocket ? 2 : 1
  for (const p of proxies) {
    if (p.id !== undefined) {
      ids.set(p, p.id)
    } else {
      while (used.has(next)) next++
      ids.set(p, next)
      used.add(next)
    }
    next++
  }
  return ids
}
