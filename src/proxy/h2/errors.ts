/**
 * Errors of the HTTP/2 front side: a request stream refused before it becomes an HTTP/1.1 exchange (RFC 9113 §8.1.1:
 * a malformed request is a stream error, never forwarded). `code` is stable for logs and tests.
 * @module
 */
import { TslbError } from '../../util/errors.ts'

export const H2ErrorCode = {
  PSEUDO_HEADER: 'TSLB_ERR_H2_PSEUDO_HEADER',
  HEADER_NAME: 'TSLB_ERR_H2_HEADER_NAME',
  HEADER_VALUE: 'TSLB_ERR_H2_HEADER_VALUE',
  CONNECTION_HEADER: 'TSLB_ERR_H2_CONNECTION_HEADER',
  CONTENT_LENGTH: 'TSLB_ERR_H2_CONTENT_LENGTH',
  AUTHORITY: 'TSLB_ERR_H2_AUTHORITY',
  CONNECT: 'TSLB_ERR_H2_CONNECT'
} as const

export type H2ErrorCode = typeof H2ErrorCode[keyof typeof H2ErrorCode]

/** A request the proxy refuses with RST_STREAM (PROTOCOL_ERROR), or with `status` when it is well-formed. */
export class H2RequestError extends TslbError {
  declare readonly code: H2ErrorCode
  /** Set when the stream is answered with this status rather than reset (CONNECT: 501, a bad :authority: 400). */
  readonly status: number | undefined
  constructor (code: H2ErrorCode, message: string, status?: number) {
    super(code, message)
    this.status = status
  }
}
