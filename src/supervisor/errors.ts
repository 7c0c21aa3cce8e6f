/** Errors of the supervisor: the worker processes, their queries, the control socket, systemd. */
import { TslbError } from '../util/errors.ts'

export class SdNotifyUnavailableError extends TslbError {
  constructor (cause: unknown) {
    super('TSLB_ERR_SD_NOTIFY',
      (`NOTIFY_SOCKET is set but the sd-notify addon does not load (is libsystemd-dev installed and node_modules ` +
        `built?): ${cause instanceof Error ? cause.message : String(cause)}`), { cause })
  }
}

export class WorkerStartError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_WORKER_START', message)
  }
}

export class ControlSocketError extends TslbError {
  constructor (message: string, options?: ErrorOptions) {
    super('TSLB_ERR_CONTROL_SOCKET', message, options)
  }
}

export class PidFileError extends TslbError {
  constructor (path: string, reason: string, cause?: unknown) {
    super('TSLB_ERR_PID_FILE', `cannot write the pid file ${path}: ${reason}`,
      cause === undefined ? undefined : { cause })
  }
}

/** Another supervisor holds this node (its lock beside the control socket). */
export class NodeLockedError extends TslbError {
  readonly holder: number | undefined
  constructor (path: string, holder: number | undefined) {
    super('TSLB_ERR_NODE_LOCKED', `this node is already run by ${holder === undefined ? 'another tslb process' :
      `tslb pid ${holder}`} (lock ${path} is held): not starting, nothing was changed`)
    this.holder = holder
  }
}

export class NodeLockError extends TslbError {
  constructor (path: string, reason: string, cause?: unknown) {
    super('TSLB_ERR_NODE_LOCK', `cannot take the node lock ${path}: ${reason}`, cause === undefined ? undefined : {
      cause })
  }
}
