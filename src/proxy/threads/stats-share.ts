/**
 * The stats of every proxy thread as one node's: each thread publishes its rows' numbers (`show stat`'s fields) and
 * its `show info` numbers into its block of a shared Float64Array every PUBLISH_MS; whichever thread renders the
 * stats adds the other threads' blocks to its own live values: counters, rates and per-thread gauges (current
 * sessions of frontends and backends, queues) are summed, maxima take the largest thread's. A server's current
 * connections, state and weight are shared already (node-state.ts) and taken as they are, and so are the health
 * checks' fields (thread 1 runs them). Other threads' figures are at most PUBLISH_MS old.
 */
import type { Engine } from '../engine.ts'
import type { StatsProviders, ThreadStats } from '../stats/providers.ts'
import { collectRows, type Value } from '../stats/model.ts'
import { infoValues } from '../stats/format.ts'
import { INFO_FIELDS, type RowKind, splitTags, STAT_FIELDS } from '../stats/fields.ts'

const PUBLISH_MS = 250

export interface StatsShareHandle {
  readonly buffer: SharedArrayBuffer
  readonly threads: number
  readonly rows: number
}

type Merge = 'sum' | 'max' | 'own'

/** Health-check fields: thread 1's alone (the other threads run no checks). */
const CHECK_FIELDS = new Set(['chkfail', 'chkdown', 'downtime', 'lastchg', 'check_duration', 'hanafail'])
const INFO_SUM = new Set(['CurrConns', 'CumConns', 'CumReq', 'ConnRate', 'SessRate', 'TotalBytesOut', 'BytesOutRate',
  'Jobs', 'Listeners'])
const INFO_MAX = new Set(['MaxConnRate', 'MaxSessRate'])

function fieldMerge (kind: RowKind, i: number): Merge {
  const f = STAT_FIELDS[i]
  const tags = f?.tags[kind]
  if (f === undefined || tags === undefined || CHECK_FIELDS.has(f.name)) return 'own'
  const nature = splitTags(tags).letters[1]
  if (nature === 'C' || nature === 'R') return 'sum'
  if (nature === 'M') return 'max'
  if (f.name === 'qcur' || (f.name === 'scur' && kind !== 'S')) return 'sum'
  return 'own'
}

const MERGES: Readonly<Record<RowKind, readonly Merge[]>> = {
  F: STAT_FIELDS.map((_f, i) => fieldMerge('F', i)),
  B: STAT_FIELDS.map((_f, i) => fieldMerge('B', i)),
  S: STAT_FIELDS.map((_f, i) => fieldMerge('S', i))
}
const INFO_MERGES: readonly Merge[] = INFO_FIELDS.map(f => INFO_SUM.has(f.name) ? 'sum' : INFO_MAX.has(f.name)
  ? 'max' : 'own')

export class StatsShare implements ThreadStats {
  readonly handle: StatsShareHandle
  private readonly numbers: Float64Array
  private readonly me: number
  private readonly rowIndex = new Map<string, number>()
  private readonly timer: NodeJS.Timeout
  private readonly blockSize: number

  /** Thread 1: one block per thread, sized for `engine`'s rows. */
  static create (engine: Engine, providers: StatsProviders, threads: number): StatsShare {
    const rows = collectRows(engine, providers, { legends: false }).length
    const size = rows * STAT_FIELDS.length + INFO_FIELDS.length
    return new StatsShare({ buffer: new SharedArrayBuffer(8 * threads * size), threads, rows }, engine, providers, 0)
  }

  static attach (handle: StatsShareHandle, engine: Engine, providers: StatsProviders, position: number): StatsShare {
    return new StatsShare(handle, engine, providers, position)
  }

  private constructor (handle: StatsShareHandle, engine: Engine, providers: StatsProviders, me: number) {
    this.handle = handle
    this.numbers = new Float64Array(handle.buffer)
    this.me = me
    this.blockSize = handle.rows * STAT_FIELDS.length + INFO_FIELDS.length
    const own = { ...providers, threads: undefined }
    const rows = collectRows(engine, own, { legends: false })
    rows.forEach((r, i) => { this.rowIndex.set(rowKey(r.kind, r.iid, r.sid), i) })
    const publish = (): void => {
      const base = this.me * this.blockSize
      collectRows(engine, own, { legends: false }).forEach((r, i) => {
        const at = base + i * STAT_FIELDS.length
        r.values.forEach((v, f) => { this.numbers[at + f] = typeof v === 'number' ? v : 0 })
      })
      const info = base + handle.rows * STAT_FIELDS.length
      infoValues(engine, own).forEach((v, f) => { this.numbers[info + f] = typeof v === 'number' ? v : 0 })
    }
    publish()
    this.timer = setInterval(publish, PUBLISH_MS)
    this.timer.unref()
  }

  get count (): number {
    return this.handle.threads
  }

  close (): void {
    clearInterval(this.timer)
  }

  mergeRow (kind: RowKind, iid: number, sid: number, values: readonly Value[]): Value[] {
    const row = this.rowIndex.get(rowKey(kind, iid, sid))
    if (row === undefined) return [...values]
    const merges = MERGES[kind]
    return this.merge(values, merges, t => t * this.blockSize + row * STAT_FIELDS.length)
  }

  mergeInfo (values: readonly Value[]): Value[] {
    const merged = this.merge(values, INFO_MERGES, t => t * this.blockSize + this.handle.rows * STAT_FIELDS.length)
    const nbthread = INFO_FIELDS.findIndex(f => f.name === 'Nbthread')
    merged[nbthread] = this.handle.threads
    return merged
  }

  private merge (values: readonly Value[], merges: readonly Merge[], blockAt: (t: number) => number): Value[] {
    return values.map((v, f) => {
      const how = merges[f]
      if (typeof v !== 'number' || how === 'own' || how === undefined) return v
      let out = v
      for (let t = 0; t < this.handle.threads; t++) {
        if (t === this.me) continue
        const other = this.numbers[blockAt(t) + f] ?? 0
        out = how === 'sum' ? out + other : Math.max(out, other)
      }
      return out
    })
  }
}

function rowKey (kind: RowKind, iid: number, sid: number): string {
  return `${kind}/${iid}/${sid}`
}
