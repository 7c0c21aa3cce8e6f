/**
 * `server … send-proxy | send-proxy-v2` and `check-send-proxy`: the PROXY protocol header a server
 * connection starts with.
 */
import type { ServerOptions } from '../../config/model.ts'
import type { ConnAddresses } from '../conn-addresses.ts'
import { encodeProxyV1, encodeProxyV2, type Endpoint } from './codec.ts'

export function sendsProxyHeader (server: ServerOptions): boolean {
  return server.sendProxy === true || server.sendProxyV2 === true
}

/**
 * The header for a connection carrying `client`'s traffic to `server`, undefined when the server
 * takes none. Without addresses: v1 `UNKNOWN`, v2 `LOCAL`.
 */
export function proxyHeaderFor (server: ServerOptions, client: ConnAddresses | undefined): Buffer | undefined {
  const src = client === undefined ? undefined : { address: client.src, port: client.srcPort }
  const dst = client === undefined ? undefined : { address: client.dst, port: client.dstPort }
  if (server.sendProxyV2 === true) return encodeProxyV2(src, dst)
  if (server.sendProxy === true) return encodeProxyV1(src, dst)
  return undefined
}

/**
 * The header a health check of `server` starts with, undefined for none: with `check-send-proxy`,
 * or on a `send-proxy*` server checked on its own address and port (HAProxy 2.6's manual). What
 * HAProxy 2.6 sends there, seen on the wire: v1 names the check connection itself (`local` →
 * `remote`), v2 is a LOCAL command.
 */
export function checkProxyHeader (server: ServerOptions, local: Endpoint, remote: Endpoint): Buffer | undefined {
  const implicit = sendsProxyHeader(server) && server.port === undefined && server.addr === undefined
  if (server.checkSendProxy !== true && !implicit) return undefined
  return server.sendProxyV2 === true ? encodeProxyV2(undefined, undefined) : encodeProxyV1(local, remote)
}
