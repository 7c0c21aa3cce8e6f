/**
 * Figures for `scripts/bench proxy`: one line per run while it goes, then medians over the
 * rounds, the ratios tslb/HAProxy and tslb/node-proxy, and a verdict per target.
 *
 *   node scripts/bench.d/report.ts --line RESULTS.jsonl          the last run, one line
 *   node scripts/bench.d/report.ts --summary RESULTS.jsonl META.json [--markdown]
 *   node scripts/bench.d/report.ts --soak WRK_JSON IDLE_KIB START_KIB END_KIB MAX_KIB MINUTES RSS_FILE
 *
 * Exit status of --summary: 0, or 3 when any measured request failed (errors must be 0).
 */
import { readFileSync } from 'node:fs'

interface WrkJson {
  readonly failed?: boolean
  readonly requests: number
  readonly duration_us: number
  readonly bytes: number
  readonly err_connect: number
  readonly err_read: number
  readonly err_write: number
  readonly err_status: number
  readonly err_timeout: number
  readonly mean_us: number
  readonly p50_us: number
  readonly p90_us: number
  readonly p99_us: number
  readonly max_us: number
}

interface Run {
  readonly round: number
  readonly load: Load
  readonly proxy: ProxyName
  readonly attempt: number
  readonly connections: number
  readonly proxy_cpu_s: number
  readonly proxy_jiffies: number
  readonly cpu0: CpuJiffies
  readonly cpu1: CpuJiffies
  readonly rss_kib: number
  /** Each of the proxy's processes (tslb: supervisor, worker, standby when there is one); absent in older results. */
  readonly mem?: readonly ProcMem[]
  /** Client connections the proxy still held 1 s after wrk had exited (should be 0). */
  readonly lingering: number
  readonly wrk: WrkJson
}

/** /proc/PID/status when the run ended: VmHWM (peak RSS since the process started), VmRSS, RssAnon, RssFile. */
interface ProcMem {
  readonly hwm_kib: number
  readonly rss_kib: number
  readonly anon_kib: number
  readonly file_kib: number
}

interface CpuJiffies {
  readonly busy: number
  readonly task: number
  readonly total: number
  readonly steal: number
}

interface Meta {
  readonly command: string
  readonly date: string
  readonly rounds: number
  readonly duration: number
  readonly warmup: number
  readonly connections: number
  readonly tcp_connections: number
  /** nbthread of both proxies and wrk's -t (absent in runs before --threads). */
  readonly threads?: number
  readonly body_bytes: number
  readonly cpus: string
  readonly kernel: string
  readonly haproxy: string
  readonly nginx: string
  readonly node: string
  readonly wrk: string
  readonly tslb: string
}

type Load = 'keepalive' | 'close' | 'tcp'
type ProxyName = 'haproxy' | 'tslb' | 'node'

const PROXY_LABEL: Record<ProxyName, string> = { haproxy: 'HAProxy', tslb: 'tslb', node: 'Node proxy' }
const LOAD_LABEL: Record<Load, string> = { keepalive: 'keep-alive', close: 'close/request', tcp: 'TCP 1 MiB' }

function readRuns (file: string): Run[] {
  return readFileSync(file, 'utf8').split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as Run)
}

function failed (r: Run): boolean {
  return r.wrk.failed === true
}

function seconds (r: Run): number {
  return r.wrk.duration_us / 1e6
}

function reqPerSec (r: Run): number {
  return failed(r) ? 0 : r.wrk.requests / seconds(r)
}

function mibPerSec (r: Run): number {
  return failed(r) ? 0 : r.wrk.bytes / seconds(r) / 1048576
}

function p99Ms (r: Run): number {
  return failed(r) ? Number.NaN : r.wrk.p99_us / 1000
}

/**
 * Connections that made no progress during the run. By Little's law the connections busy with
 * a request are throughput × mean latency; on a closed-loop keep-alive load that is every
 * connection, so a shortfall means connections that waited without an answer the whole run
 * (wrk does not count a request that never completes as a timeout). Not meaningful for the
 * close load, whose latency leaves out the connects.
 */
function stalled (r: Run): number {
  if (failed(r) || r.load === 'close') return 0
  const busyConns = reqPerSec(r) * r.wrk.mean_us / 1e6
  const missing = r.connections - busyConns
  return missing > Math.max(2, 0.2 * r.connections) ? Math.round(missing) : 0
}

