/** Errors of the network helpers (addresses, sockets, netlink) shared by VRRP and the proxy. */
import { TslbError } from '../util/errors.ts'

/** A textual IP address that does not parse, or has the wrong family. */
export class IpAddressError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_IP_ADDRESS', message)
  }
}

/** A native addon that cannot be loaded (not built for this Node, missing libpcap...). */
export class NativeModuleError extends TslbError {
  constructor (name: string, cause: unknown) {
    super('TSLB_ERR_NATIVE_MODULE',
      (`cannot load the native module '${name}': ${cause instanceof Error ? cause.message : String(cause)} (run ` +
        `scripts/setup)`), { cause })
  }
}

/** libuv's (negative) errno for an address already in use. */
export const EADDRINUSE = -98

function errnoName (errno: number): string {
  const names: Readonly<Record<number, string>> = { [EADDRINUSE]: 'EADDRINUSE (address already in use)',
    [-99]: 'EADDRNOTAVAIL (address not available on this host)', [-13]: 'EACCES (permission denied)' }
  return names[errno] ?? `error ${errno}`
}

export class BindError extends TslbError {
  readonly errno: number
  constructor (address: string, errno: number) {
    super('TSLB_ERR_BIND', `cannot bind ${address}: ${errnoName(errno)}`)
    this.errno = errno
  }
}

export class VrrpSocketError extends TslbError {
  constructor (message: string, options?: ErrorOptions) {
    super('TSLB_ERR_VRRP_SOCKET', message, options)
  }
}

export class NetlinkError extends TslbError {
  /** The errno name the kernel answered (EEXIST, EADDRNOTAVAIL, EPERM...), when known. */
  readonly errno: string | undefined
  constructor (message: string, errno: string | undefined, options?: ErrorOptions) {
    super('TSLB_ERR_NETLINK', message, options)
    this.errno = errno
  }
}

export class GarpError extends TslbError {
  constructor (message: string, options?: ErrorOptions) {
    super('TSLB_ERR_GARP', message, options)
  }
}
