/**
 * The statistics page (`stats enable`, `stats uri`, `stats auth`, `stats realm`, `stats refresh`,
 * `stats hide-version`, `stats show-node`, `stats show-legends`, `stats scope`): an HTML report
 * laid out like HAProxy's (one table per proxy: frontend row, one row per server coloured by its
 * state, backend row), with HAProxy's URI options `;csv`, `;typed`, `;json`, `;up`, `;no-maint`,
 * `;norefresh` and `scope=`.
 *
 * `handleStatsRequest` returns the complete HTTP response for a request whose target starts with
 * the proxy's stats URI (default `/haproxy?stats`), or undefined when the request is not for the
 * stats page; the HTTP session writes the buffer as is.
 */
import { timingSafeEqual } from 'node:crypto'
import type { Proxy } from '../../config/model.ts'
import type { Engine } from '../engine.ts'
import type { RequestHead } from '../http/head.ts'
import { getHeader } from '../http/head.ts'
import { samplerFor } from './sampler.ts'
import { renderCsv, renderJson, renderTyped, infoValues } from './format.ts'
import { INFO_FIELDS } from './fields.ts'
import { nodeName, productVersion, proxyRows, proxyViews, startedAt, valueOf, type ProxyView, type StatRow,
  type Value } from './model.ts'
import type { StatsProviders } from './providers.ts'
import { CHECK_STATUS_DESC } from './status.ts'

export const DEFAULT_STATS_URI = '/haproxy?stats'
export const DEFAULT_REALM = 'HAProxy Statistics'

