/**
 * The text forms of HAProxy 2.6's statistics: `show stat` CSV / typed / JSON, `show info`
 * plain / typed / JSON, with HAProxy's exact framing (header line, `-` column, field tags).
 */
import { readFileSync } from 'node:fs'
import type { Engine } from '../engine.ts'
import { countersOf } from '../counters.ts'
import { samplerFor } from './sampler.ts'
import { CSV_HEADER, INFO_FIELDS, jsonTags, splitTags, STAT_FIELDS, STATIC_FIELD_COUNT,
  type RowKind } from './fields.ts'
import { nodeName, productVersion, startedAt, type StatRow, type Value } from './model.ts'
import type { StatsProviders } from './providers.ts'

const OBJ_TYPES: Record<RowKind, string> = { F: 'Frontend', B: 'Backend', S: 'Server' }

/** HAProxy's csv_enc: quote when the value holds a newline, CR, comma or quote; double the quotes. */
export function csvField (v: Value): string {
  if (v === undefined) return ''
  const s = String(v)
  if (!/[\n\r,"]/.test(s)) return s
  return `"${s.replace(/"/g, '""')}"`
}

export function csvLine (row: StatRow): string {
  let out = ''
  for (let i = 0; i < row.values.length; i++) {
    out += csvField(row.values[i]) + ','
    if (i + 1 === STATIC_FIELD_COUNT) out += '-,'
  }
  return out + '\n'
}

/** `show stat` CSV: the header line then one line per row. */
export function renderCsv (rows: readonly StatRow[]): string {
  return CSV_HEADER + '\n' + rows.map(csvLine).join('')
}

function tagsOf (row: StatRow, i: number): string {
  const f = STAT_FIELDS[i]
  return f?.tags[row.kind] ?? 'MGP:u32'
}

/** `show stat typed`: one `K.iid.sid.pos.name.1:TAGS:type:value` line per non-empty field. */
export function renderTyped (rows: readonly StatRow[], withDesc: boolean): string {
  let out = ''
  for (const row of rows) {
    for (let i = 0; i < row.values.length; i++) {
      const v = row.values[i]
      if (v === undefined) continue
      const f = STAT_FIELDS[i]
      if (f === undefined) continue
      const { letters, type } = splitTags(tagsOf(row, i))
      out += `${row.kind}.${row.iid}.${row.sid}.${i}.${f.name}.1:${letters}:${type}:${String(v)}`
      if (withDesc) out += `:"${f.desc}"`
      out += '\n'
    }
  }
  return out
}

function jsonValue (type: string, v: string | number): string {
  return type === 'str' ? `{"type":"str","value":${JSON.stringify(String(v))}}` :
    `{"type":"${type}","value":${Number(v)}}`
}

/** `show stat json`: an array of rows, each an array of field objects, on one line. */
export function renderJson (rows: readonly StatRow[]): string {
  const parts: string[] = []
  for (const row of rows) {
    const fields: string[] = []
    for (let i = 0; i < row.values.length; i++) {
      const v = row.values[i]
      const f = STAT_FIELDS[i]
      if (v === undefined || f === undefined) continue
      const { letters, type } = splitTags(tagsOf(row, i))
      fields.push(`{"objType":"${OBJ_TYPES[row.kind]}","proxyId":${row.iid},"id":${row.sid},` +
        `"field":{"pos":${i},"name":"${f.name}"},"processNum":1,${jsonTags(letters)},"value":${jsonValue(type, v)}}`)
    }
    parts.push(`[${fields.join(',')}]`)
  }
  return `[${parts.join(',')}]\n`
}

let cachedUlimit: number | undefined

/** The soft limit on open files (Linux /proc), HAProxy's Ulimit-n. */
function ulimitN (): number {
  if (cachedUlimit !== undefined) return cachedUlimit
  cachedUlimit = 0
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    if (m?.[1] !== undefined) cachedUlimit = Number(m[1])
  } catch {
    // not Linux: 0
  }
  return cachedUlimit
}

function uptimeText (sec: number): string {
  const d = Math.floor(sec / 86400)
  const h = Math.floor(sec / 3600) % 24
  const m = Math.floor(sec / 60) % 60
  const s = sec % 60
  return `${d}d ${h}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`
}

/** `show info` values by position (INFO_FIELDS); undefined fields are not printed, as in HAProxy. */
export function infoValues (engine: Engine, providers: StatsProviders, now = Date.now()): Value[] {
  const sampler = samplerFor(engine)
  const p = sampler.process
  const global = providers.config?.global
  const version = productVersion(providers)
  const start = startedAt(providers)
  const up = Math.max(0, Math.floor((now - start) / 1000))
  const mem = process.memoryUsage()
  let cumConns = 0
  let cumReq = 0
  let bytesOut = 0
  let listeners = 0
  let stopping = false
  for (const fe of engine.frontends) {
    const c = countersOf(fe)
    cumConns += fe.totalSessions
    cumReq += c.reqTot
    bytesOut += c.bytesOut
    listeners += fe.servers.filter(s => s.listening).length
    if (fe.draining) stopping = true
  }
  const fds = ulimitN()
  const maxconn = global?.maxconn ?? Math.max(1, Math.floor(fds / 2))
  const values: Record<string, Value> = {
    Name: 'tslb', Version: version, Nbthread: 1, Nbproc: 1, Process_num: 1, Pid: process.pid,
    Uptime: uptimeText(up), Uptime_sec: up, Memmax_MB: 0, PoolAlloc_MB: Math.floor(mem.rss / 1048576),
      PoolUsed_MB: Math.floor(mem.heapUsed / 1048576),
    PoolFailed: 0, 'Ulimit-n': fds, Maxsock: fds, Maxconn: maxconn, Hard_maxconn: maxconn,
    CurrConns: engine.activeConnections, CumConns: cumConns, CumReq: cumReq, MaxSslConns: 0, CurrSslConns: 0,
      CumSslConns: 0,
    Maxpipes: 0, PipesUsed: 0, PipesFree: 0, ConnRate: p.connRate, ConnRateLimit: 0, MaxConnRate: p.connRateMax,
    SessRate: p.connRate, SessRateLimit: 0, MaxSessRate: p.connRateMax, SslRate: 0, SslRateLimit: 0, MaxSslRate: 0,
    SslFrontendKeyRate: 0, SslFrontendMaxKeyRate: 0, SslFrontendSessionReuse_pct: 0, SslBackendKeyRate: 0,
      SslBackendMaxKeyRate: 0,
    SslCacheLookups: 0, SslCacheMisses: 0, CompressBpsIn: 0, CompressBpsOut: 0, CompressBpsRateLim: 0,
    Tasks: 0, Run_queue: 0, Idle_pct: p.idlePct, node: nodeName(providers), description: global?.description,
    Stopping: stopping ? 1 : 0, Jobs: engine.activeConnections + listeners, 'Unstoppable Jobs': 0, Listeners: listeners,
    ActivePeers: 0, ConnectedPeers: 0, DroppedLogs: 0, BusyPolling: 0, FailedResolutions: 0,
    TotalBytesOut: bytesOut, TotalSplicdedBytesOut: 0, BytesOutRate: p.bytesOutRate, DebugCommandsIssued: 0,
      CumRecvLogs: 0,
    'Build info': version, Memmax_bytes: 0, PoolAlloc_bytes: mem.rss, PoolUsed_bytes: mem.heapUsed,
    Start_time_sec: Math.floor(start / 1000), Tainted: '0'
  }
  const own = INFO_FIELDS.map(f => values[f.name])
  return providers.threads?.mergeInfo(own) ?? own
}

export type InfoFormat = 'plain' | 'typed' | 'json'

/** `show info [typed|json] [desc]`. */
export function renderInfo (values: readonly Value[], format: InfoFormat, withDesc: boolean): string {
  if (format === 'json') {
    const parts: string[] = []
    INFO_FIELDS.forEach((f, i) => {
      const v = values[i]
      if (v === undefined) return
      const { letters, type } = splitTags(f.tags)
      parts.push(
        `{"field":{"pos":${i},"name":"${f.name}"},"processNum":1,${jsonTags(letters)},"value":${jsonValue(type, v)}}`)
    })
    return `[${parts.join(',')}]\n`
  }
  let out = ''
  INFO_FIELDS.forEach((f, i) => {
    const v = values[i]
    if (v === undefined) return
    const desc = withDesc ? `:"${f.desc}"` : ''
    if (format === 'typed') {
      const { letters, type } = splitTags(f.tags)
      out += `${i}.${f.name}.1:${letters}:${type}:${String(v)}${desc}\n`
    } else {
      out += `${f.name}: ${String(v)}${desc}\n`
    }
  })
  return out
}
