/**
 * HAProxy's Prometheus exporter (`http-request use-service prometheus-exporter`): the same metric
 * names, `# HELP` / `# TYPE` lines, labels, ordering (metric by metric, then object by object)
 * and special cases (per-state gauges, `code` labels, seconds for timers, NaN for empty values)
 * as HAProxy 2.6's addons/promex, fed from the same statistics rows as `show stat`.
 */
import type { Engine } from '../engine.ts'
import { FIELD_INDEX, INFO_FIELDS, STAT_FIELDS, type RowKind } from './fields.ts'
import { infoValues } from './format.ts'
import { collectRows, productVersion, type StatRow, type Value } from './model.ts'
import type { StatsProviders } from './providers.ts'
import { CHECK_STATE_LABELS, checkFinished, hasLayer7Data, PROM_SERVER_STATES } from './status.ts'

type MetricType = 'gauge' | 'counter'

/** Process metrics: `show info` field name -> metric suffix and type. */
const INFO_METRICS: Record<string, readonly [string, MetricType]> = {
  Nbthread: ['nbthread', 'gauge'],
  Nbproc: ['nbproc', 'gauge'],
  Process_num: ['relative_process_id', 'gauge'],
  Uptime_sec: ['uptime_seconds', 'gauge'],
  PoolFailed: ['pool_failures_total', 'counter'],
  'Ulimit-n': ['max_fds', 'gauge'],
  Maxsock: ['max_sockets', 'gauge'],
  Maxconn: ['max_connections', 'gauge'],
  Hard_maxconn: ['hard_max_connections', 'gauge'],
  CurrConns: ['current_connections', 'gauge'],
  CumConns: ['connections_total', 'counter'],
  CumReq: ['requests_total', 'counter'],
  MaxSslConns: ['max_ssl_connections', 'gauge'],
  CurrSslConns: ['current_ssl_connections', 'gauge'],
  CumSslConns: ['ssl_connections_total', 'counter'],
  Maxpipes: ['max_pipes', 'gauge'],
  PipesUsed: ['pipes_used_total', 'counter'],
  PipesFree: ['pipes_free_total', 'counter'],
  ConnRate: ['current_connection_rate', 'gauge'],
  ConnRateLimit: ['limit_connection_rate', 'gauge'],
  MaxConnRate: ['max_connection_rate', 'gauge'],
  SessRate: ['current_session_rate', 'gauge'],
  SessRateLimit: ['limit_session_rate', 'gauge'],
  MaxSessRate: ['max_session_rate', 'gauge'],
  SslRate: ['current_ssl_rate', 'gauge'],
  SslRateLimit: ['limit_ssl_rate', 'gauge'],
  MaxSslRate: ['max_ssl_rate', 'gauge'],
  SslFrontendKeyRate: ['current_frontend_ssl_key_rate', 'gauge'],
  SslFrontendMaxKeyRate: ['max_frontend_ssl_key_rate', 'gauge'],
  SslFrontendSessionReuse_pct: ['frontend_ssl_reuse', 'gauge'],
  SslBackendKeyRate: ['current_backend_ssl_key_rate', 'gauge'],
  SslBackendMaxKeyRate: ['max_backend_ssl_key_rate', 'gauge'],
  SslCacheLookups: ['ssl_cache_lookups_total', 'counter'],
  SslCacheMisses: ['ssl_cache_misses_total', 'counter'],
  CompressBpsIn: ['http_comp_bytes_in_total', 'counter'],
  CompressBpsOut: ['http_comp_bytes_out_total', 'counter'],
  CompressBpsRateLim: ['limit_http_comp', 'gauge'],
  ZlibMemUsage: ['current_zlib_memory', 'gauge'],
  MaxZlibMemUsage: ['max_zlib_memory', 'gauge'],
  Tasks: ['current_tasks', 'gauge'],
  Run_queue: ['current_run_queue', 'gauge'],
  Idle_pct: ['idle_time_percent', 'gauge'],
  Stopping: ['stopping', 'gauge'],
  Jobs: ['jobs', 'gauge'],
  'Unstoppable Jobs': ['unstoppable_jobs', 'gauge'],
  Listeners: ['listeners', 'gauge'],
  ActivePeers: ['active_peers', 'gauge'],
  ConnectedPeers: ['connected_peers', 'gauge'],
  DroppedLogs: ['dropped_logs_total', 'counter'],
  BusyPolling: ['busy_polling_enabled', 'gauge'],
  FailedResolutions: ['failed_resolutions', 'counter'],
  TotalBytesOut: ['bytes_out_total', 'counter'],
  TotalSplicdedBytesOut: ['spliced_bytes_out_total', 'counter'],
  BytesOutRate: ['bytes_out_rate', 'gauge'],
  CumRecvLogs: ['recv_logs_total', 'counter'],
  'Build info': ['build_info', 'gauge'],
  Memmax_bytes: ['max_memory_bytes', 'gauge'],
  PoolAlloc_bytes: ['pool_allocated_bytes', 'gauge'],
  PoolUsed_bytes: ['pool_used_bytes', 'gauge'],
  Start_time_sec: ['start_time_seconds', 'gauge']
}

