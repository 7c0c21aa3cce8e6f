/**
 * A raw HTTP/2 client for probes real clients refuse to send (upper-case names, CR/LF/NUL in values,
 * connection-specific fields, content-length that disagrees with DATA): frames written by hand, HPACK literals
 * without indexing or Huffman, and the frames the server sends back decoded by type only.
 */
import { connect, type Socket } from 'node:net'

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

export interface Frame {
  type: number
  flags: number
  stream: number
  payload: Buffer
}

export function frame (type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9)
  h.writeUIntBE(payload.length, 0, 3)
  h[3] = type
  h[4] = flags
  h.writeUInt32BE(stream, 5)
  return Buffer.concat([h, payload])
}

function hpackInt (n: number, prefixBits: number, first: number): Buffer {
  const max = (1 << prefixBits) - 1
  if (n < max) return Buffer.from([first | n])
  const out = [first | max]
  n -= max
  while (n >= 128) { out.push((n & 0x7f) | 0x80); n >>= 7 }
  out.push(n)
  return Buffer.from(out)
}

/** One HEADERS frame (END_HEADERS, and END_STREAM when `end`) carrying `fields` as literals. */
export function headers (stream: number, fields: [string, string][], end: boolean): Buffer {
  const block = Buffer.concat(fields.flatMap(([n, v]) => {
    const name = Buffer.from(n, 'latin1')
    const value = Buffer.from(v, 'latin1')
    return [Buffer.from([0]), hpackInt(name.length, 7, 0), name, hpackInt(value.length, 7, 0), value]
  }))
  return frame(FRAME.HEADERS, 0x4 | (end ? 0x1 : 0), stream, block)
}

export function data (stream: number, body: string, end: boolean): Buffer {
  return frame(FRAME.DATA, end ? 0x1 : 0, stream, Buffer.from(body, 'latin1'))
}

export interface RawH2 {
  sock: Socket
  frames: Frame[]
  /** Resolves with the first frame matching `pred` (within `ms`), or undefined. */
  waitFor: (pred: (f: Frame) => boolean, ms?: number) => Promise<Frame | undefined>
  close: () => void
}

export async function rawH2 (port: number): Promise<RawH2> {
  return await rawH2Behind(port, '')
}

/** `rawH2` that first sends `prefix` (a PROXY protocol header). */
export async function rawH2Behind (port: number, prefix: string): Promise<RawH2> {
  const sock = connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
  sock.on('error', () => {})
  const frames: Frame[] = []
  const waiters: (() => void)[] = []
  let buf = Buffer.alloc(0)
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d])
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3)
      if (buf.length < 9 + len) break
      const f = { type: buf[3] as number, flags: buf[4] as number, stream: buf.readUInt32BE(5) & 0x7fffffff,
        payload: buf.subarray(9, 9 + len) }
      buf = buf.subarray(9 + len)
      frames.push(f)
      // SETTINGS from the server are acknowledged, as any client must.
      if (f.type === FRAME.SETTINGS && (f.flags & 1) === 0) sock.write(frame(FRAME.SETTINGS, 1, 0))
    }
    for (const w of waiters.splice(0)) w()
  })
  sock.on('close', () => { for (const w of waiters.splice(0)) w() })
  sock.write(Buffer.concat([Buffer.from(prefix, 'latin1'), PREFACE, frame(FRAME.SETTINGS, 0, 0)]))
  const waitFor = async (pred: (f: Frame) => boolean, ms = 2000): Promise<Frame | undefined> => {
    const deadline = Date.now() + ms
    for (;;) {
      const found = frames.find(pred)
      if (found !== undefined || sock.destroyed || Date.now() > deadline) return found
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        waiters.push(() => { clearTimeout(t); resolve() })
      })
    }
  }
  return { sock, frames, waitFor, close: () => { sock.destroy() } }
}
