/**
 * The text handshake of the peers protocol (HAProxy 2.6, v2.6.0 src/peers.c
 * `peer_prepare_hellomsg()`, `peer_getline*()`, `peer_get_version()`):
 *
 * ```
 * connector → acceptor   HAProxyS 2.1\n                 (2.0 once downgraded by a 502)
 *                        <name of the peer contacted>\n
 *                        <own local name> <pid> <relative pid, always 1>\n
 * acceptor → connector   <status>\n                      200 ok; 300, 501..504 refused
 * ```
 *
 * The acceptor checks each line as it arrives, so a bad first line is answered before the
 * others come. Lines end in `\n` (an `\r` before it is dropped) and, being C strings in HAProxy,
 * stop at the first NUL. After the status line, the binary messages start: the parsers return
 * the bytes that followed the handshake as `rest`.
 * @module
 */
import { PEERS_ENCODE_CODES, PEERS_HANDSHAKE_CODES, PeersEncodeError, PeersHandshakeError } from './errors.ts'

export const PEERS_PROTOCOL_NAME = 'HAProxyS'
export const PEERS_MAJOR_VERSION = 2
export const PEERS_MINOR_VERSION = 1
/** Minor version announced after the remote side answered 502 (no timed updates then). */
export const PEERS_DOWNGRADED_MINOR_VERSION = 0

/** Status codes (`PEER_SESS_SC_*`); 100 and 110 are never sent, HAProxy shows them in `show peers`. */
export const PEERS_STATUS = {
  CONNECT: 100,
  CONNECTED: 110,
  SUCCESS: 200,
  TRY_AGAIN: 300,
  PROTOCOL_ERROR: 501,
  BAD_VERSION: 502,
  BAD_LOCAL_NAME: 503,
  UNKNOWN_PEER: 504
} as const

/** The short name `show peers` prints for a status (`statuscode_str()`). */
export function statusName (code: number): string {
  switch (code) {
    case 100: return 'CONN'
    case 110: return 'HSHK'
    case 200: return 'ESTA'
    case 300: return 'RETR'
    case 501: return 'PROT'
    case 502: return 'VERS'
    case 503: return 'NAME'
    case 504: return 'UNKN'
    default: return 'NONE'
  }
}

/**
 * Longest handshake line accepted, in bytes before the `\n`. HAProxy's own limit is its buffer
 * (16 KiB); peer names are short, so tslb is stricter.
 */
export const DEFAULT_MAX_LINE_LENGTH = 1024

export interface HelloFields {
  /** Line 2: the name of the peer being contacted, as configured here. */
  readonly remoteName: string
  /** Our local peer name (`-L`, `localpeer`, or the hostname). */
  readonly localName: string
  readonly pid: number
  /** Always 1 in HAProxy 2.6. */
  readonly relativePid?: number
  /** 1 normally, 0 after a 502 (downgrade). */
  readonly minorVersion?: 0 | 1
}

function badField (message: string): PeersEncodeError {
  return new PeersEncodeError(PEERS_ENCODE_CODES.HANDSHAKE, message)
}

function checkName (name: string, what: string, allowSpace: boolean): void {
  if (name.length === 0) throw badField(`${what} is empty`)
  if (/[\r\n\0]/.test(name)) throw badField(`${what} contains a line break or NUL: ${JSON.stringify(name)}`)
  if (!allowSpace && name.includes(' ')) throw badField(`${what} contains a space: ${JSON.stringify(name)}`)
}

