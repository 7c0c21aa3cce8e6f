/**
 * The learning state of a peers section: which peer teaches us the tables, and how far that
 * got. HAProxy keeps it in `peers->flags` (the RESYNC_* bits) and each peer's LEARN_* bits, with
 * `sync_peer_learn_state()` as their one writer; this class is that writer. Every change is a
 * named transition; the session code (sync.ts) and the sync task (section.ts) report events.
 *
 * The bits are HAProxy's, bit for bit, for `show peers`.
 * @module
 */
import type { PeersClock } from './clock.ts'

/* HAProxy's section flags (`peers->flags`). */
export const PEERS_F = {
  RESYNC_LOCAL: 0x1,
  RESYNC_REMOTE: 0x2,
  RESYNC_ASSIGN: 0x4,
  RESYNC_PROCESS: 0x8,
  RESYNC_LOCALTIMEOUT: 0x10,
  RESYNC_REMOTETIMEOUT: 0x20,
  RESYNC_LOCALABORT: 0x40,
  RESYNC_REMOTEABORT: 0x80,
  RESYNC_LOCALFINISHED: 0x100,
  RESYNC_REMOTEFINISHED: 0x200,
  RESYNC_LOCALPARTIAL: 0x400,
  RESYNC_REMOTEPARTIAL: 0x800,
  RESYNC_LOCALASSIGN: 0x1000,
  RESYNC_REMOTEASSIGN: 0x2000,
  RESYNC_REQUESTED: 0x4000,
  DONOTSTOP: 0x10000
} as const

export const RESYNC_STATEMASK = PEERS_F.RESYNC_LOCAL | PEERS_F.RESYNC_REMOTE
export const RESYNC_FROMLOCAL = 0
export const RESYNC_FROMREMOTE = PEERS_F.RESYNC_LOCAL
export const RESYNC_FINISHED = PEERS_F.RESYNC_LOCAL | PEERS_F.RESYNC_REMOTE

/* HAProxy's peer flags (`peer->flags`). */
export const PEER_F = {
  TEACH_PROCESS: 0x1,
  TEACH_FINISHED: 0x8,
  TEACH_COMPLETE: 0x10,
  LEARN_ASSIGN: 0x100,
  LEARN_NOTUP2DATE: 0x200,
  ALIVE: 0x20000000,
  HEARTBEAT: 0x40000000,
  DWNGRD: 0x80000000
} as const

const PEER_LEARN_RESET = ~(PEER_F.LEARN_ASSIGN | PEER_F.LEARN_NOTUP2DATE)

export const PEER_RESYNC_TIMEOUT_MS = 5000

/** What the learning state reads and writes of a peer: its flags and whether it is the local one. */
export interface LearningPeer {
  flags: number
  readonly local: boolean
}

const END_OF_LESSON = PEERS_F.RESYNC_ASSIGN | PEERS_F.RESYNC_PROCESS

export class LearningState {
  #flags = RESYNC_FROMLOCAL
  #resyncTimeout: number | undefined
  readonly #clock: PeersClock
  readonly #onStateChange: () => void

  constructor (clock: PeersClock, onStateChange: () => void) {
    this.#clock = clock
    this.#onStateChange = onStateChange
  }

  /** HAProxy's `peers->flags`. */
  get flags (): number {
    return this.#flags
  }

  /** Until when the current phase waits for a teacher (clock ms). */
  get resyncTimeout (): number | undefined {
    return this.#resyncTimeout
  }

  get state (): number {
    return this.#flags & RESYNC_STATEMASK
  }

  /** A teacher is assigned (a lesson is asked for or under way). */
  get assigned (): boolean {
    return (this.#flags & PEERS_F.RESYNC_ASSIGN) !== 0
  }

  #set (set: number, clear = 0): void {
    const before = this.#flags & RESYNC_STATEMASK
    this.#flags = (this.#flags & ~clear) | set
    if ((this.#flags & RESYNC_STATEMASK) !== before) this.#onStateChange()
  }

  #retryIn (now = this.#clock.now()): void {
    this.#resyncTimeout = now + PEER_RESYNC_TIMEOUT_MS
  }

  /* Events of a peer's session ------------------------------------------------------------- */

  /** A session to `peer` starts (established): it is no teacher yet. */
  sessionStarted (peer: LearningPeer): void {
    peer.flags &= PEER_LEARN_RESET
  }

  /** We connected to the previous generation: it teaches us, unless a lesson is under way. */
  localConnected (peer: LearningPeer): void {
    if (this.state === RESYNC_FROMLOCAL && !this.assigned) this.#assign(peer)
  }

  /** A remote peer's session started: it teaches us if we are learning from remotes and no one does. */
  remoteConnected (peer: LearningPeer): void {
    if (this.state === RESYNC_FROMREMOTE && !this.assigned) this.#assign(peer)
  }

  /** The sync task picks an established remote peer as the teacher. */
  assign (peer: LearningPeer): void {
    this.#assign(peer)
  }

  #assign (peer: LearningPeer): void {
    peer.flags |= PEER_F.LEARN_ASSIGN
    this.#set(PEERS_F.RESYNC_ASSIGN | (peer.local ? PEERS_F.RESYNC_LOCALASSIGN : PEERS_F.RESYNC_REMOTEASSIGN))
  }

