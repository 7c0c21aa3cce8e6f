import type { Socket } from 'node:net'
import type { StickCounters } from './stick-counters.ts'

/**
 * A connection's addresses as the proxy uses them (logs, ACLs, balancing, stick tables): the
 * socket's, or those the PROXY protocol header carried (`bind … accept-proxy`).
 */
export interface ConnAddresses {
  readonly src: string
  readonly srcPort: number
  readonly dst: string
  readonly dstPort: number
  /** The stick counters of the connection's session (`track-sc*`), when its proxies track any. */
  readonly counters?: StickCounters
  /** The listening socket that accepted the connection (`so_id`, `so_name`). */
  readonly listener?: ListenerIdentity
}

/** A listening socket's `bind … id` (else its automatic number) and `bind … name`. */
export interface ListenerIdentity {
  readonly id: number
  readonly name?: string
}

export function socketAddresses (s: Socket): ConnAddresses {
  return { src: s.remoteAddress ?? '', srcPort: s.remotePort ?? 0, dst: s.localAddress ?? '',
    dstPort: s.localPort ?? 0 }
}
