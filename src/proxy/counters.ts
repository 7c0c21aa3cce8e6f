/**
 * Counters the statistics need and the engine does not keep: maxima, HTTP response classes,
 * request totals, aborts, retries, timings, rates, state-change times. The write side, beside
 * the data path: the sessions call `recordExchange()` once per finished HTTP exchange or TCP
 * session (where they write their log line; everything it needs is already computed there).
 * The per-engine sampler that derives rates and state changes is stats/sampler.ts.
 *
 * They live beside the engine's objects (a WeakMap keyed by the Frontend, Backend or ServerState
 * object), so nothing in the data path changes shape.
 */
import type { Backend } from './backend.ts'
import type { ServerState } from './server-state.ts'

/** HAProxy's swrate: a sliding average over the last N samples (N = 1024 for the timers). */
export class SlidingAverage {
  private sum = 0
  private count = 0
  private readonly n: number

  constructor (n = 1024) {
    this.n = n
  }

  add (v: number): void {
    this.sum = this.sum - this.sum / this.n + v
    if (this.count < this.n) this.count++
  }

  /** The average in whole units; like HAProxy, over the samples seen so far until N of them are in. */
  get value (): number {
    if (this.count === 0) return 0
    return Math.round(this.sum / Math.min(this.count, this.n))
  }
}

export interface Counters {
  sessMax: number
  queueMax: number
  /** Frontend only: bytes from / to clients. Backends sum their servers; servers use ServerState. */
  bytesIn: number
  bytesOut: number
  deniedReq: number
  deniedResp: number
  failedReq: number
  failedResp: number
  retries: number
  redispatches: number
  /** HTTP responses by class: [other, 1xx, 2xx, 3xx, 4xx, 5xx]. */
  readonly http: number[]
  reqTot: number
  cliAborts: number
  srvAborts: number
  intercepted: number
  connect: number
  reuse: number
  /** Epoch ms of the last session/request seen (0: never). */
  lastSessAt: number
  /** Sessions (or requests for HTTP) in the last completed second, and the highest such value. */
  rate: number
  rateMax: number
  reqRate: number
  reqRateMax: number
  readonly qTime: SlidingAverage
  readonly cTime: SlidingAverage
  readonly rTime: SlidingAverage
  readonly tTime: SlidingAverage
  qTimeMax: number
  cTimeMax: number
  rTimeMax: number
  tTimeMax: number
  /** State tracking: epoch ms of the last change, total DOWN time, UP->DOWN transitions. */
  lastChangeAt: number
  downtimeMs: number
  downSince: number
  downTransitions: number
  lastState: string
  /** Totals seen at the previous sampler tick (for the rates). */
  prevTotal: number
  prevReq: number
}

/** When this module was loaded: the counters' epoch (HAProxy's process start). */
export const MODULE_STARTED_AT = Date.now()

function newCounters (now: number): Counters {
  return {
    sessMax: 0, queueMax: 0, bytesIn: 0, bytesOut: 0, deniedReq: 0, deniedResp: 0, failedReq: 0, failedResp: 0,
    retries: 0, redispatches: 0, http: [0, 0, 0, 0, 0, 0], reqTot: 0, cliAborts: 0, srvAborts: 0, intercepted: 0,
    connect: 0, reuse: 0, lastSessAt: 0, rate: 0, rateMax: 0, reqRate: 0, reqRateMax: 0,
    qTime: new SlidingAverage(), cTime: new SlidingAverage(), rTime: new SlidingAverage(), tTime: new SlidingAverage(),
    qTimeMax: 0, cTimeMax: 0, rTimeMax: 0, tTimeMax: 0,
    lastChangeAt: now, downtimeMs: 0, downSince: 0, downTransitions: 0, lastState: '', prevTotal: 0, prevReq: 0
  }
}

const store = new WeakMap<object, Counters>()

/** The counters of a frontend, backend or server (created on first use). */
export function countersOf (obj: object): Counters {
  let c = store.get(obj)
  if (c === undefined) {
    c = newCounters(MODULE_STARTED_AT)
    store.set(obj, c)
  }
  return c
}

