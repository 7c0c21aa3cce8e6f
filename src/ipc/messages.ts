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

/**
 * The key of socket `index` (from 0) of a listener's SO_REUSEPORT group: the first keeps the listener's key, the
 * others get `#2`, `#3`... (a worker thread listens on its share of the group).
 */
export function memberKey (key: string, index: number): string {
  return index === 0 ? key : `${key}#${index + 1}`
}

/** The listener key of a group member's key (memberKey's inverse). */
export function groupOf (member: string): { key: string, index: number } {
  const m = /^(.*)#(\d+)$/.exec(member)
  return m === null ? { key: member, index: 0 } : { key: m[1] ?? member, index: Number(m[2]) - 1 }
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
  /** To a standby: the threads (`nbthread`) the serving configuration runs, to boot ahead of time as well. */
  | { readonly type: 'prepare', readonly threads: number }
  | { readonly type: 'vrrp', readonly text: string }
  | { readonly type: 'drain', readonly hardStopAfter: number }

export type WorkerMessage =
  | { readonly type: 'booted' }
  | { readonly type: 'ready' }
  | { readonly type: 'failed', readonly error: string }
  | { readonly type: 'drained' }
