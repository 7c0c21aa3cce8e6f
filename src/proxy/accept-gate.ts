/**
 * Frontend `maxconn` and global `maxconn`: a connection over either limit waits, paused and
 * unread, until a connection of the process (global) or of its frontend closes; then the oldest
 * waiting connection that fits goes on, as HAProxy resumes its paused listeners.
 *
 * HAProxy leaves such connections in the kernel's accept queue. Node cannot stop accepting on a
 * listening handle (libuv has no uv_listen_stop, and Node accepts in the same callback that
 * announces the connection), so the waiting connections are held here instead: the client sees
 * exactly what the accept queue shows it (an established connection that nobody reads yet).
 * Each frontend holds at most `pendingLimit` of them, the size of its listeners' accept queues
 * (`bind … backlog`, else 1024); past that, the connection is reset where the kernel would have
 * dropped the SYN. See docs/architecture.md, "Departures".
 */
import type { Socket } from 'node:net'

export interface GatedFrontend {
  readonly maxconn: number
  /** Waiting connections this frontend may hold. */
  readonly pendingLimit: number
  connections (): number
  /** Takes the connection into service (counts it, starts its session). */
  admit (socket: Socket): void
}

interface Waiting {
  readonly seq: number
  readonly socket: Socket
}

export class AcceptGate {
  private readonly globalMax: number | undefined
  private readonly active: () => number
  private readonly queues = new Map<GatedFrontend, Waiting[]>()
  private seq = 0
  private waitingCount = 0
  /** Connections reset because their frontend's waiting room was full. */
  overflowed = 0
  /** Told how many connections wait here whenever that changes (proxy threads wake each other by it). */
  onWaiting: ((n: number) => void) | undefined

  /** `globalMax`: global `maxconn` (undefined: no process-wide limit); `active`: connections in service. */
  constructor (globalMax: number | undefined, active: () => number) {
    this.globalMax = globalMax
    this.active = active
  }

  /** Connections accepted and waiting for a slot. */
  get waiting (): number {
    return this.waitingCount
  }

  waitingFor (fe: GatedFrontend): number {
    return this.queues.get(fe)?.length ?? 0
  }

  /** A new connection on `fe`: into service now if a slot is free and nobody waits before it, else it waits. */
  offer (fe: GatedFrontend, socket: Socket): void {
    if (this.waitingCount === 0 && this.fits(fe)) {
      fe.admit(socket)
      return
    }
    let queue = this.queues.get(fe)
    if (queue === undefined) {
      queue = []
      this.queues.set(fe, queue)
    }
    if (queue.length >= fe.pendingLimit) {
      this.overflowed++
      socket.resetAndDestroy()
      return
    }
    socket.on('error', ignore)
    queue.push({ seq: this.seq++, socket })
    this.waitingCount++
    // Said before looking again: a thread that frees a slot after this either wakes us or was seen here.
    this.onWaiting?.(this.waitingCount)
    this.serve()
  }

  /** A connection closed somewhere: waiting connections take the free slots, oldest first. */
  serve (): void {
    while (this.waitingCount > 0 && this.globalRoom()) {
      let best: [GatedFrontend, Waiting[]] | undefined
      for (const entry of this.queues) {
        const head = entry[1][0]
        if (head === undefined || entry[0].connections() >= entry[0].maxconn) continue
        if (best === undefined || head.seq < (best[1][0] as Waiting).seq) best = entry
      }
      if (best === undefined) return
      const w = best[1].shift() as Waiting
      this.waitingCount--
      this.onWaiting?.(this.waitingCount)
      best[0].admit(w.socket)
    }
  }

  private fits (fe: GatedFrontend): boolean {
    return fe.connections() < fe.maxconn && this.globalRoom()
  }

  private globalRoom (): boolean {
    return this.globalMax === undefined || this.active() < this.globalMax
  }
}

function ignore (): void {}
