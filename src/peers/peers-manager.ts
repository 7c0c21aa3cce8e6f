/**
 * Stick-table peers sync for a worker: one {@link PeersSection} runtime per `peers` section of
 * the configuration that names the local peer, each with its listener, its sessions to every
 * remote peer, and the sync task HAProxy 2.6 runs as `process_peer_sync()` (reconnection,
 * heartbeats, dead-peer detection), over {@link SectionSync}. The section is section.ts, its
 * learning state learning.ts, `tslb status` status.ts; this module is the thin manager over them.
 *
 * Reload hand-off (see docs/architecture.md, "Peers"): each worker generation listens on a unix
 * socket of its own (`handoffPath`); the next generation is started with the previous one's path
 * (`start({ learnFrom })`), connects to it as the local peer (`HAProxyS 2.1\nL\nL pid 1\n`),
 * asks for a full resync, and emits `local-sync-done` once it has the table (or could not get it);
 * only then does it connect to the remote peers. The previous generation, told to drain, calls
 * `retire()`: it stops accepting and closes its remote sessions, and keeps pushing to the new
 * generation until it exits. The TCP listening socket itself is shared by the generations (the
 * supervisor's handle, or SO_REUSEPORT when the worker binds it).
 * @module
 */
import { EventEmitter } from 'node:events'
import type { StickTable } from '../stick/index.ts'
import { systemClock } from './clock.ts'
import type { PeersClock } from './clock.ts'
import type { LocalSyncReport, PeersManagerEvents, PeersManagerOptions, StartOptions } from './options.ts'
import { PeersSection, wireTableName } from './section.ts'
import { peersStatus, type PeersStatus } from './status.ts'
import { SyncTable } from './sync.ts'
import { NodePeersNetwork } from './transport.ts'
import type { PeersNetwork } from './transport.ts'

export {
  DEFAULT_LOCAL_LEARN_LIMIT_MS, LOCAL_RETRY_MS, PEER_CONNECT_TIMEOUT_MS, REFUSED_RETRY_MAX_MS, REFUSED_RETRY_MIN_MS,
  type LocalSyncReport, type PeersLog, type PeersManagerEvents, type PeersManagerOptions, type StartOptions
} from './options.ts'
export { handoffSocketPath, PeersSection, peersListenAddress, wireTableName } from './section.ts'
export type { PeerCounters, PeersStatus } from './status.ts'

/**
 * Stick-table peers sync for every `peers` section naming the local peer. Create it with the
 * worker's tables, `start()` it, wait for `local-sync-done` (or `localSyncDone`) before reporting
 * ready, `retire()` it when the generation drains, `stop()` it on exit.
 */
export class PeersManager extends EventEmitter<PeersManagerEvents> {
  readonly sections: readonly PeersSection[]
  readonly localName: string
  readonly network: PeersNetwork
  readonly clock: PeersClock
  /** Resolves once every section has left its "learn from the previous generation" phase. */
  readonly localSyncDone: Promise<readonly LocalSyncReport[]>
  readonly #reports: LocalSyncReport[] = []
  #resolveLocal: (r: readonly LocalSyncReport[]) => void = () => {}
  #started = false

  constructor (opts: PeersManagerOptions) {
    super()
    this.localName = opts.localName
    this.network = opts.network ?? new NodePeersNetwork()
    this.clock = opts.clock ?? systemClock
    this.localSyncDone = new Promise(resolve => { this.#resolveLocal = resolve })
    const tables = [...opts.tables]
    const sections: PeersSection[] = []
    for (const cfg of opts.config.peers) {
      if (cfg.disabled || !cfg.peers.some(p => p.name === opts.localName)) continue
      const mine: { table: StickTable, wire: string }[] = []
      for (const t of tables) {
        const wire = wireTableName(cfg, t)
        if (wire !== undefined) mine.push({ table: t, wire })
      }
      // Ids 1..N in the order of the tables (the configuration's), as HAProxy 2.6.12 numbers
      // backend tables; `show peers` lists them from the last one, as HAProxy does.
      const numbered = mine.map((m, i) => new SyncTable(m.table, m.wire, i + 1))
      sections.push(new PeersSection(cfg, numbered, this, opts))
    }
    this.sections = sections
  }

  section (name: string): PeersSection | undefined {
    return this.sections.find(s => s.name === name)
  }

  /**
   * Opens the listeners (throws `TSLB_ERR_PEERS_LISTEN` when an address is taken) and starts
   * syncing. With `learnFrom`, each section first learns its tables from the previous generation.
   */
  async start (opts: StartOptions = {}): Promise<void> {
    if (this.#started) throw new TypeError('peers manager already started')
    this.#started = true
    const opened: PeersSection[] = []
    try {
      for (const s of this.sections) {
        await s.listen()
        opened.push(s)
      }
    } catch (err) {
      await Promise.all(opened.map(async s => { await s.stop() }))
      throw err
    }
    if (this.sections.length === 0) {
      this.emit('local-sync-done', [])
      this.#resolveLocal([])
    }
    for (const s of this.sections) {
      const from = opts.learnFrom?.(s.name)
      s.start(typeof from === 'string' ? { path: from } : from)
    }
  }

  /** @internal A section finished its local phase. */
  sectionLocalDone (report: LocalSyncReport): void {
    this.#reports.push(report)
    this.emit('section-local-sync-done', report)
    if (this.#reports.length === this.sections.length) {
      const all = [...this.#reports]
      this.emit('local-sync-done', all)
      this.#resolveLocal(all)
    }
  }

  /** This generation is draining: stop accepting, close the remote sessions, keep teaching the next one. */
  async retire (): Promise<void> {
    await Promise.all(this.sections.map(async s => { await s.retire() }))
  }

  async stop (): Promise<void> {
    await Promise.all(this.sections.map(async s => { await s.stop() }))
  }

  /** Peer sessions open, connecting ones included (`show info` ActivePeers). */
  get activePeers (): number {
    return this.sections.reduce((n, s) => n + s.handshaking + [...s.peers,
      s.previous].filter(p => p.session !== undefined).length, 0)
  }

  /** Peer sessions past their handshake (`show info` ConnectedPeers). */
  get connectedPeers (): number {
    return this.sections.reduce((n, s) => n + [...s.peers, s.previous].filter(p => p.session?.established ===
      true).length, 0)
  }

  /** Counters and states for `tslb status`. */
  status (): PeersStatus {
    return peersStatus(this.localName, this.sections, this.clock.now())
  }
}
