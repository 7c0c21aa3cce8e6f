/**
 * The one error the HTTP/1.1 codec throws: a message (or body) that must not be forwarded.
 * `status` is what to answer the client with (request side) — 400, 414, 431, 501, 505 — or 502
 * for a response the server sent that cannot be relayed. `code` is stable for logs and tests.
 * @module
 */
import { TslbError } from '../../util/errors.ts'

export type HttpErrorStatus = 400 | 414 | 431 | 501 | 502 | 505

/** Stable codes, one per rule. Tests and logs match on these, never on messages. */
export const HttpErrorCode = {
  BARE_LF: 'TSLB_ERR_HTTP_BARE_LF',
  BARE_CR: 'TSLB_ERR_HTTP_BARE_CR',
  NUL: 'TSLB_ERR_HTTP_NUL',
  TOO_MANY_EMPTY_LINES: 'TSLB_ERR_HTTP_TOO_MANY_EMPTY_LINES',
  URI_TOO_LONG: 'TSLB_ERR_HTTP_URI_TOO_LONG',
  HEAD_TOO_LARGE: 'TSLB_ERR_HTTP_HEAD_TOO_LARGE',
  TOO_MANY_HEADERS: 'TSLB_ERR_HTTP_TOO_MANY_HEADERS',
  INVALID_METHOD: 'TSLB_ERR_HTTP_INVALID_METHOD',
  INVALID_TARGET: 'TSLB_ERR_HTTP_INVALID_TARGET',
  INVALID_VERSION: 'TSLB_ERR_HTTP_INVALID_VERSION',
  VERSION_NOT_SUPPORTED: 'TSLB_ERR_HTTP_VERSION_NOT_SUPPORTED',
  INVALID_STATUS: 'TSLB_ERR_HTTP_INVALID_STATUS',
  INVALID_REASON: 'TSLB_ERR_HTTP_INVALID_REASON',
  WS_AFTER_START_LINE: 'TSLB_ERR_HTTP_WS_AFTER_START_LINE',
  OBS_FOLD: 'TSLB_ERR_HTTP_OBS_FOLD',
  WS_BEFORE_COLON: 'TSLB_ERR_HTTP_WS_BEFORE_COLON',
  EMPTY_HEADER_NAME: 'TSLB_ERR_HTTP_EMPTY_HEADER_NAME',
  INVALID_HEADER_NAME: 'TSLB_ERR_HTTP_INVALID_HEADER_NAME',
  INVALID_HEADER_VALUE: 'TSLB_ERR_HTTP_INVALID_HEADER_VALUE',
  AMBIGUOUS_HEADER_NAME: 'TSLB_ERR_HTTP_AMBIGUOUS_HEADER_NAME',
  MISSING_HOST: 'TSLB_ERR_HTTP_MISSING_HOST',
  MULTIPLE_HOST: 'TSLB_ERR_HTTP_MULTIPLE_HOST',
  INVALID_HOST: 'TSLB_ERR_HTTP_INVALID_HOST',
  HOST_MISMATCH: 'TSLB_ERR_HTTP_HOST_MISMATCH',
  INVALID_CONTENT_LENGTH: 'TSLB_ERR_HTTP_INVALID_CONTENT_LENGTH',
  CONTENT_LENGTH_CONFLICT: 'TSLB_ERR_HTTP_CONTENT_LENGTH_CONFLICT',
  CONTENT_LENGTH_TOO_LARGE: 'TSLB_ERR_HTTP_CONTENT_LENGTH_TOO_LARGE',
  CL_AND_TE: 'TSLB_ERR_HTTP_CL_AND_TE',
  TE_HTTP10: 'TSLB_ERR_HTTP_TE_HTTP10',
  TE_INVALID: 'TSLB_ERR_HTTP_TE_INVALID',
  TE_NOT_CHUNKED: 'TSLB_ERR_HTTP_TE_NOT_CHUNKED',
  TE_CHUNKED_TWICE: 'TSLB_ERR_HTTP_TE_CHUNKED_TWICE',
  TE_UNSUPPORTED: 'TSLB_ERR_HTTP_TE_UNSUPPORTED',
  CONNECT_BODY: 'TSLB_ERR_HTTP_CONNECT_BODY',
  CHUNK_SIZE_INVALID: 'TSLB_ERR_HTTP_CHUNK_SIZE_INVALID',
  CHUNK_SIZE_TOO_LARGE: 'TSLB_ERR_HTTP_CHUNK_SIZE_TOO_LARGE',
  CHUNK_LINE_TOO_LONG: 'TSLB_ERR_HTTP_CHUNK_LINE_TOO_LONG',
  CHUNK_EXT_INVALID: 'TSLB_ERR_HTTP_CHUNK_EXT_INVALID',
  CHUNK_DATA_CRLF: 'TSLB_ERR_HTTP_CHUNK_DATA_CRLF',
  TRAILERS_TOO_LARGE: 'TSLB_ERR_HTTP_TRAILERS_TOO_LARGE',
  TRAILER_FORBIDDEN: 'TSLB_ERR_HTTP_TRAILER_FORBIDDEN'
} as const

export type HttpErrorCode = typeof HttpErrorCode[keyof typeof HttpErrorCode]

export class HttpParseError extends TslbError {
  declare readonly code: HttpErrorCode
  /** The status to answer with: 4xx/5xx for a bad request, 502 for a bad response. */
  readonly status: HttpErrorStatus
  /** What is wrong, for logs (same text as `message`). */
  readonly reason: string
  /** Byte offset of the offending byte in the buffer given to the parser (or in the body). */
  readonly offset: number

  constructor (status: HttpErrorStatus, code: HttpErrorCode, reason: string, offset = -1) {
    super(code, reason)
    this.status = status
    this.reason = reason
    this.offset = offset
  }
}
