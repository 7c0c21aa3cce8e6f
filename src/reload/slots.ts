/**
 * iptables-flip's worker slots: each generation listens on internal sockets bound to the same
 * address as each public listener, on a port the kernel picks (so a slot never collides with
 * another service); the NAT rule sends the public port to the active slot.
 */
import { handleAddress, type TcpHandle } from '../net/listen-handle.ts'
import { bindGroup, type ListenerSpec } from '../supervisor/listeners.ts'
import { memberKey } from '../ipc/messages.ts'
import type { SlotMapping } from './rules.ts'

export type SlotName = 'A' | 'B'

export interface SlotSockets {
  readonly name: SlotName
  /** Keyed by the public listeners' member keys, so a worker finds them where it expects its listeners. */
  readonly handles: ReadonlyMap<string, TcpHandle>
  readonly mappings: readonly SlotMapping[]
  /** Closes the supervisor's copies (idempotent). */
  close: () => void
}

/** The slot a new generation takes: the one the serving generation does not use. */
export function nextSlot (current: SlotName | undefined): SlotName {
  return current === 'A' ? 'B' : 'A'
}

/** The internal listener for a public one: same address and family, kernel-chosen port. */
export function slotSpec (spec: ListenerSpec): ListenerSpec {
  return { key: spec.key, host: spec.host, port: 0, family: spec.family, sockets: spec.sockets }
}

/**
 * Binds one internal SO_REUSEPORT group per public listener (its first socket on a kernel-chosen port, the others on
 * the same); closes what it bound if one fails.
 */
export function bindSlot (name: SlotName, specs: readonly ListenerSpec[]): SlotSockets {
  const handles = new Map<string, TcpHandle>()
  const mappings: SlotMapping[] = []
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    for (const h of handles.values()) h.close()
  }
  try {
    for (const spec of specs) {
      const [first] = bindGroup({ ...slotSpec(spec), sockets: 1 }, 0)
      if (first === undefined) continue
      handles.set(spec.key, first)
      const slotPort = handleAddress(first).port
      const rest = bindGroup({ ...slotSpec(spec), port: slotPort }, 1)
      rest.forEach((h, i) => { handles.set(memberKey(spec.key, i + 1), h) })
      mappings.push({ spec, slotPort })
    }
  } catch (err) {
    close()
    throw err
  }
  return { name, handles, mappings, close }
}
