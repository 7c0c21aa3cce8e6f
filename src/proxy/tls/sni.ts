/**
 * Which certificate answers a ClientHello's server name, as HAProxy chooses: an exact name first,
 * then a wildcard (`*.example.com` covers one label), the first declared winning among equals; a
 * crt-list `!name` filter keeps its certificate out for that name. No match: the default (the
 * first certificate), unless `strict-sni`.
 */
export interface SniCandidate {
  /** Names (or crt-list filters) in lower case, `!name` excluding. */
  readonly names: readonly string[]
}

export class SniSelector<T extends SniCandidate> {
  private readonly exact = new Map<string, T[]>()
  private readonly wildcard = new Map<string, T[]>()
  private readonly excluded = new Map<T, Set<string>>()
  readonly fallback: T | undefined

  constructor (candidates: readonly T[]) {
    this.fallback = candidates[0]
    for (const c of candidates) {
      const out = new Set<string>()
      for (const n of c.names) {
        if (n.startsWith('!')) { out.add(n.slice(1)); continue }
        const [map, key] = n.startsWith('*.') ? [this.wildcard, n.slice(2)] : [this.exact, n]
        const list = map.get(key) ?? []
        list.push(c)
        map.set(key, list)
      }
      if (out.size > 0) this.excluded.set(c, out)
    }
  }

  /** The certificate for `servername`; undefined when none matches (the caller decides on the default). */
  match (servername: string | undefined): T | undefined {
    if (servername === undefined || servername === '') return undefined
    const name = servername.toLowerCase().replace(/\.$/, '')
    const allowed = (c: T): boolean => this.excluded.get(c)?.has(name) !== true
    const exact = this.exact.get(name)?.find(allowed)
    if (exact !== undefined) return exact
    const dot = name.indexOf('.')
    return dot < 0 ? undefined : this.wildcard.get(name.slice(dot + 1))?.find(allowed)
  }
}
