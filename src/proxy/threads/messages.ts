/**
 * The worker process's main thread (proxy thread 1) <-> its other proxy threads: what a thread is started with and
 * what they say to each other over its MessagePort.
 */
import type { Config } from '../../config/model.ts'
import type { NodeStateHandle } from './node-state.ts'
import type { StatsShareHandle } from './stats-share.ts'
import type { CheckReport } from '../stats/providers.ts'
import type { SslCertVerb } from '../stats/runtime-api-ssl.ts'
import type { PatternVerb } from '../stats/runtime-api-maps.ts'
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
  /** To a spare thread (started without workerData, its modules loaded): become this thread. */
  | { readonly type: 'start', readonly data: ThreadData }
  | { readonly type: 'drain', readonly hardStopAfter: number }
  /** Thread 1's health-check reports, by `backend/server`, for the stats the thread renders. */
  | { readonly type: 'checks', readonly reports: readonly (readonly [string, CheckReport])[] }
  /** A certificate-changing runtime API command thread 1 ran: the thread runs it on its own certificate store. */
  | { readonly type: 'ssl-cert', readonly verb: SslCertVerb, readonly name: string,
    readonly payload: string | undefined }
  /** A map/ACL change made through the runtime API on thread 1, replayed on this thread's store. */
  | { readonly type: 'patterns', readonly verb: PatternVerb, readonly map: boolean, readonly args: readonly string[],
    readonly payload: string | undefined }

export type FromThread =
  | { readonly type: 'ready' }
  | { readonly type: 'failed', readonly error: string }
  | { readonly type: 'drained' }
  /** A traffic log line for a unix socket, which thread 1 sends (the syslog addon loads there only). */
  | { readonly type: 'syslog', readonly path: string, readonly bytes: Uint8Array }
