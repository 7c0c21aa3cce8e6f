/**
 * The runtime of one peers section: its listeners, its sessions to every remote peer and to the
 * neighbouring worker generations, and the sync task HAProxy 2.6 runs as `process_peer_sync()`
 * (reconnection, heartbeats, dead-peer detection), over {@link SectionSync}. The learning state
 * itself is written by learning.ts only; this module reports the events.
 *
 * Timers (HAProxy 2.6): a connection attempt every 5 s (connect timeout 1 s); a heartbeat after
 * 3 s with nothing sent; a peer that sent nothing during a 5 s period, then a second one, is
 * closed (`no_hbt`) and reconnected after 50..2050 ms; both ends connect, and when both
 * connections cross, the acceptor keeps the incoming one and delays its own next attempt by
 * 50..2050 ms (`coll`). Resync: 5 s.
 * @module
 */
import type { PeersSection as PeersSectionConfig } from '../config/model.ts'
import { canonicalIp } from '../net/addr.ts'
import type { StickTable } from '../stick/index.ts'
import { systemClock } from './clock.ts'
import type { PeersClock, PeersTimer } from './clock.ts'
import type { DecodedMessage } from './decoder.ts'
import { PeersConfigError } from './errors.ts'
import { PEERS_STATUS } from './handshake.ts'
import type { Hello } from './handshake.ts'
import { DEFAULT_MAX_PAYLOAD } from './messages.ts'
import {
  DEFAULT_LOCAL_LEARN_LIMIT_MS, LOCAL_RETRY_MS, PEER_CONNECT_TIMEOUT_MS, REFUSED_RETRY_MAX_MS, REFUSED_RETRY_MIN_MS,
  type LocalSyncReport, type PeersLog, type PeersManagerEvents, type PeersManagerOptions
} from './options.ts'
import { PeerSession } from './session.ts'
import type { CloseInfo, SessionOwner } from './session.ts'
import {
  PEER_F, PEER_HEARTBEAT_TIMEOUT_MS, PEER_RECONNECT_TIMEOUT_MS, PEERS_F, PeerState, RESYNC_FINISHED,
  RESYNC_FROMLOCAL, RESYNC_FROMREMOTE, RESYNC_STATEMASK, SectionSync, SyncTable
} from './sync.ts'
import type { LearnResult } from './sync.ts'
import { targetText } from './transport.ts'
import type { ListenSpec, PeerTarget, PeersListener, PeersNetwork, PeerTransport } from './transport.ts'

const silentLog: PeersLog = { info: () => {}, warn: () => {}, debug: () => {} }

/** What a section needs from the manager that holds it. */
export interface SectionOwner {
  readonly network: PeersNetwork
  emit<E extends keyof PeersManagerEvents> (event: E, ...args: PeersManagerEvents[E]): boolean
  /** The section left its "learn from the previous generation" phase. */
  sectionLocalDone (report: LocalSyncReport): void
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
  readonly #owner: SectionOwner
  readonly #clock: PeersClock
  readonly #opts: PeersManagerOptions
  readonly #log: PeersLog
  readonly #sessionPeer = new WeakMap<PeerSession, PeerState>()
  /** Sessions accepted on the hand-off (unix) socket: the only way in for the local peer's name. */
  readonly #handoffSessions = new WeakSet<PeerSession>()
  /** Addresses a remote peer's session may come from, by peer name (none: any, see trust-peer-names). */
  readonly #sources = new Map<string, ReadonlySet<string>>()
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

