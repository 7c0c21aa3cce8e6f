/**
 * The stick-table sync engine of one `peers` section: what HAProxy 2.6 does in
 * `peer_send_msgs()`, `peer_treat_awaited_msg()`, `init_connected_peer()`,
 * `init_accepted_peer()` and `__peer_session_deinit()` (v2.6.0 src/peers.c), over tslb's
 * stick-table store.
 *
 * Tables are matched between peers by name (the wire name: a backend's name, `/X` for `table X`
 * of a peers section) with the same key type and key length; a definition that does not match is
 * ignored with its updates, as HAProxy does. Before any update of a table on a connection, its
 * DEFINE is sent.
 *
 * Pushing (per peer, per table; cursors survive reconnections as HAProxy's `shared_table`):
 * - incremental: the entries of the table's local update log after `lastPushed`, in update order,
 *   as UPDATE/INCUPDATE without expiry (the receiver applies its own `expire`); at most
 *   `maxUpdatesPerTurn` per turn, and only while the connection has room;
 * - full teach, after a RESYNC_REQ: every entry (the remote log first, then the local one, the
 *   order in which no entry can be missed while the table changes), as timed updates carrying the
 *   time left before expiry, then RESYNC_FINISHED if this node's own table is complete (learning
 *   finished) or RESYNC_PARTIAL otherwise; ACKs are ignored until the peer's RESYNC_CONFIRM;
 * - entries learned from a peer are never pushed to other peers (no relaying: a full mesh is
 *   required), except toward the next worker generation of this node (see below).
 *
 * Resume after a reconnection: ACKs from the peer move `update`, the resume point; a new connection
 * starts pushing after it (`lastPushed = update`).
 *
 * Learning (section state `flags & 3`: 0 from the local peer, 1 from remotes, 3 finished):
 * - a new worker generation first learns from the previous one (the "local peer", reached over a
 *   unix socket): it connects, sends RESYNC_REQ and waits for FINISHED/PARTIAL;
 * - then (or directly, on a first start) it asks the first established remote peer not known to
 *   be partial; PARTIAL → that peer is marked not up to date and another is tried; with nobody left,
 *   after the resync timeout (5 s) the state is declared finished, as HAProxy does.
 *
 * tslb departures from HAProxy, all limited to sessions between two generations of one node
 * (HAProxy nodes never see them): the new generation connects to the old one and asks (HAProxy's
 * old process connects to the new one and teaches unasked); the old generation keeps pushing after
 * the lesson, including the entries it learned from remote peers, so updates it receives while
 * draining still reach the new generation; the learner pushes nothing to the old generation.
 * After a teach, incremental pushing resumes where the teach walk ended (HAProxy restarts from
 * the ack point of the request and sends those entries twice).
 * @module
 */
import type { PeersClock } from './clock.ts'
import { LearningState, PEER_F, RESYNC_FINISHED, RESYNC_FROMLOCAL, RESYNC_FROMREMOTE,
  RESYNC_STATEMASK } from './learning.ts'
import { PEERS_KEY_TYPE, STKTABLE_DT, haproxyKeyLen } from './data-types.ts'
import type { LocalTableShape } from './decoder.ts'
import type { DecodedMessage } from './decoder.ts'
import { buildTableDefinition, tableLayout } from './messages.ts'
import type { DataValue, FreqCounterWire, PeersTableDefinition, StickKey, UpdateMessage,
  ValueSlot } from './messages.ts'
import type { PeerSession } from './session.ts'
import type { PeerTarget } from './transport.ts'
import type { StickEntry, StickTable } from '../stick/index.ts'
import type { RemoteDatum } from '../stick/index.ts'

export { PEER_F, PEER_RESYNC_TIMEOUT_MS, PEERS_F, RESYNC_FINISHED, RESYNC_FROMLOCAL, RESYNC_FROMREMOTE,
  RESYNC_STATEMASK } from './learning.ts'

const PEER_TEACH_RESET = ~(PEER_F.TEACH_PROCESS | PEER_F.TEACH_FINISHED)

/* Shared table flags. */
export const SHTABLE_F = {
  TEACH_STAGE1: 0x1,
  TEACH_STAGE2: 0x2
} as const

