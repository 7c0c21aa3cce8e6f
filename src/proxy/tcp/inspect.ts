/**
 * `tcp-request inspect-delay`: the first bytes of a `mode tcp` connection are read until `ready`
 * says the rules can be decided on them (the ClientHello is complete, the content rules over
 * `req.len`/`req.payload` are settled), the buffer (tune.bufsize) is full, or the delay runs out;
 * then the bytes are put back for the relay and routing goes on with them. A client that leaves
 * first is dropped.
 */
import type { Socket } from 'node:net'

/** HAProxy's request buffer: a full one ends the inspection. */
const INSPECT_BUFFER = 16384

export function awaitFirstBytes (client: Socket, delayMs: number, ready: (payload: Buffer) => boolean,
  done: (payload: Buffer | undefined) => void): void {
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
    if (payload.length >= INSPECT_BUFFER || ready(payload)) finish()
  }
  const timer = setTimeout(finish, delayMs)
  client.on('data', onData)
  client.once('end', gone)
  client.once('close', gone)
  client.resume()
}