function errors (r: Run): number {
  if (failed(r)) return 1
  const w = r.wrk
  return w.err_connect + w.err_read + w.err_write + w.err_status + w.err_timeout + stalled(r) + r.lingering
}

function errorDetail (r: Run): string {
  if (failed(r)) return 'wrk failed'
  const w = r.wrk
  const parts = Object.entries({ 'connect errors': w.err_connect, 'read errors': w.err_read, 'write errors': w.err_write, 'non-2xx/3xx responses': w.err_status, timeouts: w.err_timeout, 'connections stalled all run': stalled(r), 'client connections left open after wrk closed them': r.lingering })
    .filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`)
  return parts.length === 0 ? '0' : parts.join(', ')
}

/** Share of one CPU the proxy's processes used while measured. */
function cpuShare (r: Run): number {
  return seconds(r) > 0 ? r.proxy_cpu_s / seconds(r) : 0
}

/** Share of CPU0 that other processes took while the proxy was measured. */
function noise (r: Run): number {
  return r.cpu0.total > 0 ? Math.max(0, (r.cpu0.task - r.proxy_jiffies) / r.cpu0.total) : 0
}

/** Share of a CPU that was busy (any process, interrupts) while measured. */
function busy (c: CpuJiffies): number {
  return c.total > 0 ? c.busy / c.total : 0
}

function median (xs: readonly number[]): number {
  const s = xs.filter(x => !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2
}

function fmtRate (x: number): string {
  if (Number.isNaN(x)) return '—'
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1)
}

function fmtMs (x: number): string {
  return Number.isNaN(x) ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(1)
}

function fmtRatio (x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}x` : '—'
}

function pct (x: number): string {
  return `${Math.round(x * 100)}%`
}

function mib (kib: number): string {
  return `${(kib / 1024).toFixed(0)} MiB`
}

const PROCESS_ROLES: Record<ProxyName, readonly string[]> = { haproxy: ['haproxy'],
  tslb: ['supervisor', 'worker', 'standby'], node: ['node'] }

/** Peak RSS of each process of `p` over `runs` (VmHWM only grows while the process lives), and their sum. */
function peakRss (runs: readonly Run[], p: ProxyName): { readonly each: number[], readonly total: number,
  readonly sharedOnce: number } | undefined {
  const mine = runs.filter(r => r.proxy === p && r.mem !== undefined && r.mem.length > 0)
  if (mine.length === 0) return undefined
  const n = Math.max(...mine.map(r => r.mem?.length ?? 0))
  const each = Array.from({ length: n }, (_, i) => Math.max(...mine.map(r => r.mem?.[i]?.hwm_kib ?? 0)))
  const total = each.reduce((a, b) => a + b, 0)
  // The processes map the same executable: count its pages (RssFile) once, in the largest.
  const files = Array.from({ length: n }, (_, i) => Math.max(...mine.map(r => r.mem?.[i]?.file_kib ?? 0)))
  const sharedOnce = total - files.reduce((a, b) => a + b, 0) + Math.max(...files)
  return { each, total, sharedOnce }
}

function peakRssText (runs: readonly Run[], p: ProxyName): string {
  const peak = peakRss(runs, p)
  if (peak === undefined) return `${PROXY_LABEL[p]} n/a`
  if (peak.each.length === 1) return `${PROXY_LABEL[p]} ${mib(peak.total)}`
  const parts = peak.each.map((k, i) => `${PROCESS_ROLES[p][i] ?? `process ${i + 1}`} ${mib(k)}`).join(' + ')
  return `${PROXY_LABEL[p]} ${parts} = ${mib(peak.total)} (the shared node binary counted once: ${mib(peak.sharedOnce)})`
}