export const PEER_RECONNECT_TIMEOUT_MS = 5000
export const PEER_HEARTBEAT_TIMEOUT_MS = 3000
/** `tune.peers.max-updates-at-once`. */
export const DEFAULT_MAX_UPDATES_PER_TURN = 200

/** Wire ids of entries learned from peers, as HAProxy numbers them (update key + 2^31). */
const REMOTE_ID_BASE = 0x80000000

/** A table of the section, as it is announced. */
export class SyncTable {
  readonly table: StickTable
  /** Local name (`show peers` prints it): backend name, or `PEERS/X`. */
  readonly name: string
  /** Name on the wire: the backend name, `/X` for a peers-section table. */
  readonly wireName: string
  /** HAProxy's `local_id`: the id in our DEFINE. */
  readonly localId: number
  readonly definition: PeersTableDefinition
  readonly shape: LocalTableShape
  readonly slots: readonly ValueSlot[]

  constructor (table: StickTable, wireName: string, localId: number) {
    this.table = table
    this.name = table.name
    this.wireName = wireName
    this.localId = localId
    const keyType = PEERS_KEY_TYPE[table.type]
    const keyLen = table.type === 'string' || table.type === 'binary' ? table.keySize : haproxyKeyLen(table.type,
      undefined)
    this.definition = buildTableDefinition({
      tableId: localId,
      name: wireName,
      keyType,
      keyLen,
      expireMs: table.expireMs ?? 0,
      store: table.stored.map(s => ({
        name: s.type.name,
        ...(s.period > 0 ? { period: s.period } : {}),
        ...(s.type.isArray ? { count: s.count } : {})
      }))
    })
    this.shape = { keyType, keyLen }
    const layout = tableLayout(this.definition)
    if (typeof layout === 'string') throw new TypeError(`table ${table.name}: ${layout}`)
    this.slots = layout
  }
}

/** HAProxy's `shared_table`: the sync state of one table toward one peer. */
export class SharedTable {
  readonly sync: SyncTable
  /** The peer's id for the table (from its DEFINE), 0 before. */
  remoteId = 0
  /** The peer's data bitfield (from its DEFINE). */
  remoteData = 0n
  /** Last update id we acknowledged (u32). */
  lastAcked = 0
  /** Last update id received (u32). */
  lastGet = 0
  /** Local update id up to which entries were pushed. */
  lastPushed = 0
  /** Resume point: the last local update id the peer acknowledged. */
  update = 0
  teachingOrigin = 0
  flags = 0
  /** Full teach: last remote-log id, then last local-log id, sent. */
  teachRemote = 0
  teachLocal = 0
  /** Toward the next generation of this node: remote-log id up to which entries were relayed. */
  relayRemote = 0
  /** Counters. */
  pushed = 0
  taught = 0
  received = 0
  rejected = 0

  constructor (sync: SyncTable) {
    this.sync = sync
  }

  /** HAProxy's `update` as a u32 (what `show peers` prints). */
  get wireUpdate (): number {
    return this.update >>> 0
  }
}

/** A configured peer (HAProxy's `struct peer`): its sync state survives its connections. */
export class PeerState {
  readonly name: string
  /** The peer named like us: the other worker generation of this node. */
  readonly local: boolean
  /** Where it is reached (undefined for the local peer until a previous generation is given). */
  target: PeerTarget | undefined
  /** Address as configured, for `show peers`. */
  readonly configuredAddress: string
  readonly tables: SharedTable[]
  session: PeerSession | undefined
  /** `last_status`: 0 none, 100 connecting, 110 handshake, 200 established, 300/50x refused. */
  statuscode = 0
  lastHandshake: number | undefined
  reconnect: number | undefined
  heartbeat: number | undefined
  flags = 0
  /** Confirmations (RESYNC_CONFIRM) to send. */
  confirm = 0
  txHbt = 0
  rxHbt = 0
  noHbt = 0
  newConn = 0
  protoErr = 0
  coll = 0
  /** Consecutive refusals (300/50x): tslb retries them with a growing back-off. */
  refusals = 0
  /** tslb counters for `tslb status`. */
  sessions = 0
  acksSent = 0
  acksReceived = 0
  /** Full resyncs: asked of the peer, taught to it (it asked), learned from it (it answered FINISHED/PARTIAL). */
  resyncsRequested = 0
  resyncsTaught = 0
  resyncsLearned = 0
  /** Why the last session or attempt ended badly (clock ms). */
  lastError: { readonly reason: string, readonly detail: string, readonly at: number } | undefined
  /** Per connection: the table the last DEFINE was sent for, and the last wire id sent per table. */
  lastLocalTable: SharedTable | undefined
  remoteTable: SharedTable | undefined
  readonly lastSentId = new Map<number, number>()
  forceId = true

