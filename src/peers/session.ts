/**
 * One peers protocol connection (HAProxy 2.6 `peer_io_handler()`): the text handshake, then the
 * binary message stream, over a {@link PeerTransport}.
 *
 * The session knows bytes and the handshake; what the messages mean (tables, resync, acks) and
 * what the peer-level timers do (heartbeat, dead peer, reconnect, collisions) belong to its owner,
 * the peers manager, through {@link SessionOwner}. States, as HAProxy's `st0`:
 *
 * ```
 * connector: connecting ──connect──▶ hello-sent ──"200\n"──▶ established ──▶ closed
 *                                        └──other status──▶ closed (owner told the code)
 * acceptor:  await-hello ──valid hello, owner says 200──▶ established ──▶ closed
 *                 └──bad hello: "501".."504\n" / owner says 300──▶ closed
 * ```
 *
 * Output is pulled, never pushed into an unbounded queue: the owner writes in `onWritable()`,
 * which the session calls on a later event-loop turn after `requestWrite()`, and only while the
 * transport holds less than `highWaterMark` bytes; above it the session waits for the transport to
 * drain. A protocol error is answered as HAProxy does (`01 00`, or `01 01` for an oversized
 * message) and the connection closed; the messages decoded before it are delivered first.
 * @module
 */
import type { PeersClock, PeersTimer } from './clock.ts'
import { MessageDecoder } from './decoder.ts'
import type { DecodedMessage, MessageDecoderOptions } from './decoder.ts'
import type { PeersErrorReply } from './errors.ts'
import { HelloParser, StatusParser, encodeHello, encodeStatus, PEERS_STATUS } from './handshake.ts'
import type { Hello } from './handshake.ts'
import { DEFAULT_MAX_PAYLOAD, DictTxCache, encodeMessage } from './messages.ts'
import type { PeersMessage } from './messages.ts'
import type { PeerTransport } from './transport.ts'

export type SessionRole = 'connect' | 'accept'
export type SessionState = 'connecting' | 'hello-sent' | 'await-hello' | 'established' | 'closed'

/** Why a session ended. */
export type CloseReason =
  /** The owner closed it (superseded by a collision, dead peer, shutdown, ...); `detail` says why. */
  | 'local'
  /** The other end closed or reset the connection. */
  | 'remote'
  /** The TCP/unix connect failed or timed out. */
  | 'connect-failed'
  /** No complete handshake within the handshake timeout. */
  | 'handshake-timeout'
  /** Acceptor: the hello was refused (`status` 501..504, or undefined for an overlong line). */
  | 'hello-rejected'
  /** Acceptor: the owner answered a non-200 status (300: a second local-peer connection). */
  | 'refused'
  /** Connector: the other end answered a status other than 200. */
  | 'status'
  /** The other end broke the protocol; we answered `01 00` / `01 01`. */
  | 'protocol-error'
  /** A message begun and not completed within the session timeout (a peer trickling bytes). */
  | 'partial-frame-timeout'

export interface CloseInfo {
  readonly reason: CloseReason
  readonly detail: string
  /** Status line involved (sent for hello-rejected/refused, received for status). */
  readonly status?: number | undefined
  /** Error code for protocol errors (`TSLB_ERR_PEERS_*`). */
  readonly code?: string | undefined
}

export interface SessionOwner {
  /** Connector: the transport connected and the hello was sent (HAProxy status 110, HSHK). */
  onConnected (s: PeerSession): void
  /**
   * Acceptor: a valid hello. Return the status to answer: 200 binds the session to the peer named
   * in `hello.peerName` (the owner resolves collisions before answering), anything else (300)
   * refuses it.
   */
  onHello (s: PeerSession, hello: Hello): number
  /** Connector: the status line; 200 is followed by `onEstablished`, anything else by the close. */
  onStatus (s: PeerSession, code: number): void
  onEstablished (s: PeerSession): void
  /** One valid message (including the ones HAProxy skips: unknown, ignored definitions/updates). */
  onMessage (s: PeerSession, msg: DecodedMessage): void
  /** The transport has room: write with `send()` (the session flushes after the call). */
  onWritable (s: PeerSession): void
  onClosed (s: PeerSession, info: CloseInfo): void
}

