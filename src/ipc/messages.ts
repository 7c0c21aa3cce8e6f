/**
 * The supervisor <-> proxy worker channel (Node's IPC, `serialization: 'advanced'`): the one
 * typed definition both sides import, so neither reaches into the other's package.
 *
 * Worker to supervisor first: `booted` once its modules are loaded (a standby waits there, see
 * supervisor/worker-process.ts). Supervisor to worker: `config`, then one `listener` per bound
 * socket (the handle rides along), then `start`; later `vrrp` notices and `drain`. Worker to
 * supervisor: `ready` or `failed`, then `drained`. Queries (`tslb status`) ride the same channel: see query.ts.
 */
import type { Address, Config } from '../config/model.ts'

/** The key a listening socket is sent under, and looked up by in the worker. */
export function listenerKey (host: string, port: number): string {
  return `${host}|${port}`
}

/** The key of one port of `a` (an `fd@N` address has one socket, whatever the port). */
export function addressKey (a: Address, port: number): string {
  return a.fd === undefined ? listenerKey(a.host, port) : `fd@${a.fd}`
}

export interface ConfigMessage {
  readonly type: 'config'
  readonly config: Config
  readonly generation: number
  /** The newest generation that reported ready: the one this one learns stick tables from. */
  readonly previousGeneration?: number | undefined
  readonly localPeer?: string
  /** Directory for per-generation unix sockets (the peers hand-off). */
  readonly runDir?: string
}

export type SupervisorMessage =
  | ConfigMessage
  | { readonly type: 'listener', readonly key: string }
  | { readonly type: 'start' }
  | { readonly type: 'vrrp', readonly text: string }
  | { readonly type: 'drain', readonly hardStopAfter: number }

export type WorkerMessage =
  | { readonly type: 'booted' }
  | { readonly type: 'ready' }
  | { readonly type: 'failed', readonly error: string }
  | { readonly type: 'drained' }
