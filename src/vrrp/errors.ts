/**
 * Errors of the VRRP speaker's pure parts. Received packets never throw (they yield drop
 * reasons, see validate.ts); these are for bad local input: encoding arguments, options.
 */
import { TslbError } from '../util/errors.ts'

/** An advertisement cannot be encoded from the fields given (programming or config error). */
export class VrrpEncodeError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_VRRP_ENCODE', message)
  }
}

/** Options of a VRRP instance that cannot work (missing VRID, priority out of range...). */
export class VrrpConfigError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_VRRP_CONFIG', message)
  }
}

/** keepalived.conf text `tslb convert` cannot read (unbalanced braces, an unterminated quote). */
export class ConvertError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_CONVERT', message)
  }
}
