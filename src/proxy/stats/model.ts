/**
 * One snapshot of the proxies as HAProxy's statistics rows: for each proxy in configuration
 * order, a FRONTEND row, one row per server and a BACKEND row, each holding the HAProxy 2.6 stat
 * fields tslb can fill (the others stay empty, as HAProxy leaves fields that do not apply).
 * `show stat` (CSV, typed, JSON), the stats page and the Prometheus exporter all read these rows.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import type { Proxy } from '../../config/model.ts'
import { proxyIds } from '../../config/proxy-ids.ts'
import type { Backend } from '../backend.ts'
import type { Engine } from '../engine.ts'
import type { Frontend } from '../frontend.ts'
import type { ServerState } from '../server-state.ts'
import { countersOf, downtimeOf, MODULE_STARTED_AT, type Counters } from '../counters.ts'
import { samplerFor } from './sampler.ts'
import { FIELD_INDEX, STAT_FIELDS, type RowKind } from './fields.ts'
import type { CheckReport, StatsProviders } from './providers.ts'
import {
  backendWeights, CHECK_STATUS_DESC, checkFinished, hasLayer7Data, isConfigMaint, serverStatus, type ServerStatus
} from './status.ts'

export type Value = number | string | undefined

/** A frontend and/or backend of the configuration, with its HAProxy proxy id (iid). */
export interface ProxyView {
  readonly name: string
  readonly id: number
  readonly config: Proxy
  readonly frontend: Frontend | undefined
  readonly backend: Backend | undefined
}

export interface StatRow {
  readonly kind: RowKind
  readonly proxy: ProxyView
  readonly server: ServerState | undefined
  readonly iid: number
  readonly sid: number
  /** By field position (STAT_FIELDS). */
  readonly values: readonly Value[]
  /** Servers: status details and last check, for the page and the exporter. */
  readonly status: ServerStatus | undefined
  readonly check: CheckReport | undefined
}

export interface RowOptions {
  /** Show addr, cookie and algo (HAProxy: stats sockets at level operator or admin, `stats show-legends`). */
  readonly legends: boolean
  readonly now?: number
}

let packageVersion: string | undefined

/** tslb's version (package.json), unless the providers give one. */
export function productVersion (providers: StatsProviders): string {
  if (providers.version !== undefined) return providers.version
  if (packageVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url),
        'utf8')) as { version?: unknown }
      packageVersion = typeof pkg.version === 'string' ? pkg.version : 'unknown'
    } catch {
      packageVersion = 'unknown'
    }
  }
  return packageVersion
}

export function startedAt (providers: StatsProviders): number {
  return providers.startedAt ?? MODULE_STARTED_AT
}

export function nodeName (providers: StatsProviders): string {
  return providers.config?.global.node ?? hostname()
}

function locKey (p: Proxy, files: string[]): number {
  let i = files.indexOf(p.loc.file)
  if (i < 0) i = files.push(p.loc.file) - 1
  return i * 1e9 + p.loc.line
}

/** The engine's proxies in configuration order, with their ids. */
export function proxyViews (engine: Engine, providers: StatsProviders): ProxyView[] {
  const fronts = new Map<Proxy, Frontend>()
  const backs = new Map<Proxy, Backend>()
  for (const fe of engine.frontends) fronts.set(fe.config, fe)
  for (const be of engine.backends.values()) backs.set(be.config, be)
  let order: Proxy[]
  const cfg = providers.config
  if (cfg !== undefined) {
    order = cfg.proxies.filter(p => p.kind !== 'defaults')
  } else {
    const files: string[] = []
    order = [...new Set<Proxy>([...fronts.keys(), ...backs.keys()])].sort((a, b) => locKey(a, files) - locKey(b, files))
  }
  const ids = proxyIds(order, (cfg?.global.statsSockets.length ?? 1) > 0)
  const views: ProxyView[] = []
  for (const p of order) {
    // The engine may hold copies of the configuration objects (IPC); match by name and kind then.
    const fe = fronts.get(p) ?? (p.kind !== 'backend' ? engine.frontends.find(f => f.name === p.name) : undefined)
    const be = backs.get(p) ?? (p.kind !== 'frontend' ? engine.backends.get(p.name) : undefined)
    if (fe === undefined && be === undefined) continue
    views.push({ name: p.name, id: ids.get(p) ?? 0, config: p, frontend: fe, backend: be })
  }
  return views
}