function lineOf (r: Run): string {
  const rate = r.load === 'tcp' ? `${mibPerSec(r).toFixed(0)} MiB/s (${fmtRate(reqPerSec(r))} req/s)` : `${fmtRate(reqPerSec(r))} req/s`
  const rss = r.mem !== undefined && r.mem.length > 1
    ? `, RSS ${r.mem.map(m => (m.rss_kib / 1024).toFixed(0)).join(' + ')} MiB`
    : `, RSS ${(r.rss_kib / 1024).toFixed(0)} MiB`
  const err = errors(r) > 0 ? `  !! ERRORS: ${errorDetail(r)}` : ''
  return `  round ${r.round} ${r.load.padEnd(9)} ${r.proxy.padEnd(7)} ${rate}, p99 ${fmtMs(p99Ms(r))} ms, proxy ${pct(cpuShare(r))} of a core, CPU0 ${pct(busy(r.cpu0))} busy (others ${pct(noise(r))}${r.cpu0.steal > 0 ? `, steal ${pct(r.cpu0.steal / r.cpu0.total)}` : ''}), CPU1 ${pct(busy(r.cpu1))}${rss}${err}`
}

interface Cell {
  readonly rate: number
  readonly rateMin: number
  readonly rateMax: number
  readonly p99: number
  readonly cpu: number
  readonly cpuPerUnit: number
  readonly cpu0: number
  readonly cpu1: number
  readonly noise: number
  readonly errors: number
  readonly errorDetail: string
  readonly n: number
}

function cell (runs: readonly Run[], load: Load, proxy: ProxyName): Cell | undefined {
  const rs = runs.filter(r => r.load === load && r.proxy === proxy)
  if (rs.length === 0) return undefined
  const rate = load === 'tcp' ? mibPerSec : reqPerSec
  const rates = rs.map(rate)
  const errs = rs.reduce((n, r) => n + errors(r), 0)
  return {
    rate: median(rates),
    rateMin: Math.min(...rates),
    rateMax: Math.max(...rates),
    p99: median(rs.map(p99Ms)),
    cpu: median(rs.map(cpuShare)),
    // CPU microseconds per request (HTTP) or CPU milliseconds per MiB (TCP)
    cpuPerUnit: median(rs.map(r => load === 'tcp' ? r.proxy_cpu_s * 1e3 / Math.max(1e-9, r.wrk.bytes / 1048576) : r.proxy_cpu_s * 1e6 / Math.max(1, r.wrk.requests))),
    cpu0: median(rs.map(r => busy(r.cpu0))),
    cpu1: median(rs.map(r => busy(r.cpu1))),
    noise: median(rs.map(noise)),
    errors: errs,
    errorDetail: rs.filter(r => errors(r) > 0).map(r => `round ${r.round}: ${errorDetail(r)}`).join('; '),
    n: rs.length
  }
}

interface Target {
  readonly text: string
  readonly value: number
  readonly want: number
  readonly atLeast: boolean
  /** The same ratio from CPU cost (HAProxy's cost / tslb's): what it would be if both were limited by their own core. */
  readonly byCpu?: number
}

function verdict (t: Target): string {
  if (Number.isNaN(t.value)) return 'not measured'
  const met = t.atLeast ? t.value >= t.want : t.value <= t.want
  const cpu = t.byCpu === undefined || !Number.isFinite(t.byCpu) ? '' : `; ${t.byCpu.toFixed(2)}x by CPU cost per unit of work`
  const value = t.value.toFixed(Math.abs(t.value - t.want) < 0.005 ? 3 : 2)
  if (met) return `**met** (${value}x${cpu})`
  const by = 100 * (t.atLeast ? (t.want - t.value) / t.want : (t.value - t.want) / t.want)
  return `**missed** (${value}x, ${by < 1 ? by.toFixed(1) : Math.round(by)}% short of ${t.want}x${cpu})`
}