export interface PeerSessionOptions {
  readonly role: SessionRole
  readonly transport: PeerTransport
  readonly clock: PeersClock
  readonly owner: SessionOwner
  /** Our local peer name. */
  readonly localName: string
  /** Connector: the name of the peer contacted (hello line 2). */
  readonly remoteName?: string
  /** Our pid, in the hello. */
  readonly pid?: number
  /** Connector: announce version 2.0 (the other end answered 502 before). */
  readonly downgrade?: boolean
  /** Acceptor: whether hello line 3 names a configured peer (else 504). */
  readonly isKnownPeer?: (name: string) => boolean
  /** Which remote table definitions are accepted (see `MessageDecoder`). */
  readonly resolveTable?: MessageDecoderOptions['resolveTable']
  /** Largest message payload accepted and sent (HAProxy's tune.bufsize: 16384). */
  readonly maxPayload?: number
  /** Handshake must complete within this (HAProxy's peers proxy timeouts: 5 s). */
  readonly handshakeTimeoutMs?: number
  /** A message begun must be complete within this (a deadline from its first byte; default 5 s). */
  readonly partialFrameTimeoutMs?: number
  /** Bytes the transport may hold before the session stops asking for output. */
  readonly highWaterMark?: number
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000
export const DEFAULT_PARTIAL_FRAME_TIMEOUT_MS = 5000
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024

let nextSessionId = 1

export class PeerSession {
  readonly id = nextSessionId++
  readonly role: SessionRole
  readonly transport: PeerTransport
  readonly decoder: MessageDecoder
  /** server_key dictionary, sending half; flushed with the connection as HAProxy does. */
  readonly dict = new DictTxCache()
  /** Connector: the peer contacted; acceptor: the peer named in the hello, once received. */
  peerName: string | undefined
  /** The hello announced version 2.0: send no timed updates (acceptor), or we announced it (connector). */
  downgraded: boolean
  readonly startedAt: number
  state: SessionState
  /** Times the owner was asked for output (`task_calls` of `show peers`). */
  calls = 0
  bytesIn = 0
  bytesOut = 0
  messagesIn = 0
  messagesOut = 0
  closeInfo: CloseInfo | undefined

  readonly #opts: PeerSessionOptions
  readonly #clock: PeersClock
  readonly #owner: SessionOwner
  readonly #maxPayload: number
  readonly #hwm: number
  #hello: HelloParser | undefined
  #status: StatusParser | undefined
  #handshakeTimer: PeersTimer | undefined
  /** Armed while the decoder holds part of a message: the rest must arrive before it fires. */
  #partialTimer: PeersTimer | undefined
  #pending: Buffer[] = []
  #pendingBytes = 0
  #writeScheduled = false
  #waitingDrain = false
  #inWritable = false

