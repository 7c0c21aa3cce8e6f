/**
 * `bind … accept-proxy`: reads the PROXY protocol header a connection must start with, before any
 * session sees the connection. The bytes after the header stay in the socket for the session.
 */
import type { Socket } from 'node:net'
import { ProxyHeaderError, ProxyHeaderMissingError, ProxyHeaderTimeoutError } from '../errors.ts'
import { decodeProxyHeader, type ProxyHeader } from './codec.ts'

export type HeaderOutcome =
  | { readonly ok: true, readonly header: ProxyHeader }
  /** `closed`: the client went away first; `timeout`, `missing`, `malformed`: the header is refused. */
  | { readonly ok: false, readonly failure: 'closed' | 'timeout' | 'missing' | 'malformed', readonly error?: Error }

/** HAProxy's log text for each failure (`sess_log_embryonic`, its CO_ER_PRX_* messages). */
export const FAILURE_TEXT: Readonly<Record<'closed' | 'timeout' | 'missing' | 'malformed', string>> = {
  closed: 'Connection closed while waiting for PROXY protocol header',
  timeout: 'Timeout while waiting for PROXY protocol header',
  missing: 'Received something which does not look like a PROXY protocol header',
  malformed: 'Received an invalid PROXY protocol header'
}

/**
 * Reads the header from the paused `socket`; `done` is called once, with the socket paused again.
 * `timeoutMs` undefined: no deadline (HAProxy without `timeout client`).
 */
export function readProxyHeader (socket: Socket, timeoutMs: number | undefined, done: (o: HeaderOutcome) => void):
void {
  let buf: Buffer = Buffer.alloc(0)
  let finished = false
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
    finish({ ok: false, failure: 'timeout', error: new ProxyHeaderTimeoutError(timeoutMs) })
  }, timeoutMs)
  const onClose = (): void => { finish({ ok: false, failure: 'closed' }) }
  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    let r
    try {
      r = decodeProxyHeader(buf)
    } catch (err) {
      const failure = err instanceof ProxyHeaderMissingError ? 'missing' : 'malformed'
      if (!(err instanceof ProxyHeaderMissingError) && !(err instanceof ProxyHeaderError)) throw err
      finish({ ok: false, failure, error: err })
      return
    }
    if (!r.done) return
    finish({ ok: true, header: r.header }, buf.subarray(r.length))
  }
  /** `rest`: what followed the header, given back to the socket before the session reads it. */
  const finish = (o: HeaderOutcome, rest?: Buffer): void => {
    if (finished) return
    finished = true
    if (timer !== undefined) clearTimeout(timer)
    socket.pause()
    socket.removeListener('data', onData)
    socket.removeListener('end', onClose)
    socket.removeListener('close', onClose)
    socket.removeListener('error', onClose)
    if (rest !== undefined && rest.length > 0) socket.unshift(rest)
    done(o)
  }
  socket.on('data', onData)
  socket.once('end', onClose)
  socket.once('close', onClose)
  socket.once('error', onClose)
  socket.resume()
}
