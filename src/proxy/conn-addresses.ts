import type { Socket } from 'node:net'

/**
 * A connection's addresses as the proxy uses them (logs, ACLs, balancing, stick tables): the
 * socket's, or those the PROXY protocol header carried (`bind … accept-proxy`).
 */
export interface ConnAddresses {
  readonly src: string
  readonly srcPort: number
  readonly dst: string
  readonly dstPort: number
}

export function socketAddresses (s: Socket): ConnAddresses {
  return { src: s.remoteAddress ?? '', srcPort: s.remotePort ?? 0, dst: s.localAddress ?? '',
    dstPort: s.localPort ?? 0 }
}