  constructor (cfg: PeersSectionConfig, tables: readonly SyncTable[], owner: SectionOwner, opts: PeersManagerOptions) {
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
          this.#log.info({ section: this.name, peer: peer.name, local: peer.local, result },
            result === 'finished' ? 'peers resync finished' : 'peers resync partial')
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
      const configured = p.address !== undefined && p.address.port !== undefined ? { host: p.address.host,
        port: p.address.port } : undefined
      const addr = override ?? configured
      const target: PeerTarget | undefined = isLocal ? undefined : addr === undefined ? undefined : {
        host: addr.host === '' ? '127.0.0.1' : addr.host, port: addr.port }
      const shown = configured ?? (isLocal ? bindAddress(cfg) : undefined)
      const ps = new PeerState(p.name, isLocal, target, shown === undefined ?
        '0.0.0.0:0' : `${shown.host === '' ? '0.0.0.0' : shown.host}:${shown.port}`, tables)
      const sources = [configured?.host, override?.host].filter((h): h is string => h !== undefined && h !== '')
      if (!isLocal && cfg.trustPeerNames !== true && configured?.host !== '' && sources.length > 0) this.#sources.set(
        p.name, new Set(sources.map(sameSpelling)))
      peers.push(ps)
      this.#byName.set(p.name, ps)
      if (isLocal) local = ps
    }
    if (local === undefined) throw new PeersConfigError(
      `peers section '${cfg.name}' has no peer named '${opts.localName}' (the local peer)`)
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
      this.#listenSpec = own === undefined ? undefined : { host: own.host === '' ? '0.0.0.0' : own.host, port: own.port,
        reusePort: true }
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
    if (learnFrom !== undefined) this.#localLearnDeadline = this.#clock.now() + (this.#opts.localLearnLimitMs ??
      DEFAULT_LOCAL_LEARN_LIMIT_MS)
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
    if (handoff) this.#handoffSessions.add(s)
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
    const refusal = this.#refusal(s, ps)
    if (refusal !== undefined) {
      this.#log.warn({ section: this.name, peer: ps.name, remote: s.transport.remoteAddress, detail: refusal },
        'peers session refused')
      return PEERS_STATUS.UNKNOWN_PEER
    }
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

  /**
   * Why an accepted session may not speak for `ps` (undefined: it may). The local peer's name
   * (which is taught the whole table) only over this node's hand-off socket; a remote peer's only
   * from its configured address, unless the section has `trust-peer-names`.
   */
  #refusal (s: PeerSession, ps: PeerState): string | undefined {
    if (s.role !== 'accept') return undefined
    if (ps.local) return this.#handoffSessions.has(s) ? undefined :
      'a hello naming the local peer is accepted on the hand-off socket only'
    const allowed = this.#sources.get(ps.name)
    if (allowed === undefined) return undefined
    const from = s.transport.kind === 'unix' ? undefined : ipOf(s.transport.remoteAddress)
    if (from !== undefined && allowed.has(sameSpelling(from))) return undefined
    return `peer '${ps.name}' is accepted from ${[...allowed].join(', ')} only, not from ${from ?? ('a unix ' +
      'socket')} (trust-peer-names accepts any address)`
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
    if (!ps.local) ps.reconnect = this.#clock.now() + Math.min(REFUSED_RETRY_MAX_MS,
      REFUSED_RETRY_MIN_MS * 2 ** Math.min(4, ps.refusals - 1))
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
    this.#log.info({ section: this.name, peer: ps.name, local: ps.local, role: s.role,
      remote: s.transport.remoteAddress }, 'peer session established')
    this.#owner.emit('peer-up', { section: this.name, peer: ps.name })
    this.wake()
  }

  onMessage (s: PeerSession, msg: DecodedMessage): void {
    const ps = this.#sessionPeer.get(s)
    if (ps === undefined || ps.session !== s) return
    ps.flags |= PEER_F.ALIVE
    if (msg.kind === 'error') this.#log.warn({ section: this.name, peer: ps.name, error: msg.type },
      'peer reported an error')
    else if (msg.kind === 'define-ignored') this.#log.debug({ section: this.name, peer: ps.name, table: msg.name,
      reason: msg.reason, detail: msg.detail }, 'peer table ignored')
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
        this.#log.warn({ section: this.name, remote: s.transport.remoteAddress, status: info.status,
          detail: info.detail }, 'peers connection refused')
      }
      return
    }
    if (ps.session !== s) return
    const wasEstablished = ps.statuscode === PEERS_STATUS.SUCCESS && info.reason !== 'status' && info.reason !==
      'connect-failed'
    ps.session = undefined
    this.sync.deinit(ps)
    ps.flags &= ~PEER_F.ALIVE
    if (info.reason === 'protocol-error') ps.protoErr++
    if (!this.stopped && info.reason !== 'status') ps.lastError = { reason: info.reason, detail: info.detail,
      at: this.#clock.now() }
    const level = info.reason === 'protocol-error' ? 'warn' : wasEstablished ? 'info' : 'debug'
    this.#log[level]({ section: this.name, peer: ps.name, reason: info.reason, detail: info.detail, code: info.code },
      wasEstablished ? 'peer session closed' : 'peer connection failed')
    if (wasEstablished) this.#owner.emit('peer-down', { section: this.name, peer: ps.name,
      reason: `${info.reason}: ${info.detail}` })
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
        : this.#learnOutcome ?? ((f & PEERS_F.RESYNC_LOCALPARTIAL) !== 0 ? 'partial' : this.learnFrom === undefined ?
          'none' : 'timeout')
      this.#localLearnDeadline = undefined
      if (this.previous.session !== undefined && this.localResult !== 'finished' && this.localResult !== 'partial') {
        this.previous.session.destroy('local resync abandoned')
      }
      this.#log.info({ section: this.name, result: this.localResult },
        'peers: learning from the previous generation done')
      this.#owner.sectionLocalDone({ section: this.name, result: this.localResult })
    }
    if (state === RESYNC_FINISHED) {
      this.#log.info({ section: this.name, flags: `0x${this.sync.flags.toString(16)}` },
        'peers: table learning finished')
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
export function peersListenAddress (cfg: PeersSectionConfig, localName: string): { host: string, port: number,
  family: 0 | 4 | 6 } | undefined {
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
  if (table.name.startsWith(prefix) && section.tables.some(t => `${prefix}${t.name}` ===
    table.name)) return table.name.slice(section.name.length)
  if (table.peers === section.name) return table.name
  return undefined
}

/** The hand-off socket path of a worker generation for a section: `DIR/peers.gGEN.SECTION.sock`. */
export function handoffSocketPath (dir: string, generation: number, section: string): string {
  return `${dir.replace(/\/+$/, '')}/peers.g${generation}.${section.replace(/[^A-Za-z0-9_.-]/g, '_')}.sock`
}

/** The address part of a transport's `ADDR:PORT` text (IPv6 unbracketed, as the transports write it). */
function ipOf (remote: string | undefined): string | undefined {
  if (remote === undefined) return undefined
  const i = remote.lastIndexOf(':')
  return i < 0 ? remote : remote.slice(0, i)
}

/** One spelling per address (IPv4-mapped IPv6 as IPv4), for comparing configured and seen addresses. */
function sameSpelling (ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  return canonicalIp(v4?.[1] ?? ip) ?? ip
}
