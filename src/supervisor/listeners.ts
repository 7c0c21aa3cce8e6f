/**
 * The supervisor's listener registry: one bound socket per distinct bind address, kept across
 * reloads (unchanged addresses reuse their socket, new ones are bound, removed ones released).
 */
import type { Config } from '../config/model.ts'
import { listenerKey } from '../ipc/messages.ts'
import { bindTcp, type TcpHandle } from '../net/listen-handle.ts'

export interface ListenerSpec {
  /** Stable identity of the socket: `host|port`. */
  readonly key: string
  readonly host: string
  readonly port: number
  readonly family: 0 | 4 | 6
}

/** Every address the configuration's frontends and listens bind, ranges expanded. */
export function listenerSpecs (config: Config): ListenerSpec[] {
  const specs = new Map<string, ListenerSpec>()
  for (const p of config.proxies) {
    if (p.kind !== 'frontend' && p.kind !== 'listen') continue
    for (const b of p.binds) {
      for (const a of b.addresses) {
        for (let port = a.port ?? 0; port <= (a.portEnd ?? a.port ?? 0); port++) {
          const key = listenerKey(a.host, port)
          specs.set(key, { key, host: a.host, port, family: a.family })
        }
      }
    }
  }
  return [...specs.values()]
}

export class ListenerRegistry {
  private readonly handles = new Map<string, TcpHandle>()

  /** Binds what `specs` adds; returns the handles for all of them. Throws (binding nothing new) on failure. */
  acquire (specs: readonly ListenerSpec[]): Map<string, TcpHandle> {
    const fresh: TcpHandle[] = []
    const result = new Map<string, TcpHandle>()
    try {
      for (const s of specs) {
        let h = this.handles.get(s.key)
        if (h === undefined) {
          h = bindTcp(s.host, s.port, s.family)
          fresh.push(h)
          this.handles.set(s.key, h)
        }
        result.set(s.key, h)
      }
    } catch (err) {
      for (const h of fresh) {
        for (const [k, v] of this.handles) if (v === h) this.handles.delete(k)
        h.close()
      }
      throw err
    }
    return result
  }

  /** Closes the sockets not in `keep` (after the generation that used them has drained). */
  release (keep: ReadonlySet<string>): void {
    for (const [key, h] of this.handles) {
      if (!keep.has(key)) {
        this.handles.delete(key)
        h.close()
      }
    }
  }

  closeAll (): void {
    this.release(new Set())
  }
}