interface StatMetric {
  readonly field: string
  readonly name: string
  readonly type: MetricType
  /** The object kinds that export it (F frontend, B backend, S server). */
  readonly kinds: string
  /** Only for proxies in `mode http` (otherwise skipped, not NaN). */
  readonly httpOnly?: string
  readonly help?: string
}

const HRSP = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other']
const HRSP_CODES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other']

/** promex_st_metrics of HAProxy 2.6 (plus 2.6.12's aggregated server states), in field order. */
const STAT_METRICS: readonly StatMetric[] = [
  { field: 'qcur', name: 'current_queue', type: 'gauge', kinds: 'BS' },
  { field: 'qmax', name: 'max_queue', type: 'gauge', kinds: 'BS' },
  { field: 'scur', name: 'current_sessions', type: 'gauge', kinds: 'FBS' },
  { field: 'smax', name: 'max_sessions', type: 'gauge', kinds: 'FBS' },
  { field: 'slim', name: 'limit_sessions', type: 'gauge', kinds: 'FBS' },
  { field: 'stot', name: 'sessions_total', type: 'counter', kinds: 'FBS' },
  { field: 'bin', name: 'bytes_in_total', type: 'counter', kinds: 'FBS' },
  { field: 'bout', name: 'bytes_out_total', type: 'counter', kinds: 'FBS' },
  { field: 'dreq', name: 'requests_denied_total', type: 'counter', kinds: 'FB' },
  { field: 'dresp', name: 'responses_denied_total', type: 'counter', kinds: 'FBS' },
  { field: 'ereq', name: 'request_errors_total', type: 'counter', kinds: 'F' },
  { field: 'econ', name: 'connection_errors_total', type: 'counter', kinds: 'BS' },
  { field: 'eresp', name: 'response_errors_total', type: 'counter', kinds: 'BS' },
  { field: 'wretr', name: 'retry_warnings_total', type: 'counter', kinds: 'BS' },
  { field: 'wredis', name: 'redispatch_warnings_total', type: 'counter', kinds: 'BS' },
  { field: 'status', name: 'status', type: 'gauge', kinds: 'FBS',
    help: 'Current status of the service, per state label value.' },
  { field: 'weight', name: 'weight', type: 'gauge', kinds: 'BS' },
  { field: 'act', name: 'active_servers', type: 'gauge', kinds: 'B' },
  { field: 'bck', name: 'backup_servers', type: 'gauge', kinds: 'B' },
  { field: 'chkfail', name: 'check_failures_total', type: 'counter', kinds: 'S' },
  { field: 'chkdown', name: 'check_up_down_total', type: 'counter', kinds: 'BS' },
  { field: 'lastchg', name: 'check_last_change_seconds', type: 'gauge', kinds: 'BS' },
  { field: 'downtime', name: 'downtime_seconds_total', type: 'counter', kinds: 'BS' },
  { field: 'qlimit', name: 'queue_limit', type: 'gauge', kinds: 'S' },
  { field: 'throttle', name: 'current_throttle', type: 'gauge', kinds: 'S' },
  { field: 'lbtot', name: 'loadbalanced_total', type: 'counter', kinds: 'BS' },
  { field: 'rate_lim', name: 'limit_session_rate', type: 'gauge', kinds: 'F' },
  { field: 'rate_max', name: 'max_session_rate', type: 'gauge', kinds: 'FBS' },
  { field: 'check_status', name: 'check_status', type: 'gauge', kinds: 'S',
    help: 'Status of last health check, per state label value.' },
  { field: 'check_code', name: 'check_code', type: 'gauge', kinds: 'S',
    help: 'layer5-7 code, if available of the last health check.' },
  { field: 'check_duration', name: 'check_duration_seconds', type: 'gauge', kinds: 'S',
    help: 'Total duration of the latest server health check, in seconds.' },
  { field: 'hrsp_1xx', name: 'http_responses_total', type: 'counter', kinds: 'FBS', httpOnly: 'FBS' },
  { field: 'req_rate_max', name: 'http_requests_rate_max', type: 'gauge', kinds: 'F', httpOnly: 'F' },
  { field: 'req_tot', name: 'http_requests_total', type: 'counter', kinds: 'FB', httpOnly: 'FB' },
  { field: 'cli_abrt', name: 'client_aborts_total', type: 'counter', kinds: 'BS' },
  { field: 'srv_abrt', name: 'server_aborts_total', type: 'counter', kinds: 'BS' },
  { field: 'comp_in', name: 'http_comp_bytes_in_total', type: 'counter', kinds: 'FB', httpOnly: 'FB' },
  { field: 'comp_out', name: 'http_comp_bytes_out_total', type: 'counter', kinds: 'FB', httpOnly: 'FB' },
  { field: 'comp_byp', name: 'http_comp_bytes_bypassed_total', type: 'counter', kinds: 'FB', httpOnly: 'FB' },
  { field: 'comp_rsp', name: 'http_comp_responses_total', type: 'counter', kinds: 'FB', httpOnly: 'FB' },
  { field: 'lastsess', name: 'last_session_seconds', type: 'gauge', kinds: 'BS' },
  { field: 'qtime', name: 'queue_time_average_seconds', type: 'gauge', kinds: 'BS',
    help: 'Avg. queue time for last 1024 successful connections.' },
  { field: 'ctime', name: 'connect_time_average_seconds', type: 'gauge', kinds: 'BS',
    help: 'Avg. connect time for last 1024 successful connections.' },
  { field: 'rtime', name: 'response_time_average_seconds', type: 'gauge', kinds: 'BS',
    help: 'Avg. response time for last 1024 successful connections.' },
  { field: 'ttime', name: 'total_time_average_seconds', type: 'gauge', kinds: 'BS',
    help: 'Avg. total time for last 1024 successful connections.' },
  { field: 'conn_rate_max', name: 'connections_rate_max', type: 'gauge', kinds: 'F' },
  { field: 'conn_tot', name: 'connections_total', type: 'counter', kinds: 'F' },
  { field: 'intercepted', name: 'intercepted_requests_total', type: 'counter', kinds: 'F', httpOnly: 'F' },
  { field: 'dcon', name: 'denied_connections_total', type: 'counter', kinds: 'F' },
  { field: 'dses', name: 'denied_sessions_total', type: 'counter', kinds: 'F' },
  { field: 'wrew', name: 'failed_header_rewriting_total', type: 'counter', kinds: 'FBS' },
  { field: 'connect', name: 'connection_attempts_total', type: 'counter', kinds: 'BS' },
  { field: 'reuse', name: 'connection_reuses_total', type: 'counter', kinds: 'BS' },
  { field: 'cache_lookups', name: 'http_cache_lookups_total', type: 'counter', kinds: 'FB', httpOnly: 'FB' },
  { field: 'cache_hits', name: 'http_cache_hits_total', type: 'counter', kinds: 'FB', httpOnly: 'FB' },
  { field: 'srv_icur', name: 'idle_connections_current', type: 'gauge', kinds: 'S' },
  { field: 'src_ilim', name: 'idle_connections_limit', type: 'gauge', kinds: 'S' },
  { field: 'qtime_max', name: 'max_queue_time_seconds', type: 'gauge', kinds: 'BS',
    help: 'Maximum observed time spent in the queue' },
  { field: 'ctime_max', name: 'max_connect_time_seconds', type: 'gauge', kinds: 'BS',
    help: 'Maximum observed time spent waiting for a connection to complete' },
  { field: 'rtime_max', name: 'max_response_time_seconds', type: 'gauge', kinds: 'BS',
    help: 'Maximum observed time spent waiting for a server response' },
  { field: 'ttime_max', name: 'max_total_time_seconds', type: 'gauge', kinds: 'BS',
    help: 'Maximum observed total request+response time (request+queue+connect+response+processing)' },
  { field: 'eint', name: 'internal_errors_total', type: 'counter', kinds: 'FBS' },
  { field: 'idle_conn_cur', name: 'unsafe_idle_connections_current', type: 'gauge', kinds: 'S' },
  { field: 'safe_conn_cur', name: 'safe_idle_connections_current', type: 'gauge', kinds: 'S' },
  { field: 'used_conn_cur', name: 'used_connections_current', type: 'gauge', kinds: 'S' },
  { field: 'need_conn_est', name: 'need_connections_current', type: 'gauge', kinds: 'S' },
  { field: 'uweight', name: 'uweight', type: 'gauge', kinds: 'BS' },
  { field: 'agg_server_status', name: 'agg_server_status', type: 'gauge', kinds: 'B' },
  { field: 'agg_server_check_status', name: 'agg_server_check_status', type: 'gauge', kinds: 'B' },
  { field: 'agg_check_status', name: 'agg_check_status', type: 'gauge', kinds: 'B' }
]

