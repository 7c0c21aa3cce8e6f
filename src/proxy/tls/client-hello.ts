/**
 * The first TLS record of a connection, read without terminating TLS: what `req.ssl_sni`,
 * `req.ssl_hello_type` and `req.ssl_alpn` see in `mode tcp` (HAProxy reads the first record only,
 * as here). Pure: bytes in, verdict out.
 */

export type HelloVerdict =
  /** Not enough bytes yet to decide. */
  | { readonly state: 'incomplete' }
  /** Not a TLS handshake record (or a malformed one). */
  | { readonly state: 'not-tls' }
  | { readonly state: 'hello', readonly helloType: number, readonly sni?: string, readonly alpn?: string[] }

const HANDSHAKE = 0x16
const CLIENT_HELLO = 1
const EXT_SERVER_NAME = 0
const EXT_ALPN = 16
/** Largest TLS record (2^14 plus expansion): a longer one is not TLS. */
const MAX_RECORD = 16384 + 2048

export function parseClientHello (buf: Uint8Array): HelloVerdict {
  if (buf.length === 0) return { state: 'incomplete' }
  if (buf[0] !== HANDSHAKE) return { state: 'not-tls' }
  if (buf.length < 5) return { state: 'incomplete' }
  if (buf[1] !== 3 || (buf[2] as number) > 4) return { state: 'not-tls' }
  const recordLength = ((buf[3] as number) << 8) | (buf[4] as number)
  if (recordLength < 4 || recordLength > MAX_RECORD) return { state: 'not-tls' }
  if (buf.length < 5 + recordLength) return { state: 'incomplete' }
  const helloType = buf[5] as number
  if (helloType !== CLIENT_HELLO) return { state: 'hello', helloType }
  const r = new Reader(buf.subarray(9, 5 + recordLength))
  try {
    r.skip(2 + 32)
    r.skip(r.u8())
    r.skip(r.u16())
    r.skip(r.u8())
    if (r.left() === 0) return { state: 'hello', helloType }
    const extensions = new Reader(r.bytes(r.u16()))
    let sni: string | undefined
    let alpn: string[] | undefined
    while (extensions.left() > 0) {
      const type = extensions.u16()
      const data = new Reader(extensions.bytes(extensions.u16()))
      if (type === EXT_SERVER_NAME) sni = serverName(data)
      else if (type === EXT_ALPN) alpn = protocols(data)
    }
    return { state: 'hello', helloType, ...(sni === undefined ? {} : { sni }), ...(alpn === undefined ? {} : { alpn }) }
  } catch (err) {
    if (err instanceof RangeError) return { state: 'hello', helloType }
    throw err
  }
}

function serverName (r: Reader): string | undefined {
  const list = new Reader(r.bytes(r.u16()))
  while (list.left() > 0) {
    const kind = list.u8()
    const name = list.bytes(list.u16())
    if (kind === 0) return Buffer.from(name).toString('latin1')
  }
  return undefined
}

function protocols (r: Reader): string[] {
  const list = new Reader(r.bytes(r.u16()))
  const out: string[] = []
  while (list.left() > 0) out.push(Buffer.from(list.bytes(list.u8())).toString('latin1'))
  return out
}

/** Big-endian reads that throw RangeError past the end. */
class Reader {
  private readonly buf: Uint8Array
  private at = 0

  constructor (buf: Uint8Array) {
    this.buf = buf
  }

  left (): number {
    return this.buf.length - this.at
  }

  skip (n: number): void {
    if (n > this.left()) throw new RangeError('truncated')
    this.at += n
  }

  u8 (): number {
    if (this.left() < 1) throw new RangeError('truncated')
    return this.buf[this.at++] as number
  }

  u16 (): number {
    return (this.u8() << 8) | this.u8()
  }

  bytes (n: number): Uint8Array {
    const start = this.at
    this.skip(n)
    return this.buf.subarray(start, start + n)
  }
}
