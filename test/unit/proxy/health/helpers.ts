/** Shared helpers for the health-check tests: a driven clock, real local servers, a Backend from a config text. */
import assert from 'node:assert/strict'
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { parseConfig } from '../../../../src/config/parser.ts'
import { Backend } from '../../../../src/proxy/backend.ts'
import type { CheckClock, CheckLogLevel, CheckLogSeverity, HealthChecker } from '../../../../src/proxy/health/checker.ts'

/** A clock whose time moves only when the test says so; timers fire in order of their due time. */
export class FakeClock implements CheckClock {
  time = 1_000_000
  private seq = 0
  private readonly timers = new Map<number, { at: number, cb: () => void }>()

  now (): number {
    return this.time
  }

  setTimeout (callback: () => void, ms: number): unknown {
    const id = ++this.seq
    this.timers.set(id, { at: this.time + ms, cb: callback })
    return id
  }

  clearTimeout (handle: unknown): void {
    this.timers.delete(handle as number)
  }

  get pending (): number {
    return this.timers.size
  }

  /** Moves time to `at`, firing every timer due by then, earliest first. */
  advanceTo (at: number): void {
    for (;;) {
      let next: [number, { at: number, cb: () => void }] | undefined
      for (const entry of this.timers) if (entry[1].at <= at && (next === undefined || entry[1].at < next[1].at)) next = entry
      if (next === undefined) break
      this.timers.delete(next[0])
      this.time = Math.max(this.time, next[1].at)
      next[1].cb()
    }
    this.time = Math.max(this.time, at)
  }

  advance (ms: number): void {
    this.advanceTo(this.time + ms)
  }
}

/** Polls `cond` in real time until it holds (fails the test after `ms`). */
export async function waitFor (cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 2))
  }
}

/** Fires the next scheduled check of `server` on the fake clock and waits (real time) for its verdict. */
export async function runCheck (clock: FakeClock, checker: HealthChecker, server: string): Promise<void> {
  const st = checker.status(server)
  assert.ok(st?.nextCheckAt !== undefined, `no check scheduled for ${server}`)
  clock.advanceTo(st.nextCheckAt)
  await waitFor(() => {
    const now = checker.status(server)
    return now !== undefined && !now.inProgress && now.nextCheckAt !== undefined
  }, 2000, `check of ${server}`)
}

export interface LogLine {
  readonly level: CheckLogLevel
  readonly line: string
  readonly severity: CheckLogSeverity
}

export function logSink (): { lines: LogLine[], texts: () => string[], log: (level: CheckLogLevel, line: string, severity: CheckLogSeverity) => void } {
  const lines: LogLine[] = []
  return { lines, texts: () => lines.map(l => l.line), log: (level, line, severity) => { lines.push({ level, line, severity }) } }
}

/** The first backend/listen section of `text` as a run-time Backend. */
export function backendFrom (text: string): Backend {
  const { config, diagnostics } = parseConfig(text, 'test.cfg', { env: {} })
  const errors = diagnostics.filter(d => d.severity === 'error')
  assert.deepEqual(errors, [], 'configuration errors')
  const proxy = config.proxies.find(p => p.kind === 'backend' || p.kind === 'listen')
  assert.ok(proxy !== undefined, 'no backend in the configuration')
  return new Backend(proxy)
}

export function portOf (server: Server | HttpServer): number {
  return (server.address() as AddressInfo).port
}

/** Listens on 127.0.0.1, an ephemeral port unless `port` is given. */
export async function listen<S extends Server | HttpServer> (server: S, port = 0): Promise<S> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  return server
}

/** Closes a server and every connection it still holds. */
export async function close (server: Server | HttpServer, sockets?: Set<Socket>): Promise<void> {
  for (const s of sockets ?? []) s.destroy()
  if ('closeAllConnections' in server) server.closeAllConnections()
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
}

/** A TCP server that accepts and keeps track of its connections (and ignores their errors). */
export async function tcpServer (port = 0, onConnection?: (socket: Socket) => void): Promise<{ server: Server, sockets: Set<Socket>, accepted: () => number }> {
  const sockets = new Set<Socket>()
  let count = 0
  const server = createServer(socket => {
    count++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => { sockets.delete(socket) })
    onConnection?.(socket)
    // A socket nobody reads never sees the peer's FIN: keep it flowing so it closes with the peer.
    if (socket.readableFlowing !== true) socket.resume()
  })
  await listen(server, port)
  return { server, sockets, accepted: () => count }
}

/** An HTTP server answering with `handler`. */
export async function httpServer (handler: (req: IncomingMessage, res: ServerResponse) => void, port = 0): Promise<HttpServer> {
  const server = createHttpServer({ keepAlive: false }, handler)
  return await listen(server, port)
}

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
export async function refusedPort (): Promise<number> {
  const server = await listen(createServer())
  const port = portOf(server)
  await close(server)
  return port
}
