/**
 * The server-side TLS session cache (`tune.ssl.cachesize` entries, `tune.ssl.lifetime`): used
 * for session-ID resumption and TLSv1.3 stateful tickets, i.e. when tickets are off. One per
 * `bind` line in a worker: it is not shared between workers nor kept across a reload (tickets are).
 */
export class SessionCache {
  private readonly entries = new Map<string, { data: Buffer, expires: number }>()
  private readonly size: number
  private readonly lifetimeMs: number
  private readonly now: () => number

  constructor (size: number, lifetimeMs: number, now: () => number = Date.now) {
    this.size = size
    this.lifetimeMs = lifetimeMs
    this.now = now
  }

  set (id: Buffer, data: Buffer): void {
    if (this.size === 0) return
    const key = id.toString('hex')
    this.entries.delete(key)
    this.entries.set(key, { data, expires: this.now() + this.lifetimeMs })
    // Map order is insertion order: the first key is the least recently stored.
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value as string)
  }

  get (id: Buffer): Buffer | undefined {
    const key = id.toString('hex')
    const e = this.entries.get(key)
    if (e === undefined) return undefined
    if (e.expires <= this.now()) {
      this.entries.delete(key)
      return undefined
    }
    return e.data
  }

  get length (): number {
    return this.entries.size
  }
}
