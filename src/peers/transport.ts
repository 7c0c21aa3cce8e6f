/**
 * The byte pipes peers sessions run over, kept behind a small interface so the session state
 * machine can be driven by in-memory transports in tests and by `node:net` sockets (TCP between
 * nodes, a unix socket between two worker generations of one node) in production.
 * @module
 */
import { chmodSync, unlinkSync } from 'node:fs'
import net from 'node:net'
import { PeersListenError } from './errors.ts'

export interface PeerTransportHandlers {
  /** Outgoing transports: the connection is established (before it, writes are queued). */
  onConnect (): void
  onData (chunk: Buffer): void
  /** The write queue emptied after `writableLength` went above the socket's high-water mark. */
  onDrain (): void
  /** Closed, for whatever reason (once). */
  onClose (error: Error | undefined): void
}

export interface PeerTransport {
  readonly kind: 'tcp' | 'unix' | 'memory'
  /** `ip:port` (or `unix`) of the other end, once known. */
  readonly remoteAddress: string | undefined
  /** `ip:port` (or `unix`) of this end, once known. */
  readonly localAddress: string | undefined
  /** Bytes written but not yet handed to the kernel. */
  readonly writableLength: number
  /** Installs the callbacks; called once, right after the transport is created or accepted. */
  attach (handlers: PeerTransportHandlers): void
  write (data: Uint8Array): void
  /** Flushes what is queued, then closes. */
  end (): void
  /** Closes now, dropping what is queued. */
  destroy (): void
}

/** Where a peer is reached: TCP, or a unix socket path (the previous worker generation). */
export type PeerTarget =
  | { readonly host: string, readonly port: number }
  | { readonly path: string }

/** What to listen on: an address, a unix path, or a listening handle received from the supervisor. */
export type ListenSpec =
  | { readonly host: string, readonly port: number, readonly reusePort?: boolean }
  | { readonly path: string, readonly mode?: number }
  | { readonly handle: object }

export interface PeersListener {
  /** `ip:port` or the unix path. */
  readonly address: string
  readonly port: number | undefined
  close (): Promise<void>
}

export interface PeersNetwork {
  connect (target: PeerTarget, timeoutMs: number): PeerTransport
  listen (spec: ListenSpec, onConnection: (t: PeerTransport) => void): Promise<PeersListener>
}

export function targetText (t: PeerTarget): string {
  if ('path' in t) return `unix:${t.path}`
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`
}

function addrText (address: string | undefined, port: number | undefined): string | undefined {
  if (address === undefined || port === undefined) return undefined
  const a = address.startsWith('::ffff:') ? address.slice(7) : address
  return `${a}:${port}`
}

/** A transport over a `net.Socket`. */
export class SocketTransport implements PeerTransport {
  readonly kind: 'tcp' | 'unix'
  readonly #socket: net.Socket
  #handlers: PeerTransportHandlers | undefined
  #closed = false
  #error: Error | undefined
  #connectTimer: NodeJS.Timeout | undefined
  #endTimer: NodeJS.Timeout | undefined

  constructor (socket: net.Socket, kind: 'tcp' | 'unix', connectTimeoutMs?: number) {
    this.#socket = socket
    this.kind = kind
    socket.setNoDelay(true)
    if (connectTimeoutMs !== undefined && socket.connecting) {
      this.#connectTimer = setTimeout(() => {
        this.#error = new Error(`connect timeout after ${connectTimeoutMs} ms`)
        socket.destroy()
      }, connectTimeoutMs)
      this.#connectTimer.unref()
    }
    socket.on('connect', () => {
      if (this.#connectTimer !== undefined) clearTimeout(this.#connectTimer)
      this.#handlers?.onConnect()
    })
    socket.on('data', (b: Buffer) => { this.#handlers?.onData(b) })
    socket.on('drain', () => { this.#handlers?.onDrain() })
    socket.on('error', (e: Error) => { this.#error ??= e })
    socket.on('close', () => {
      if (this.#closed) return
      this.#closed = true
      if (this.#connectTimer !== undefined) clearTimeout(this.#connectTimer)
      if (this.#endTimer !== undefined) clearTimeout(this.#endTimer)
      this.#handlers?.onClose(this.#error)
    })
  }

  get remoteAddress (): string | undefined {
    return this.kind === 'unix' ? 'unix' : addrText(this.#socket.remoteAddress, this.#socket.remotePort)
  }

  get localAddress (): string | undefined {
    return this.kind === 'unix' ? 'unix' : addrText(this.#socket.localAddress, this.#socket.localPort)
  }

  get writableLength (): number {
    return this.#socket.writableLength
  }

  attach (handlers: PeerTransportHandlers): void {
    this.#handlers = handlers
  }

  write (data: Uint8Array): void {
    if (this.#closed || this.#socket.destroyed) return
    this.#socket.write(data)
  }

  end (): void {
    if (this.#closed) return
    this.#socket.end()
    // A peer that never closes its side must not hold the socket forever.
    this.#endTimer ??= setTimeout(() => { this.#socket.destroy() }, 1000)
    this.#endTimer.unref()
  }

  destroy (): void {
    this.#socket.destroy()
  }
}

/** The network through `node:net`. */
export class NodePeersNetwork implements PeersNetwork {
  connect (target: PeerTarget, timeoutMs: number): PeerTransport {
    if ('path' in target) return new SocketTransport(net.connect({ path: target.path }), 'unix', timeoutMs)
    return new SocketTransport(net.connect({ host: target.host, port: target.port }), 'tcp', timeoutMs)
  }

  async listen (spec: ListenSpec, onConnection: (t: PeerTransport) => void): Promise<PeersListener> {
    const kind = 'path' in spec ? 'unix' : 'tcp'
    const server = net.createServer({ noDelay: true }, socket => { onConnection(new SocketTransport(socket, kind)) })
    const what = 'path' in spec ? `unix:${spec.path}` : 'handle' in spec ?
      'the listening socket passed by the supervisor' : targetText(spec)
    if ('path' in spec) {
      try { unlinkSync(spec.path) } catch { /* no stale socket */ }
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => { reject(new PeersListenError(what, e)) }
      server.once('error', onError)
      const done = (): void => {
        server.off('error', onError)
        resolve()
      }
      if ('path' in spec) server.listen({ path: spec.path }, done)
      else if ('handle' in spec) server.listen(spec.handle, done)
      else server.listen({ host: spec.host, port: spec.port, reusePort: spec.reusePort ?? false, exclusive: true },
        done)
    })
    server.on('error', () => { /* accept errors (EMFILE...) are transient */ })
    if ('path' in spec) {
      try { chmodSync(spec.path, spec.mode ?? 0o600) } catch (e) {
        server.close()
        throw new PeersListenError(what, e)
      }
    }
    const a = server.address()
    const address = typeof a === 'string' ? a : a === null ? what : addrText(a.address, a.port) ?? what
    const port = typeof a === 'object' && a !== null ? a.port : undefined
    return {
      address,
      port,
      close: async () => {
        // Stops accepting now; sessions already accepted live on (server.close() would wait for them).
        server.close()
        if ('path' in spec) {
          try { unlinkSync(spec.path) } catch { /* already gone */ }
        }
        await Promise.resolve()
      }
    }
  }
}
