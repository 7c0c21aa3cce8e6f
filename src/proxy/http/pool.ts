/**
 * Connections to servers and their idle keep-alive pool, per server, most recently used first.
 * Each server socket gets its event handlers once, for its whole life; they forward to whoever
 * owns the socket now: the exchange using it, the pool while it is idle (anything it says while
 * idle drops it: close, error, data, idle timeout), or nobody once it is let go.
 */
import type { Socket } from 'node:net'
import type { ServerState } from '../server-state.ts'

/**
 * Idle connections kept per server without `pool-max-conn`: no fixed limit (-1), as HAProxy. The pool keeps idle and
 * busy connections together within the most the server had in use at once lately (this period of IDLE_TIMEOUT_MS or
 * the one before), as HAProxy's purge brings its idle connections back to the recent peak; each closes after
 * IDLE_TIMEOUT_MS unused. Without that bound a client opening a connection per request (whose first request may not
 * take a shared idle connection under `http-reuse safe`) left one idle server connection behind per request.
 */
export const MAX_IDLE_PER_SERVER = -1

export type ReuseMode = 'never' | 'safe' | 'aggressive' | 'always'

/** `http-reuse` of a backend (HAProxy's default: safe). */
export function reuseMode (options: Readonly<Record<string, boolean>>): ReuseMode {
  for (const m of ['never', 'aggressive', 'always'] as const) if (options[`http-reuse ${m}`] === true) return m
  return 'safe'
}
export const IDLE_TIMEOUT_MS = 5000

/** What a server socket's events are delivered to while it serves an exchange. */
export interface UpstreamOwner {
  onUpstreamData: (chunk: Buffer) => void
  onUpstreamEnd: () => void
  /** 'close' or 'error'. */
  onUpstreamClose: () => void
  onUpstreamDrain: () => void
  onUpstreamTimeout: () => void
}

const NOBODY: UpstreamOwner = {
  onUpstreamData: () => {},
  onUpstreamEnd: () => {},
  onUpstreamClose: () => {},
  onUpstreamDrain: () => {},
  onUpstreamTimeout: () => {}
}

class UpstreamLink {
  owner: UpstreamOwner = NOBODY

  constructor (socket: Socket) {
    socket.on('data', (chunk: Buffer) => { this.owner.onUpstreamData(chunk) })
    socket.on('end', () => { this.owner.onUpstreamEnd() })
    socket.on('close', () => { this.owner.onUpstreamClose() })
    socket.on('error', () => { this.owner.onUpstreamClose() })
    socket.on('drain', () => { this.owner.onUpstreamDrain() })
    socket.on('timeout', () => { this.owner.onUpstreamTimeout() })
  }
}

const links = new WeakMap<Socket, UpstreamLink>()
/** Requests each server connection has carried to their end (counted as it returns to a pool). */
const served = new WeakMap<Socket, number>()

function linkOf (socket: Socket): UpstreamLink {
  let link = links.get(socket)
  if (link === undefined) {
    link = new UpstreamLink(socket)
    links.set(socket, link)
  }
  return link
}

/** From now on `socket`'s events go to `owner`. */
export function claimUpstream (socket: Socket, owner: UpstreamOwner): void {
  linkOf(socket).owner = owner
}

/** Stops delivering `socket`'s events (it is being closed, or handed to the pool). */
export function disownUpstream (socket: Socket): void {
  const link = links.get(socket)
  if (link !== undefined) link.owner = NOBODY
}

class IdleEntry implements UpstreamOwner {
  readonly socket: Socket
  private readonly list: IdleEntry[]

  constructor (socket: Socket, list: IdleEntry[]) {
    this.socket = socket
    this.list = list
  }

  drop (): void {
    this.socket.destroy()
    const i = this.list.indexOf(this)
    if (i >= 0) this.list.splice(i, 1)
  }

