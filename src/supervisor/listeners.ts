/**
 * The supervisor's listener registry: per distinct bind address, a SO_REUSEPORT group of bound sockets (one per proxy
 * thread), kept across reloads (unchanged addresses reuse their group, which only grows while the address stays
 * bound; new ones are bound, removed ones released).
 */
import type { Address, Config } from '../config/model.ts'
import { addressKey, memberKey } from '../ipc/messages.ts'
import { threadCount } from '../config/threads.ts'
import { bindTcp, openInheritedSocket, type TcpHandle } from '../net/listen-handle.ts'

export interface ListenerSpec {
  /** Stable identity of the socket: `host|port`, or `fd@N` for an inherited one. */
  readonly key: string
  readonly host: string
  readonly port: number
  readonly family: 0 | 4 | 6
  readonly fd?: number
  /** Sockets the group should have at least (the threads that listen on it); 1 for `fd@N` and stats sockets. */
  readonly sockets: number
}

/** Every address the configuration's frontends and listens bind, ranges expanded, and the TCP or fd@ stats sockets. */
export function listenerSpecs (config: Config): ListenerSpec[] {
  const specs = new Map<string, ListenerSpec>()
  const threads = threadCount(config)
  const add = (a: Address, sockets: number): void => {
    for (let port = a.port ?? 0; port <= (a.portEnd ?? a.port ?? 0); port++) {
      const key = addressKey(a, port)
      const n = a.fd === undefined ? Math.max(sockets, specs.get(key)?.sockets ?? 1) : 1
      specs.set(key, { key, host: a.host, port, family: a.family, ...(a.fd === undefined ? {} : { fd: a.fd }),
        sockets: n })
    }
  }
  for (const p of config.proxies) {
    if (p.kind !== 'frontend' && p.kind !== 'listen') continue
    for (const b of p.binds) for (const a of b.addresses) add(a, threads)
  }
  for (const s of config.global.statsSockets) if (s.address !== undefined) add(s.address, 1)
  return [...specs.values()]
}

/**
 * Binds the sockets `spec` lacks beyond the `have` its group holds, all with SO_REUSEPORT (as HAProxy binds by
 * default), so that a later configuration with more threads can add sockets to the group; an `fd@N` socket is the one
 * inherited.
 */
export function bindGroup (spec: ListenerSpec, have: number): TcpHandle[] {
  const fresh: TcpHandle[] = []
  try {
    for (let i = have; i < spec.sockets; i++) {
      fresh.push(spec.fd === undefined ? bindTcp(spec.host, spec.port, spec.family, true)
        : openInheritedSocket(spec.fd))
      if (spec.fd !== undefined) break
    }
  } catch (err) {
    for (const h of fresh) h.close()
    throw err
  }
  return fresh
}

export class ListenerRegistry {
  /** Each listener's group: sockets are only added while its key stays in use (closing one would reset its queue). */
  private readonly groups = new Map<string, TcpHandle[]>()

  /**
   * Binds what `specs` adds; returns the handles for all of them, every socket of each group under its memberKey.
   * Throws (binding nothing new) on failure.
   */
  acquire (specs: readonly ListenerSpec[]): Map<string, TcpHandle> {
    const added: [TcpHandle[], number][] = []
    const result = new Map<string, TcpHandle>()
    try {
      for (const s of specs) {
        const group = this.groups.get(s.key) ?? []
        const fresh = bindGroup(s, group.length)
        if (fresh.length > 0) {
          added.push([group, group.length])
          group.push(...fresh)
          this.groups.set(s.key, group)
        }
        group.forEach((h, i) => { result.set(memberKey(s.key, i), h) })
      }
    } catch (err) {
      for (const [group, length] of added) for (const h of group.splice(length)) h.close()
      for (const [key, group] of this.groups) if (group.length === 0) this.groups.delete(key)
      throw err
    }
    return result
  }

  /** Closes the groups whose key is not in `keep` (after the generation that used them has drained). */
  release (keep: ReadonlySet<string>): void {
    for (const [key, group] of this.groups) {
      if (!keep.has(key)) {
        this.groups.delete(key)
        for (const h of group) h.close()
      }
    }
  }

  closeAll (): void {
    this.release(new Set())
  }
}