  constructor (name: string, local: boolean, target: PeerTarget | undefined, configuredAddress: string,
    tables: readonly SyncTable[]) {
    this.name = name
    this.local = local
    this.target = target
    this.configuredAddress = configuredAddress
    // HAProxy's list is the reverse of registration: the last table first.
    this.tables = [...tables].reverse().map(t => new SharedTable(t))
  }

  get established (): boolean {
    return this.session?.established === true && this.statuscode === 200
  }
}

export type LearnResult = 'finished' | 'partial' | 'aborted' | 'timeout' | 'unavailable' | 'none'

export interface SectionSyncHooks {
  /** A lesson ended (the assigned peer answered FINISHED or PARTIAL). */
  onLesson? (peer: PeerState, result: 'finished' | 'partial'): void
  /** We finished teaching a peer (sent FINISHED/PARTIAL). */
  onTaught? (peer: PeerState, complete: boolean): void
  /** The section's learning state changed. */
  onStateChange? (): void
}

export interface SectionSyncOptions {
  readonly clock: PeersClock
  readonly maxUpdatesPerTurn?: number
  readonly hooks?: SectionSyncHooks
}

/** The tables of a section with their push/learn logic. */
export class SectionSync {
  readonly tables: readonly SyncTable[]
  readonly #byWireName = new Map<string, SyncTable>()
  readonly #clock: PeersClock
  readonly #max: number
  readonly #hooks: SectionSyncHooks
  /** The section's learning state: its one writer. */
  readonly learning: LearningState