const SECONDS_FIELDS = new Set(['qtime', 'ctime', 'rtime', 'ttime', 'qtime_max', 'ctime_max', 'rtime_max', 'ttime_max'])

export type PrometheusScope = 'global' | 'frontend' | 'backend' | 'server' | 'sticktable'
const ALL_SCOPES: readonly PrometheusScope[] = ['global', 'frontend', 'backend', 'server', 'sticktable']

export interface PrometheusOptions {
  /** What to export (`?scope=...`); everything by default. */
  readonly scopes?: ReadonlySet<PrometheusScope>
  /** `?no-maint`: leave out servers in maintenance. */
  readonly noMaint?: boolean
  readonly now?: number
}

function num (v: Value): string {
  return typeof v === 'number' ? String(v) : 'NaN'
}

function labels (pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return ''
  return '{' + pairs.map(([k, v]) =>
    `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',') + '}'
}

class Out {
  text = ''
  private headerDone = false
  header (name: string, help: string, type: MetricType): void {
    if (this.headerDone) return
    this.text += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`
    this.headerDone = true
  }

  sample (name: string, help: string, type: MetricType, pairs: readonly (readonly [string, string])[],
    value: string): void {
    this.header(name, help, type)
    this.text += `${name}${labels(pairs)} ${value}\n`
  }

  next (): void {
    this.headerDone = false
  }
}

