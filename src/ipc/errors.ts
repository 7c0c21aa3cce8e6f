/** Errors of the supervisor <-> worker channel. */
import { TslbError } from '../util/errors.ts'

export class WorkerQueryTimeoutError extends TslbError {
  constructor (what: string, ms: number) {
    super('TSLB_ERR_WORKER_QUERY_TIMEOUT', `the worker did not answer '${what}' within ${ms} ms`)
  }
}

export class WorkerQueryError extends TslbError {
  constructor (what: string, reason: string) {
    super('TSLB_ERR_WORKER_QUERY', `query '${what}' failed: ${reason}`)
  }
}
