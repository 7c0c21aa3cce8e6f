/**
 * The two directions of a TCP session without `pipe`. Server bytes are read into a reusable
 * buffer (the socket's `onread`) and written straight to the client: no allocation per read while
 * the client keeps up. A write the kernel did not take at once keeps its buffer; reading goes on
 * into a fresh one.
 */
import type { OnReadOpts, Socket } from 'node:net'

const READ_SIZE = 64 * 1024

/** The part of the client socket the server-to-client direction uses. */
export type ClientSink = Pick<Socket, 'write' | 'end' | 'writableLength' | 'destroyed'> & { on: (event: 'drain',
  listener: () => void) => unknown }

export class ServerToClient {
  private readonly client: ClientSink
  private buffer = Buffer.allocUnsafe(READ_SIZE)
  private server: Socket | undefined
  bytes = 0

  /** For the server socket's `onread` option. */
  readonly onread: OnReadOpts = {
    buffer: () => this.buffer,
    callback: (n: number, buffer: Uint8Array): boolean => this.forward(n, buffer)
  }

  constructor (client: ClientSink) {
    this.client = client
    client.on('drain', () => { this.server?.resume() })
  }

  /** The connected server socket, made with `onread`. */
  attach (server: Socket): void {
    this.server = server
    server.on('end', () => { this.client.end() })
  }

  private forward (n: number, buffer: Uint8Array): boolean {
    this.bytes += n
    const client = this.client
    if (client.destroyed) return false
    const ok = client.write(n === buffer.length ? buffer : buffer.subarray(0, n))
    if (client.writableLength > 0) this.buffer = Buffer.allocUnsafe(READ_SIZE)
    return ok
  }
}

/** Client bytes to the server, pausing the client while the server socket is full. */
export function relayClientToServer (client: Socket, server: Socket, count: (n: number) => void): void {
  client.on('data', (chunk: Buffer) => {
    count(chunk.length)
    if (!server.write(chunk)) client.pause()
  })
  client.on('end', () => { server.end() })
  server.on('drain', () => { client.resume() })
}