function modeOf (p: Proxy): string {
  return p.mode ?? 'tcp'
}

function fieldsFor (kind: RowKind, entries: Record<string, Value>): Value[] {
  const values: Value[] = new Array<Value>(STAT_FIELDS.length).fill(undefined)
  for (const [name, v] of Object.entries(entries)) {
    const i = FIELD_INDEX.get(name)
    if (i === undefined || v === undefined) continue
    if ((STAT_FIELDS[i] as (typeof STAT_FIELDS)[number]).tags[kind] === undefined) continue
    values[i] = v
  }
  return values
}

const MODULE_ZERO_FIELDS = [
  'ssl_sess', 'ssl_reused_sess', 'ssl_failed_handshake', 'h2_headers_rcvd', 'h2_data_rcvd', 'h2_settings_rcvd',
  'h2_rst_stream_rcvd', 'h2_goaway_rcvd', 'h2_detected_conn_protocol_errors', 'h2_detected_strm_protocol_errors',
  'h2_rst_stream_resp', 'h2_goaway_resp', 'h2_open_connections', 'h2_backend_open_streams', 'h2_total_connections',
  'h2_backend_total_streams', 'h1_spliced_bytes_in', 'h1_spliced_bytes_out'
]

function zeros (names: readonly string[]): Record<string, Value> {
  const r: Record<string, Value> = {}
  for (const n of names) r[n] = 0
  return r
}

function ageSeconds (at: number, now: number): number {
  return Math.max(0, Math.floor((now - at) / 1000))
}

function httpFields (http: boolean, c: Counters): Record<string, Value> {
  if (!http) return {}
  return {
    hrsp_1xx: c.http[1], hrsp_2xx: c.http[2], hrsp_3xx: c.http[3], hrsp_4xx: c.http[4], hrsp_5xx: c.http[5],
      hrsp_other: c.http[0]
  }
}

function timerFields (c: Counters): Record<string, Value> {
  return {
    qtime: c.qTime.value, ctime: c.cTime.value, rtime: c.rTime.value, ttime: c.tTime.value,
    qtime_max: c.qTimeMax, ctime_max: c.cTimeMax, rtime_max: c.rTimeMax, ttime_max: c.tTimeMax
  }
}

export function frontendRow (view: ProxyView, fe: Frontend): StatRow {
  const c = countersOf(fe)
  const http = fe.config.mode === 'http'
  const values = fieldsFor('F', {
    pxname: view.name, svname: 'FRONTEND', scur: fe.connections(), smax: Math.max(c.sessMax, fe.connections()),
      slim: fe.maxconn,
    stot: fe.totalSessions, bin: c.bytesIn, bout: c.bytesOut, dreq: c.deniedReq, dresp: c.deniedResp, ereq: c.failedReq,
    dcon: 0, dses: 0, status: fe.draining ? 'STOP' : 'OPEN', pid: 1, iid: view.id, sid: 0, type: 0,
    rate: c.rate, rate_lim: 0, rate_max: c.rateMax, wrew: 0, eint: 0,
    ...httpFields(http, c),
    intercepted: http ? c.intercepted : undefined, cache_lookups: http ? 0 : undefined,
      cache_hits: http ? 0 : undefined,
    req_rate: c.reqRate, req_rate_max: c.reqRateMax, req_tot: c.reqTot, comp_in: 0, comp_out: 0, comp_byp: 0,
      comp_rsp: 0,
    conn_rate: c.rate, conn_rate_max: c.rateMax, conn_tot: fe.totalSessions, mode: modeOf(fe.config),
    ...zeros(MODULE_ZERO_FIELDS),
    h1_open_connections: http ? fe.connections() : 0, h1_open_streams: 0,
      h1_total_connections: http ? fe.totalSessions : 0,
    h1_total_streams: http ? c.reqTot : 0, h1_bytes_in: http ? c.bytesIn : 0, h1_bytes_out: http ? c.bytesOut : 0
  })
  return { kind: 'F', proxy: view, server: undefined, iid: view.id, sid: 0, values, status: undefined,
    check: undefined }
}

