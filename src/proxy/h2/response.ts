/**
 * The HTTP/1.1 response the session wrote → what goes out on the HTTP/2 stream: its fields without the
 * connection-specific ones (RFC 9113 §8.2.2), and its body without chunked framing.
 * @module
 */
import type { ResponseHead } from '../http/head.ts'

const DROPPED = new Set(['connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te'])

export type H2Fields = Record<string, string | number | string[]>

/** `:status` and the fields, lower-cased; repeated fields become arrays. */
export function toH2Fields (res: ResponseHead): H2Fields {
  const out: H2Fields = { ':status': res.status }
  const dropped = res.connectionTokens
  const h = res.headers
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = (h[i] as string).toLowerCase()
    if (DROPPED.has(name) || dropped?.includes(name) === true) continue
    const value = h[i + 1] as string
    const prev = out[name]
    if (prev === undefined) out[name] = value
    else if (Array.isArray(prev)) prev.push(value)
    else out[name] = [String(prev), value]
  }
  return out
}

/**
 * The same as a flat `[name, value, ...]` list (Node's raw header form, which `respond` takes without building and
 * validating an object first): `:status` first, repeated fields as repeated entries.
 */
export function toH2RawFields (res: ResponseHead): string[] {
  const out = [':status', String(res.status)]
  const dropped = res.connectionTokens
  const h = res.headers
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = (h[i] as string).toLowerCase()
    if (DROPPED.has(name) || dropped?.includes(name) === true) continue
    out.push(name, h[i + 1] as string)
  }
  return out
}

type State = 'size' | 'ext' | 'sizeLf' | 'data' | 'dataCr' | 'dataLf' | 'trailer' | 'trailerLf' | 'done'

/**
 * Removes chunked framing from a body the HTTP/1.1 side already validated (its ChunkedFramer): `push` returns the
 * payload slices of `buf`; trailers are dropped.
 */
export class ChunkedDecoder {
  private state: State = 'size'
  private remaining = 0
  private lineEmpty = true

  get done (): boolean {
    return this.state === 'done'
  }

  push (buf: Buffer): Buffer[] {
    const out: Buffer[] = []
    let p = 0
    while (p < buf.length && this.state !== 'done') {
      const c = buf[p] as number
      switch (this.state) {
        case 'size': {
          const d = hexDigit(c)
          if (d >= 0) this.remaining = this.remaining * 16 + d
          else this.state = c === 0x0d ? 'sizeLf' : 'ext'
          p++
          break
        }
        case 'ext':
          if (c === 0x0d) this.state = 'sizeLf'
          p++
          break
        case 'sizeLf':
          this.state = this.remaining === 0 ? 'trailer' : 'data'
          this.lineEmpty = true
          p++
          break
        case 'data': {
          const n = Math.min(this.remaining, buf.length - p)
          out.push(buf.subarray(p, p + n))
          this.remaining -= n
          p += n
          if (this.remaining === 0) this.state = 'dataCr'
          break
        }
        case 'dataCr':
          this.state = 'dataLf'
          p++
          break
        case 'dataLf':
          this.state = 'size'
          p++
          break
        case 'trailer':
          if (c === 0x0d) this.state = 'trailerLf'
          else this.lineEmpty = false
          p++
          break
        case 'trailerLf':
          this.state = this.lineEmpty ? 'done' : 'trailer'
          this.lineEmpty = true
          p++
          break
      }
    }
    return out
  }
}

function hexDigit (c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}