function fieldValue (row: StatRow, field: string): Value {
  const i = FIELD_INDEX.get(field)
  return i === undefined ? undefined : row.values[i]
}

function helpOf (m: StatMetric): string {
  if (m.help !== undefined) return m.help
  const i = FIELD_INDEX.get(m.field)
  return i === undefined ? '' : (STAT_FIELDS[i]?.desc ?? '')
}

function isHttp (row: StatRow): boolean {
  const cfg = row.proxy.backend?.config ?? row.proxy.frontend?.config ?? row.proxy.config
  return cfg.mode === 'http'
}

/** The samples of one metric for one row (nothing when it does not apply). */
function emitRow (out: Out, prefix: string, m: StatMetric, row: StatRow, base: readonly (readonly [string,
  string])[]): void {
  const name = prefix + m.name
  const help = helpOf(m)
  const kind: RowKind = row.kind
  if (m.httpOnly?.includes(kind) === true && !isHttp(row)) return
  switch (m.field) {
    case 'status': {
      let state: string
      let states: readonly string[]
      if (kind === 'S') {
        state = row.status?.state ?? 'DOWN'
        states = PROM_SERVER_STATES
      } else {
        const v = String(fieldValue(row, 'status'))
        state = kind === 'F' ? (v === 'STOP' ? 'DOWN' : 'UP') : v.startsWith('UP') ? 'UP' : 'DOWN'
        states = ['DOWN', 'UP']
      }
      for (const s of states) out.sample(name, help, m.type, [...base, ['state', s]], state === s ? '1' : '0')
      return
    }
    case 'hrsp_1xx':
      // One metric with a `code` label; HAProxy emits all objects for 1xx, then all for 2xx, ...
      return
    case 'check_status': {
      const check = row.check
      if (check === undefined || row.server?.admin === 'maint') return
      for (const s of CHECK_STATE_LABELS) out.sample(name, help, m.type, [...base, ['state', s]],
        check.status === s ? '1' : '0')
      return
    }
    case 'check_code': {
      const check = row.check
      if (check === undefined || row.server?.admin === 'maint') return
      out.sample(name, help, m.type, base, String(hasLayer7Data(check.status) ? check.code ?? 0 : 0))
      return
    }
    case 'check_duration': {
      const check = row.check
      if (check === undefined || !checkFinished(check.status)) return
      out.sample(name, help, m.type, base, ((check.durationMs ?? 0) / 1000).toFixed(6))
      return
    }
    case 'agg_server_status':
    case 'agg_server_check_status':
    case 'agg_check_status':
      return
    default: {
      const v = fieldValue(row, m.field)
      const text = SECONDS_FIELDS.has(m.field) && typeof v === 'number' ? (v / 1000).toFixed(6) : num(v)
      out.sample(name, help, m.type, base, text)
    }
  }
}