function address (s: ServerState): string {
  if (s.path !== undefined) return s.path.startsWith('\0') ? `abns@${s.path.slice(1)}` : s.path
  const port = s.port ?? 0
  return s.host.includes(':') ? `[${s.host}]:${port}` : `${s.host}:${port}`
}

export function serverRow (view: ProxyView, be: Backend, s: ServerState, providers: StatsProviders,
  opts: RowOptions): StatRow {
  const now = opts.now ?? Date.now()
  const c = countersOf(s)
  const check = providers.checkStatus?.(be, s)
  const st = serverStatus(s, check, isConfigMaint(s))
  const http = be.config.mode === 'http'
  const checked = check !== undefined && s.admin !== 'maint'
  const ch = checked ? check : undefined
  const values = fieldsFor('S', {
    pxname: view.name, svname: s.name, mode: modeOf(be.config),
    qcur: be.admission.serverQueueLength(s), qmax: c.queueMax, scur: s.activeConnections,
    smax: Math.max(c.sessMax, s.activeConnections), slim: s.maxconn, srv_icur: 0,
    stot: s.totalSessions, bin: s.bytesIn, bout: s.bytesOut, dresp: c.deniedResp,
    econ: s.connectFailures, eresp: c.failedResp, wretr: c.retries, wredis: c.redispatches, wrew: 0, eint: 0,
    connect: c.connect === 0 && c.reuse === 0 ? s.totalSessions : c.connect, reuse: c.reuse,
    idle_conn_cur: 0, safe_conn_cur: 0, used_conn_cur: s.activeConnections, need_conn_est: 0,
    status: st.text, lastchg: ageSeconds(check?.lastChangeMs ?? c.lastChangeAt, now),
    weight: s.weight, uweight: s.weight, act: s.backup ? 0 : 1, bck: s.backup ? 1 : 0,
    chkfail: check !== undefined ? check.failedChecks ?? 0 : undefined,
    chkdown: check !== undefined ? check.downTransitions ?? c.downTransitions : undefined,
    downtime: check !== undefined ? Math.floor((check.downtimeMs ?? downtimeOf(c, now)) / 1000) : undefined,
    qlimit: s.config.maxqueue !== undefined && s.config.maxqueue > 0 ? s.config.maxqueue : undefined,
    pid: 1, iid: view.id, sid: s.id, lbtot: s.totalSessions, tracked: s.config.track, type: 2,
    rate: c.rate, rate_max: c.rateMax,
    check_status: ch === undefined ? undefined : (ch.inProgress === true ? '* ' : '') + ch.status,
    check_code: ch !== undefined && hasLayer7Data(ch.status) ? ch.code ?? 0 : undefined,
    check_duration: ch !== undefined && checkFinished(ch.status) ? ch.durationMs ?? 0 : undefined,
    check_desc: ch === undefined ? undefined : CHECK_STATUS_DESC[ch.status],
    last_chk: ch === undefined ? undefined : ch.desc ?? '',
    check_rise: ch?.rise, check_fall: ch?.fall, check_health: ch?.health,
    req_tot: http ? c.reqTot : undefined, ...httpFields(http, c),
    cli_abrt: c.cliAborts, srv_abrt: c.srvAborts, lastsess: c.lastSessAt === 0 ? -1 : ageSeconds(c.lastSessAt, now),
    ...timerFields(c),
    addr: opts.legends ? address(s) : undefined, cookie: opts.legends ? s.config.cookie : undefined,
    ssl_sess: 0, ssl_reused_sess: 0, ssl_failed_handshake: 0
  })
  return { kind: 'S', proxy: view, server: s, iid: view.id, sid: s.id, values, status: st, check }
}

