/**
 * The supervisor's control socket: a unix socket (mode 0600) speaking newline-delimited JSON.
 * A client sends one request line; the server answers with zero or more `{"step": ...}` lines
 * and one final `{"done": true, ...}` line, then closes.
 */
import { chmod, mkdir, rm } from 'node:fs/promises'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { dirname } from 'node:path'
import { ControlSocketError } from './errors.ts'

export const DEFAULT_CONTROL_SOCKET = '/run/tslb/master.sock'
const MAX_REQUEST_BYTES = 64 * 1024
/** A client has this long to send its request line (HAProxy's `stats timeout` default). */
export const CONTROL_IDLE_TIMEOUT_MS = 10_000
/** Connections open at once; more are closed at accept (status and reload need few). */
export const CONTROL_MAX_CONNECTIONS = 16

export interface ControlSocketOptions {
  readonly idleTimeoutMs?: number
  readonly maxConnections?: number
}

export interface ControlRequest {
  readonly cmd: string
  readonly [key: string]: unknown
}

export interface ControlReply {
  readonly ok: boolean
  readonly error?: string
  readonly [key: string]: unknown
}

/** Handles one request; `step` reports progress lines before the final reply. */
export type ControlHandler = (req: ControlRequest, step: (message: string) => void) => Promise<ControlReply>

export async function listenControlSocket (path: string, handler: ControlHandler,
  opts: ControlSocketOptions = {}): Promise<Server> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  await rm(path, { force: true })
  const idleMs = opts.idleTimeoutMs ?? CONTROL_IDLE_TIMEOUT_MS
  const server = createServer(socket => { serveConnection(socket, handler, idleMs) })
  server.maxConnections = opts.maxConnections ?? CONTROL_MAX_CONNECTIONS
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => {
      server.off('error', reject)
      resolve()
    })
  })
  await chmod(path, 0o600)
  return server
}

function serveConnection (socket: Socket, handler: ControlHandler, idleMs: number): void {
  let buffered = ''
  socket.setEncoding('utf8')
  // Until the request line is in; a reload then runs as long as it takes, its steps streamed.
  socket.setTimeout(idleMs, () => { socket.destroy() })
  socket.on('error', () => { socket.destroy() })
  const send = (obj: object): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(obj)}\n`)
  }
  const onData = (chunk: string): void => {
    buffered += chunk
    if (buffered.length > MAX_REQUEST_BYTES) {
      socket.off('data', onData)
      buffered = ''
      send({ done: true, ok: false, error: 'request too large' })
      socket.end()
      return
    }
    const nl = buffered.indexOf('\n')
    if (nl < 0) return
    socket.off('data', onData)
    socket.setTimeout(0)
    let req: ControlRequest
    try {
      const parsed: unknown = JSON.parse(buffered.slice(0, nl))
      if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { cmd?: unknown }).cmd !==
        'string') throw new Error('missing "cmd"')
      req = parsed as ControlRequest
    } catch (err) {
      send({ done: true, ok: false, error: `bad request: ${err instanceof Error ? err.message : String(err)}` })
      socket.end()
      return
    }
    handler(req, message => { send({ step: message }) })
      .then(reply => { send({ ...reply, done: true }) }, (err: unknown) => {
        send({ done: true, ok: false, error: err instanceof Error ? err.message : String(err) })
      })
      .finally(() => { socket.end() })
  }
  socket.on('data', onData)
}

/** Sends `req` and returns the final reply; `onStep` sees each progress line as it arrives. */
export async function controlRequest (path: string, req: ControlRequest, onStep: (message: string) => void = () => {},
  timeoutMs = 120_000): Promise<ControlReply> {
  return await new Promise<ControlReply>((resolve, reject) => {
    const socket = createConnection(path)
    let buffered = ''
    let settled = false
    const fail = (err: Error): void => {
      if (settled) return
      settled = true
      socket.destroy()
      reject(err)
    }
    socket.setTimeout(timeoutMs, () => { fail(new ControlSocketError(
      `no answer from ${path} within ${timeoutMs / 1000} s`)) })
    socket.setEncoding('utf8')
    socket.on('connect', () => { socket.write(`${JSON.stringify(req)}\n`) })
    socket.on('error', err => {
      fail(new ControlSocketError(`cannot reach the supervisor at ${path}: ${err.message} (is 'tslb run' running?)`,
        { cause: err }))
    })
    socket.on('data', (chunk: string) => {
      buffered += chunk
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        let msg: Record<string, unknown>
        try {
          msg = JSON.parse(line) as Record<string, unknown>
        } catch {
          fail(new ControlSocketError(`malformed answer from ${path}`))
          return
        }
        if (typeof msg.step === 'string') onStep(msg.step)
        if (msg.done === true) {
          settled = true
          socket.end()
          resolve(msg as unknown as ControlReply)
          return
        }
      }
    })
    socket.on('close', () => { fail(new ControlSocketError(`the supervisor closed ${path} without answering`)) })
  })
}