function rowLabels (row: StatRow): (readonly [string, string])[] {
  const base: (readonly [string, string])[] = [['proxy', row.proxy.name]]
  if (row.kind === 'S' && row.server !== undefined) base.push(['server', row.server.name])
  return base
}

function emitHttpResponses (out: Out, prefix: string, rows: readonly StatRow[]): void {
  const name = prefix + 'http_responses_total'
  const help = STAT_FIELDS[FIELD_INDEX.get('hrsp_1xx') ?? 0]?.desc ?? ''
  HRSP.forEach((field, i) => {
    for (const row of rows) {
      if (!isHttp(row)) continue
      out.sample(name, help, 'counter', [...rowLabels(row), ['code', HRSP_CODES[i] as string]], num(fieldValue(row,
        field)))
    }
  })
}

function emitAggregates (out: Out, prefix: string, m: StatMetric, backends: readonly StatRow[],
  servers: readonly StatRow[]): void {
  const name = prefix + m.name
  const help = helpOf(m)
  for (const b of backends) {
    const mine = servers.filter(s => s.proxy === b.proxy)
    if (mine.length === 0) continue
    if (m.field === 'agg_check_status') {
      for (const st of CHECK_STATE_LABELS) {
        const n = mine.filter(s => s.check?.status === st).length
        out.sample(name, help, m.type, [['proxy', b.proxy.name], ['state', st]], String(n))
      }
    } else {
      for (const st of PROM_SERVER_STATES) {
        const n = mine.filter(s => (s.status?.state ?? 'DOWN') === st).length
        out.sample(name, help, m.type, [['proxy', b.proxy.name], ['state', st]], String(n))
      }
    }
  }
}

