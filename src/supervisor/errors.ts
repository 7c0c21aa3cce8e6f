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
