/**
 * The worker process's main thread (proxy thread 1) <-> its other proxy threads: what a thread is started with and
 * what they say to each other over its MessagePort.
 */
import type { Config } from '../../config/model.ts'
import type { NodeStateHandle } from './node-state.ts'

export interface ThreadData {
  readonly config: Config
  /** 1-based, as HAProxy numbers threads (the main thread is 1). */
  readonly tid: number
  readonly threads: number
  /** The sockets this thread listens on: memberKey -> fd (thread 1 holds their handles and never closes them). */
  readonly sockets: readonly (readonly [string, number])[]
  readonly state: NodeStateHandle
}

export type ToThread =
  | { readonly type: 'drain', readonly hardStopAfter: number }

export type FromThread =
  | { readonly type: 'ready' }
  | { readonly type: 'failed', readonly error: string }
  | { readonly type: 'drained' }