  onUpstreamData (): void { this.drop() }
  onUpstreamEnd (): void { this.drop() }
  onUpstreamClose (): void { this.drop() }
  onUpstreamDrain (): void {}
  onUpstreamTimeout (): void { this.drop() }
}

/** The most connections a server had in use at once, in this period and the one before. */
interface UsePeak {
  current: number
  previous: number
  since: number
}

export class UpstreamPool {
  private readonly idle = new Map<ServerState, IdleEntry[]>()
  private readonly peaks = new Map<ServerState, UsePeak>()
  private readonly idleTimeoutMs: number

  constructor (idleTimeoutMs = IDLE_TIMEOUT_MS) {
    this.idleTimeoutMs = idleTimeoutMs
  }

  /** `take`, bound once: what `Backend.connect`'s `reuse` option wants. */
  readonly takeIdle = (server: ServerState): Socket | undefined => this.take(server)

  /** An idle connection that has already carried two requests or more (`http-reuse aggressive`, first requests). */
  readonly takeProven = (server: ServerState): Socket | undefined => this.take(server, 2)

  /**
   * An idle connection to `server` (the most recently used one that has carried `minServed` requests), or undefined.
   * The caller owns it until `release` (and should claim it).
   */
  take (server: ServerState, minServed = 0): Socket | undefined {
    const list = this.idle.get(server)
    while (list !== undefined && list.length > 0) {
      let at = list.length - 1
      if (minServed > 0) while (at >= 0 && (served.get((list[at] as IdleEntry).socket) ?? 0) < minServed) at--
      if (at < 0) return undefined
      const entry = (at === list.length - 1 ? list.pop() : list.splice(at, 1)[0]) as IdleEntry
      const socket = entry.socket
      // Its idle timeout runs on, ignored, until the new owner sets `timeout server` (no timer made for nothing).
      disownUpstream(socket)
      if (!socket.destroyed && socket.writable) return socket
    }
    return undefined
  }

  /** Takes back a healthy keep-alive connection that finished one more request (closed when the pool is full). */
  release (server: ServerState, socket: Socket): void {
    served.set(socket, (served.get(socket) ?? 0) + 1)
    let list = this.idle.get(server)
    if (list === undefined) {
      list = []
      this.idle.set(server, list)
    }
    const max = server.config.poolMaxConn ?? MAX_IDLE_PER_SERVER
    if ((max >= 0 && list.length >= max) || socket.destroyed) {
      disownUpstream(socket)
      socket.destroy()
      return
    }
    // Over the recent peak: the oldest idle connection goes, not this one (its session's next request wants it back).
    if (max < 0 && list.length >= this.idleRoom(server)) list[0]?.drop()
    const entry = new IdleEntry(socket, list)
    claimUpstream(socket, entry)
    socket.setTimeout(this.idleTimeoutMs)
    // A socket paused for back-pressure toward a client that went away must read again, or the
    // next request on it would never see its response.
    socket.resume()
    list.push(entry)
  }

  /** How many idle connections `server` may keep besides those in use: its recent peak of use, less its use now. */
  private idleRoom (server: ServerState, now = Date.now()): number {
    // The connection being released was in use until now; the caller has already given back its slot.
    const inUse = server.activeConnections + 1
    let p = this.peaks.get(server)
    if (p === undefined) {
      p = { current: 0, previous: 0, since: now }
      this.peaks.set(server, p)
    }
    if (now - p.since >= this.idleTimeoutMs) {
      p.previous = now - p.since >= 2 * this.idleTimeoutMs ? 0 : p.current
      p.current = 0
      p.since = now
    }
    p.current = Math.max(p.current, inUse)
    return Math.max(p.current, p.previous) - inUse + 1
  }

  idleCount (server: ServerState): number {
    return this.idle.get(server)?.length ?? 0
  }

  closeAll (): void {
    for (const list of this.idle.values()) {
      for (const e of list.splice(0)) {
        disownUpstream(e.socket)
        e.socket.destroy()
      }
    }
  }
}
