/**
 * The supervisor's status as `tslb status` reports it, and the one-line summary systemd shows
 * (STATUS=). Pure: built by the supervisor, sent by sd-notify.ts and the control socket.
 */
import type { VrrpInstanceStatus } from '../vrrp/instance-runner.ts'
import type { WorkerPeers } from './peers-status.ts'

export interface SupervisorStatus {
  readonly node: string
  readonly pid: number
  /** The first `-f` path; `configFiles` has them all. */
  readonly configFile: string
  readonly configFiles: readonly string[]
  readonly startedAt: string
  readonly reloads: number
  readonly lastReload: string | undefined
  readonly proxies: { readonly name: string, readonly kind: string }[]
  readonly vrrpInstances: { readonly name: string, readonly vrid: number | undefined,
    readonly interface: string | undefined,
    readonly configuredState: string,
    readonly priority: number, readonly runtime: VrrpInstanceStatus | undefined }[]
  readonly peers: { readonly name: string, readonly peers: string[] }[]
  /** Log lines the supervisor could not write (stdout closed or full). */
  readonly logLinesDropped?: number
  /** With each generation's peers sessions (`peers`), or why they could not be read (`peersError`). */
  readonly workers: (WorkerSummary & WorkerPeers)[]
  /** The process forked ahead of time for the next generation (none without proxies, or while it is replaced). */
  readonly standby?: StandbySummary
}

/** `booting`: still loading its modules; `booted`: waiting for the next reload or restart. */
export interface StandbySummary { readonly pid: number | undefined, readonly state: 'booting' | 'booted' }

export interface WorkerSummary { readonly generation: number, readonly pid: number | undefined,
  readonly state: 'serving' | 'draining',
  /** Log lines (its own and traffic lines) the worker could not write. */
  readonly logLinesDropped?: number }

/** The status without the workers' own reports. */
export type LocalStatus = Omit<SupervisorStatus, 'workers'> & { readonly workers: WorkerSummary[] }

/** The STATUS= text: serving generation, draining ones, VRRP states, reload count. */
export function statusText (s: LocalStatus): string {
  const parts: string[] = []
  const serving = s.workers.find(w => w.state === 'serving')
  const draining = s.workers.filter(w => w.state === 'draining').length
  if (serving !== undefined) parts.push(
    `serving generation ${serving.generation}${draining > 0 ? `, ${draining} draining` : ''}`)
  else if (s.proxies.length > 0) parts.push('no proxy worker serving')
  if (s.vrrpInstances.length > 0) parts.push(
    `VRRP ${s.vrrpInstances.map(v => `${v.name} ${v.runtime?.state ?? 'INIT'}`).join(', ')}`)
  parts.push(`${s.reloads} reload(s)`)
  return parts.join('; ')
}