export interface StatsPageOptions {
  /** The stats URI, for the page's own links. */
  readonly uri?: string
  /** Seconds between automatic reloads (HTTP `refresh` header and meta refresh); none when undefined. */
  readonly refreshSec?: number
  readonly hideVersion?: boolean
  /** Show addresses, cookies and algorithms. */
  readonly showLegends?: boolean
  /** Show the node name (true: the global `node`, else this text). */
  readonly showNode?: string | true
  /** `;up`: hide servers that are DOWN or in maintenance. */
  readonly hideDown?: boolean
  /** `;no-maint`: hide servers in maintenance. */
  readonly noMaint?: boolean
  /** `scope=`: only proxies whose name contains this (case-insensitive). */
  readonly scope?: string
  /** `stats scope`: proxy names allowed on this page ('.' is `self`). */
  readonly proxyScopes?: readonly string[]
  /** The proxy serving the page (for `stats scope .`). */
  readonly self?: string
  readonly now?: number
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

function esc (s: string): string {
  return s.replace(/[&<>"']/g, c => ESC[c] ?? c)
}

function n (v: Value): string {
  if (v === undefined) return ''
  if (typeof v === 'number') return v.toLocaleString('en-US')
  return esc(v)
}

/** Seconds as HAProxy's human duration: 45s, 3m12s, 2h05m, 4d7h. */
export function humanDuration (sec: number): string {
  if (sec < 0) return '-'
  if (sec < 60) return `${sec}s`
  if (sec < 3600) return `${Math.floor(sec / 60)}m${sec % 60}s`
  if (sec < 86400) return `${Math.floor(sec / 3600)}h${String(Math.floor(sec / 60) % 60).padStart(2, '0')}m`
  return `${Math.floor(sec / 86400)}d${Math.floor(sec / 3600) % 24}h`
}

const CSS = `
body { font-family: Arial, Helvetica, sans-serif; font-size: 12px; color: #000; background: #fff; margin: 8px; }
h1 { font-size: x-large; margin: 0 0 0.3em 0; }
h1 a { color: #5020a0; text-decoration: none; }
h2 { font-size: large; font-style: italic; color: #5020a0; margin: 0 0 0.4em 0; }
h3 { font-size: 15px; color: #a0003a; background: #e8e8d0; margin: 0.6em 0 0.3em 0; padding: 2px 4px; }
.info { display: flex; gap: 2em; align-items: flex-start; margin-bottom: 1em; flex-wrap: wrap; }
.info p { margin: 0; line-height: 1.5; }
.info ul { margin: 0.3em 0 0 0; padding-left: 1.2em; }
table.legend { border-collapse: collapse; }
table.legend td { padding: 1px 4px; font-size: 11px; white-space: nowrap; }
table.legend td.sw { width: 14px; border: 1px solid #888; }
table.px { border-collapse: collapse; width: 100%; margin-bottom: 1.2em; }
table.px th, table.px td { border: 1px solid #999; padding: 2px 4px; font-size: 11px; white-space: nowrap; }
table.px td { text-align: right; }
table.px td.name, table.px td.st { text-align: left; }
table.px th { background: #20c0c0; color: #000; font-weight: bold; }
table.px th.pxname { background: #a0003a; color: #ffff50; text-align: left; font-size: 13px; }
table.px th.pxname a { color: #ffff50; text-decoration: none; }
table.px th.desc { background: #fff; color: #333; font-weight: normal; text-align: left; border-style: none; }
tr.frontend td, tr.backend td { font-weight: bold; }
.frontend, .backend { background: #e8e8d0; }
.active_up { background: #c0ffc0; }
.backup_up { background: #b0e0d0; }
.active_going_down, .backup_going_down { background: #ffffa0; }
.active_going_up, .backup_going_up { background: #ffd020; }
.active_down, .backup_down { background: #ff9090; }
.active_draining, .backup_draining, .active_nolb, .backup_nolb { background: #60b0ff; }
.active_no_check, .backup_no_check { background: #e0e0e0; }
.maintain { background: #c07820; }
tr.maintain td { color: #fff; }
td.name a { color: inherit; text-decoration: none; }
@media (prefers-color-scheme: dark) {
  body { color: #e6e6e6; background: #151718; }
  h3 { background: #3a3a20; color: #ff6a9a; }
  table.px th.desc { background: #151718; color: #ccc; }
  .frontend, .backend { background: #30343a; }
  .active_up, .backup_up { background: #1d5a10; }
  .active_down, .backup_down { background: #7a1010; }
  .active_going_down, .backup_going_down { background: #6c6c00; }
  .active_going_up, .backup_going_up { background: #a08000; }
  .active_no_check, .backup_no_check { background: #2a2d30; }
  .active_draining, .backup_draining, .active_nolb, .backup_nolb { background: #0a5a9a; }
  .maintain { background: #8a5a1a; }
}
`

const LEGEND: readonly (readonly [string, string])[] = [
  ['active_up', 'active UP'], ['backup_up', 'backup UP'],
  ['active_going_down', 'active UP, going down'], ['active_going_up', 'active DOWN, going up'],
  ['active_down', 'active or backup DOWN'], ['active_no_check', 'not checked'],
  ['maintain', 'active or backup DOWN for maintenance (MAINT)'],
  ['active_draining', 'active or backup SOFT STOPPED for maintenance (DRAIN)']
]

function statusCell (row: StatRow, now: number): string {
  const status = String(valueOf(row, 'status') ?? '')
  const lastchg = valueOf(row, 'lastchg')
  if (row.kind === 'F') return status
  const age = typeof lastchg === 'number' ? humanDuration(lastchg) + ' ' : ''
  void now
  return esc(age + status)
}

function lastCheck (row: StatRow): string {
  const c = row.check
  if (c === undefined || row.server?.admin === 'maint') return ''
  let text = c.status
  if (c.code !== undefined && c.code > 0) text += `/${c.code}`
  if (c.durationMs !== undefined) text += ` in ${c.durationMs}ms`
  const title = CHECK_STATUS_DESC[c.status] + (c.desc !== undefined && c.desc !== '' ? `: ${c.desc}` : '')
  return `<span title="${esc(title)}">${esc((c.inProgress === true ? '* ' : '') + text)}</span>`
}

function httpTitle (row: StatRow): string {
  const req = valueOf(row, 'req_tot')
  if (req === undefined) return ''
  const parts = [`HTTP requests: ${n(req)}`]
  for (const c of ['1xx', '2xx', '3xx', '4xx', '5xx', 'other']) parts.push(`${c}: ${n(valueOf(row, `hrsp_${c}`))}`)
  return ` title="${parts.join(', ')}"`
}

function rowHtml (row: StatRow, now: number): string {
  const v = (name: string): string => n(valueOf(row, name))
  const name = row.kind === 'F' ? 'Frontend' : row.kind === 'B' ? 'Backend' : row.server?.name ?? ''
  const anchor = `${row.proxy.name}/${name}`
  const cls = row.kind === 'F' ? 'frontend' : row.kind === 'B' ? 'backend' : row.status?.css ?? 'active_no_check'
  const lastsess = valueOf(row, 'lastsess')
  const isSrv = row.kind === 'S'
  const cells = [
    `<td class="name"><a name="${esc(anchor)}" href="#${esc(anchor)}">${esc(name)}</a></td>`,
    // Queue
    `<td>${v('qcur')}</td><td>${v('qmax')}</td><td>${isSrv ? v('qlimit') || '-' : ''}</td>`,
    // Session rate
    `<td>${v('rate')}</td><td>${v('rate_max')}</td><td>${row.kind === 'F' ? v('rate_lim') || '-' : ''}</td>`,
    // Sessions
    `<td>${v('scur')}</td><td>${v('smax')}</td><td>${v('slim') || '-'}</td><td${httpTitle(row)}>${v('stot')}</td>`,
    `<td>${v('lbtot')}</td><td>${typeof lastsess === 'number' ? humanDuration(lastsess) : ''}</td>`,
    // Bytes
    `<td>${v('bin')}</td><td>${v('bout')}</td>`,
    // Denied
    `<td>${v('dreq')}</td><td>${v('dresp')}</td>`,
    // Errors
    `<td>${v('ereq')}</td><td>${v('econ')}</td><td>${v('eresp')}</td>`,
    // Warnings
    `<td>${v('wretr')}</td><td>${v('wredis')}</td>`,
    // Server
    `<td class="st">${statusCell(row, now)}</td><td class="st">${isSrv ? lastCheck(row) : ''}</td>`,
    `<td>${row.kind === 'F' ? '' : `${v('weight')}/${v('uweight')}`}</td><td>${row.kind === 'S' ? (valueOf(row,
      'act') === 1 ? 'Y' : '-') : v('act')}</td>`,
    `<td>${row.kind === 'S' ? (valueOf(row, 'bck') === 1 ? 'Y' : '-') : v('bck')}</td>`,
    `<td>${v('chkfail')}</td><td>${v('chkdown')}</td><td>${typeof valueOf(row, 'downtime') === 'number' ? humanDuration(
      valueOf(row, 'downtime') as number) : ''}</td>`,
    `<td>${isSrv ? v('throttle') || '-' : ''}</td>`
  ]
  return `<tr class="${cls}">${cells.join('')}</tr>\n`
}

const TABLE_HEAD =
  '<tr><th rowspan="2"></th><th colspan="3">Queue</th><th colspan="3">Session rate</th><th colspan="6">Sessions</th>' +
  ('<th colspan="2">Bytes</th><th colspan="2">Denied</th><th colspan="3">Errors</th><th ' +
    'colspan="2">Warnings</th><th colspan="9">Server</th></tr>\n') +
  '<tr>' + ['Cur', 'Max', 'Limit', 'Cur', 'Max', 'Limit', 'Cur', 'Max', 'Limit', 'Total', 'LbTot', 'Last', 'In', 'Out',
    'Req', 'Resp',
    'Req', 'Conn', 'Resp', 'Retr', 'Redis', 'Status', 'LastChk', 'Wght', 'Act', 'Bck', 'Chk', 'Dwn', 'Dwntme',
      'Thrtle'].map(h => `<th>${h}</th>`).join('') + '</tr>\n'

function visibleViews (engine: Engine, providers: StatsProviders, opts: StatsPageOptions): ProxyView[] {
  const scope = opts.scope?.toLowerCase()
  return proxyViews(engine, providers).filter(v => {
    if (opts.proxyScopes !== undefined && opts.proxyScopes.length > 0 &&
      !opts.proxyScopes.some(s => s === v.name || (s === '.' && v.name === opts.self))) return false
    return scope === undefined || scope === '' || v.name.toLowerCase().includes(scope)
  })
}

function visibleRows (engine: Engine, providers: StatsProviders, opts: StatsPageOptions): StatRow[] {
  const now = opts.now ?? Date.now()
  samplerFor(engine).refresh(now)
  const rows: StatRow[] = []
  for (const v of visibleViews(engine, providers, opts)) {
    for (const row of proxyRows(v, providers, { legends: opts.showLegends === true, now })) {
      const s = row.server
      if (s !== undefined) {
        if ((opts.noMaint === true || opts.hideDown === true) && s.admin === 'maint') continue
        if (opts.hideDown === true && !s.healthy && (row.check === undefined || row.check.health === 0)) continue
      }
      rows.push(row)
    }
  }
  return rows
}

/** The HTML statistics report. */
export function renderStatsPage (engine: Engine, providers: StatsProviders = {}, opts: StatsPageOptions = {}): string {
  const now = opts.now ?? Date.now()
  const uri = opts.uri ?? DEFAULT_STATS_URI
  const version = productVersion(providers)
  const info = infoValues(engine, providers, now)
  const infoOf = (name: string): Value => info[INFO_FIELDS.findIndex(f => f.name === name)]
  const node = opts.showNode === undefined ? undefined : opts.showNode === true ? nodeName(providers) : opts.showNode
  const rows = visibleRows(engine, providers, opts)
  const uptime = Math.floor((now - startedAt(providers)) / 1000)
  let html = '<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n'
  html += `<title>Statistics Report for tslb${node !== undefined ? ' on ' + esc(node) : ''}</title>\n`
  html += '<link rel="icon" href="data:,">\n'
  if (opts.refreshSec !== undefined) html += `<meta http-equiv="refresh" content="${opts.refreshSec}">\n`
  html += `<style>${CSS}</style></head>\n<body>\n`
  html += opts.hideVersion === true ? '<h1>tslb</h1>\n' : `<h1><a href="#">tslb version ${esc(version)}</a></h1>\n`
  html += `<h2>Statistics Report for pid ${process.pid}${node !== undefined ? ' on ' + esc(node) : ''}</h2>\n`
  html += '<h3>&gt; General process information</h3>\n<div class="info"><p>\n'
  html += `<b>pid = </b>${process.pid} (process #1, nbproc = 1, nbthread = ${providers.threads?.count ?? 1})<br>\n`
  html += `<b>uptime = </b>${humanDuration(uptime)}<br>\n`
  html += `<b>system limits:</b> memmax = unlimited; ulimit-n = ${n(infoOf('Ulimit-n'))}<br>\n`
  html += `<b>maxsock = </b>${n(infoOf('Maxsock'))}; <b>maxconn = </b>${n(infoOf('Maxconn'))}<br>\n`
  html += (`current conns = ${n(infoOf('CurrConns'))}; conn rate = ${n(infoOf('ConnRate'))}/sec; idle = ` +
    `${n(infoOf('Idle_pct'))} %\n</p>\n`)
  html += '<table class="legend">\n'
  for (let i = 0; i < LEGEND.length; i += 2) {
    html += '<tr>'
    for (const [cls, label] of LEGEND.slice(i, i + 2)) html += `<td class="sw ${cls}">&nbsp;</td><td>${esc(label)}</td>`
    html += '</tr>\n'
  }
  html += '</table>\n'
  html += '<p>Note: "NOLB"/"DRAIN" = UP with load-balancing disabled.</p>\n'
  html += '<div><b>Display option:</b><ul>\n'
  html += `<li><a href="${esc(uri)};up">Hide 'DOWN' servers</a></li>\n`
  if (opts.refreshSec !== undefined) html += `<li><a href="${esc(uri)};norefresh">Disable refresh</a></li>\n`
  html += `<li><a href="${esc(uri)}">Refresh now</a></li>\n`
  html += `<li><a href="${esc(uri)};csv;norefresh">CSV export</a></li>\n`
  html += `<li><a href="${esc(uri)};json;norefresh">JSON export</a></li>\n</ul></div>\n</div>\n`
  let current: ProxyView | undefined
  for (const row of rows) {
    if (row.proxy !== current) {
      if (current !== undefined) html += '</table>\n'
      current = row.proxy
      const desc = row.proxy.config.description
      html += '<table class="px">\n'
      html += (`<tr><th class="pxname" colspan="8"><a name="${esc(row.proxy.name)}" ` +
        `href="#${esc(row.proxy.name)}">${esc(row.proxy.name)}</a></th>`)
      html += `<th class="desc" colspan="23">${desc !== undefined ? esc(desc) : ''}</th></tr>\n`
      html += TABLE_HEAD
    }
    html += rowHtml(row, now)
  }
  if (current !== undefined) html += '</table>\n'
  html += '</body>\n</html>\n'
  return html
}

/** Which output the stats URI asks for, from the part after the configured URI. */
export interface StatsRequestOptions {
  readonly format: 'html' | 'csv' | 'typed' | 'json'
  readonly hideDown: boolean
  readonly noMaint: boolean
  readonly norefresh: boolean
  readonly scope: string | undefined
}

export function parseStatsOptions (rest: string): StatsRequestOptions {
  let format: StatsRequestOptions['format'] = 'html'
  if (rest.includes(';csv')) format = 'csv'
  if (rest.includes(';typed')) format = 'typed'
  if (rest.includes(';json')) format = 'json'
  const m = /scope=([^;&]{0,20})/.exec(rest)
  let scope: string | undefined
  if (m !== null) {
    try {
      scope = decodeURIComponent((m[1] ?? '').replace(/\+/g, ' '))
    } catch {
      scope = m[1]
    }
  }
  return { format, hideDown: rest.includes(';up'), noMaint: rest.includes(';no-maint'),
    norefresh: rest.includes(';norefresh'), scope }
}

/** `Authorization: Basic` against `stats auth USER:PASSWORD` entries. */
export function authorized (authorization: string | undefined, credentials: readonly string[]): boolean {
  if (credentials.length === 0) return true
  if (authorization === undefined) return false
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization)
  if (m === null) return false
  const given = Buffer.from(Buffer.from(m[1] as string, 'base64').toString('latin1'), 'latin1')
  let ok = false
  for (const c of credentials) {
    const want = Buffer.from(c, 'latin1')
    if (want.length === given.length && timingSafeEqual(want, given)) ok = true
  }
  return ok
}

function response (status: string, headers: readonly string[], body: string, head: boolean): Buffer {
  const b = Buffer.from(body, 'utf8')
  const lines = [`HTTP/1.1 ${status}`, ...headers, `content-length: ${b.length}`]
  const h = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1')
  return head ? h : Buffer.concat([h, b])
}

const UNAUTHORIZED_BODY =
  '<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n'

/** The path and query of a request target (absolute-form targets lose their scheme and authority). */
function originOf (target: string): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target)
  if (m === null) return target
  const rest = target.slice(m[0].length)
  return rest === '' ? '/' : rest
}

