/**
 * iptables-flip's worker slots: each generation listens on internal sockets bound to the same
 * address as each public listener, on a port the kernel picks (so a slot never collides with
 * another service); the NAT rule sends the public port to the active slot.
 */
import { bindTcp, handleAddress, type TcpHandle } from '../net/listen-handle.ts'
import type { ListenerSpec } from '../supervisor/listeners.ts'
import type { SlotMapping } from './rules.ts'

export type SlotName = 'A' | 'B'

export interface SlotSockets {
  readonly name: SlotName
  /** Keyed by the public listener key, so a worker finds them where it expects its listeners. */
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
  return { ...spec, port: 0 }
}

/** Binds one internal socket per public listener; closes what it bound if one fails. */
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
      const s = slotSpec(spec)
      const h = bindTcp(s.host, s.port, s.family)
      handles.set(spec.key, h)
      mappings.push({ spec, slotPort: handleAddress(h).port })
    }
  } catch (err) {
    close()
    throw err
  }
  return { name, handles, mappings, close }
}