  constructor (tables: readonly SyncTable[], opts: SectionSyncOptions) {
    this.tables = tables
    for (const t of tables) this.#byWireName.set(t.wireName, t)
    this.#clock = opts.clock
    this.#max = opts.maxUpdatesPerTurn ?? DEFAULT_MAX_UPDATES_PER_TURN
    this.#hooks = opts.hooks ?? {}
    this.learning = new LearningState(opts.clock, () => { this.#hooks.onStateChange?.() })
  }

  /** HAProxy's `peers->flags`. */
  get flags (): number {
    return this.learning.flags
  }

  get resyncTimeout (): number | undefined {
    return this.learning.resyncTimeout
  }

  get resyncState (): 'from-local' | 'from-remote' | 'finished' {
    const s = this.flags & RESYNC_STATEMASK
    return s === RESYNC_FROMLOCAL ? 'from-local' : s === RESYNC_FROMREMOTE ? 'from-remote' : 'finished'
  }

  /** For the decoder: the local shape of a wire table name. */
  resolveTable (name: string): LocalTableShape | undefined {
    return this.#byWireName.get(name)?.shape
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Session start and end                                                                      */
  /* ---------------------------------------------------------------------------------------- */

  #initCursors (peer: PeerState): void {
    for (const st of peer.tables) {
      st.lastGet = st.lastAcked = 0
      // An ack from the future means the table is not the one acked: push everything again.
      if (st.update > st.sync.table.localUpdate) st.update = 0
      st.teachingOrigin = st.lastPushed = st.update
      st.flags = 0
    }
    peer.confirm = 0
    peer.flags &= PEER_TEACH_RESET
    this.learning.sessionStarted(peer)
    peer.lastLocalTable = undefined
    peer.remoteTable = undefined
    peer.lastSentId.clear()
    peer.forceId = true
  }

  /** `init_connected_peer()`: we connected and the peer answered 200. */
  initConnected (peer: PeerState): void {
    peer.heartbeat = this.#clock.now() + PEER_HEARTBEAT_TIMEOUT_MS
    this.#initCursors(peer)
    // tslb: connecting to the local peer means learning from the previous generation.
    if (peer.local) this.learning.localConnected(peer)
    else this.learning.remoteConnected(peer)
  }

  /** `init_accepted_peer()`: a peer connected to us and we answered 200. */
  initAccepted (peer: PeerState): void {
    const now = this.#clock.now()
    peer.heartbeat = now + PEER_HEARTBEAT_TIMEOUT_MS
    peer.statuscode = 200
    peer.lastHandshake = now
    this.#initCursors(peer)
    // An accepted local session is the next generation: it asks for its lesson (RESYNC_REQ).
    if (!peer.local) this.learning.remoteConnected(peer)
  }

  /** `__peer_session_deinit()`: the peer's session ended. */
  deinit (peer: PeerState): void {
    peer.lastLocalTable = undefined
    peer.remoteTable = undefined
    this.learning.sessionEnded(peer)
    peer.flags &= PEER_TEACH_RESET
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Receiving                                                                                  */
  /* ---------------------------------------------------------------------------------------- */

  /** `peer_treat_awaited_msg()`. */
  receive (peer: PeerState, msg: DecodedMessage): void {
    switch (msg.kind) {
      case 'control': this.#control(peer, msg.type); return
      case 'define': {
        const st = peer.tables.find(t => t.sync.wireName === msg.table.name)
        if (st !== undefined) {
          st.remoteId = msg.table.tableId
          st.remoteData = msg.table.dataMask
        }
        peer.remoteTable = st
        return
      }
      case 'define-ignored':
        peer.remoteTable = undefined
        return
      case 'switch':
        peer.remoteTable = peer.tables.find(t => t.remoteId === msg.tableId && t.remoteId !== 0)
        return
      case 'update': {
        const st = peer.tables.find(t => t.sync.wireName === msg.table.name)
        if (st === undefined) return
        st.lastGet = msg.updateId
        this.#apply(st, msg)
        return
      }
      case 'ack': {
        peer.acksReceived++
        if ((peer.flags & PEER_F.TEACH_PROCESS) !== 0) return
        const st = peer.tables.find(t => t.sync.localId === msg.tableId)
        if (st === undefined) return
        const id = ackToLocalId(msg.updateId, st.sync.table.localUpdate)
        if (id !== undefined && id > st.update) st.update = id
        return
      }
      default:
        // update-ignored, error and unknown messages are skipped, as HAProxy does.
    }
  }

  #control (peer: PeerState, type: string): void {
    const now = this.#clock.now()
    switch (type) {
      case 'resync-request':
        peer.resyncsTaught++
        for (const st of peer.tables) {
          st.teachingOrigin = st.lastPushed = st.update
          st.flags = 0
          st.teachRemote = 0
          st.teachLocal = 0
        }
        peer.flags &= PEER_TEACH_RESET
        peer.flags |= PEER_F.TEACH_PROCESS
        this.learning.teachRequested()
        return
      case 'resync-finished':
        if (this.learning.lessonFinished(peer)) {
          peer.resyncsLearned++
          this.#hooks.onLesson?.(peer, 'finished')
        }
        peer.confirm++
        return
      case 'resync-partial':
        if (this.learning.lessonPartial(peer)) {
          peer.resyncsLearned++
          this.#hooks.onLesson?.(peer, 'partial')
        }
        peer.confirm++
        return
      case 'resync-confirm':
        // tslb: only the end of a lesson we gave (RESYNC_FINISHED/PARTIAL sent) is confirmed. HAProxy
        // applies any confirmation, which moves the push cursors back to where the session (or the
        // last lesson) began and sends again every update acknowledged since.
        if ((peer.flags & (PEER_F.TEACH_PROCESS | PEER_F.TEACH_FINISHED)) !== (PEER_F.TEACH_PROCESS |
          PEER_F.TEACH_FINISHED)) return
        for (const st of peer.tables) {
          // The peer holds everything the teach walked: resume after it.
          const end = Math.max(st.teachLocal, st.teachingOrigin)
          st.update = st.lastPushed = end
          st.flags = 0
        }
        peer.flags &= PEER_TEACH_RESET
        return
      case 'heartbeat':
        peer.reconnect = now + PEER_RECONNECT_TIMEOUT_MS
        peer.rxHbt++
    }
  }

  #apply (st: SharedTable, msg: UpdateMessage): void {
    const key = stickKeyInput(msg.key)
    const values: RemoteDatum[] = msg.values.map(v => ({ dataType: v.dataType, value: v.value }))
    try {
      const e = st.sync.table.applyRemote(key, values, msg.expireMs, this.#clock.now())
      if (e === undefined) st.rejected++
      else st.received++
    } catch (err) {
      // A key or value the table cannot hold (the definitions matched, so only a peer bug): skipped.
      if (!(err instanceof Error) || !('code' in err)) throw err
      st.rejected++
    }
  }

  /* ---------------------------------------------------------------------------------------- */
  /* Sending                                                                                    */
  /* ---------------------------------------------------------------------------------------- */

  /** Whether incremental updates are waiting for this peer. */
  hasPending (peer: PeerState): boolean {
    if ((peer.flags & PEER_F.TEACH_PROCESS) !== 0) return (peer.flags & PEER_F.TEACH_FINISHED) === 0
    if ((peer.flags & PEER_F.LEARN_ASSIGN) !== 0 || !this.#pushesTo(peer)) return false
    for (const st of peer.tables) {
      if (st.lastPushed !== st.sync.table.localUpdate) return true
      if (this.#relays(peer) && st.relayRemote !== st.sync.table.remoteUpdate) return true
    }
    return false
  }

  /** Whether incremental updates go to this peer at all (tslb: not from a learner to the old generation). */
  #pushesTo (peer: PeerState): boolean {
    return !(peer.local && peer.session?.role === 'connect')
  }

  /** Old generation toward the new one: entries learned from remotes are pushed too. */
  #relays (peer: PeerState): boolean {
    return peer.local && peer.session?.role === 'accept'
  }

  /**
   * `peer_send_msgs()`: writes what is due to the peer's session, at most `maxUpdatesPerTurn`
   * updates and only while the session has room. Returns true when more is waiting (call again on
   * a later turn, or when the session drains).
   */
  send (peer: PeerState, s: PeerSession): boolean {
    let budget = this.#max
    if (this.learning.requestDue(peer)) {
      s.send({ kind: 'control', type: 'resync-request' })
      peer.resyncsRequested++
      this.learning.requestSent()
    }
    if ((peer.flags & PEER_F.HEARTBEAT) !== 0) {
      peer.flags &= ~PEER_F.HEARTBEAT
      s.send({ kind: 'control', type: 'heartbeat' })
      peer.txHbt++
    }
    const n = peer.tables.length
    if (n > 0) {
      const start = peer.lastLocalTable === undefined ? 0 : (peer.tables.indexOf(peer.lastLocalTable) + 1) % n
      for (let k = 0; k < n; k++) {
        const st = peer.tables[(start + k) % n] as SharedTable
        if (st.lastGet !== st.lastAcked && st.remoteId !== 0) {
          s.send({ kind: 'ack', tableId: st.remoteId, updateId: st.lastGet })
          peer.acksSent++
          st.lastAcked = st.lastGet
        }
        if (budget <= 0 || !s.hasRoom) continue
        if ((peer.flags & PEER_F.TEACH_PROCESS) === 0) {
          if ((peer.flags & PEER_F.LEARN_ASSIGN) === 0 && this.#pushesTo(peer)) budget -= this.#pushIncremental(peer, s,
            st, budget)
        } else if ((peer.flags & PEER_F.TEACH_FINISHED) === 0 && (st.flags & SHTABLE_F.TEACH_STAGE2) === 0) {
          budget -= this.#teach(peer, s, st, budget)
        }
      }
    }
    if ((peer.flags & PEER_F.TEACH_PROCESS) !== 0 && (peer.flags & PEER_F.TEACH_FINISHED) === 0 &&
        peer.tables.every(st => (st.flags & SHTABLE_F.TEACH_STAGE2) !== 0)) {
      const complete = (this.flags & RESYNC_STATEMASK) === RESYNC_FINISHED
      s.send({ kind: 'control', type: complete ? 'resync-finished' : 'resync-partial' })
      peer.flags |= PEER_F.TEACH_FINISHED
      this.#hooks.onTaught?.(peer, complete)
    }
    while (peer.confirm > 0) {
      s.send({ kind: 'control', type: 'resync-confirm' })
      peer.confirm--
    }
    return this.hasPending(peer)
  }

  /** DEFINE the table on this connection if the last one defined was another. */
  #switchTo (peer: PeerState, s: PeerSession, st: SharedTable): void {
    if (peer.lastLocalTable === st) return
    s.send({ kind: 'define', table: st.sync.definition })
    peer.lastLocalTable = st
    peer.forceId = true
  }

  #pushIncremental (peer: PeerState, s: PeerSession, st: SharedTable, budget: number): number {
    const table = st.sync.table
    const now = this.#clock.now()
    let sent = 0
    if (st.lastPushed !== table.localUpdate) {
      const end = table.localUpdate
      const entries = table.updatesSince(st.lastPushed, budget)
      for (const e of entries) {
        if (!s.hasRoom) return sent
        const id = e.updateId
        if (this.#live(st, e, now)) {
          this.#switchTo(peer, s, st)
          this.#sendUpdate(peer, s, st, e, id >>> 0, false, now)
          st.pushed++
          sent++
        }
        st.lastPushed = id
      }
      if (entries.length < budget) st.lastPushed = end
    }
    if (this.#relays(peer) && st.relayRemote !== table.remoteUpdate && sent < budget && s.hasRoom) {
      const end = table.remoteUpdate
      const want = budget - sent
      const entries = table.updatesSince(st.relayRemote, want, 'remote')
      for (const e of entries) {
        if (!s.hasRoom) return sent
        const id = e.updateId
        if (this.#live(st, e, now)) {
          this.#switchTo(peer, s, st)
          this.#sendUpdate(peer, s, st, e, (REMOTE_ID_BASE + id) >>> 0, !peer.session?.downgraded, now)
          st.pushed++
          sent++
        }
        st.relayRemote = id
      }
      if (entries.length < want) st.relayRemote = end
    }
    return sent
  }