export function backendRow (view: ProxyView, be: Backend, opts: RowOptions): StatRow {
  const now = opts.now ?? Date.now()
  const c = countersOf(be)
  const w = backendWeights(be)
  const http = be.config.mode === 'http'
  let bin = 0
  let bout = 0
  let econ = 0
  let lbtot = 0
  for (const s of be.servers) {
    bin += s.bytesIn
    bout += s.bytesOut
    econ += s.connectFailures
    lbtot += s.totalSessions
  }
  const values = fieldsFor('B', {
    pxname: view.name, svname: 'BACKEND', mode: modeOf(be.config),
    qcur: be.admission.queueLength, qmax: c.queueMax, scur: be.activeConnections, smax: Math.max(c.sessMax,
      be.activeConnections),
    slim: be.config.fullconn ?? 200, stot: be.totalSessions, bin, bout, dreq: c.deniedReq, dresp: c.deniedResp,
    econ, eresp: c.failedResp, wretr: c.retries, wredis: c.redispatches, wrew: 0, eint: 0,
    connect: c.connect === 0 && c.reuse === 0 ? lbtot : c.connect, reuse: c.reuse,
    status: w.up ? 'UP' : 'DOWN', agg_server_status: 0, agg_server_check_status: 0, agg_check_status: 0,
    weight: w.weight, uweight: w.uweight, act: w.act, bck: w.bck, chkdown: c.downTransitions,
    lastchg: ageSeconds(c.lastChangeAt, now), downtime: be.servers.length > 0 ? Math.floor(downtimeOf(c,
      now) / 1000) : undefined,
    pid: 1, iid: view.id, sid: 0, lbtot, type: 1, rate: c.rate, rate_max: c.rateMax,
    cookie: opts.legends ? be.config.cookie?.name : undefined, algo: opts.legends ? be.balancer.algorithm : undefined,
    req_tot: http ? c.reqTot : undefined, ...httpFields(http, c),
    cache_lookups: http ? 0 : undefined, cache_hits: http ? 0 : undefined,
    cli_abrt: c.cliAborts, srv_abrt: c.srvAborts, comp_in: 0, comp_out: 0, comp_byp: 0, comp_rsp: 0,
    lastsess: c.lastSessAt === 0 ? -1 : ageSeconds(c.lastSessAt, now),
    ...timerFields(c),
    ...zeros(MODULE_ZERO_FIELDS),
    h1_open_connections: http ? be.activeConnections : 0, h1_open_streams: 0, h1_total_connections: http ? lbtot : 0,
    h1_total_streams: http ? c.reqTot : 0, h1_bytes_in: http ? bout : 0, h1_bytes_out: http ? bin : 0
  })
  return { kind: 'B', proxy: view, server: undefined, iid: view.id, sid: 0, values, status: undefined,
    check: undefined }
}

/** Rows of one proxy: FRONTEND, servers, BACKEND (those that apply). */
export function proxyRows (view: ProxyView, providers: StatsProviders, opts: RowOptions): StatRow[] {
  const rows: StatRow[] = []
  if (view.frontend !== undefined) rows.push(frontendRow(view, view.frontend))
  const be = view.backend
  if (be !== undefined) {
    for (const s of be.servers) rows.push(serverRow(view, be, s, providers, opts))
    rows.push(backendRow(view, be, opts))
  }
  const threads = providers.threads
  return threads === undefined ? rows : rows.map(r => ({ ...r, values: threads.mergeRow(r.kind, r.iid, r.sid,
    r.values) }))
}

/** Every row, refreshing the maxima and state tracking first. */
export function collectRows (engine: Engine, providers: StatsProviders, opts: RowOptions): StatRow[] {
  samplerFor(engine).refresh(opts.now)
  return proxyViews(engine, providers).flatMap(v => proxyRows(v, providers, opts))
}

export function valueOf (row: StatRow, name: string): Value {
  const i = FIELD_INDEX.get(name)
  return i === undefined ? undefined : row.values[i]
}
