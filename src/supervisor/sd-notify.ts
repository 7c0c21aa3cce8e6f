/**
 * systemd's service notification protocol (sd_notify(3)) for `Type=notify`: READY, RELOADING,
 * STOPPING, STATUS. Messages go through libsystemd's own sd_notify() (npm `sd-notify`), which
 * handles path and abstract (`@name`) sockets and sends our credentials, so systemd attributes
 * them to the main process (`NotifyAccess=main`). Without NOTIFY_SOCKET every call does nothing.
 * A transport only: the status text is the supervisor's (status.ts).
 */
import { createRequire } from 'node:module'
import { SdNotifyUnavailableError } from './errors.ts'

/** Sends one notification datagram: newline-separated `KEY=VALUE` lines. */
export type NotifySend = (message: string) => void

interface SdNotifyAddon {
  sendState: (state: string) => void
}

/** libsystemd's sd_notify() through the addon; undefined when systemd did not ask for notifications. */
export function systemdSend (env: NodeJS.ProcessEnv = process.env): NotifySend | undefined {
  if (env['NOTIFY_SOCKET'] === undefined || env['NOTIFY_SOCKET'] === '') return undefined
  let addon: SdNotifyAddon
  try {
    addon = createRequire(import.meta.url)('sd-notify') as SdNotifyAddon
  } catch (err) {
    throw new SdNotifyUnavailableError(err)
  }
  return message => { addon.sendState(message) }
}

/** CLOCK_MONOTONIC in microseconds (libuv's hrtime reads that clock), as RELOADING=1 wants it. */
export function monotonicUsec (): bigint {
  return process.hrtime.bigint() / 1000n
}

/** A status text on one line: systemd shows it in `systemctl status`. */
function oneLine (text: string): string {
  return text.replace(/[\r\n]+/g, ' ')
}

export class SystemdNotifier {
  private readonly send: NotifySend | undefined
  private lastStatus: string | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor (send: NotifySend | undefined) {
    this.send = send
  }

  get enabled (): boolean {
    return this.send !== undefined
  }

  /** Started, or a reload finished (whatever its outcome: the service serves). */
  ready (status: string): void {
    this.notify(['READY=1', `MAINPID=${process.pid}`], status)
  }

  /** A reload starts: `systemctl` shows "reloading" until the next ready(). */
  reloading (status: string): void {
    this.notify(['RELOADING=1', `MONOTONIC_USEC=${monotonicUsec()}`], status)
  }

  stopping (status: string): void {
    this.stopStatusUpdates()
    this.notify(['STOPPING=1'], status)
    this.stopped = true
  }

  /** Sends STATUS= only when the text changed. */
  status (status: string): void {
    if (oneLine(status) !== this.lastStatus) this.notify([], status)
  }

  /** Polls `status` every `intervalMs` and sends what changed (VRRP transitions, worker restarts). */
  startStatusUpdates (status: () => string, intervalMs: number): void {
    if (this.send === undefined) return
    this.stopStatusUpdates()
    this.timer = setInterval(() => { this.status(status()) }, intervalMs)
    this.timer.unref()
  }

  stopStatusUpdates (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private notify (fields: string[], status: string): void {
    // Once stopping, a reload finishing late must not tell systemd the service is ready again.
    if (this.send === undefined || this.stopped) return
    this.lastStatus = oneLine(status)
    this.send([...fields, `STATUS=${this.lastStatus}`].join('\n'))
  }
}
