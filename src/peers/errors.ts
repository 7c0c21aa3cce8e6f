/**
 * Errors of the peers protocol codec. Every code is stable (`TSLB_ERR_PEERS_*`): sessions, logs and
 * tests match on it.
 * @module
 */
import { TslbError } from '../util/errors.ts'

/**
 * What HAProxy sends before closing when it meets this error: `01 00` (protocol error) or
 * `01 01` (size limit). `undefined`: nothing, the connection is just closed.
 */
export type PeersErrorReply = 'protocol' | 'size-limit' | undefined

/** Stable codes of {@link PeersProtocolError}. */
export const PEERS_PROTOCOL_CODES = {
  /** A varint longer than 10 bytes, or with a value of 2^64 or more. */
  VARINT_OVERFLOW: 'TSLB_ERR_PEERS_VARINT_OVERFLOW',
  /** A varint whose value does not fit the JavaScript number the caller asked for (> 2^53-1). */
  VARINT_RANGE: 'TSLB_ERR_PEERS_VARINT_RANGE',
  /** The length of a message (type >= 0x80) does not end within 5 bytes (HAProxy's 7-byte header buffer). */
  BAD_LENGTH: 'TSLB_ERR_PEERS_BAD_LENGTH',
  /** A message payload larger than the configured maximum (HAProxy: tune.bufsize, 16384). */
  SIZE_LIMIT: 'TSLB_ERR_PEERS_SIZE_LIMIT',
  /** Class 255 (reserved): HAProxy treats it as a protocol error. */
  RESERVED_CLASS: 'TSLB_ERR_PEERS_RESERVED_CLASS',
  /** A stick-table message (define, switch, update, ack) whose fields are truncated or invalid. */
  MALFORMED: 'TSLB_ERR_PEERS_MALFORMED',
  /** `push()` after the decoder already failed: a session must be closed after a protocol error. */
  DECODER_FAILED: 'TSLB_ERR_PEERS_DECODER_FAILED'
} as const

export type PeersProtocolCode = typeof PEERS_PROTOCOL_CODES[keyof typeof PEERS_PROTOCOL_CODES]

/**
 * Bytes received from a peer that break the protocol. The session must send the `reply` error
 * message (if any) and close the connection, as HAProxy does.
 */
export class PeersProtocolError extends TslbError {
  declare readonly code: PeersProtocolCode
  readonly reply: PeersErrorReply
  constructor (code: PeersProtocolCode, message: string, reply: PeersErrorReply = 'protocol') {
    super(code, message)
    this.reply = reply
  }
}

/** Stable codes of {@link PeersEncodeError}. */
export const PEERS_ENCODE_CODES = {
  /** A value outside what its wire field can carry (negative, too large, not an integer). */
  RANGE: 'TSLB_ERR_PEERS_ENCODE_RANGE',
  /** A message that does not match its table definition (missing/extra values, wrong kinds, key size). */
  SHAPE: 'TSLB_ERR_PEERS_ENCODE_SHAPE',
  /** The payload would exceed the maximum message size. */
  TOO_LARGE: 'TSLB_ERR_PEERS_ENCODE_TOO_LARGE',
  /** A handshake field that cannot be written on its line (newline, space in a name, ...). */
  HANDSHAKE: 'TSLB_ERR_PEERS_ENCODE_HANDSHAKE'
} as const

export type PeersEncodeCode = typeof PEERS_ENCODE_CODES[keyof typeof PEERS_ENCODE_CODES]

/** A message tslb was asked to send that cannot be encoded: a bug on our side, never peer input. */
export class PeersEncodeError extends TslbError {
  declare readonly code: PeersEncodeCode
  constructor (code: PeersEncodeCode, message: string) {
    super(code, message)
  }
}

/** Stable codes of {@link PeersHandshakeError}. */
export const PEERS_HANDSHAKE_CODES = {
  /** A handshake line longer than the limit: HAProxy closes without a status. */
  LINE_TOO_LONG: 'TSLB_ERR_PEERS_HANDSHAKE_LINE_TOO_LONG',
  /** Line 1 does not start with `HAProxyS `, or line 3 has no space: status 501. */
  PROTOCOL: 'TSLB_ERR_PEERS_HANDSHAKE_PROTOCOL',
  /** Version not `2.x` with x <= 1 (or not `digits.digits`): status 502. */
  VERSION: 'TSLB_ERR_PEERS_HANDSHAKE_VERSION',
  /** Line 2 is not our local peer name: status 503. */
  LOCAL_NAME: 'TSLB_ERR_PEERS_HANDSHAKE_LOCAL_NAME',
  /** Line 3 names a peer that is not configured: status 504. */
  UNKNOWN_PEER: 'TSLB_ERR_PEERS_HANDSHAKE_UNKNOWN_PEER'
} as const

export type PeersHandshakeCode = typeof PEERS_HANDSHAKE_CODES[keyof typeof PEERS_HANDSHAKE_CODES]

/** A hello that must be refused; `status` is the line to answer (`undefined`: close silently). */
export class PeersHandshakeError extends TslbError {
  declare readonly code: PeersHandshakeCode
  readonly status: number | undefined
  constructor (code: PeersHandshakeCode, message: string, status: number | undefined) {
    super(code, message)
    this.status = status
  }
}

export class PeersConfigError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_PEERS_CONFIG', message)
  }
}

export class PeersListenError extends TslbError {
  constructor (what: string, cause: unknown) {
    super('TSLB_ERR_PEERS_LISTEN',
      `cannot listen for peers on ${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}
