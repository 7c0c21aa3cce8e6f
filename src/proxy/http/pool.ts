/**
 * Idle keep-alive connections to servers, per server, most recently used first. A pooled socket
 * that closes, errors or sends anything while idle is dropped; idle ones expire.
 */
import type { Socket } from 'node:net'
import type { ServerState } from '../server-state.ts'

export const MAX_IDLE_PER_SERVER = 64
export const IDLE_TIMEOUT_MS = 5000

interface IdleEntry {
  readonly socket: Socket
  readonly drop: () => void
}

export class UpstreamPool {
  private readonly idle = new Map<ServerState, IdleEntry[]>()
  private readonly idleTimeoutMs: number

  constructor (idleTimeoutMs = IDLE_TIMEOUT_MS) {
    this.idleTimeoutMs = idleTimeoutMs
  }

  /** An idle connection to `server`, or undefined. The caller owns it until `release`. */
  take (server: ServerState): Socket | undefined {
    const list = this.idle.get(server)
    while (list !== undefined && list.length > 0) {
      const entry = list.pop() as IdleEntry
      entry.socket.off('close', entry.drop)
      entry.socket.off('error', entry.drop)
      entry.socket.off('data', entry.drop)
      entry.socket.off('timeout', entry.drop)
      entry.socket.setTimeout(0)
      if (!entry.socket.destroyed && entry.socket.writable) return entry.socket
    }
    return undefined
  }

  /** Returns a healthy keep-alive connection to the pool (or closes it when the pool is full). */
  release (server: ServerState, socket: Socket): void {
    const list = this.idle.get(server) ?? []
    if (list.length >= MAX_IDLE_PER_SERVER || socket.destroyed) {
      socket.destroy()
      return
    }
    socket.removeAllListeners('data')
    socket.removeAllListeners('end')
    socket.removeAllListeners('timeout')
    const drop = (): void => {
      socket.destroy()
      const i = list.findIndex(e => e.socket === socket)
      if (i >= 0) list.splice(i, 1)
    }
    socket.on('close', drop)
    socket.on('error', drop)
    socket.on('data', drop)
    socket.on('timeout', drop)
    socket.setTimeout(this.idleTimeoutMs)
    // A socket paused for back-pressure toward a client that went away must read again, or the
    // next request on it would never see its response.
    socket.resume()
    list.push({ socket, drop })
    this.idle.set(server, list)
  }

  idleCount (server: ServerState): number {
    return this.idle.get(server)?.length ?? 0
  }

  closeAll (): void {
    for (const list of this.idle.values()) for (const e of list.splice(0)) e.socket.destroy()
  }
}
