/**
 * The measurement peer of `scripts/bench peers`: joins a peers section as one more peer of the
 * node under test (tslb or HAProxy, the same code for both), over tslb's own codec (hello,
 * control, ACK, DEFINE and update encoding, varints).
 *
 * Receiving only frames messages and, when asked, reads the key of each update (string tables):
 * full decoding would make this peer the bottleneck of a resync (the codec's decoder does about
 * 0.5 M updates/s on this machine; a teach can go faster). Every update is timestamped with the
 * time its chunk arrived, before any parsing.
 * @module
 */
import { connect, type Socket } from 'node:net'
import { encodeHello } from '../../src/peers/handshake.ts'
import { buildTableDefinition, encodeMessage } from '../../src/peers/messages.ts'
import { varintSpan, varintValue, writeVarint } from '../../src/peers/varint.ts'

const CLASS_CONTROL = 0
const CLASS_STKT = 0x0a
const CTL = { RESYNC_REQ: 0, RESYNC_FINISHED: 1, RESYNC_PARTIAL: 2, RESYNC_CONFIRM: 3, HEARTBEAT: 4 } as const
const T = { UPDATE: 0x80, INCUPDATE: 0x81, DEFINE: 0x82, SWITCH: 0x83, ACK: 0x84, UPDATE_TIMED: 0x85, INCUPDATE_TIMED: 0x86 } as const

export interface MeasOptions {
  readonly host: string
  readonly port: number
  /** The node under test's local peer name (line 2 of the hello). */
  readonly remoteName: string
  /** Our peer name (line 3). */
  readonly localName: string
  /** Called per update whose key starts with `keyPrefix` (when set), with the chunk's arrival time. */
  readonly onKey?: (key: string, at: number) => void
  readonly keyPrefix?: string
}

/** One session of the measurement peer. */
export class MeasSession {
  readonly socket: Socket
  readonly #opts: MeasOptions
  #buf: Buffer = Buffer.alloc(0)
  #handshake = true
  #lastId = 0
  #remoteTableId = 0
  #acked = 0
  #hb: NodeJS.Timeout | undefined
  /** Updates received (every table). */
  updates = 0
  /** Highest ACK the node sent us (u32), per our table id 1. */
  lastAck = 0
  resyncRequestsReceived = 0
  #onControl: ((type: number, at: number) => void) | undefined
  #onAck: (() => void) | undefined
  status = 0
  closed = false

  private constructor (opts: MeasOptions, socket: Socket) {
    this.#opts = opts
    this.socket = socket
  }

  /** Connects, sends the hello, resolves once the node answered 200. */
  static async open (opts: MeasOptions): Promise<MeasSession> {
    const socket = connect({ host: opts.host, port: opts.port, noDelay: true })
    const s = new MeasSession(opts, socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.write(encodeHello({ remoteName: opts.remoteName, localName: opts.localName, pid: process.pid, relativePid: 1 }))
      })
      const onStatus = (): void => {
        socket.off('error', reject)
        if (s.status === 200) resolve()
        else reject(new Error(`the node answered status ${s.status}`))
      }
      s.#statusWaiter = onStatus
      socket.on('data', (chunk: Buffer) => { s.#onData(chunk, performance.now()) })
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      s.closed = true
      clearInterval(s.#hb)
    })
    s.#hb = setInterval(() => { s.#write(Buffer.from([CLASS_CONTROL, CTL.HEARTBEAT])) }, 1000)
    return s
  }

  #statusWaiter: (() => void) | undefined