function summary (runs: readonly Run[], meta: Meta, markdown: boolean): number {
  const proxies = (['haproxy', 'tslb', 'node'] as const).filter(p => runs.some(r => r.proxy === p))
  const loads = (['keepalive', 'close', 'tcp'] as const).filter(l => runs.some(r => r.load === l))
  const get = (l: Load, p: ProxyName): Cell | undefined => cell(runs, l, p)
  const ratio = (l: Load, p: ProxyName, f: (c: Cell) => number): number => {
    const a = get(l, 'tslb')
    const b = get(l, p)
    return a === undefined || b === undefined ? Number.NaN : f(a) / f(b)
  }

  interface Row { readonly label: string, readonly unit: string, readonly vals: string[], readonly vsH: number, readonly vsN: number }
  const rows: Row[] = []
  for (const l of loads) {
    const unit = l === 'tcp' ? 'MiB/s' : 'req/s'
    rows.push({
      label: `${LOAD_LABEL[l]} ${unit}`,
      unit,
      vals: proxies.map(p => { const c = get(l, p); return c === undefined ? '—' : fmtRate(c.rate) }),
      vsH: ratio(l, 'haproxy', c => c.rate),
      vsN: ratio(l, 'node', c => c.rate)
    })
    rows.push({
      label: `${LOAD_LABEL[l]} p99 ms`,
      unit: 'ms',
      vals: proxies.map(p => { const c = get(l, p); return c === undefined ? '—' : fmtMs(c.p99) }),
      vsH: ratio(l, 'haproxy', c => c.p99),
      vsN: ratio(l, 'node', c => c.p99)
    })
  }
  const cpuRows: Row[] = loads.map(l => ({
    label: `${LOAD_LABEL[l]} ${l === 'tcp' ? 'CPU ms/MiB' : 'CPU µs/req'}`,
    unit: '',
    vals: proxies.map(p => { const c = get(l, p); return c === undefined ? '—' : `${c.cpuPerUnit.toFixed(l === 'tcp' ? 2 : 1)} (${pct(c.cpu)})` }),
    vsH: ratio(l, 'haproxy', c => c.cpuPerUnit),
    vsN: ratio(l, 'node', c => c.cpuPerUnit)
  }))

  const targets: Target[] = [
    { text: 'HTTP keep-alive req/s ≥ 0.5x HAProxy', value: ratio('keepalive', 'haproxy', c => c.rate), want: 0.5, atLeast: true, byCpu: 1 / ratio('keepalive', 'haproxy', c => c.cpuPerUnit) },
    { text: 'HTTP keep-alive req/s ≥ 2x the plain Node proxy', value: ratio('keepalive', 'node', c => c.rate), want: 2, atLeast: true, byCpu: 1 / ratio('keepalive', 'node', c => c.cpuPerUnit) },
    { text: 'p99 (keep-alive) ≤ 2x HAProxy\'s', value: ratio('keepalive', 'haproxy', c => c.p99), want: 2, atLeast: false },
    { text: 'TCP-mode throughput ≥ 0.7x HAProxy', value: ratio('tcp', 'haproxy', c => c.rate), want: 0.7, atLeast: true, byCpu: 1 / ratio('tcp', 'haproxy', c => c.cpuPerUnit) }
  ]

  let totalErrors = 0
  const errorLines: string[] = []
  for (const l of loads) {
    for (const p of proxies) {
      const c = get(l, p)
      if (c !== undefined && c.errors > 0) {
        totalErrors += c.errors
        errorLines.push(`${PROXY_LABEL[p]} ${LOAD_LABEL[l]}: ${c.errorDetail}`)
      }
    }
  }
  // A proxy-bound run keeps CPU0 (the proxy's core) busy; when it is not, the limit was elsewhere
  // (CPU1 with wrk and nginx saturated, or latency), and the ratio understates the gap.
  const noisy = loads.flatMap(l => proxies.map(p => ({ l, p, c: get(l, p) })))
    .filter(x => x.c !== undefined && x.c.noise > 0.1)
    .map(x => `${PROXY_LABEL[x.p]} ${LOAD_LABEL[x.l]} (${pct(x.c?.noise ?? 0)})`)
  const repeated = runs.filter(r => r.attempt > 1).length
  const notBound = loads.flatMap(l => proxies.map(p => ({ l, p, c: get(l, p) })))
    .filter(x => x.c !== undefined && x.c.cpu0 < 0.9)
    .map(x => `${PROXY_LABEL[x.p]} ${LOAD_LABEL[x.l]} (CPU0 ${pct(x.c?.cpu0 ?? 0)}, CPU1 ${pct(x.c?.cpu1 ?? 0)})`)

  // ---- plain table
  const head = ['', ...proxies.map(p => PROXY_LABEL[p]), 'tslb/HAProxy', 'tslb/Node']
  const fmtRow = (cols: string[]): string => cols.map((c, i) => i === 0 ? c.padEnd(28) : c.padStart(13)).join(' ')
  const out: string[] = []
  out.push('')
  out.push(`medians of ${meta.rounds} round(s) x ${meta.duration} s (after ${meta.warmup} s warm-up each); nbthread ${meta.threads ?? 1}, wrk -t${meta.threads ?? 1} -c${meta.connections} (TCP: -c${meta.tcp_connections})`)
  out.push(fmtRow(head))
  for (const r of rows) out.push(fmtRow([r.label, ...r.vals, fmtRatio(r.vsH), fmtRatio(r.vsN)]))
  out.push('proxy CPU cost (median; share of one core the proxy used during the run in brackets):')
  for (const r of cpuRows) out.push(fmtRow([r.label, ...r.vals, fmtRatio(r.vsH), fmtRatio(r.vsN)]))
  out.push('')
  out.push('targets:')
  for (const t of targets) out.push(`  ${t.text}: ${verdict(t).replace(/\*\*/g, '')}`)
  out.push(`CPU0 (proxy) / CPU1 (wrk + nginx) busy, medians: ${loads.map(l => `${LOAD_LABEL[l]}: ${proxies.map(p => { const c = get(l, p); return c === undefined ? '' : `${PROXY_LABEL[p]} ${pct(c.cpu0)}/${pct(c.cpu1)}` }).join(', ')}`).join('; ')}`)
  const rssMax = (p: ProxyName): string => `${(Math.max(...runs.filter(r => r.proxy === p).map(r => r.rss_kib)) / 1024).toFixed(0)} MiB`
  out.push(`max RSS at the end of a run: ${proxies.map(p => `${PROXY_LABEL[p]}${p === 'tslb' ? ' (worker)' : ''} ${rssMax(p)}`).join(', ')}`)
  out.push(`peak RSS per process (VmHWM): ${proxies.map(p => peakRssText(runs, p)).join('; ')}`)
  out.push(`runs measured again because other processes took more than 20% of CPU0: ${repeated}`)
  if (noisy.length > 0) out.push(`note: other processes still took more than 10% of CPU0 (median) during: ${noisy.join(', ')}`)
  if (notBound.length > 0) out.push(`note: not limited by the proxy's core (CPU0 under 90% busy): ${notBound.join(', ')}`)
  if (totalErrors > 0) {
    out.push('')
    out.push('!!!!!!!! ERRORS: some requests failed or stalled — the figures above are not valid !!!!!!!!')
    for (const e of errorLines) out.push(`!! ${e}`)
  } else {
    out.push('errors: none (no socket error, timeout, non-2xx response, stalled or left-open connection in any measured run)')
  }
  process.stdout.write(`${out.join('\n')}\n`)

  if (markdown) {
    const md: string[] = []
    md.push(`### Run of ${meta.date}`)
    md.push('')
    md.push(`Command: \`${meta.command}\` (${meta.rounds} interleaved rounds × ${meta.duration} s per proxy and load, after ${meta.warmup} s of warm-up each; medians).`)
    md.push(`Machine: ${meta.cpus}, kernel ${meta.kernel}. HAProxy ${meta.haproxy}, nginx ${meta.nginx}, Node ${meta.node}, wrk ${meta.wrk}, tslb ${meta.tslb}.`)
    md.push(`Load: \`wrk -t${meta.threads ?? 1} -c${meta.connections}\` (both proxies \`nbthread ${meta.threads ?? 1}\`) for HTTP (keep-alive; and \`Connection: close\` on every request for close/request), \`-c${meta.tcp_connections}\` fetching a ${meta.body_bytes / 1048576} MiB file through \`mode tcp\`.`)
    md.push('')
    md.push(`| | ${proxies.map(p => PROXY_LABEL[p]).join(' | ')} | tslb / HAProxy | tslb / Node proxy |`)
    md.push(`|---|${proxies.map(() => '---:').join('|')}|---:|---:|`)
    for (const r of rows) md.push(`| ${r.label} | ${r.vals.join(' | ')} | ${fmtRatio(r.vsH)} | ${fmtRatio(r.vsN)} |`)
    for (const r of cpuRows) md.push(`| ${r.label} | ${r.vals.join(' | ')} | ${fmtRatio(r.vsH)} | ${fmtRatio(r.vsN)} |`)
    md.push(`| peak RSS, all processes | ${proxies.map(p => { const k = peakRss(runs, p); return k === undefined ? 'n/a' : mib(k.total) }).join(' | ')} | | |`)
    md.push('')
    md.push(`Peak RSS per process (VmHWM, over the whole run): ${proxies.map(p => peakRssText(runs, p)).join('; ')}.`)
    md.push('')
    md.push('Spread (min–max over the rounds):')
    md.push('')
    for (const l of loads) {
      md.push(`- ${LOAD_LABEL[l]}: ${proxies.map(p => { const c = get(l, p); return c === undefined ? '' : `${PROXY_LABEL[p]} ${fmtRate(c.rateMin)}–${fmtRate(c.rateMax)}` }).join(', ')} ${l === 'tcp' ? 'MiB/s' : 'req/s'}`)
    }
    md.push('')
    md.push('| Target | Verdict |')
    md.push('|---|---|')
    for (const t of targets) md.push(`| ${t.text} | ${verdict(t)} |`)
    md.push('')
    md.push(totalErrors > 0 ? `**Errors:** ${errorLines.join('; ')}` : 'Errors: none (no socket error, timeout, non-2xx response, stalled or left-open connection in any measured run).')
    md.push(`Runs measured again because other processes took more than 20% of CPU0: ${repeated}.${noisy.length > 0 ? ` Other processes still took more than 10% of CPU0 (median) during ${noisy.join(', ')}.` : ''}`)
    if (notBound.length > 0) md.push(`Not limited by the proxy's core (CPU0 under 90% busy): ${notBound.join(', ')}.`)
    process.stdout.write(`\n----- markdown for docs/benchmarks.md -----\n${md.join('\n')}\n`)
  }
  return totalErrors > 0 ? 3 : 0
}

