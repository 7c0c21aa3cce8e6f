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