/** One finished HTTP exchange or TCP session, as the session's log line describes it. */
export interface ExchangeRecord {
  /** The frontend object the session belongs to (the session's `fe`). */
  readonly frontend: object
  readonly backend?: Backend
  readonly server?: ServerState
  /** HTTP exchange (counts requests and response classes) or TCP session. */
  readonly http: boolean
  /** Status sent to the client; -1 or 0 when none (counted as "other" for HTTP). */
  readonly status?: number
  /** Bytes received from the client / sent to the client. */
  readonly bytesIn?: number
  readonly bytesOut?: number
  /** Log timers in ms, -1 when the step was not reached: queue (Tw), connect (Tc), response (Tr), total (Tt). */
  readonly tw?: number
  readonly tc?: number
  readonly tr?: number
  readonly tt?: number
  readonly retries?: number
  readonly redispatched?: boolean
  /** The server connection came from the keep-alive pool. */
  readonly reused?: boolean
  /** The two termination-state letters of the log ('--', 'CD', 'SH', 'PR', ...). */
  readonly termination?: string
  /** Blocked by a rule (counts dreq). */
  readonly denied?: boolean
  /** Answered by the proxy itself: stats page, monitor-uri, prometheus, redirect (counts intercepted). */
  readonly intercepted?: boolean
  /** Invalid request (counts ereq). */
  readonly badRequest?: boolean
  /** Invalid server response (counts eresp). */
  readonly badResponse?: boolean
  /** Current connection counts at the time of the log, to keep the maxima exact. */
  readonly feconn?: number
  readonly beconn?: number
  readonly srvConn?: number
}

function httpClass (status: number | undefined): number {
  if (status === undefined || status < 100 || status > 599) return 0
  return Math.floor(status / 100)
}

function addTimers (c: Counters, r: ExchangeRecord): void {
  const { tw = -1, tc = -1, tr = -1, tt = -1 } = r
  if (tc < 0) return
  c.qTime.add(Math.max(0, tw))
  c.cTime.add(tc)
  if (tr >= 0) c.rTime.add(tr)
  if (tt >= 0) c.tTime.add(tt)
  c.qTimeMax = Math.max(c.qTimeMax, tw)
  c.cTimeMax = Math.max(c.cTimeMax, tc)
  c.rTimeMax = Math.max(c.rTimeMax, tr)
  c.tTimeMax = Math.max(c.tTimeMax, tt)
}

/**
 * Counts one finished exchange. Call it where the session logs (HTTP: once per request; TCP: once
 * per session), whether or not the line is actually logged.
 */
export function recordExchange (r: ExchangeRecord, now = Date.now()): void {
  const fe = countersOf(r.frontend)
  const cls = httpClass(r.status)
  const t = r.termination ?? '--'
  fe.bytesIn += r.bytesIn ?? 0
  fe.bytesOut += r.bytesOut ?? 0
  fe.lastSessAt = now
  if (r.feconn !== undefined) fe.sessMax = Math.max(fe.sessMax, r.feconn)
  if (r.denied === true) fe.deniedReq++
  if (r.badRequest === true) fe.failedReq++
  if (r.intercepted === true) fe.intercepted++
  if (r.http) {
    fe.reqTot++
    fe.http[cls] = (fe.http[cls] ?? 0) + 1
  }
  const targets: Counters[] = []
  if (r.backend !== undefined) {
    const be = countersOf(r.backend)
    if (r.beconn !== undefined) be.sessMax = Math.max(be.sessMax, r.beconn)
    if (r.denied === true) be.deniedReq++
    targets.push(be)
  }
  if (r.server !== undefined) {
    const sv = countersOf(r.server)
    if (r.srvConn !== undefined) sv.sessMax = Math.max(sv.sessMax, r.srvConn)
    targets.push(sv)
    if (r.reused === true) sv.reuse++
    else if ((r.tc ?? -1) >= 0) sv.connect++
  }
  for (const c of targets) {
    c.lastSessAt = now
    c.retries += r.retries ?? 0
    if (r.redispatched === true) c.redispatches++
    if (r.badResponse === true) c.failedResp++
    if (t[0] === 'C') c.cliAborts++
    else if (t[0] === 'S') c.srvAborts++
    addTimers(c, r)
    if (r.http) {
      c.reqTot++
      c.http[cls] = (c.http[cls] ?? 0) + 1
    }
  }
  if (r.backend !== undefined && r.server !== undefined) {
    const be = countersOf(r.backend)
    if (r.reused === true) be.reuse++
    else if ((r.tc ?? -1) >= 0) be.connect++
  }
}

/** Notes the state of a server or backend (a short key); a change resets lastchg and accounts downtime. */
export function observeState (c: Counters, state: string, down: boolean, now: number): void {
  if (c.lastState === state) return
  const wasDown = c.downSince !== 0
  if (c.lastState !== '') c.lastChangeAt = now
  if (down && !wasDown) {
    c.downSince = now
    if (c.lastState !== '') c.downTransitions++
  } else if (!down && wasDown) {
    c.downtimeMs += now - c.downSince
    c.downSince = 0
  }
  c.lastState = state
}

/** Total DOWN time so far, including the current DOWN period. */
export function downtimeOf (c: Counters, now: number): number {
  return c.downtimeMs + (c.downSince === 0 ? 0 : now - c.downSince)
}

/** The per-key state the sampler compares for a server: admin state and health. */
export function serverStateKey (s: ServerState): string {
  return `${s.admin}/${s.healthy ? 'up' : 'down'}`
}
