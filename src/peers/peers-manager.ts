/**
 * Stick-table peers sync for a worker: one {@link PeersSection} runtime per `peers` section of
 * the configuration that names the local peer, each with its listener, its sessions to every
 * remote peer, and the sync task HAProxy 2.6 runs as `process_peer_sync()` (reconnection,
 * heartbeats, dead-peer detection, learning state), over {@link SectionSync}.
 *
 * Timers (HAProxy 2.6): a connection attempt every 5 s (connect timeout 1 s); a heartbeat after
 * 3 s with nothing sent; a peer that sent nothing during a 5 s period, then a second one, is
 * closed (`no_hbt`) and reconnected after 50..2050 ms; both ends connect, and when both
 * connections cross, the acceptor keeps the incoming one and delays its own next attempt by
 * 50..2050 ms (`coll`). Resync: 5 s.
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
import type { Config, PeersSection as PeersSectionConfig } from '../config/model.ts'
import type { StickTable } from '../stick/index.ts'
import { systemClock } from './clock.ts'
import type { PeersClock, PeersTimer } from './clock.ts'
import type { DecodedMessage } from './decoder.ts'
import { PEERS_STATUS } from './handshake.ts'
import type { Hello } from './handshake.ts'
import { DEFAULT_MAX_PAYLOAD } from './messages.ts'
import { PeerSession } from './session.ts'
import type { CloseInfo, SessionOwner } from './session.ts'
import {
  PEER_F, PEER_HEARTBEAT_TIMEOUT_MS, PEER_RECONNECT_TIMEOUT_MS, PEERS_F, PeerState, RESYNC_FINISHED,
  RESYNC_FROMLOCAL, RESYNC_FROMREMOTE, RESYNC_STATEMASK, SectionSync, SyncTable
} from './sync.ts'
import type { LearnResult } from './sync.ts'
import { NodePeersNetwork, targetText } from './transport.ts'
import type { ListenSpec, PeerTarget, PeersListener, PeersNetwork, PeerTransport } from './transport.ts'
import { PeersConfigError } from './errors.ts'

/** The logging calls the manager makes (pino's Logger fits). */
export interface PeersLog {
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  debug (obj: object, msg: string): void
}

const silentLog: PeersLog = { info: () => {}, warn: () => {}, debug: () => {} }

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

/** The runtime of one peers section. */
export class PeersSection implements SessionOwner {
  readonly name: string
  readonly localName: string
  readonly sync: SectionSync
  /** HAProxy's order (`peers->remote`): the reverse of the configuration. */
  readonly peers: readonly PeerState[]
  /** The local peer (HAProxy's): sessions from the next generation of this node, which we teach. */
  readonly local: PeerState
  /**
   * The previous generation, which we learn from: the same name as `local`, a separate state, since
   * this generation may be taught by its predecessor (still draining) while teaching its successor.
   */
  readonly previous: PeerState
  readonly #byName = new Map<string, PeerState>()
  readonly #owner: PeersManager
  readonly #clock: PeersClock
  readonly #opts: PeersManagerOptions
  readonly #log: PeersLog
  readonly #sessionPeer = new WeakMap<PeerSession, PeerState>()
  readonly #handshaking = new Set<PeerSession>()
  readonly #listenSpec: ListenSpec | undefined
  listener: PeersListener | undefined
  handoffListener: PeersListener | undefined
  /** Epoch ms of the last learning state change (`show peers` header). */
  lastChange: number
  taskCalls = 0
  learnFrom: PeerTarget | undefined
  retired = false
  stopped = false
  localResult: LearnResult | undefined
  #learnOutcome: LearnResult | undefined
  #localLearnDeadline: number | undefined
  #timer: PeersTimer | undefined
  #timerAt: number | undefined
  #processScheduled = false
  readonly #unwatch: (() => void)[]

