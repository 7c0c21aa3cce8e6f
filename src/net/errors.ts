/** Errors of the network helpers (addresses, sockets, netlink) shared by VRRP and the proxy. */
import { TslbError } from '../util/errors.ts'

/** A textual IP address that does not parse, or has the wrong family. */
export class IpAddressError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_IP_ADDRESS', message)
  }
}
