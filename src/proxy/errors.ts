/** Errors of the proxy's data path: server choice, queueing, connecting. */
import { TslbError } from '../util/errors.ts'
import type { ServerState } from './server-state.ts'

export class NoServerError extends TslbError {
  constructor (backend: string) {
    super('TSLB_ERR_NO_SERVER', `backend '${backend}' has no server available`)
  }
}

export class ConnectError extends TslbError {
  readonly server: ServerState
  readonly timedOut: boolean
  constructor (server: ServerState, timedOut: boolean, cause: unknown) {
    super('TSLB_ERR_CONNECT',
      (`cannot connect to server '${server.name}': ` +
        `${timedOut ? 'timeout' : cause instanceof Error ? cause.message : String(cause)}`), { cause })
    this.server = server
    this.timedOut = timedOut
  }
}

export class QueueTimeoutError extends TslbError {
  constructor (backend: string) {
    super('TSLB_ERR_QUEUE_TIMEOUT', `timed out in the queue of backend '${backend}'`)
  }
}

export class QueueAbortedError extends TslbError {
  constructor (backend: string) {
    super('TSLB_ERR_QUEUE_ABORTED', `client left the queue of backend '${backend}'`)
  }
}

/** The connection's first bytes are not a PROXY protocol header (`accept-proxy`). */
export class ProxyHeaderMissingError extends TslbError {
  constructor () {
    super('TSLB_ERR_PROXY_HEADER_MISSING', 'no PROXY protocol header')
  }
}

/** A PROXY protocol header that breaks the specification. */
export class ProxyHeaderError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_PROXY_HEADER_MALFORMED', message)
  }
}

/** No complete PROXY protocol header before the handshake timeout. */
export class ProxyHeaderTimeoutError extends TslbError {
  constructor (ms: number) {
    super('TSLB_ERR_PROXY_HEADER_TIMEOUT', `no PROXY protocol header within ${ms} ms`)
  }
}
