/**
 * What a peers manager is given and what it reports: options, start options, events, the
 * logging calls, and the timers tslb adds to HAProxy's.
 * @module
 */
import type { Config } from '../config/model.ts'
import type { StickTable } from '../stick/index.ts'
import type { PeersClock } from './clock.ts'
import type { LearnResult } from './sync.ts'
import type { PeerTarget, PeersNetwork } from './transport.ts'

/** The logging calls the manager makes (pino's Logger fits). */
export interface PeersLog {
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  debug (obj: object, msg: string): void
}

/** `connect` timeout of HAProxy's peers proxy (13db4bdbc, in 2.6). */
export const PEER_CONNECT_TIMEOUT_MS = 1000
/** The old process retries the local peer every 500 ms (ab4b09405); so does a learner here. */
export const LOCAL_RETRY_MS = 500
/**
 * tslb: a lesson from the previous generation that takes longer than this is abandoned (the
 * supervisor waits 30 s for a new generation to be ready; a teach runs at ~200k entries/s).
 */
export const DEFAULT_LOCAL_LEARN_LIMIT_MS = 20_000
/** tslb: first retry delay after a peer refused us (300, 50x); HAProxy 2.6 never retries. */
export const REFUSED_RETRY_MIN_MS = 5000
export const REFUSED_RETRY_MAX_MS = 60_000

export interface PeersManagerOptions {
  /** The configuration: its `peers` sections (disabled ones and those without the local peer are skipped). */
  readonly config: Pick<Config, 'peers'>
  /** The local peer name (`-L`, `localpeer`, or the host name). */
  readonly localName: string
  /** The worker's stick tables: backend tables by backend name, peers-section tables as `PEERS/X`. */
  readonly tables: Iterable<StickTable>
  /** The stick tables' clock and the timers (default: Date.now and the event loop). */
  readonly clock?: PeersClock
  readonly network?: PeersNetwork
  readonly log?: PeersLog
  /** Listening sockets the supervisor bound for the local peer's address, by section name. */
  readonly listenHandles?: ReadonlyMap<string, object>
  /**
   * Where a peer is reached / where the local peer listens, instead of the configured address
   * (tests: another host or port). `undefined` keeps the configured one.
   */
  readonly addressOf?: (section: string, peer: string) => { host: string, port: number } | undefined
  /** Unix socket this generation listens on for the next one, per section (no hand-off when absent). */
  readonly handoffPath?: (section: string) => string
  /** pid in our hellos (default: process.pid). */
  readonly pid?: number
  readonly maxUpdatesPerTurn?: number
  /** Bytes queued toward a peer before pushing pauses (default 64 KiB). */
  readonly highWaterMark?: number
  readonly maxPayload?: number
  readonly localLearnLimitMs?: number
}

export interface StartOptions {
  /**
   * The previous generation's hand-off socket per section (a path, or a TCP target): learn the
   * tables from it first. Absent (first start, or no previous generation): learn from the remote
   * peers only.
   */
  readonly learnFrom?: (section: string) => string | PeerTarget | undefined
}

export interface LocalSyncReport {
  readonly section: string
  /** finished/partial: the previous generation taught us (all it had / what it had, not complete);
   * none: no previous generation; unavailable: it could not be reached; aborted, timeout. */
  readonly result: LearnResult
}

export interface PeersManagerEvents {
  /** One section left its "learn from the local peer" phase. */
  'section-local-sync-done': [LocalSyncReport]
  /** Every section did: the worker can report ready. */
  'local-sync-done': [readonly LocalSyncReport[]]
  /** A section's learning finished (state 3). */
  'sync-finished': [string]
  'peer-up': [{ readonly section: string, readonly peer: string }]
  'peer-down': [{ readonly section: string, readonly peer: string, readonly reason: string }]
}
