/**
 * The stick-counter actions of `tcp-request` and `http-request` / `http-response` rules:
 * `track-sc0..2 KEY [table T]`, `sc-inc-gpc0|1(SC)`, `sc-inc-gpc(IDX,SC)`, `sc-set-gpt0(SC) VALUE`,
 * `sc-set-gpt(IDX,SC) VALUE`. Compiled once per rule; none stops the rule list.
 */
import type { ActionSpec, Proxy } from '../../config/model.ts'
import type { SampleSource } from '../acl/sample.ts'
import { countError, countFailure, countRequest, incrementGpc, setGpt, stickTable } from '../stick-counters.ts'
import { compileSample } from './format.ts'

/**
 * Where the rule runs: `session` (`tcp-request connection|session`: the session keeps the counter), `content`
 * (`tcp-request content`), `http-request`, `http-response` (the request keeps it, and counts itself on it).
 */
export type CounterLevel = 'session' | 'content' | 'http-request' | 'http-response'

/** `status`: the response's, for `http-response track-sc` (a 4xx counts an error on the new counter). */
export type CounterAction = (s: SampleSource, status?: number) => void

export function compileCounterAction (spec: ActionSpec, proxy: Proxy, level: CounterLevel): CounterAction |
  undefined {
  switch (spec.type) {
    case 'track-sc': {
      const key = compileSample(spec.key)
      const tableName = spec.table ?? proxy.name
      const { slot } = spec
      return (s, status) => {
        const counters = s.counters
        const table = stickTable(tableName)
        if (counters === undefined || table === undefined || counters.tracker(slot) !== undefined) return
        const k = key(s)
        if (k === undefined) return
        const now = Date.now()
        const t = counters.track(slot, table, k, level === 'session' ? 'session' : 'stream', now)
        if (t === undefined || (level !== 'http-request' && level !== 'http-response')) return
        // As HAProxy: the request that starts tracking at the HTTP level counts itself.
        countRequest(t, now)
        if (status === undefined) return
        if (status >= 400 && status < 500) countError(t, now)
        if (status >= 500 && status < 600 && status !== 501 && status !== 505) countFailure(t, now)
      }
    }
    case 'sc-inc-gpc': {
      const { slot, idx, array } = spec
      return s => {
        const t = s.counters?.tracker(slot)
        if (t !== undefined) incrementGpc(t, idx, array, Date.now())
      }
    }
    case 'sc-set-gpt': {
      const { slot, idx, array, value } = spec
      const sample = typeof value === 'number' ? undefined : compileSample(value)
      return s => {
        const t = s.counters?.tracker(slot)
        if (t === undefined) return
        let v = typeof value === 'number' ? value : undefined
        if (sample !== undefined) {
          const text = sample(s)
          if (text === undefined || !/^\s*[-+]?\d+/.test(text)) return
          v = parseInt(text, 10)
        }
        if (v !== undefined) setGpt(t, idx, array, v, Date.now())
      }
    }
    default: return undefined
  }
}