  constructor (opts: PeerSessionOptions) {
    this.#opts = opts
    this.role = opts.role
    this.transport = opts.transport
    this.#clock = opts.clock
    this.#owner = opts.owner
    this.#maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD
    this.#hwm = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    this.decoder = new MessageDecoder({ maxPayload: this.#maxPayload,
      ...(opts.resolveTable === undefined ? {} : { resolveTable: opts.resolveTable }) })
    this.downgraded = opts.downgrade ?? false
    this.startedAt = opts.clock.now()
    if (opts.role === 'connect') {
      if (opts.remoteName === undefined) throw new TypeError('a connecting peers session needs the remote peer name')
      this.peerName = opts.remoteName
      this.state = 'connecting'
    } else {
      this.state = 'await-hello'
      this.#hello = new HelloParser({ localName: opts.localName, isKnownPeer: opts.isKnownPeer ?? (() => false) })
    }
    const timeout = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
    this.#handshakeTimer = this.#clock.setTimer(() => {
      this.#handshakeTimer = undefined
      if (this.state === 'established' || this.state === 'closed') return
      const reason: CloseReason = this.state === 'connecting' ? 'connect-failed' : 'handshake-timeout'
      this.#finish({ reason, detail:
        `no ${this.state === 'connecting' ? 'connection' : 'handshake'} after ${timeout} ms` }, 'destroy')
    }, timeout)
    opts.transport.attach({
      onConnect: () => { this.#guard(() => { this.#onConnect() }) },
      onData: chunk => { this.#guard(() => { this.#onData(chunk) }) },
      onDrain: () => {
        if (this.#waitingDrain) {
          this.#waitingDrain = false
          this.requestWrite()
        }
      },
      onClose: err => {
        if (this.state === 'closed') return
        const reason: CloseReason = this.state === 'connecting' ? 'connect-failed' : 'remote'
        this.#finish({ reason, detail: err?.message ?? 'connection closed by the other end' }, 'none')
      }
    })
  }

  get established (): boolean {
    return this.state === 'established'
  }

  get closed (): boolean {
    return this.state === 'closed'
  }

  /** Bytes queued toward the peer (ours not yet written plus the transport's). */
  get queuedBytes (): number {
    return this.#pendingBytes + this.transport.writableLength
  }

  /** Whether more output fits now (below the high-water mark). */
  get hasRoom (): boolean {
    return this.queuedBytes < this.#hwm
  }

  /** Encodes a message into the output (written at the end of `onWritable()` or by `flush()`). */
  send (msg: PeersMessage): void {
    if (this.state === 'closed') return
    const b = encodeMessage(msg, { maxPayload: this.#maxPayload })
    this.#pending.push(b)
    this.#pendingBytes += b.length
    this.messagesOut++
  }

  /** Writes what `send()` queued. */
  flush (): void {
    if (this.#pending.length === 0 || this.state === 'closed') return
    const data = this.#pending.length === 1 ? this.#pending[0] as Buffer : Buffer.concat(this.#pending,
      this.#pendingBytes)
    this.#pending = []
    this.#pendingBytes = 0
    this.bytesOut += data.length
    this.transport.write(data)
  }

  /** Asks the owner for output on a later turn (coalesced), as soon as the transport has room. */
  requestWrite (): void {
    if (this.#writeScheduled || this.state !== 'established') return
    this.#writeScheduled = true
    this.#clock.defer(() => {
      this.#writeScheduled = false
      this.#runWritable()
    })
  }

  #runWritable (): void {
    if (this.state !== 'established' || this.#inWritable) return
    if (!this.hasRoom) {
      this.#waitingDrain = true
      return
    }
    this.#inWritable = true
    try {
      this.calls++
      this.#guard(() => { this.#owner.onWritable(this) })
    } finally {
      this.#inWritable = false
    }
    this.flush()
    if (this.state === 'established' && !this.hasRoom) this.#waitingDrain = true
  }

  /**
   * Closes the session: flushes what is queued (plus `reply`, an error message HAProxy sends
   * before closing) and ends the connection. The owner gets `onClosed` synchronously.
   */
  close (detail: string, reply?: PeersErrorReply): void {
    if (this.state === 'closed') return
    if (reply !== undefined) this.send({ kind: 'error', type: reply })
    this.flush()
    this.#finish({ reason: 'local', detail }, 'end')
  }

  /** Closes at once, dropping queued output. */
  destroy (detail: string): void {
    if (this.state === 'closed') return
    this.#finish({ reason: 'local', detail }, 'destroy')
  }

  #finish (info: CloseInfo, how: 'end' | 'destroy' | 'none'): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.closeInfo = info
    if (this.#handshakeTimer !== undefined) this.#clock.clearTimer(this.#handshakeTimer)
    this.#handshakeTimer = undefined
    this.#watchPartialFrame(false)
    this.#pending = []
    this.#pendingBytes = 0
    this.dict.clear()
    if (how === 'end') this.transport.end()
    else if (how === 'destroy') this.transport.destroy()
    this.#owner.onClosed(this, info)
  }

  /**
   * Runs an event handler; an unexpected exception (a bug, never peer input: the codec reports bad
   * input as values) closes this session instead of taking the process down.
   */
  #guard (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      if (this.state === 'closed') return
      this.#finish({ reason: 'local', detail: `internal error: ${err instanceof Error ? err.message : String(err)}`,
        code: (err as { code?: string }).code }, 'destroy')
    }
  }

  #writeRaw (b: Buffer): void {
    this.bytesOut += b.length
    this.transport.write(b)
  }

  #onConnect (): void {
    if (this.state !== 'connecting') return
    this.#writeRaw(encodeHello({
      remoteName: this.#opts.remoteName as string,
      localName: this.#opts.localName,
      pid: this.#opts.pid ?? process.pid,
      minorVersion: this.downgraded ? 0 : 1
    }))
    this.state = 'hello-sent'
    this.#status = new StatusParser()
    this.#owner.onConnected(this)
  }

  #onData (chunk: Buffer): void {
    if (this.state === 'closed') return
    this.bytesIn += chunk.length
    switch (this.state) {
      case 'await-hello': this.#onHelloBytes(chunk); return
      case 'hello-sent': this.#onStatusBytes(chunk); return
      case 'established': this.#decode(chunk); return
      case 'connecting': return
    }
  }

  #onHelloBytes (chunk: Buffer): void {
    const r = (this.#hello as HelloParser).push(chunk)
    if (r.kind === 'need-more') return
    if (r.kind === 'reject') {
      const status = r.error.status
      if (status !== undefined) this.#writeRaw(encodeStatus(status))
      this.#finish({ reason: 'hello-rejected', detail: r.error.message, status, code: r.error.code }, 'end')
      return
    }
    this.peerName = r.hello.peerName
    this.downgraded = r.hello.downgraded
    const status = this.#owner.onHello(this, r.hello)
    if (this.state === 'closed') return
    this.#writeRaw(encodeStatus(status))
    if (status !== PEERS_STATUS.SUCCESS) {
      this.#finish({ reason: 'refused', detail: `answered ${status} to ${r.hello.peerName}`, status }, 'end')
      return
    }
    this.#established(r.rest)
  }

  #onStatusBytes (chunk: Buffer): void {
    const r = (this.#status as StatusParser).push(chunk)
    if (r.kind === 'need-more') return
    if (r.kind === 'reject') {
      this.#finish({ reason: 'status', detail: r.error.message, code: r.error.code }, 'destroy')
      return
    }
    this.#owner.onStatus(this, r.code)
    if (this.state === 'closed') return
    if (r.code !== PEERS_STATUS.SUCCESS) {
      this.#finish({ reason: 'status', detail: `peer answered status ${r.code}`, status: r.code }, 'destroy')
      return
    }
    this.#established(r.rest)
  }

  #established (rest: Buffer): void {
    this.state = 'established'
    this.#hello = undefined
    this.#status = undefined
    if (this.#handshakeTimer !== undefined) this.#clock.clearTimer(this.#handshakeTimer)
    this.#handshakeTimer = undefined
    this.#owner.onEstablished(this)
    if (this.state === 'established' && rest.length > 0) this.#decode(rest)
    this.requestWrite()
  }

  #decode (chunk: Buffer): void {
    const { messages, error } = this.decoder.feed(chunk)
    this.#deliver(messages)
    // A completed message restarts the deadline: only a message that itself takes too long is cut.
    if (messages.length > 0) this.#watchPartialFrame(false)
    this.#watchPartialFrame(error === undefined && this.state === 'established' && this.decoder.buffered > 0)
    if (error !== undefined) {
      if (this.state !== 'established') return
      if (error.reply !== undefined) this.send({ kind: 'error', type: error.reply })
      this.flush()
      this.#finish({ reason: 'protocol-error', detail: error.message, code: error.code }, 'end')
      return
    }
    this.requestWrite()
  }

  /** Arms the partial-frame deadline when a message starts, disarms it once none is pending. */
  #watchPartialFrame (pending: boolean): void {
    if (!pending) {
      if (this.#partialTimer !== undefined) this.#clock.clearTimer(this.#partialTimer)
      this.#partialTimer = undefined
      return
    }
    if (this.#partialTimer !== undefined) return
    const timeout = this.#opts.partialFrameTimeoutMs ?? DEFAULT_PARTIAL_FRAME_TIMEOUT_MS
    this.#partialTimer = this.#clock.setTimer(() => {
      this.#partialTimer = undefined
      this.#finish({ reason: 'partial-frame-timeout', detail:
        `a message was not completed within ${timeout} ms (${this.decoder.buffered} bytes held)` }, 'destroy')
    }, timeout)
  }

  #deliver (msgs: readonly DecodedMessage[]): void {
    for (const m of msgs) {
      if (this.state !== 'established') return
      this.messagesIn++
      this.#owner.onMessage(this, m)
    }
  }
}
