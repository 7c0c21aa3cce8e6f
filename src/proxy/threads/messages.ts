/**
 * The worker process's main thread (proxy thread 1) <-> its other proxy threads: what a thread is started with and
 * what they say to each other over its MessagePort.
 */
import type { Config } from '../../config/model.ts'
import type { NodeStateHandle } from './node-state.ts'
import type { StatsShareHandle } from './stats-share.ts'
import type { CheckReport } from '../stats/providers.ts'
import type { StickTableHandle } from '../../stick/index.ts'

export interface ThreadData {
  readonly config: Config
  /** 1-based, as HAProxy numbers threads (the main thread is 1). */
  readonly tid: number
  readonly threads: number
  /** The sockets this thread listens on: memberKey -> fd (thread 1 holds their handles and never closes them). */
  readonly sockets: readonly (readonly [string, number])[]
  readonly state: NodeStateHandle
  readonly stats: StatsShareHandle
  /** Thread 1's stick tables, by name: attached, so the node has one of each. */
  readonly tables: readonly (readonly [string, StickTableHandle])[]
}

export type ToThread =
  | { readonly type: 'drain', readonly hardStopAfter: number }
  /** Thread 1's health-check reports, by `backend/server`, for the stats the thread renders. */
  | { readonly type: 'checks', readonly reports: readonly (readonly [string, CheckReport])[] }
  /** `commit ssl cert` on the runtime API (thread 1): the file's new certificate, for this thread's handshakes. */
  | { readonly type: 'cert', readonly file: string, readonly cert: string, readonly key: string }

export type FromThread =
  | { readonly type: 'ready' }
  | { readonly type: 'failed', readonly error: string }
  | { readonly type: 'drained' }
  /** A traffic log line for a unix socket, which thread 1 sends (the syslog addon loads there only). */
  | { readonly type: 'syslog', readonly path: string, readonly bytes: Uint8Array }