  constructor (cfg: PeersSectionConfig, tables: readonly SyncTable[], owner: PeersManager, opts: PeersManagerOptions) {
    this.name = cfg.name
    this.localName = opts.localName
    this.#owner = owner
    this.#opts = opts
    this.#clock = opts.clock ?? systemClock
    this.#log = opts.log ?? silentLog
    this.lastChange = this.#clock.wallNow()
    this.sync = new SectionSync(tables, {
      clock: this.#clock,
      ...(opts.maxUpdatesPerTurn === undefined ? {} : { maxUpdatesPerTurn: opts.maxUpdatesPerTurn }),
      hooks: {
        onLesson: (peer, result) => {
          this.#log.info({ section: this.name, peer: peer.name, local: peer.local, result }, result === 'finished' ? 'peers resync finished' : 'peers resync partial')
          if (peer.local && result === 'partial') this.#learnOutcome = 'partial'
        },
        onTaught: (peer, complete) => {
          this.#log.info({ section: this.name, peer: peer.name, local: peer.local, complete }, 'peers resync taught')
        },
        onStateChange: () => { this.#stateChanged() }
      }
    })
    const peers: PeerState[] = []
    let local: PeerState | undefined
    for (const p of cfg.peers) {
      const isLocal = p.name === opts.localName
      const override = opts.addressOf?.(cfg.name, p.name)
      const configured = p.address !== undefined && p.address.port !== undefined ? { host: p.address.host, port: p.address.port } : undefined
      const addr = override ?? configured
      const target: PeerTarget | undefined = isLocal ? undefined : addr === undefined ? undefined : { host: addr.host === '' ? '127.0.0.1' : addr.host, port: addr.port }
      const shown = configured ?? (isLocal ? bindAddress(cfg) : undefined)
      const ps = new PeerState(p.name, isLocal, target, shown === undefined ? '0.0.0.0:0' : `${shown.host === '' ? '0.0.0.0' : shown.host}:${shown.port}`, tables)
      peers.push(ps)
      this.#byName.set(p.name, ps)
      if (isLocal) local = ps
    }
    if (local === undefined) throw new PeersConfigError(`peers section '${cfg.name}' has no peer named '${opts.localName}' (the local peer)`)
    this.local = local
    this.previous = new PeerState(local.name, true, undefined, local.configuredAddress, tables)
    this.peers = peers.reverse()
    // A write to a table asks the sessions for output (once per burst, no polling): they push
    // it at the end of this event-loop turn.
    this.#unwatch = tables.map(t => t.table.watchUpdates(() => { this.#tableUpdated() }))
    const handle = opts.listenHandles?.get(cfg.name)
    if (handle !== undefined) this.#listenSpec = { handle }
    else {
      const own = opts.addressOf?.(cfg.name, opts.localName) ?? (() => {
        const me = cfg.peers.find(p => p.name === opts.localName)
        if (me?.address?.port !== undefined) return { host: me.address.host, port: me.address.port }
        return bindAddress(cfg)
      })()
      this.#listenSpec = own === undefined ? undefined : { host: own.host === '' ? '0.0.0.0' : own.host, port: own.port, reusePort: true }
    }
  }

  get #network (): PeersNetwork {
    return this.#owner.network
  }

  peer (name: string): PeerState | undefined {
    return this.#byName.get(name)
  }

  /** Sessions still in their handshake (accepted, not yet identified). */
  get handshaking (): number {
    return this.#handshaking.size
  }

  async listen (): Promise<void> {
    if (this.#listenSpec !== undefined) {
      this.listener = await this.#network.listen(this.#listenSpec, t => { this.#accept(t, false) })
      this.#log.info({ section: this.name, address: this.listener.address }, 'peers listening')
    }
    const path = this.#opts.handoffPath?.(this.name)
    if (path !== undefined) {
      try {
        this.handoffListener = await this.#network.listen({ path }, t => { this.#accept(t, true) })
      } catch (err) {
        await this.listener?.close()
        throw err
      }
    }
  }

  start (learnFrom: PeerTarget | undefined): void {
    this.learnFrom = learnFrom
    if (learnFrom !== undefined) this.#localLearnDeadline = this.#clock.now() + (this.#opts.localLearnLimitMs ?? DEFAULT_LOCAL_LEARN_LIMIT_MS)
    this.previous.target = learnFrom
    this.wake()
  }

