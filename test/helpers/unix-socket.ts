/** A unix stream socket as the runtime API's users script it (`echo CMD | socat - UNIX-CONNECT:PATH`). */
import { existsSync } from 'node:fs'
import { connect } from 'node:net'

/** Sends `input`, closes the writing side, and resolves with everything read until the other side closes. */
export async function unixExchange (path: string, input: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = connect(path)
    let out = ''
    s.on('data', b => { out += b.toString() })
    s.on('end', () => { resolve(out) })
    s.on('error', reject)
    s.end(input)
  })
}

/** Resolves once `path` exists; throws after `timeoutMs`. */
export async function waitForPath (path: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