/** The exporter's text (Prometheus exposition format 0.0.4). */
export function renderPrometheus (engine: Engine, providers: StatsProviders = {},
  opts: PrometheusOptions = {}): string {
  const scopes = opts.scopes ?? new Set(ALL_SCOPES)
  const out = new Out()
  if (scopes.has('global')) {
    const values = infoValues(engine, providers, opts.now)
    INFO_FIELDS.forEach((f, i) => {
      const m = INFO_METRICS[f.name]
      if (m === undefined) return
      const name = 'haproxy_process_' + m[0]
      if (f.name === 'Build info') out.sample(name, f.desc, m[1], [['version', productVersion(providers)]], '1')
      else out.sample(name, f.desc, m[1], [], num(values[i]))
      out.next()
    })
  }
  const rows = collectRows(engine, providers, { legends: false, now: opts.now })
  const fronts = rows.filter(r => r.kind === 'F')
  const backs = rows.filter(r => r.kind === 'B')
  const servers = rows.filter(r => r.kind === 'S' && !(opts.noMaint === true && r.server?.admin === 'maint'))
  const groups: readonly (readonly [PrometheusScope, RowKind, string, readonly StatRow[]])[] = [
    ['frontend', 'F', 'haproxy_frontend_', fronts],
    ['backend', 'B', 'haproxy_backend_', backs],
    ['server', 'S', 'haproxy_server_', servers]
  ]
  for (const [scope, kind, prefix, list] of groups) {
    if (!scopes.has(scope)) continue
    for (const m of STAT_METRICS) {
      if (!m.kinds.includes(kind)) continue
      if (m.field === 'hrsp_1xx') emitHttpResponses(out, prefix, list)
      else if (m.field.startsWith('agg_')) emitAggregates(out, prefix, m, list, rows.filter(r => r.kind === 'S'))
      else for (const row of list) emitRow(out, prefix, m, row, rowLabels(row))
      out.next()
    }
  }
  if (scopes.has('sticktable')) {
    const tables = providers.tables?.summary?.() ?? []
    for (const [suffix, help, pick] of [
      ['size', 'Stick table size.', (t: { size: number }) => t.size],
      ['used', 'Number of entries used in this stick table.', (t: { used: number }) => t.used]
    ] as const) {
      for (const t of tables) {
        if (t.size === 0) continue
        out.sample('haproxy_sticktable_' + suffix, help, 'gauge', [['name', t.name], ['type', t.type]], String(pick(t)))
      }
      out.next()
    }
  }
  return out.text
}

/** Scopes and flags from the exporter's query string (`?scope=backend&scope=server&no-maint`). */
export function parsePrometheusQuery (target: string): PrometheusOptions {
  const q = target.indexOf('?')
  if (q < 0) return {}
  let scopes: Set<PrometheusScope> | undefined
  let noMaint = false
  for (const part of target.slice(q + 1).split('&')) {
    const [k = '', v = ''] = part.split('=', 2)
    if (k === 'scope') {
      scopes ??= new Set()
      const value = decodeURIComponent(v)
      if (value === '*') for (const s of ALL_SCOPES) scopes.add(s)
      else if ((ALL_SCOPES as readonly string[]).includes(value)) scopes.add(value as PrometheusScope)
    } else if (k === 'no-maint') {
      noMaint = true
    }
  }
  return { scopes, noMaint }
}

/**
 * The complete HTTP response for `http-request use-service prometheus-exporter`. `target` is
 * the request target (its query string selects scopes); `head` answers a HEAD request.
 */
export function prometheusResponse (engine: Engine, providers: StatsProviders, target: string, head = false): Buffer {
  let body: Buffer
  try {
    body = Buffer.from(renderPrometheus(engine, providers, parsePrometheusQuery(target)), 'utf8')
  } catch {
    const text = 'Internal error while dumping metrics\n'
    return Buffer.from(
      (`HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: ` +
        `${text.length}\r\ncache-control: no-cache\r\n\r\n${head ? '' : text}`), 'latin1')
  }
  const headers =
    (`HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: ` +
      `${body.length}\r\n\r\n`)
  return head ? Buffer.from(headers, 'latin1') : Buffer.concat([Buffer.from(headers, 'latin1'), body])
}