/** `HAProxyS 2.1\n<remote>\n<local> <pid> <relpid>\n`. */
export function encodeHello (h: HelloFields): Buffer {
  checkName(h.remoteName, 'remote peer name', true)
  checkName(h.localName, 'local peer name', false)
  const relativePid = h.relativePid ?? 1
  for (const [what, v] of [['pid', h.pid], ['relative pid', relativePid]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw badField(`${what} out of range: ${v}`)
  }
  const minor = h.minorVersion ?? PEERS_MINOR_VERSION
  return Buffer.from(
    `${PEERS_PROTOCOL_NAME} ${PEERS_MAJOR_VERSION}.${minor}\n${h.remoteName}\n${h.localName} ${h.pid} ${relativePid}\n`,
      'utf8')
}

/** `<code>\n`. */
export function encodeStatus (code: number): Buffer {
  if (!Number.isInteger(code) || code < 0 || code > 999) throw badField(`status out of range: ${code}`)
  return Buffer.from(`${code}\n`, 'latin1')
}

/** A hello that passed every check. */
export interface Hello {
  readonly major: number
  readonly minor: number
  /** Minor version 0: the connector was downgraded, send it no timed updates. */
  readonly downgraded: boolean
  /** Line 2 (equal to our local name). */
  readonly localName: string
  /** Line 3, up to the first space: the connecting peer. Equal to our local name for the other process on reload. */
  readonly peerName: string
  /** Line 3 after the first space (HAProxy does not read it). */
  readonly tail: string
  /** From `tail` when it is `<pid> <relpid>` in decimal, else `undefined`. */
  readonly pid: number | undefined
  readonly relativePid: number | undefined
}

export type HelloResult =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'accept', readonly hello: Hello, readonly rest: Buffer }
  /** Answer `error.status` (when defined) and close. */
  | { readonly kind: 'reject', readonly error: PeersHandshakeError }

export type StatusResult =
  | { readonly kind: 'need-more' }
  /** `code` as `atoi()` reads it; anything but 200 means close (and 502: downgrade the next hello). */
  | { readonly kind: 'status', readonly code: number, readonly rest: Buffer }
  | { readonly kind: 'reject', readonly error: PeersHandshakeError }

/** Splits bytes into lines with a length bound; never keeps more than the bound plus one chunk. */
class LineReader {
  #buf: Buffer = Buffer.alloc(0)
  readonly #max: number

