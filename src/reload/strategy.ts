/**
 * The one interface every reload strategy implements, and what the supervisor lends a strategy
 * for the duration of one reload.
 */
import type { Config } from '../config/model.ts'
import type { TcpHandle } from '../net/listen-handle.ts'
import type { ListenerRegistry } from '../supervisor/listeners.ts'
import type { WorkerProcess } from '../supervisor/worker-process.ts'
import type { Logger } from '../util/log.ts'
import type { SlotSockets } from './slots.ts'

export const STRATEGY_NAMES = ['handoff', 'syn-drop', 'tc-plug', 'iptables-flip'] as const
export type StrategyName = (typeof STRATEGY_NAMES)[number]
export const DEFAULT_STRATEGY: StrategyName = 'handoff'

/** A worker generation and the sockets it accepts on. */
export interface Serving {
  readonly worker: WorkerProcess
  readonly config: Config
  /** The sockets the worker listens on, keyed by the public listener key (`host|port`). */
  readonly handles: ReadonlyMap<string, TcpHandle>
  /** iptables-flip only: the generation listens on these internal sockets, not the public ones. */
  readonly slot?: SlotSockets
}

export interface ReloadContext {
  readonly step: (message: string) => void
  readonly log: Logger
  /** The generation serving when the reload began (undefined: none, e.g. it crashed). */
  readonly serving: Serving | undefined
  /** Generations still draining from earlier reloads. */
  readonly draining: () => readonly Serving[]
  /** The supervisor's public listening sockets. */
  readonly listeners: ListenerRegistry
  /** Forks the next generation on `handles` and waits until it serves (throws WorkerStartError). */
  readonly startWorker: (config: Config, handles: ReadonlyMap<string, TcpHandle>) => Promise<WorkerProcess>
  /** Makes `next` the serving generation. */
  readonly activate: (next: Serving) => void
  /** Tells `old` to stop accepting and drain; its slot sockets close once it has exited. */
  readonly retire: (old: Serving) => void
}

export interface ReloadStrategy {
  readonly name: StrategyName
  /** Checks the host can run this strategy; throws ReloadStrategyUnavailableError, changing nothing. */
  preflight: (log: Logger) => Promise<void>
  /** Replaces the serving generation with one running `config` (which has proxies); throws TslbError on failure. */
  reload: (ctx: ReloadContext, config: Config) => Promise<void>
}

export function isStrategyName (name: string): name is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(name)
}
