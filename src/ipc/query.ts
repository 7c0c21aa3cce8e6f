/**
 * Request/response over a worker's IPC channel: the supervisor asks (`{type:'query', id, what}`),
 * the worker answers (`{type:'query-reply', id, ok, result | error}`). Every question has a
 * deadline, so a hung or dying worker cannot hang `tslb status`.
 * @module
 */
import { WorkerQueryError, WorkerQueryTimeoutError } from './errors.ts'

export const DEFAULT_QUERY_TIMEOUT_MS = 2000

export interface QueryMessage {
  readonly type: 'query'
  readonly id: number
  readonly what: string
  /** A text argument some queries take (the command of a relayed `cli` query). */
  readonly arg?: string
}

export interface QueryReply {
  readonly type: 'query-reply'
  readonly id: number
  readonly ok: boolean
  readonly result?: unknown
  readonly error?: string
}

interface Pending {
  readonly what: string
  readonly resolve: (v: unknown) => void
  readonly reject: (e: Error) => void
  readonly timer: NodeJS.Timeout
}

/** The asking side. `send` returns false when the channel is closed. */
export class WorkerQueries {
  readonly #send: (msg: QueryMessage) => boolean
  readonly #pending = new Map<number, Pending>()
  #next = 1

  constructor (send: (msg: QueryMessage) => boolean) {
    this.#send = send
  }

  get pending (): number {
    return this.#pending.size
  }

  async ask (what: string, timeoutMs = DEFAULT_QUERY_TIMEOUT_MS, arg?: string): Promise<unknown> {
    const id = this.#next++
    return await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new WorkerQueryTimeoutError(what, timeoutMs))
      }, timeoutMs)
      this.#pending.set(id, { what, resolve, reject, timer })
      let sent: boolean
      try {
        sent = this.#send({ type: 'query', id, what, ...(arg === undefined ? {} : { arg }) })
      } catch {
        sent = false
      }
      if (!sent) this.#settle(id, p => { p.reject(new WorkerQueryError(what, 'the worker is not reachable')) })
    })
  }

  /** Feeds a message from the worker; true when it was a reply (consumed). */
  onMessage (msg: unknown): boolean {
    if (!isReply(msg)) return false
    this.#settle(msg.id, p => {
      if (msg.ok) p.resolve(msg.result)
      else p.reject(new WorkerQueryError(p.what, msg.error ?? 'unknown error'))
    })
    return true
  }

  /** The worker is gone: every question still open fails now. */
  cancelAll (reason: string): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, p => { p.reject(new WorkerQueryError(p.what,
      reason)) })
  }

  #settle (id: number, fn: (p: Pending) => void): void {
    const p = this.#pending.get(id)
    if (p === undefined) return
    this.#pending.delete(id)
    clearTimeout(p.timer)
    fn(p)
  }
}

function isReply (msg: unknown): msg is QueryReply {
  if (typeof msg !== 'object' || msg === null) return false
  const m = msg as Partial<QueryReply>
  return m.type === 'query-reply' && typeof m.id === 'number' && typeof m.ok === 'boolean'
}

/**
 * The answering side (in the worker): runs the handler named by the query and sends its result,
 * or an error for an unknown query or a handler that throws. Returns false for other messages.
 */
export function answerQuery (msg: unknown, handlers: Readonly<Record<string, (arg: string | undefined) => unknown>>,
  send: (reply: QueryReply) => void): boolean {
  if (typeof msg !== 'object' || msg === null) return false
  const m = msg as Partial<QueryMessage>
  if (m.type !== 'query' || typeof m.id !== 'number' || typeof m.what !== 'string') return false
  const handler = Object.hasOwn(handlers, m.what) ? handlers[m.what] : undefined
  if (handler === undefined) {
    send({ type: 'query-reply', id: m.id, ok: false, error: `unknown query '${m.what}'` })
    return true
  }
  const id = m.id
  const fail = (err: unknown): void => {
    send({ type: 'query-reply', id, ok: false, error: err instanceof Error ? err.message : String(err) })
  }
  try {
    const result = handler(typeof m.arg === 'string' ? m.arg : undefined)
    // A handler may answer later (a promise): the reply is sent when it settles.
    if (result instanceof Promise) result.then(r => { send({ type: 'query-reply', id, ok: true, result: r ?? null }) },
      fail)
    else send({ type: 'query-reply', id, ok: true, result: result ?? null })
  } catch (err) {
    fail(err)
  }
  return true
}