  /** Runs the sync task on the next turn. */
  wake (): void {
    if (this.#processScheduled || this.stopped) return
    this.#processScheduled = true
    this.#clock.defer(() => {
      this.#processScheduled = false
      this.#process()
    })
  }

  #accept (t: PeerTransport, handoff: boolean): void {
    if (this.stopped || (this.retired && !handoff)) {
      t.destroy()
      return
    }
    const s = new PeerSession({
      role: 'accept',
      transport: t,
      clock: this.#clock,
      owner: this,
      localName: this.localName,
      // The hand-off socket is for the next generation of this node only.
      isKnownPeer: handoff ? (n => n === this.localName) : (n => this.#byName.has(n)),
      resolveTable: n => this.sync.resolveTable(n),
      maxPayload: this.#opts.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      ...(this.#opts.highWaterMark === undefined ? {} : { highWaterMark: this.#opts.highWaterMark })
    })
    this.#handshaking.add(s)
  }

  #connect (ps: PeerState, target: PeerTarget): void {
    const now = this.#clock.now()
    ps.newConn++
    ps.reconnect = now + (ps.local ? LOCAL_RETRY_MS : PEER_RECONNECT_TIMEOUT_MS)
    ps.heartbeat = undefined
    ps.statuscode = PEERS_STATUS.CONNECT
    ps.lastHandshake = now
    const t = this.#network.connect(target, PEER_CONNECT_TIMEOUT_MS)
    const s = new PeerSession({
      role: 'connect',
      transport: t,
      clock: this.#clock,
      owner: this,
      localName: this.localName,
      remoteName: ps.local ? this.localName : ps.name,
      pid: this.#opts.pid ?? process.pid,
      downgrade: (ps.flags & PEER_F.DWNGRD) !== 0,
      resolveTable: n => this.sync.resolveTable(n),
      maxPayload: this.#opts.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      ...(this.#opts.highWaterMark === undefined ? {} : { highWaterMark: this.#opts.highWaterMark })
    })
    ps.session = s
    this.#sessionPeer.set(s, ps)
    this.#log.debug({ section: this.name, peer: ps.name, target: targetText(target) }, 'peers connecting')
  }

  /* ---------------------------------------------------------------------------------------- */
  /* SessionOwner                                                                               */
  /* ---------------------------------------------------------------------------------------- */

  onConnected (s: PeerSession): void {
    const ps = this.#sessionPeer.get(s)
    if (ps !== undefined && ps.session === s) ps.statuscode = PEERS_STATUS.CONNECTED
  }

  onHello (s: PeerSession, hello: Hello): number {
    this.#handshaking.delete(s)
    const ps = this.#byName.get(hello.peerName)
    if (ps === undefined) return PEERS_STATUS.UNKNOWN_PEER
    if (this.stopped || (this.retired && !ps.local)) {
      // No status: a refusal would stop HAProxy from ever reconnecting; a closed connection is retried.
      s.destroy('retiring')
      return PEERS_STATUS.TRY_AGAIN
    }
    const now = this.#clock.now()
    if (ps.session !== undefined && ps.session !== s) {
      if (ps.local) return PEERS_STATUS.TRY_AGAIN
      // Collision: the incoming connection wins; delay our own next attempt at random.
      const old = ps.session
      ps.reconnect = now + 50 + Math.floor(this.#clock.random() * 2000)
      ps.session = undefined
      this.sync.deinit(ps)
      ps.flags &= ~PEER_F.ALIVE
      old.destroy('collision: the peer connected to us')
      ps.heartbeat = undefined
      ps.coll++
      this.#log.info({ section: this.name, peer: ps.name }, 'peers session collision: keeping the incoming one')
    }
    if (hello.downgraded) ps.flags |= PEER_F.DWNGRD
    else ps.flags &= ~PEER_F.DWNGRD
    ps.session = s
    ps.flags |= PEER_F.ALIVE
    this.#sessionPeer.set(s, ps)
    return PEERS_STATUS.SUCCESS
  }

  onStatus (s: PeerSession, code: number): void {
    const ps = this.#sessionPeer.get(s)
    if (ps === undefined || ps.session !== s) return
    ps.statuscode = code
    ps.lastHandshake = this.#clock.now()
    if (code === PEERS_STATUS.SUCCESS) return
    if (code === PEERS_STATUS.BAD_VERSION) ps.flags |= PEER_F.DWNGRD
    ps.refusals++
    ps.lastError = { reason: 'status', detail: `the peer answered ${code}`, at: this.#clock.now() }
    if (!ps.local) ps.reconnect = this.#clock.now() + Math.min(REFUSED_RETRY_MAX_MS, REFUSED_RETRY_MIN_MS * 2 ** Math.min(4, ps.refusals - 1))
    this.#log.warn({ section: this.name, peer: ps.name, status: code }, 'peer refused our hello')
  }

  onEstablished (s: PeerSession): void {
    const ps = this.#sessionPeer.get(s)
    if (ps === undefined || ps.session !== s) {
      s.destroy('superseded')
      return
    }
    if (s.role === 'connect') this.sync.initConnected(ps)
    else this.sync.initAccepted(ps)
    ps.refusals = 0
    ps.sessions++
    this.#log.info({ section: this.name, peer: ps.name, local: ps.local, role: s.role, remote: s.transport.remoteAddress }, 'peer session established')
    this.#owner.emit('peer-up', { section: this.name, peer: ps.name })
    this.wake()
  }

  onMessage (s: PeerSession, msg: DecodedMessage): void {
    const ps = this.#sessionPeer.get(s)
    if (ps === undefined || ps.session !== s) return
    ps.flags |= PEER_F.ALIVE
    if (msg.kind === 'error') this.#log.warn({ section: this.name, peer: ps.name, error: msg.type }, 'peer reported an error')
    else if (msg.kind === 'define-ignored') this.#log.debug({ section: this.name, peer: ps.name, table: msg.name, reason: msg.reason, detail: msg.detail }, 'peer table ignored')
    this.sync.receive(ps, msg)
    if (msg.kind === 'control' && msg.type !== 'heartbeat') this.wake()
  }

  onWritable (s: PeerSession): void {
    const ps = this.#sessionPeer.get(s)
    if (ps === undefined || ps.session !== s) return
    this.#rearm()
    if (this.sync.send(ps, s)) s.requestWrite()
  }

  onClosed (s: PeerSession, info: CloseInfo): void {
    this.#handshaking.delete(s)
    const ps = this.#sessionPeer.get(s)
    if (ps === undefined) {
      if (info.reason === 'hello-rejected' || info.reason === 'protocol-error') {
        this.#log.warn({ section: this.name, remote: s.transport.remoteAddress, status: info.status, detail: info.detail }, 'peers connection refused')
      }
      return
    }
    if (ps.session !== s) return
    const wasEstablished = ps.statuscode === PEERS_STATUS.SUCCESS && info.reason !== 'status' && info.reason !== 'connect-failed'
    ps.session = undefined
    this.sync.deinit(ps)
    ps.flags &= ~PEER_F.ALIVE
    if (info.reason === 'protocol-error') ps.protoErr++
    if (!this.stopped && info.reason !== 'status') ps.lastError = { reason: info.reason, detail: info.detail, at: this.#clock.now() }
    const level = info.reason === 'protocol-error' ? 'warn' : wasEstablished ? 'info' : 'debug'
    this.#log[level]({ section: this.name, peer: ps.name, reason: info.reason, detail: info.detail, code: info.code }, wasEstablished ? 'peer session closed' : 'peer connection failed')
    if (wasEstablished) this.#owner.emit('peer-down', { section: this.name, peer: ps.name, reason: `${info.reason}: ${info.detail}` })
    if (ps.local && s.role === 'connect' && (this.flags & RESYNC_STATEMASK) === RESYNC_FROMLOCAL &&
        (info.reason === 'connect-failed' || (info.reason === 'status' && info.status !== PEERS_STATUS.TRY_AGAIN))) {
      // The previous generation is not there (or refuses): learn from the remote peers.
      this.#learnOutcome = 'unavailable'
      this.sync.learning.localUnavailable()
    }
    this.wake()
  }

  get flags (): number {
    return this.sync.flags
  }

  /* ---------------------------------------------------------------------------------------- */
  /* The sync task                                                                              */
  /* ---------------------------------------------------------------------------------------- */

  #stateChanged (): void {
    this.lastChange = this.#clock.wallNow()
    const state = this.sync.flags & RESYNC_STATEMASK
    if (state !== RESYNC_FROMLOCAL && this.localResult === undefined) {
      const f = this.sync.flags
      this.localResult = (f & PEERS_F.RESYNC_LOCALFINISHED) !== 0
        ? 'finished'
        : this.#learnOutcome ?? ((f & PEERS_F.RESYNC_LOCALPARTIAL) !== 0 ? 'partial' : this.learnFrom === undefined ? 'none' : 'timeout')
      this.#localLearnDeadline = undefined
      if (this.previous.session !== undefined && this.localResult !== 'finished' && this.localResult !== 'partial') {
        this.previous.session.destroy('local resync abandoned')
      }
      this.#log.info({ section: this.name, result: this.localResult }, 'peers: learning from the previous generation done')
      this.#owner.sectionLocalDone({ section: this.name, result: this.localResult })
    }
    if (state === RESYNC_FINISHED) {
      this.#log.info({ section: this.name, flags: `0x${this.sync.flags.toString(16)}` }, 'peers: table learning finished')
      this.#owner.emit('sync-finished', this.name)
    }
    this.wake()
  }

  #rearm (): void {
    for (const t of this.sync.tables) t.table.rearmWatchers()
  }

  #tableUpdated (): void {
    if (this.stopped) return
    for (const ps of [...this.peers, this.previous]) {
      const ss = ps.session
      if (ss?.established === true && this.sync.hasPending(ps)) ss.requestWrite()
    }
  }

  #process (): void {
    if (this.stopped) return
    this.taskCalls++
    this.#rearm()
    const now = this.#clock.now()
    let next: number | undefined
    const at = (t: number): void => { next = next === undefined ? t : Math.min(next, t) }
    const sync = this.sync
    const learning = sync.learning
    const state = (): number => learning.state
    const assigned = (): boolean => learning.assigned
    const resyncTimeout = (): number => learning.resyncTimeout ?? now

    if (!this.retired) {
      learning.started(now)
      if (state() === RESYNC_FROMLOCAL && !assigned() && (this.learnFrom === undefined || now >= resyncTimeout())) {
        learning.localSkipped(now)
      }
      if (state() === RESYNC_FROMLOCAL && this.#localLearnDeadline !== undefined) {
        if (now >= this.#localLearnDeadline) {
          this.#learnOutcome = 'timeout'
          learning.localDeadlinePassed(this.previous, now)
        } else at(this.#localLearnDeadline)
      }

      // The previous generation, while learning from it.
      const lp = this.previous
      if (state() === RESYNC_FROMLOCAL && this.learnFrom !== undefined && lp.session === undefined) {
        if (lp.reconnect === undefined || now >= lp.reconnect) this.#connect(lp, this.learnFrom)
        else at(lp.reconnect)
      }
      const learningLocally = state() === RESYNC_FROMLOCAL && this.learnFrom !== undefined

      for (const ps of this.peers) {
        if (ps.local) continue
        const s = ps.session
        if (s === undefined) {
          // Connections to remotes wait for the lesson from the previous generation.
          if (learningLocally || ps.target === undefined) continue
          if (ps.reconnect === undefined || now >= ps.reconnect) this.#connect(ps, ps.target)
          else at(ps.reconnect)
          continue
        }
        if (!ps.established) {
          at(ps.reconnect ?? now + PEER_RECONNECT_TIMEOUT_MS)
          continue
        }
        if (state() === RESYNC_FROMREMOTE && !assigned() && (ps.flags & PEER_F.LEARN_NOTUP2DATE) === 0) {
          learning.assign(ps)
          s.requestWrite()
        }
        if (sync.hasPending(ps)) {
          ps.flags &= ~PEER_F.HEARTBEAT
          ps.heartbeat = now + PEER_HEARTBEAT_TIMEOUT_MS
          s.requestWrite()
        }
        ps.reconnect ??= now + PEER_RECONNECT_TIMEOUT_MS
        if (now >= ps.reconnect) {
          if ((ps.flags & PEER_F.ALIVE) !== 0) {
            ps.flags &= ~PEER_F.ALIVE
            ps.reconnect = now + PEER_RECONNECT_TIMEOUT_MS
          } else {
            ps.reconnect = now + 50 + Math.floor(this.#clock.random() * 2000)
            ps.heartbeat = undefined
            ps.noHbt++
            this.#log.warn({ section: this.name, peer: ps.name }, 'peer silent for too long: reconnecting')
            s.destroy('no message from the peer for 5 s')
            at(ps.reconnect)
            continue
          }
        }
        if (ps.heartbeat !== undefined && now >= ps.heartbeat) {
          ps.heartbeat = now + PEER_HEARTBEAT_TIMEOUT_MS
          ps.flags |= PEER_F.HEARTBEAT
          s.requestWrite()
        }
        at(ps.reconnect)
        if (ps.heartbeat !== undefined) at(ps.heartbeat)
      }

      if (state() === RESYNC_FROMREMOTE && !assigned() && now >= resyncTimeout()) {
        learning.remoteTimedOut()
      }
      if (state() !== RESYNC_FINISHED && now < resyncTimeout()) at(resyncTimeout())
    }

    // The local peer's sessions (the next generation learning from us, us learning from the
    // previous one): pushed to like the others, no heartbeat (as HAProxy).
    for (const lp of [this.local, this.previous]) {
      const ls = lp.session
      if (ls?.established !== true) continue
      if (sync.hasPending(lp)) ls.requestWrite()
    }
    this.#arm(next, now)
  }

  #arm (next: number | undefined, now: number): void {
    if (next === this.#timerAt && this.#timer !== undefined) return
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer)
    this.#timer = undefined
    this.#timerAt = next
    if (next === undefined) return
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined
      this.#timerAt = undefined
      this.wake()
    }, Math.max(0, next - now))
  }

  /**
   * Stops accepting remote peers and closes the remote sessions; the local peer's session stays,
   * and so does the hand-off listener (a generation started after a crash of the next one can
   * still learn from this one while it drains).
   */
  async retire (): Promise<void> {
    if (this.retired || this.stopped) return
    this.retired = true
    this.sync.learning.retiring()
    const closing = this.listener === undefined ? [] : [this.listener.close()]
    this.listener = undefined
    for (const ps of this.peers) {
      if (ps.local || ps.session === undefined) continue
      ps.session.destroy('this generation is retiring')
    }
    for (const s of [...this.#handshaking]) s.destroy('this generation is retiring')
    await Promise.all(closing)
    this.wake()
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const unwatch of this.#unwatch) unwatch()
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer)
    this.#timer = undefined
    const closing = [this.listener, this.handoffListener].flatMap(l => l === undefined ? [] : [l.close()])
    this.listener = undefined
    this.handoffListener = undefined
    for (const ps of [...this.peers, this.previous]) ps.session?.destroy('stopping')
    for (const s of [...this.#handshaking]) s.destroy('stopping')
    await Promise.all(closing)
  }
}

/**
 * The TCP address the local peer listens on in a section (its `peer` line, or the section's `bind`
 * with the `server` syntax), for the supervisor to bind it and hand the socket to every worker
 * generation (`listenHandles`); undefined when the local peer is not in the section.
 */
export function peersListenAddress (cfg: PeersSectionConfig, localName: string): { host: string, port: number, family: 0 | 4 | 6 } | undefined {
  if (cfg.disabled) return undefined
  const me = cfg.peers.find(p => p.name === localName)
  if (me === undefined) return undefined
  const a = me.address?.port !== undefined ? me.address : cfg.bind?.addresses[0]
  if (a?.port === undefined) return undefined
  return { host: a.host, port: a.port, family: a.family }
}

function bindAddress (cfg: PeersSectionConfig): { host: string, port: number } | undefined {
  const a = cfg.bind?.addresses[0]
  return a?.port === undefined ? undefined : { host: a.host, port: a.port }
}

/** The wire name of a table of `section`: `/X` for `PEERS/X`, the backend name otherwise. */
export function wireTableName (section: PeersSectionConfig, table: StickTable): string | undefined {
  const prefix = `${section.name}/`
  if (table.name.startsWith(prefix) && section.tables.some(t => `${prefix}${t.name}` === table.name)) return table.name.slice(section.name.length)
  if (table.peers === section.name) return table.name
  return undefined
}

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
    return this.sections.reduce((n, s) => n + s.handshaking + [...s.peers, s.previous].filter(p => p.session !== undefined).length, 0)
  }

  /** Peer sessions past their handshake (`show info` ConnectedPeers). */
  get connectedPeers (): number {
    return this.sections.reduce((n, s) => n + [...s.peers, s.previous].filter(p => p.session?.established === true).length, 0)
  }

  /** Counters and states for `tslb status`. */
  status (): PeersStatus {
    const now = this.clock.now()
    return {
      localPeer: this.localName,
      sections: this.sections.map(s => ({
        name: s.name,
        state: s.sync.resyncState,
        flags: s.sync.flags,
        localSync: s.localResult,
        listening: s.listener?.address,
        retired: s.retired,
        peers: [...[...s.peers].reverse(), ...(s.previous.session === undefined && s.learnFrom === undefined ? [] : [s.previous])].map(p => ({
          name: p === s.previous ? `${p.name} (previous generation)` : p.name,
          local: p.local,
          address: p.target === undefined ? p.configuredAddress : targetText(p.target),
          state: p.session === undefined ? 'idle' : p.session.state,
          role: p.session?.role,
          lastStatus: p.statuscode,
          lastHandshakeAgoMs: p.lastHandshake === undefined ? undefined : now - p.lastHandshake,
          lastError: p.lastError === undefined ? undefined : { reason: p.lastError.reason, detail: p.lastError.detail, agoMs: now - p.lastError.at },
          counters: {
            newConn: p.newConn,
            sessions: p.sessions,
            txHeartbeats: p.txHbt,
            rxHeartbeats: p.rxHbt,
            noHeartbeat: p.noHbt,
            protocolErrors: p.protoErr,
            collisions: p.coll,
            updatesSent: p.tables.reduce((n, t) => n + t.pushed + t.taught, 0),
            updatesReceived: p.tables.reduce((n, t) => n + t.received, 0),
            updatesRejected: p.tables.reduce((n, t) => n + t.rejected, 0),
            acksSent: p.acksSent,
            acksReceived: p.acksReceived,
            resyncsRequested: p.resyncsRequested,
            resyncsTaught: p.resyncsTaught,
            resyncsLearned: p.resyncsLearned,
            bytesIn: p.session?.bytesIn ?? 0,
            bytesOut: p.session?.bytesOut ?? 0
          }
        })),
        tables: s.sync.tables.map(t => ({ name: t.name, wireName: t.wireName, id: t.localId, entries: t.table.size, localUpdate: t.table.localUpdate }))
      }))
    }
  }
}

