/**
 * Errors of the certificate store's runtime operations (`set/commit/abort/new/del ssl cert`). The message is
 * HAProxy 2.6's text for the same failure (the runtime API prints it as is); `code` is stable for tests.
 */
import { TslbError } from '../../util/errors.ts'

export const CertStoreErrorCode = {
  /** The file is not in the store (not referenced by the configuration, nor made by `new ssl cert`). */
  UNKNOWN: 'TSLB_ERR_CERT_UNKNOWN',
  /** Another file's transaction is under way (one at a time, as HAProxy). */
  OTHER_TRANSACTION: 'TSLB_ERR_CERT_OTHER_TRANSACTION',
  NO_TRANSACTION: 'TSLB_ERR_CERT_NO_TRANSACTION',
  /** The payload holds no certificate (or no key, for `FILE.key`). */
  PAYLOAD: 'TSLB_ERR_CERT_PAYLOAD',
  /** The transaction has no key, or a key that does not match its certificate, or OpenSSL refuses the pair. */
  INCOMPLETE: 'TSLB_ERR_CERT_INCOMPLETE',
  EXISTS: 'TSLB_ERR_CERT_EXISTS',
  IN_USE: 'TSLB_ERR_CERT_IN_USE',
  UNSUPPORTED: 'TSLB_ERR_CERT_UNSUPPORTED'
} as const

export type CertStoreErrorCode = typeof CertStoreErrorCode[keyof typeof CertStoreErrorCode]

export class CertStoreError extends TslbError {
  constructor (code: CertStoreErrorCode, message: string) {
    super(code, message)
  }
}