  /** Stage 1: the remote log; stage 2: the local log. Both with timed updates. */
  #teach (peer: PeerState, s: PeerSession, st: SharedTable, budget: number): number {
    const table = st.sync.table
    const now = this.#clock.now()
    // HAProxy defines every table of a teach, empty ones too.
    this.#switchTo(peer, s, st)
    const timed = !s.downgraded
    let sent = 0
    if ((st.flags & SHTABLE_F.TEACH_STAGE1) === 0) {
      const end = table.remoteUpdate
      const entries = table.updatesSince(st.teachRemote, budget, 'remote')
      for (const e of entries) {
        if (!s.hasRoom) return sent
        if (this.#live(st, e, now)) {
          this.#sendUpdate(peer, s, st, e, (REMOTE_ID_BASE + e.updateId) >>> 0, timed, now)
          st.taught++
          sent++
        }
        st.teachRemote = e.updateId
      }
      if (entries.length < budget) {
        st.teachRemote = end
        st.relayRemote = end
        st.flags |= SHTABLE_F.TEACH_STAGE1
      } else return sent
    }
    if ((st.flags & SHTABLE_F.TEACH_STAGE2) === 0 && sent < budget) {
      const end = table.localUpdate
      const want = budget - sent
      const entries = table.updatesSince(st.teachLocal, want, 'local')
      for (const e of entries) {
        if (!s.hasRoom) return sent
        if (this.#live(st, e, now)) {
          this.#sendUpdate(peer, s, st, e, e.updateId >>> 0, timed, now)
          st.taught++
          sent++
        }
        st.teachLocal = e.updateId
      }
      if (entries.length < want) {
        st.teachLocal = end
        st.flags |= SHTABLE_F.TEACH_STAGE2
      }
    }
    return sent
  }

  /** Entries past their expiry (the owner's sweep has not run yet) are not sent. */
  #live (st: SharedTable, e: StickEntry, now: number): boolean {
    return st.sync.table.expireMs === undefined || e.expiresIn(now) > 0
  }

  #sendUpdate (peer: PeerState, s: PeerSession, st: SharedTable, e: StickEntry, wireId: number, timed: boolean,
    now: number): void {
    const prev = peer.lastSentId.get(st.sync.localId)
    const withId = peer.forceId || prev === undefined || wireId !== ((prev + 1) >>> 0)
    const msg: UpdateMessage = {
      kind: 'update',
      table: st.sync.definition,
      updateId: wireId,
      withId,
      expireMs: timed ? e.expiresIn(now) : undefined,
      key: entryKey(st.sync.table, e),
      values: entryValues(st.sync, e, s, now)
    }
    s.send(msg)
    peer.lastSentId.set(st.sync.localId, wireId)
    peer.forceId = false
  }
}