function soak (args: string[]): number {
  const [json, idle, start, end, max, minutes, file] = args
  const w = JSON.parse(json ?? '{}') as WrkJson
  const mib = (k: string | undefined): string => (Number(k) / 1024).toFixed(1)
  const samples = readFileSync(file ?? '', 'utf8').split('\n').slice(1).filter(Boolean).map(l => l.split(' ').map(Number))
  const errs = w.err_connect + w.err_read + w.err_write + w.err_status + w.err_timeout
  const out = [
    '',
    `soak: ${minutes ?? '?'} min of keep-alive load against tslb, ${samples.length} RSS samples (every 10 s)`,
    `  requests ${w.requests.toLocaleString('en-US')} (${fmtRate(w.requests / (w.duration_us / 1e6))} req/s), p99 ${fmtMs(w.p99_us / 1000)} ms, max ${fmtMs(w.max_us / 1000)} ms`,
    `  worker RSS: idle ${mib(idle)} MiB, start of load ${mib(start)} MiB, end ${mib(end)} MiB, max ${mib(max)} MiB`
  ]
  // growth over the second half of the soak: a leak keeps climbing after the heap has settled
  const half = samples.filter(s => (s[0] ?? 0) >= (samples.at(-1)?.[0] ?? 0) / 2)
  if (half.length >= 2) {
    const first = half[0]?.[1] ?? 0
    const last = half.at(-1)?.[1] ?? 0
    out.push(`  second half: ${mib(String(first))} → ${mib(String(last))} MiB (${last >= first ? '+' : ''}${((last - first) / 1024).toFixed(1)} MiB)`)
  }
  out.push(errs > 0 ? `  !!!!!!!! ERRORS: connect ${w.err_connect}, read ${w.err_read}, write ${w.err_write}, non-2xx ${w.err_status}, timeout ${w.err_timeout}` : '  errors: none')
  process.stdout.write(`${out.join('\n')}\n`)
  return errs > 0 ? 3 : 0
}

const [mode, ...rest] = process.argv.slice(2)
if (mode === '--line') {
  const runs = readRuns(rest[0] ?? '')
  const last = runs.at(-1)
  if (last !== undefined) process.stdout.write(`${lineOf(last)}\n`)
} else if (mode === '--summary') {
  const runs = readRuns(rest[0] ?? '')
  const meta = JSON.parse(readFileSync(rest[1] ?? '', 'utf8')) as Meta
  process.exitCode = summary(runs, meta, rest.includes('--markdown'))
} else if (mode === '--soak') {
  process.exitCode = soak(rest)
} else {
  process.stderr.write('usage: report.ts --line RESULTS | --summary RESULTS META [--markdown] | --soak ...\n')
  process.exitCode = 2
}