  constructor (max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxLineLength out of range: ${max}`)
    this.#max = max
  }

  push (chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk])
  }

  /** Next line (without its end of line, as HAProxy sees it), `null` if incomplete, `false` if too long. */
  next (): string | null | false {
    const nl = this.#buf.indexOf(0x0a)
    if (nl < 0) return this.#buf.length > this.#max ? false : null
    if (nl > this.#max) return false
    let end = nl
    if (end > 0 && this.#buf[end - 1] === 0x0d) end--
    const nul = this.#buf.indexOf(0, 0)
    if (nul >= 0 && nul < end) end = nul
    const line = this.#buf.toString('utf8', 0, end)
    this.#buf = this.#buf.subarray(nl + 1)
    return line
  }

  rest (): Buffer {
    const r = Buffer.from(this.#buf)
    this.#buf = Buffer.alloc(0)
    return r
  }
}

function tooLong (max: number): PeersHandshakeError {
  return new PeersHandshakeError(PEERS_HANDSHAKE_CODES.LINE_TOO_LONG, `handshake line longer than ${max} bytes`,
    undefined)
}

/** `read_uint()`: decimal digits into a C unsigned int (wrapping). */
function readUint (digits: string): number {
  return digits.length < 10 ? Number(digits) : Number(BigInt(digits) % 0x1_0000_0000n)
}

export interface HelloParserOptions {
  /** Our local peer name: line 2 must equal it (else 503). */
  readonly localName: string
  /** Whether line 3 names a configured peer (else 504); the local peer counts (reload). */
  readonly isKnownPeer: (name: string) => boolean
  readonly maxLineLength?: number
}

/**
 * Acceptor side: reads the connector's hello. Once it returns `accept` or `reject` it is done and
 * keeps returning that result.
 */
export class HelloParser {
  readonly #lines: LineReader
  readonly #opts: HelloParserOptions
  readonly #max: number
  #step = 0
  #major = 0
  #minor = 0
  #localName = ''
  #result: HelloResult | undefined

  constructor (options: HelloParserOptions) {
    this.#opts = options
    this.#max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH
    this.#lines = new LineReader(this.#max)
  }

  push (chunk: Uint8Array): HelloResult {
    if (this.#result !== undefined) return this.#result
    this.#lines.push(chunk)
    for (;;) {
      const line = this.#lines.next()
      if (line === null) return { kind: 'need-more' }
      if (line === false) return this.#finish({ kind: 'reject', error: tooLong(this.#max) })
      const r = this.#line(line)
      if (r !== undefined) return this.#finish(r)
    }
  }

  #finish (r: HelloResult): HelloResult {
    this.#result = r
    return r
  }

  #line (line: string): HelloResult | undefined {
    const reject = (code: PeersHandshakeError['code'], status: number, message: string): HelloResult =>
      ({ kind: 'reject', error: new PeersHandshakeError(code, message, status) })
    switch (this.#step++) {
      case 0: {
        const prefix = `${PEERS_PROTOCOL_NAME} `
        if (!line.startsWith(prefix)) return reject(PEERS_HANDSHAKE_CODES.PROTOCOL, PEERS_STATUS.PROTOCOL_ERROR,
          `not a peers hello: ${JSON.stringify(line.slice(0, 64))}`)
        const m = /^(\d+)\.(\d+)$/.exec(line.slice(prefix.length))
        const major = m === null ? undefined : readUint(m[1] as string)
        const minor = m === null ? undefined : readUint(m[2] as string)
        if (major !== PEERS_MAJOR_VERSION || minor === undefined || minor > PEERS_MINOR_VERSION) {
          return reject(PEERS_HANDSHAKE_CODES.VERSION, PEERS_STATUS.BAD_VERSION,
            `unsupported peers protocol version ${JSON.stringify(line.slice(prefix.length, prefix.length + 32))}`)
        }
        this.#major = major
        this.#minor = minor
        return undefined
      }
      case 1:
        if (line !== this.#opts.localName) {
          return reject(PEERS_HANDSHAKE_CODES.LOCAL_NAME, PEERS_STATUS.BAD_LOCAL_NAME,
            (`hello for peer ${JSON.stringify(line.slice(0, 64))}, local peer is ` +
              `${JSON.stringify(this.#opts.localName)}`))
        }
        this.#localName = line
        return undefined
      default: {
        const sp = line.indexOf(' ')
        if (sp < 0) return reject(PEERS_HANDSHAKE_CODES.PROTOCOL, PEERS_STATUS.PROTOCOL_ERROR,
          'hello line 3 has no space')
        const peerName = line.slice(0, sp)
        if (!this.#opts.isKnownPeer(peerName)) {
          return reject(PEERS_HANDSHAKE_CODES.UNKNOWN_PEER, PEERS_STATUS.UNKNOWN_PEER,
            `hello from unknown peer ${JSON.stringify(peerName.slice(0, 64))}`)
        }
        const tail = line.slice(sp + 1)
        const m = /^(\d{1,10}) (\d{1,10})$/.exec(tail)
        const hello: Hello = {
          major: this.#major,
          minor: this.#minor,
          downgraded: this.#minor === PEERS_DOWNGRADED_MINOR_VERSION,
          localName: this.#localName,
          peerName,
          tail,
          pid: m === null ? undefined : Number(m[1]),
          relativePid: m === null ? undefined : Number(m[2])
        }
        return { kind: 'accept', hello, rest: this.#lines.rest() }
      }
    }
  }
}

/** C `atoi()`: optional blanks and sign, then digits; 0 when there are none; int32 wrap. */
function atoi (s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(s)
  const digits = m?.[2] ?? ''
  if (digits === '') return 0
  const v = BigInt.asIntN(32, BigInt(digits))
  return Number(m?.[1] === '-' ? BigInt.asIntN(32, -v) : v)
}

/** Connector side: reads the acceptor's status line. */
export class StatusParser {
  readonly #lines: LineReader
  readonly #max: number
  #result: StatusResult | undefined

  constructor (options: { readonly maxLineLength?: number } = {}) {
    this.#max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH
    this.#lines = new LineReader(this.#max)
  }

  push (chunk: Uint8Array): StatusResult {
    if (this.#result !== undefined) return this.#result
    this.#lines.push(chunk)
    const line = this.#lines.next()
    if (line === null) return { kind: 'need-more' }
    this.#result = line === false
      ? { kind: 'reject', error: tooLong(this.#max) }
      : { kind: 'status', code: atoi(line), rest: this.#lines.rest() }
    return this.#result
  }
}