/**
 * The local update id an ACK (u32) designates: the id at or below `localUpdate` with those low 32
 * bits, undefined when it is not within 2^31 below it (not an id we sent).
 */
export function ackToLocalId (ack: number, localUpdate: number): number | undefined {
  const diff = ((localUpdate >>> 0) - (ack >>> 0)) >>> 0
  if (diff >= REMOTE_ID_BASE) return undefined
  const id = localUpdate - diff
  return id >= 0 ? id : undefined
}

function stickKeyInput (key: StickKey): number | Buffer {
  return key.type === 'integer' ? key.value : key.bytes
}

function entryKey (table: StickTable, e: StickEntry): StickKey {
  if (table.type === 'integer') return { type: 'integer', value: e.keyBytes().readUInt32BE(0) }
  return { type: table.type, bytes: e.keyBytes() }
}

function u64 (v: number): bigint {
  if (!Number.isFinite(v) || v <= 0) return 0n
  const b = BigInt(Math.floor(v))
  return b > 0xffff_ffff_ffff_ffffn ? 0xffff_ffff_ffff_ffffn : b
}

/** The values of an entry in the definition's order, frequency counters as of `now`. */
function entryValues (sync: SyncTable, e: StickEntry, s: PeerSession, now: number): DataValue[] {
  const exported = e.exportValues(now)
  const out: DataValue[] = []
  for (let i = 0; i < sync.slots.length; i++) {
    const slot = sync.slots[i] as ValueSlot
    const d = exported.find(x => x.dataType === slot.type.id)
    const dataType = slot.type.id
    const v = d?.value
    switch (slot.kind) {
      case 'sint': out.push({ dataType, kind: 'sint', value: typeof v === 'number' ? v | 0 : 0 }); break
      case 'uint': out.push({ dataType, kind: 'uint', value: typeof v === 'number' ? v >>> 0 : 0 }); break
      case 'ull': out.push({ dataType, kind: 'ull', value: typeof v === 'number' ? u64(v) : 0n }); break
      case 'frqp': out.push({ dataType, kind: 'frqp', value: isFreq(v) ? v : ZERO_FREQ }); break
      case 'dict': out.push({ dataType, kind: 'dict', value: typeof v === 'string' ? s.dict.reference(v) : null });
        break
      case 'sint[]':
      case 'uint[]': {
        const arr = Array.isArray(v) ? v as readonly unknown[] : []
        const value: number[] = []
        for (let k = 0; k < slot.nbelem; k++) {
          const x = arr[k]
          const n = typeof x === 'number' ? x : 0
          value.push(slot.kind === 'sint[]' ? n | 0 : n >>> 0)
        }
        out.push({ dataType, kind: slot.kind, value })
        break
      }
      case 'ull[]': {
        const arr = Array.isArray(v) ? v as readonly unknown[] : []
        const value: bigint[] = []
        for (let k = 0; k < slot.nbelem; k++) {
          const x = arr[k]
          value.push(typeof x === 'number' ? u64(x) : 0n)
        }
        out.push({ dataType, kind: 'ull[]', value })
        break
      }
      case 'frqp[]': {
        const arr = Array.isArray(v) ? v as readonly unknown[] : []
        const value: FreqCounterWire[] = []
        for (let k = 0; k < slot.nbelem; k++) {
          const x = arr[k]
          value.push(isFreq(x) ? x : ZERO_FREQ)
        }
        out.push({ dataType, kind: 'frqp[]', value })
        break
      }
    }
  }
  return out
}

const ZERO_FREQ: FreqCounterWire = { elapsedMs: 0, curr: 0, prev: 0 }

function isFreq (v: unknown): v is FreqCounterWire {
  return typeof v === 'object' && v !== null && 'elapsedMs' in v
}

/** The data types HAProxy never applies from a peer (exported for tests and `show peers`). */
export const LOCAL_ONLY_DATA_TYPES: readonly number[] = [STKTABLE_DT.CONN_CUR]
