/**
 * The supervisor <-> proxy worker channel (Node's IPC, `serialization: 'advanced'`): the one
 * typed definition both sides import, so neither reaches into the other's package.
 *
 * Supervisor to worker: `config`, then one `listener` per bound socket (the handle rides along),
 * then `start`; later `vrrp` notices and `drain`. Worker to supervisor: `ready` or `failed`,
 * then `drained`. Queries (`tslb status`) ride the same channel: see query.ts.
 */
import type { Config } from '../config/model.ts'

/** The key a listening socket is sent under, and looked up by in the worker. */
export function listenerKey (host: string, port: number): string {
  return `${host}|${port}`
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
  | { readonly type: 'ready' }
  | { readonly type: 'failed', readonly error: string }
  | { readonly type: 'drained' }