  #write (b: Buffer): boolean {
    if (this.closed || this.socket.destroyed) return true
    return this.socket.write(b)
  }

  #onData (chunk: Buffer, at: number): void {
    let buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    if (this.#handshake) {
      const nl = buf.indexOf(0x0a)
      if (nl < 0) { this.#buf = buf; return }
      this.status = Number.parseInt(buf.subarray(0, nl).toString('latin1'), 10)
      this.#handshake = false
      buf = buf.subarray(nl + 1)
      this.#statusWaiter?.()
      this.#statusWaiter = undefined
    }
    let pos = 0
    const end = buf.length
    const wantKeys = this.#opts.onKey !== undefined
    const prefix = this.#opts.keyPrefix ?? ''
    while (end - pos >= 2) {
      const cls = buf[pos] as number
      const type = buf[pos + 1] as number
      if (type < 0x80) {
        pos += 2
        if (cls === CLASS_CONTROL) this.#control(type, at)
        continue
      }
      const lenSpan = varintSpan(buf, pos + 2, end)
      if (lenSpan <= 0) break
      const len = Number(varintValue(buf, pos + 2, lenSpan))
      const start = pos + 2 + lenSpan
      if (end - start < len) break
      if (cls === CLASS_STKT) this.#stkt(type, buf, start, start + len, wantKeys, prefix, at)
      pos = start + len
    }
    this.#buf = pos === end ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos))
    if (this.#lastId !== this.#acked && this.#remoteTableId !== 0) {
      const ack = Buffer.alloc(16)
      ack[0] = CLASS_STKT
      ack[1] = T.ACK
      const idLen = writeVarint(ack, 3, this.#remoteTableId)
      ack[2] = idLen + 4
      ack.writeUInt32BE(this.#lastId >>> 0, 3 + idLen)
      this.#write(ack.subarray(0, 3 + idLen + 4))
      this.#acked = this.#lastId
    }
  }

  #control (type: number, at: number): void {
    if (type === CTL.RESYNC_REQ) {
      // The node learns from us at its start: we have nothing, the lesson is over at once.
      this.resyncRequestsReceived++
      this.#write(Buffer.from([CLASS_CONTROL, CTL.RESYNC_FINISHED]))
    } else if (type === CTL.RESYNC_FINISHED || type === CTL.RESYNC_PARTIAL) {
      this.#write(Buffer.from([CLASS_CONTROL, CTL.RESYNC_CONFIRM]))
    }
    this.#onControl?.(type, at)
  }

  #stkt (type: number, buf: Buffer, p: number, end: number, wantKeys: boolean, prefix: string, at: number): void {
    switch (type) {
      case T.DEFINE: {
        const span = varintSpan(buf, p, end)
        this.#remoteTableId = Number(varintValue(buf, p, span))
        return
      }
      case T.ACK: {
        const span = varintSpan(buf, p, end)
        this.lastAck = buf.readUInt32BE(p + span)
        this.#onAck?.()
        return
      }
      case T.UPDATE: case T.UPDATE_TIMED: this.#lastId = buf.readUInt32BE(p); p += 4; break
      case T.INCUPDATE: case T.INCUPDATE_TIMED: this.#lastId = (this.#lastId + 1) >>> 0; break
      default: return
    }
    this.updates++
    if (!wantKeys) return
    if (type === T.UPDATE_TIMED || type === T.INCUPDATE_TIMED) p += 4
    const span = varintSpan(buf, p, end)
    const klen = Number(varintValue(buf, p, span))
    const key = buf.toString('latin1', p + span, p + span + klen)
    if (key.startsWith(prefix)) this.#opts.onKey?.(key, at)
  }

  /** Resolves at the next control message of `type` (arrival time). */
  async nextControl (type: number): Promise<number> {
    return await new Promise(resolve => {
      this.#onControl = (t, at) => {
        if (t !== type) return
        this.#onControl = undefined
        resolve(at)
      }
    })
  }

  /** Asks for a full resync; resolves when FINISHED/PARTIAL arrives: { ms, updates, partial }. */
  async resync (): Promise<{ ms: number, updates: number, partial: boolean }> {
    const before = this.updates
    const done = new Promise<{ at: number, type: number }>(resolve => {
      this.#onControl = (t, at) => {
        if (t !== CTL.RESYNC_FINISHED && t !== CTL.RESYNC_PARTIAL) return
        this.#onControl = undefined
        resolve({ at, type: t })
      }
    })
    const t0 = performance.now()
    this.#write(Buffer.from([CLASS_CONTROL, CTL.RESYNC_REQ]))
    const { at, type } = await done
    return { ms: at - t0, updates: this.updates - before, partial: type === CTL.RESYNC_PARTIAL }
  }

  /**
   * Pushes `n` entries `PREFIX<i>` (server_id 1) into the node's `table` (a string table of key
   * length `keyLen` as HAProxy counts it), honouring back-pressure; resolves once the node
   * acknowledged the last one.
   */
  async fill (table: string, keyLen: number, expireMs: number, n: number, prefix: string): Promise<void> {
    const def = buildTableDefinition({ tableId: 1, name: table, keyType: 6, keyLen, expireMs, store: [{ name: 'server_id' }] })
    const update = (i: number, withId: boolean): Buffer => encodeMessage({
      kind: 'update', table: def, updateId: i, withId, expireMs: undefined, key: { type: 'string', bytes: Buffer.from(`${prefix}${i}`) }, values: [{ dataType: 0, kind: 'sint', value: 1 }]
    })
    this.#write(encodeMessage({ kind: 'define', table: def }))
    this.#write(update(1, true))
    // The rest as INCUPDATE, built by hand (the codec's encoder is the slow part of a 1M fill);
    // checked once against the codec.
    const scratch = Buffer.alloc(64)
    const inc = (i: number): Buffer => {
      const key = `${prefix}${i}`
      const klen = key.length
      const payload = 1 + klen + 1
      scratch[0] = CLASS_STKT
      scratch[1] = T.INCUPDATE
      scratch[2] = payload
      scratch[3] = klen
      scratch.write(key, 4, 'latin1')
      scratch[4 + klen] = 1
      return scratch.subarray(0, 5 + klen)
    }
    if (!inc(2).equals(update(2, false))) throw new Error('hand-built INCUPDATE differs from the codec')
    const BATCH = 2000
    for (let i = 2; i <= n;) {
      const parts: Buffer[] = []
      for (let k = 0; k < BATCH && i <= n; k++, i++) parts.push(Buffer.from(inc(i)))
      if (!this.#write(Buffer.concat(parts))) await new Promise(resolve => this.socket.once('drain', resolve))
    }
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.lastAck >= n) { this.#onAck = undefined; resolve() }
      }
      this.#onAck = check
      this.socket.once('close', () => { reject(new Error(`session closed during the fill (acked ${this.lastAck}/${n})`)) })
      check()
    })
  }

  async close (): Promise<void> {
    clearInterval(this.#hb)
    if (this.closed) return
    await new Promise<void>(resolve => {
      this.socket.once('close', () => { resolve() })
      this.socket.end()
      setTimeout(() => { this.socket.destroy() }, 1000).unref()
    })
  }
}

export const CONTROL = CTL