/**
 * The stats page's HTTP response for `head` received on `proxy`, or undefined when the proxy has
 * no `stats enable` or the target does not start with its stats URI.
 */
export function handleStatsRequest (head: RequestHead, proxy: Proxy, engine: Engine,
  providers: StatsProviders = {}): Buffer | undefined {
  const s = proxy.stats
  if (s.enabled !== true) return undefined
  const uri = s.uri ?? DEFAULT_STATS_URI
  const target = originOf(head.target)
  if (!target.startsWith(uri)) return undefined
  const isHead = head.method === 'HEAD'
  if (!authorized(getHeader(head, 'authorization'), s.auth)) {
    const realm = (s.realm ?? DEFAULT_REALM).replace(/["\\]/g, '')
    return response('401 Unauthorized', ['cache-control: no-cache', 'content-type: text/html',
      `www-authenticate: Basic realm="${realm}"`], UNAUTHORIZED_BODY, isHead)
  }
  const o = parseStatsOptions(target.slice(uri.length))
  const refreshSec = s.refresh !== undefined && !o.norefresh ? Math.max(1, Math.round(s.refresh / 1000)) : undefined
  const headers = ['cache-control: no-cache']
  let body: string
  try {
    if (o.format === 'html') {
      headers.push('content-type: text/html; charset=utf-8')
      body = renderStatsPage(engine, providers, {
        uri, refreshSec, hideVersion: s.hideVersion === true, showLegends: s.showLegends === true, showNode: s.showNode,
        hideDown: o.hideDown, noMaint: o.noMaint, scope: o.scope, proxyScopes: s.scope, self: proxy.name
      })
    } else {
      const rows = visibleRows(engine, providers, { showLegends: s.showLegends === true, hideDown: o.hideDown,
        noMaint: o.noMaint, scope: o.scope, proxyScopes: s.scope, self: proxy.name })
      if (o.format === 'csv') {
        headers.push('content-type: text/plain')
        body = renderCsv(rows)
      } else if (o.format === 'typed') {
        headers.push('content-type: text/plain')
        body = renderTyped(rows, false)
      } else {
        headers.push('content-type: application/json')
        body = renderJson(rows)
      }
    }
  } catch {
    return response('500 Internal Server Error', ['cache-control: no-cache', 'content-type: text/plain'],
      'Internal error while building the statistics\n', isHead)
  }
  if (refreshSec !== undefined) headers.push(`refresh: ${refreshSec}`)
  return response('200 OK', headers, body, isHead)
}

/** `handleStatsRequest` bound to an engine: the function the HTTP session calls. */
export function createStatsHandler (engine: Engine, providers: StatsProviders = {}): (head: RequestHead,
  proxy: Proxy) => Buffer | undefined {
  return (head, proxy) => handleStatsRequest(head, proxy, engine, providers)
}