export interface PeersStatus {
  readonly localPeer: string
  readonly sections: readonly {
    readonly name: string
    readonly state: 'from-local' | 'from-remote' | 'finished'
    readonly flags: number
    readonly localSync: LearnResult | undefined
    readonly listening: string | undefined
    readonly retired: boolean
    readonly peers: readonly {
      readonly name: string
      readonly local: boolean
      readonly address: string
      readonly state: string
      readonly role: 'connect' | 'accept' | undefined
      readonly lastStatus: number
      readonly lastHandshakeAgoMs: number | undefined
      readonly lastError: { readonly reason: string, readonly detail: string, readonly agoMs: number } | undefined
      readonly counters: PeerCounters
    }[]
    readonly tables: readonly { readonly name: string, readonly wireName: string, readonly id: number, readonly entries: number, readonly localUpdate: number }[]
  }[]
}

export interface PeerCounters {
  /** Connection attempts (HAProxy's new_conn). */
  readonly newConn: number
  /** Sessions established. */
  readonly sessions: number
  readonly txHeartbeats: number
  readonly rxHeartbeats: number
  /** Sessions closed for silence (no_hbt). */
  readonly noHeartbeat: number
  readonly protocolErrors: number
  readonly collisions: number
  /** Updates pushed and taught. */
  readonly updatesSent: number
  readonly updatesReceived: number
  readonly updatesRejected: number
  readonly acksSent: number
  readonly acksReceived: number
  readonly resyncsRequested: number
  readonly resyncsTaught: number
  readonly resyncsLearned: number
  /** Of the current session. */
  readonly bytesIn: number
  readonly bytesOut: number
}

/** The hand-off socket path of a worker generation for a section: `DIR/peers.gGEN.SECTION.sock`. */
export function handoffSocketPath (dir: string, generation: number, section: string): string {
  return `${dir.replace(/\/+$/, '')}/peers.g${generation}.${section.replace(/[^A-Za-z0-9_.-]/g, '_')}.sock`
}