  /** Whether a resync request is due to `peer` (it was assigned, nothing asked yet). */
  requestDue (peer: LearningPeer): boolean {
    return (peer.flags & PEER_F.LEARN_ASSIGN) !== 0 && this.assigned && (this.#flags & PEERS_F.RESYNC_PROCESS) === 0
  }

  /** The resync request went to the teacher. */
  requestSent (): void {
    this.#set(PEERS_F.RESYNC_PROCESS)
  }

  /** A peer asked us for a lesson (we teach it; our own learning is unchanged). */
  teachRequested (): void {
    this.#set(PEERS_F.RESYNC_REQUESTED)
  }

  /** The teacher answered RESYNC_FINISHED: learning is over. Returns whether `peer` was the teacher. */
  lessonFinished (peer: LearningPeer): boolean {
    if ((peer.flags & PEER_F.LEARN_ASSIGN) === 0) return false
    peer.flags &= ~PEER_F.LEARN_ASSIGN
    this.#set(RESYNC_FINISHED | (peer.local ? PEERS_F.RESYNC_LOCALFINISHED : PEERS_F.RESYNC_REMOTEFINISHED),
      END_OF_LESSON)
    return true
  }

  /**
   * The teacher answered RESYNC_PARTIAL: another peer is asked (tslb: a partial lesson from the
   * previous generation moves on to the remote peers at once). Returns whether `peer` was the teacher.
   */
  lessonPartial (peer: LearningPeer): boolean {
    if ((peer.flags & PEER_F.LEARN_ASSIGN) === 0) return false
    peer.flags &= ~PEER_F.LEARN_ASSIGN
    this.#set(peer.local ? PEERS_F.RESYNC_LOCALPARTIAL | PEERS_F.RESYNC_LOCAL : PEERS_F.RESYNC_REMOTEPARTIAL,
      END_OF_LESSON)
    peer.flags |= PEER_F.LEARN_NOTUP2DATE
    this.#retryIn()
    return true
  }

  /** The peer's session ended: a lesson it was giving is aborted. */
  sessionEnded (peer: LearningPeer): void {
    if ((peer.flags & PEER_F.LEARN_ASSIGN) !== 0) {
      peer.flags &= ~PEER_F.LEARN_ASSIGN
      this.#set(peer.local ? PEERS_F.RESYNC_LOCALABORT : PEERS_F.RESYNC_REMOTEABORT, END_OF_LESSON)
      this.#retryIn()
    }
    peer.flags &= PEER_LEARN_RESET
  }

  /* Events of the sync task ---------------------------------------------------------------- */

  /** The sync task's first run: the current phase waits a resync timeout for its teacher. */
  started (now: number): void {
    if (this.#resyncTimeout === undefined) this.#retryIn(now)
  }

  /** The previous generation is not there, or refused us: learn from the remote peers. */
  localUnavailable (): void {
    this.#retryIn()
    this.#set(PEERS_F.RESYNC_LOCAL | PEERS_F.RESYNC_LOCALABORT, END_OF_LESSON)
  }

  /** Nothing to learn locally (no previous generation), or none assigned within the timeout. */
  localSkipped (now: number): void {
    this.#retryIn(now)
    this.#set(PEERS_F.RESYNC_LOCAL | PEERS_F.RESYNC_LOCALTIMEOUT)
  }

  /** The previous generation did not finish its lesson within the local learning limit. */
  localDeadlinePassed (previous: LearningPeer, now: number): void {
    previous.flags &= ~PEER_F.LEARN_ASSIGN
    this.#retryIn(now)
    this.#set(PEERS_F.RESYNC_LOCAL | PEERS_F.RESYNC_LOCALTIMEOUT, END_OF_LESSON)
  }

  /** No remote peer taught us within the resync timeout: learning ends without a lesson. */
  remoteTimedOut (): void {
    this.#set(PEERS_F.RESYNC_REMOTE | PEERS_F.RESYNC_REMOTETIMEOUT)
  }

  /** This generation drains: it keeps teaching its successor (HAProxy's DONOTSTOP). */
  retiring (): void {
    this.#set(PEERS_F.DONOTSTOP)
  }
}
