/**
 * `tcp-request inspect-delay` for `req.ssl_*`: the first bytes of a `mode tcp` connection are read
 * until the ClientHello is complete (or is not TLS) or the delay runs out; then the bytes are put
 * back for the relay and routing goes on with them. A client that leaves first is dropped.
 */
import type { Socket } from 'node:net'
import { parseClientHello } from '../tls/client-hello.ts'

export function awaitClientHello (client: Socket, delayMs: number, done: (payload: Buffer | undefined) => void): void {
  let payload: Buffer = Buffer.alloc(0)
  let finished = false
  const stop = (): void => {
    finished = true
    clearTimeout(timer)
    client.off('data', onData)
    client.off('end', gone)
    client.off('close', gone)
  }
  const finish = (): void => {
    if (finished) return
    stop()
    client.pause()
    if (payload.length > 0) client.unshift(payload)
    done(payload.length > 0 ? payload : undefined)
  }
  // A client that leaves before its ClientHello is complete is not routed anywhere.
  const gone = (): void => {
    if (finished) return
    stop()
    client.destroy()
  }
  const onData = (chunk: Buffer): void => {
    payload = payload.length === 0 ? chunk : Buffer.concat([payload, chunk])
    if (parseClientHello(payload).state !== 'incomplete') finish()
  }
  const timer = setTimeout(finish, delayMs)
  client.on('data', onData)
  client.once('end', gone)
  client.once('close', gone)
  client.resume()
}
