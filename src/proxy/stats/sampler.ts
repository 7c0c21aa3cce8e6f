/**
 * The statistics' sampler: once a second it derives the per-second rates from the engine's
 * totals and notices state changes (lastchg, downtime). Reads the engine; the counters it fills
 * are ../counters.ts (written by the data path).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import type { Backend } from '../backend.ts'
import { countersOf, observeState, serverStateKey } from '../counters.ts'
import type { Engine } from '../engine.ts'

export interface ProcessRates {
  connRate: number
  connRateMax: number
  reqRate: number
  reqRateMax: number
  bytesOutRate: number
  /** Percentage of the last second the event loop was idle. */
  idlePct: number
}

/**
 * Once a second: per-second rates from the engine's totals, maxima of the current counts and
 * queue lengths, state changes of servers and backends. The timer is unref'd.
 */
export class StatsSampler {
  readonly engine: Engine
  readonly process: ProcessRates = { connRate: 0, connRateMax: 0, reqRate: 0, reqRateMax: 0, bytesOutRate: 0,
    idlePct: 100 }
  private timer: NodeJS.Timeout | undefined
  private prevConns = 0
  private prevReqs = 0
  private prevBytesOut = 0
  private elu: EventLoopUtilization | undefined

  constructor (engine: Engine) {
    this.engine = engine
  }

  start (intervalMs = 1000): void {
    if (this.timer !== undefined) return
    this.prevConns = this.totalConns()
    this.elu = performance.eventLoopUtilization()
    this.timer = setInterval(() => { this.tick() }, intervalMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private totalConns (): number {
    let n = 0
    for (const fe of this.engine.frontends) n += fe.totalSessions
    return n
  }

  /** One sampling step (the timer calls it every second; tests may call it directly). */
  tick (now = Date.now()): void {
    let reqs = 0
    let bytesOut = 0
    for (const fe of this.engine.frontends) {
      const c = countersOf(fe)
      c.rate = fe.totalSessions - c.prevTotal
      c.prevTotal = fe.totalSessions
      c.rateMax = Math.max(c.rateMax, c.rate)
      c.reqRate = c.reqTot - c.prevReq
      c.prevReq = c.reqTot
      c.reqRateMax = Math.max(c.reqRateMax, c.reqRate)
      reqs += c.reqTot
      bytesOut += c.bytesOut
    }
    for (const be of this.engine.backends.values()) {
      const c = countersOf(be)
      c.rate = be.totalSessions - c.prevTotal
      c.prevTotal = be.totalSessions
      c.rateMax = Math.max(c.rateMax, c.rate)
      for (const s of be.servers) {
        const sc = countersOf(s)
        sc.rate = s.totalSessions - sc.prevTotal
        sc.prevTotal = s.totalSessions
        sc.rateMax = Math.max(sc.rateMax, sc.rate)
      }
    }
    const conns = this.totalConns()
    const p = this.process
    p.connRate = conns - this.prevConns
    p.connRateMax = Math.max(p.connRateMax, p.connRate)
    p.reqRate = reqs - this.prevReqs
    p.reqRateMax = Math.max(p.reqRateMax, p.reqRate)
    p.bytesOutRate = bytesOut - this.prevBytesOut
    this.prevConns = conns
    this.prevReqs = reqs
    this.prevBytesOut = bytesOut
    if (this.elu !== undefined) {
      const cur = performance.eventLoopUtilization()
      const d = performance.eventLoopUtilization(cur, this.elu)
      this.elu = cur
      p.idlePct = Math.round((1 - d.utilization) * 100)
    }
    this.refresh(now)
  }

  /** Maxima of the current counts and state changes; also run before every stats dump. */
  refresh (now = Date.now()): void {
    for (const fe of this.engine.frontends) {
      const c = countersOf(fe)
      c.sessMax = Math.max(c.sessMax, fe.connections())
    }
    for (const be of this.engine.backends.values()) refreshBackend(be, now)
  }
}

/** Maxima and state tracking of one backend and its servers. */
export function refreshBackend (be: Backend, now = Date.now()): void {
  const c = countersOf(be)
  c.sessMax = Math.max(c.sessMax, be.activeConnections)
  c.queueMax = Math.max(c.queueMax, be.admission.queuePeak)
  let usable = 0
  for (const s of be.servers) {
    const sc = countersOf(s)
    sc.sessMax = Math.max(sc.sessMax, s.activeConnections)
    sc.queueMax = Math.max(sc.queueMax, be.admission.serverQueuePeak(s))
    observeState(sc, serverStateKey(s), !s.healthy || s.admin === 'maint', now)
    if (s.usable && s.weight > 0) usable++
  }
  const down = be.servers.length > 0 && usable === 0
  observeState(c, down ? 'DOWN' : 'UP', down, now)
}

const samplers = new WeakMap<Engine, StatsSampler>()

/** The engine's sampler, started on first use. */
export function samplerFor (engine: Engine): StatsSampler {
  let s = samplers.get(engine)
  if (s === undefined) {
    s = new StatsSampler(engine)
    samplers.set(engine, s)
    s.start()
  }
  return s
}

