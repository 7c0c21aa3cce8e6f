/**
 * `scripts/bench reload`: what clients lose while the proxy reloads its configuration again and
 * again under load — tslb's `tslb reload --seamless` against HAProxy 2.6's master-worker reload
 * (`-W`, SIGUSR2) and its classic `-sf` reload (with and without `-x` socket transfer), same lab,
 * same load, same number of reloads, same run. Started by reload.sh with a lab of its own up.
 *
 *   node reload.ts run --prefix P --net N [--reloads 50] [--interval-ms 500]
 *                      [--contenders tslb,haproxy-W,haproxy-sf,haproxy-sf-x] [--strategy handoff[,S...]]
 *                      [--tslb-option NAME[,NAME...]]
 *                      [--rate-new 200] [--rate-ka 200] [--ka-conns 16] [--rate-slow 10]
 *                      [--out DIR] [--command TEXT]
 *
 * The proxy under test runs in lb1 (CPU0), the open-loop load generator (reload-load.ts) in the
 * client namespace (CPU1); backends: the lab's nginx on web1..web4 and two slow backends
 * (test/helpers/slow-server.ts, 2 s per answer) on web1 and web3 (CPU1).
 * Config A routes / to web1+web2 and /slow to slowA (web1:8000); config B to web3+web4 and slowB
 * (web3:8000): the body of each answer names the configuration that served it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { join } from 'node:path'
import { parseArgs, promisify } from 'node:util'

const execFileAsync = promisify(execFile)
const ROOT = join(import.meta.dirname, '../..')
const TSLB = join(ROOT, 'bin/tslb')
const SLOW_SERVER = join(ROOT, 'test/helpers/slow-server.ts')
const LOAD = join(import.meta.dirname, 'reload-load.ts')
const HAPROXY = '/usr/sbin/haproxy'
const SLOW_MS = 2000
const SLOW_PORT = 8000
const STREAMS = ['new', 'ka', 'slow'] as const
type StreamName = (typeof STREAMS)[number]
const STREAM_LABEL: Record<StreamName, string> = { new: '(a) new connection per request', ka: '(b) keep-alive', slow: '(c) slow 2 s' }
const NSTAT_KEYS = ['TcpOutRsts', 'TcpEstabResets', 'TcpAttemptFails', 'TcpExtListenOverflows', 'TcpExtListenDrops', 'TcpExtTCPSynRetrans'] as const

interface Lab { readonly prefix: string, readonly net: string }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const now = (): number => performance.timeOrigin + performance.now()
const log = (msg: string): void => { process.stderr.write(`${msg}\n`) }

// ---------------------------------------------------------------- namespaces and processes

function nsArgv (lab: Lab, node: string, argv: readonly string[]): string[] {
  return ['netns', 'exec', `${lab.prefix}${node}`, ...argv]
}

async function nsRun (lab: Lab, node: string, argv: readonly string[]): Promise<{ code: number, out: string }> {
  try {
    const r = await execFileAsync('ip', nsArgv(lab, node, argv), { encoding: 'utf8', timeout: 30_000 })
    return { code: 0, out: r.stdout + r.stderr }
  } catch (err) {
    const e = err as { code?: number | string, stdout?: string, stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : 1, out: (e.stdout ?? '') + (e.stderr ?? '') }
  }
}

/** Starts argv in the namespace; its output goes to logFile when it exits, and to `onOutput`. */
function nsSpawn (lab: Lab, node: string, argv: readonly string[], logFile: string, onOutput?: (text: string) => void): ChildProcess {
  const child = spawn('ip', nsArgv(lab, node, argv), { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const take = (b: Buffer): void => {
    out += b.toString()
    onOutput?.(b.toString())
  }
  child.stdout?.on('data', take)
  child.stderr?.on('data', take)
  child.once('exit', () => { writeFileSync(logFile, out) })
  return child
}

async function stopChild (child: ChildProcess | undefined, signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  child.kill(signal)
  const t = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
  await gone
  clearTimeout(t)
}

async function nsPids (lab: Lab, node: string): Promise<number[]> {
  const r = await execFileAsync('ip', ['netns', 'pids', `${lab.prefix}${node}`], { encoding: 'utf8' })
  return r.stdout.split('\n').filter(l => l !== '').map(Number)
}

/** Every process left in the namespace (it is the run's own lab): TERM, then KILL. */
async function emptyNamespace (lab: Lab, node: string): Promise<void> {
  const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }
  let pids = await nsPids(lab, node)
  for (const p of pids) { try { process.kill(p, 'SIGTERM') } catch { /* gone */ } }
  for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(50)
  pids = await nsPids(lab, node)
  for (const p of pids) { try { process.kill(p, 'SIGKILL') } catch { /* gone */ } }
}

async function httpGet (url: string, timeoutMs = 1000): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('timeout', () => { req.destroy(new Error('timeout')) })
    req.on('error', reject)
  })
}

async function waitHttp (url: string, expect: RegExp, timeoutMs: number, requestTimeoutMs = 1000): Promise<void> {
  const until = Date.now() + timeoutMs
  let last: string
  for (;;) {
    try {
      const r = await httpGet(url, requestTimeoutMs)
      if (r.status === 200 && expect.test(r.body)) return
      last = `${r.status} ${r.body.trim()}`
    } catch (err) { last = err instanceof Error ? err.message : String(err) }
    if (Date.now() > until) throw new Error(`${url} did not answer ${String(expect)} within ${timeoutMs} ms (last: ${last})`)
    await sleep(100)
  }
}

async function nstat (lab: Lab, node: string): Promise<Map<string, number>> {
  // -a absolute values, -s do not touch nstat's history file, -z zero counters too.
  const r = await nsRun(lab, node, ['nstat', '-asz'])
  const m = new Map<string, number>()
  for (const line of r.out.split('\n')) {
    const [k, v] = line.trim().split(/\s+/)
    if (k !== undefined && v !== undefined && /^\d+$/.test(v)) m.set(k, Number(v))
  }
  return m
}

/**
 * nstat's TcpOutRsts counts every RST the namespace sends, to the backends too (HAProxy closes
 * its server connections with a RST on purpose). Two nft counters in lb1 split them: RSTs to the
 * client, RSTs to anyone else.
 */
async function rstCountersUp (lab: Lab, dir: string): Promise<void> {
  await nsRun(lab, 'lb1', ['nft', 'delete', 'table', 'inet', 'tslb_bench'])
  const rules = `table inet tslb_bench {
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr ${lab.net}.2 tcp flags & rst == rst counter comment "to-client"
    ip daddr != ${lab.net}.2 tcp flags & rst == rst counter comment "to-others"
  }
}
`
  const file = join(dir, 'rst-counters.nft')
  writeFileSync(file, rules)
  const r = await nsRun(lab, 'lb1', ['nft', '-f', file])
  if (r.code !== 0) throw new Error(`nft: ${r.out}`)
}

async function rstCounters (lab: Lab): Promise<{ toClient: number, toOthers: number }> {
  const r = await nsRun(lab, 'lb1', ['nft', 'list', 'table', 'inet', 'tslb_bench'])
  const count = (tag: string): number => Number(new RegExp(`counter packets (\\d+) bytes \\d+ comment "${tag}"`).exec(r.out)?.[1] ?? NaN)
  await nsRun(lab, 'lb1', ['nft', 'delete', 'table', 'inet', 'tslb_bench'])
  return { toClient: count('to-client'), toOthers: count('to-others') }
}

// ---------------------------------------------------------------- configurations

type Variant = 'A' | 'B'
const OTHER: Record<Variant, Variant> = { A: 'B', B: 'A' }
const EXPECTED: Record<StreamName, Record<Variant, readonly string[]>> = {
  new: { A: ['web1', 'web2'], B: ['web3', 'web4'] },
  ka: { A: ['web1', 'web2'], B: ['web3', 'web4'] },
  slow: { A: ['slowA'], B: ['slowB'] }
}

function variantOf (stream: StreamName, body: string): Variant | undefined {
  if (EXPECTED[stream].A.includes(body)) return 'A'
  if (EXPECTED[stream].B.includes(body)) return 'B'
  return undefined
}

function proxyConfig (lab: Lab, v: Variant, extraGlobal: string, extraDefaults = ''): string {
  const [w1, w2, slow] = v === 'A' ? [21, 22, 21] : [23, 24, 23]
  return `# generated by scripts/bench reload: configuration ${v}
global
    nbthread 1
    hard-stop-after 30s
${extraGlobal}
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout http-keep-alive 5s
${extraDefaults}
frontend www
    bind ${lab.net}.11:80
    acl is_slow path_beg /slow
    use_backend slow if is_slow
    default_backend app

backend app
    balance roundrobin
    server web${w1 - 20} ${lab.net}.${w1}:80
    server web${w2 - 20} ${lab.net}.${w2}:80

backend slow
    server slow${v} ${lab.net}.${slow}:${SLOW_PORT}
`
}

function writeAtomically (file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text)
  renameSync(`${file}.tmp`, file)
}

// ---------------------------------------------------------------- contenders

interface ReloadOutcome { readonly code: number, readonly output: string }

interface Contender {
  readonly name: string
  /** its configuration, logs and request records */
  readonly dir: string
  readonly describe: string
  /** text added to `global` (HAProxy's stats socket for -x) */
  readonly extraGlobal: string
  /** text added to `defaults` (tslb with --tslb-option) */
  readonly extraDefaults: string
  start: () => Promise<void>
  /** Runs one reload; resolves when the reload command returns (a signal: at once). */
  reload: () => Promise<ReloadOutcome>
  stop: () => Promise<void>
  /** Processes besides the serving generation that belong there (tslb: the standby worker, when there is one). */
  idleProcesses?: () => Promise<number>
}

function tslbContender (lab: Lab, dir: string, strategy: string, option: string): Contender {
  const cfg = join(dir, 'proxy.cfg')
  const sock = join(dir, 'tslb.sock')
  let child: ChildProcess | undefined
  return {
    name: `tslb${strategy === 'handoff' ? '' : ` ${strategy}`}${option === '' ? '' : ` + option ${option}`}`,
    dir,
    describe: `tslb run (supervisor + 1 worker, CPU0); \`tslb reload --seamless --strategy ${strategy}\``,
    extraGlobal: '',
    extraDefaults: option === '' ? '' : `    option ${option}`,
    start: () => {
      child = nsSpawn(lab, 'lb1', ['taskset', '-c', '0', TSLB, 'run', '-f', cfg, '-L', 'bench', '-S', sock, '-p', join(dir, 'tslb.pid')], join(dir, 'tslb.log'))
      return Promise.resolve()
    },
    reload: async () => {
      try {
        const r = await execFileAsync(TSLB, ['reload', '--seamless', '--strategy', strategy, '-S', sock], { encoding: 'utf8', timeout: 60_000 })
        return { code: 0, output: r.stdout + r.stderr }
      } catch (err) {
        const e = err as { code?: number | string, stdout?: string, stderr?: string }
        return { code: typeof e.code === 'number' ? e.code : 1, output: (e.stdout ?? '') + (e.stderr ?? '') }
      }
    },
    stop: async () => {
      await stopChild(child, 'SIGTERM')
      await emptyNamespace(lab, 'lb1')
    },
    idleProcesses: async () => {
      try {
        const r = await execFileAsync(TSLB, ['status', '--json', '-S', sock], { encoding: 'utf8', timeout: 10_000 })
        return (JSON.parse(r.stdout) as { standby?: unknown }).standby === undefined ? 0 : 1
      } catch {
        return 0
      }
    }
  }
}

function haproxyMasterWorker (lab: Lab, dir: string): Contender {
  const cfg = join(dir, 'proxy.cfg')
  let child: ChildProcess | undefined
  let output = ''
  const loaded = (): number => output.split(/Loading (success|failure)/).length
  return {
    name: 'HAProxy -W',
    dir,
    describe: '`haproxy -W -db -f cfg` (master-worker, nbthread 1, CPU0); reload: `kill -USR2 <master>`, then wait for the master\'s "Loading success"',
    extraGlobal: '',
    extraDefaults: '',
    start: () => {
      child = nsSpawn(lab, 'lb1', ['taskset', '-c', '0', HAPROXY, '-W', '-db', '-f', cfg], join(dir, 'haproxy.log'), t => { output += t })
      return Promise.resolve()
    },
    reload: async () => {
      // ip netns exec and taskset exec(): the child's pid is the master's. A SIGUSR2 that
      // arrives while the master is still re-executing itself is lost, so a reload is done when
      // the master reports the new worker loaded (what `systemctl reload` waits for with -Ws).
      const before = loaded()
      if (child?.pid === undefined || !child.kill('SIGUSR2')) return { code: 1, output: 'master is gone' }
      const until = Date.now() + 15_000
      while (loaded() === before && Date.now() < until) await sleep(5)
      const tail = output.slice(-300)
      if (loaded() === before) return { code: 1, output: `no "Loading success" within 15 s: ${tail}` }
      return { code: /Loading failure/.test(output.slice(output.lastIndexOf('Loading '))) ? 1 : 0, output: tail }
    },
    stop: async () => {
      await stopChild(child, 'SIGTERM')
      await emptyNamespace(lab, 'lb1')
    }
  }
}

function haproxyClassic (lab: Lab, dir: string, transfer: boolean): Contender {
  const cfg = join(dir, 'proxy.cfg')
  const pidfile = join(dir, 'haproxy.pid')
  const stats = join(dir, 'haproxy-stats.sock')
  let n = 0
  const launch = async (): Promise<ReloadOutcome> => {
    const argv = ['taskset', '-c', '0', HAPROXY, '-D', '-f', cfg, '-p', pidfile]
    if (existsSync(pidfile)) {
      argv.push('-sf', ...readFileSync(pidfile, 'utf8').split(/\s+/).filter(p => p !== ''))
      if (transfer) argv.push('-x', stats)
    }
    const r = await nsRun(lab, 'lb1', argv)
    writeFileSync(join(dir, `haproxy-${n++}.log`), `${argv.join(' ')}\n${r.out}`)
    return { code: r.code, output: r.out }
  }
  return {
    name: transfer ? 'HAProxy -sf -x' : 'HAProxy -sf',
    dir,
    describe: transfer
      ? '`haproxy -D -f cfg -p pid -sf $(cat pid) -x stats.sock` (stats socket … expose-fd listeners; nbthread 1, CPU0)'
      : '`haproxy -D -f cfg -p pid -sf $(cat pid)` (a new process binds, the old one stops; nbthread 1, CPU0)',
    extraGlobal: transfer ? `    stats socket ${stats} mode 600 level admin expose-fd listeners` : '',
    extraDefaults: '',
    start: async () => {
      const r = await launch()
      if (r.code !== 0) throw new Error(`haproxy did not start: ${r.output}`)
    },
    reload: launch,
    stop: async () => { await emptyNamespace(lab, 'lb1') }
  }
}

// ---------------------------------------------------------------- one contender's run

interface Rec { readonly stream: StreamName, readonly issue: number, readonly latency: number, readonly outcome: string, readonly reused: boolean, readonly body: string }
interface ReloadRec { readonly k: number, readonly variant: Variant, readonly begin: number, readonly end: number, readonly code: number, readonly output: string }
interface RunOptions {
  readonly reloads: number
  readonly intervalMs: number
  readonly rates: { readonly new: number, readonly ka: number, readonly kaConns: number, readonly slow: number }
  readonly baselineMs: number
}

interface StreamResult {
  /** completed requests that took 1 s or more (over the 2 s, for the slow stream) */
  readonly slowOver1s: number
  readonly issued: number
  readonly recorded: number
  readonly ok: number
  readonly failures: Record<string, number>
  readonly failed: number
  readonly p99: number
  readonly max: number
  readonly baselineP99: number
  readonly reloadWindowN: number
  readonly firstFailures: string[]
}
interface SwitchResult {
  readonly failures: number
  readonly maxMs: number
  readonly medianMs: number
  /** Reload latency: from the start of the reload to the first request issued that the new configuration answered. */
  readonly latencyMedianMs: number
  readonly latencyP90Ms: number
  readonly latencyMaxMs: number
  readonly detail: string[]
}
interface ContenderResult {
  readonly name: string
  readonly describe: string
  readonly streams: Record<StreamName, StreamResult>
  readonly reloads: number
  readonly reloadErrors: number
  readonly reloadMedianMs: number
  readonly reloadMaxMs: number
  readonly switchNew: SwitchResult
  readonly switchKa: SwitchResult
  readonly nstatLb: Record<string, number>
  /** RSTs lb1 sent to the client / to the backends (nft counters) */
  readonly rstToClient: number
  readonly rstToOthers: number
  readonly nstatClient: Record<string, number>
  readonly generatorLagMs: number
  readonly leftover: number
}

function percentile (xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? 0
}

function parseRecords (text: string): { recs: Rec[], issued: Map<string, number>, lag: number } {
  const recs: Rec[] = []
  const issued = new Map<string, number>()
  let lag = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('# lag ')) { lag = Number(line.slice(6)); continue }
    if (line.startsWith('# issued ')) {
      for (const kv of line.slice(9).split(' ')) {
        const [k, v] = kv.split('=')
        if (k !== undefined && v !== undefined) issued.set(k, Number(v))
      }
      continue
    }
    const [stream, issue, latency, outcome, reused, body] = line.split(' ')
    if (stream === undefined || body === undefined || !(STREAMS as readonly string[]).includes(stream)) continue
    recs.push({ stream: stream as StreamName, issue: Number(issue), latency: Number(latency), outcome: outcome ?? '', reused: reused === '1', body })
  }
  return { recs, issued, lag }
}

/**
 * The configuration check for reload k: among the stream's successful requests issued between
 * the start of reload k and the start of reload k+1, the switch is the first one after the last
 * answer from the old configuration; it must exist and be issued at most 1 s after the reload
 * returned (tslb: `tslb reload` exited; HAProxy -W: the signal was sent; -sf: the new process
 * daemonized).
 */
function switchCheck (recs: readonly Rec[], stream: StreamName, reloads: readonly ReloadRec[], loadEnd: number): SwitchResult {
  const ok = recs.filter(r => r.stream === stream && r.outcome === 'ok').sort((a, b) => a.issue - b.issue)
  let failures = 0
  const delays: number[] = []
  const latencies: number[] = []
  const detail: string[] = []
  reloads.forEach((rl, i) => {
    const until = reloads[i + 1]?.begin ?? loadEnd
    const w = ok.filter(r => r.issue >= rl.begin && r.issue < until)
    let j = -1
    w.forEach((r, idx) => { if (variantOf(stream, r.body) !== rl.variant) j = idx })
    const first = w[j + 1]
    if (first === undefined) {
      failures++
      detail.push(`reload ${rl.k} (${rl.variant}): no ${stream} request answered by ${rl.variant} before the next reload (${w.length} requests in the window)`)
      return
    }
    const d = Math.max(0, first.issue - rl.end)
    delays.push(d)
    latencies.push(Math.max(0, first.issue - rl.begin))
    if (d > 1000) {
      failures++
      detail.push(`reload ${rl.k} (${rl.variant}): ${stream} requests get the new configuration only ${d.toFixed(0)} ms after the reload returned`)
    }
  })
  return { failures, maxMs: Math.max(0, ...delays), medianMs: percentile(delays, 0.5),
    latencyMedianMs: percentile(latencies, 0.5), latencyP90Ms: percentile(latencies, 0.9),
    latencyMaxMs: Math.max(0, ...latencies), detail }
}

async function runContender (lab: Lab, c: Contender, o: RunOptions): Promise<ContenderResult> {
  const dir = c.dir
  const cfg = join(dir, 'proxy.cfg')
  const url = `http://${lab.net}.11/`
  writeAtomically(cfg, proxyConfig(lab, 'A', c.extraGlobal, c.extraDefaults))
  writeFileSync(join(dir, 'proxy-B.cfg'), proxyConfig(lab, 'B', c.extraGlobal, c.extraDefaults))
  log(`== ${c.name}: start`)
  await c.start()
  let load: ChildProcess | undefined
  try {
    await waitHttp(url, /^web[12]\n$/, 20_000)
    await waitHttp(`${url}slow`, /^slowA\n$/, 15_000, SLOW_MS + 2000)
    await rstCountersUp(lab, dir)
    const [lb0, cl0] = await Promise.all([nstat(lab, 'lb1'), nstat(lab, 'client')])
    const recFile = join(dir, 'requests.txt')
    load = nsSpawn(lab, 'client', ['taskset', '-c', '1', process.execPath, '--disable-warning=ExperimentalWarning', LOAD,
      '--target', `${lab.net}.11:80`, '--out', recFile, '--new', String(o.rates.new), '--ka', String(o.rates.ka),
      '--ka-conns', String(o.rates.kaConns), '--slow', String(o.rates.slow)], join(dir, 'load.log'))
    const loadExit = new Promise<void>(resolve => { load?.once('exit', () => { resolve() }) })
    await sleep(o.baselineMs)
    const reloads: ReloadRec[] = []
    let variant: Variant = 'A'
    for (let k = 1; k <= o.reloads; k++) {
      variant = OTHER[variant]
      writeAtomically(cfg, proxyConfig(lab, variant, c.extraGlobal, c.extraDefaults))
      const begin = now()
      const r = await c.reload()
      const end = now()
      reloads.push({ k, variant, begin, end, code: r.code, output: r.output })
      if (r.code !== 0) log(`   reload ${k}: exit ${r.code}: ${r.output.trim().split('\n').slice(-3).join(' | ')}`)
      if (k % 10 === 0) log(`   ${k} reloads`)
      await sleep(o.intervalMs * (0.8 + 0.4 * Math.random()))
    }
    // Let the slow requests issued around the last reload finish, then stop the load.
    await sleep(SLOW_MS + 500)
    const loadEnd = now()
    load.kill('SIGTERM')
    await loadExit
    load = undefined
    const [lb1, cl1] = await Promise.all([nstat(lab, 'lb1'), nstat(lab, 'client')])
    const rst = await rstCounters(lab)
    writeFileSync(join(dir, 'reloads.json'), JSON.stringify(reloads, null, 1))
    // Old generations still alive 2.5 s after the last reload (all of them should have drained:
    // no request lasts longer than 2 s).
    const leftover = await countProxyProcesses(lab, c)

    const { recs, issued, lag } = parseRecords(readFileSync(recFile, 'utf8'))
    const firstReload = reloads[0]?.begin ?? loadEnd
    const inWindow = (r: Rec): boolean => reloads.some(rl => r.issue >= rl.begin && r.issue <= rl.end + 1000)
    const streams = {} as Record<StreamName, StreamResult>
    for (const s of STREAMS) {
      const rs = recs.filter(r => r.stream === s)
      const failures: Record<string, number> = {}
      const firstFailures: string[] = []
      let ok = 0
      for (const r of rs) {
        let kind = r.outcome
        if (kind === 'ok' && variantOf(s, r.body) === undefined) kind = 'body-mismatch'
        if (kind === 'ok') { ok++; continue }
        if (r.reused && (kind === 'closed' || kind === 'reset')) kind += '(reused conn)'
        failures[kind] = (failures[kind] ?? 0) + 1
        if (firstFailures.length < 20) {
          const near = reloads.filter(rl => rl.begin <= r.issue + r.latency).at(-1)
          const rel = near === undefined ? 'before the first reload' : `reload ${near.k} +${(r.issue - near.begin).toFixed(0)} ms (the reload returned at +${(near.end - near.begin).toFixed(0)} ms)`
          firstFailures.push(`${s} ${kind} after ${r.latency.toFixed(0)} ms, issued at ${rel}`)
        }
      }
      const extra = s === 'slow' ? SLOW_MS : 0
      const lat = rs.filter(r => r.outcome === 'ok').map(r => r.latency - extra)
      const base = rs.filter(r => r.outcome === 'ok' && r.issue < firstReload).map(r => r.latency - extra)
      const failed = Object.values(failures).reduce((a, b) => a + b, 0)
      streams[s] = {
        slowOver1s: lat.filter(x => x >= 1000).length,
        issued: issued.get(s) ?? rs.length,
        recorded: rs.length,
        ok,
        failures,
        failed,
        p99: percentile(lat, 0.99),
        max: Math.max(0, ...lat, ...rs.filter(r => r.outcome !== 'ok').map(r => r.latency - extra)),
        baselineP99: percentile(base, 0.99),
        reloadWindowN: rs.filter(inWindow).length,
        firstFailures
      }
    }
    const delta = (a: Map<string, number>, b: Map<string, number>): Record<string, number> =>
      Object.fromEntries(NSTAT_KEYS.map(k => [k, (b.get(k) ?? 0) - (a.get(k) ?? 0)]))
    const durations = reloads.map(r => r.end - r.begin)
    return {
      name: c.name,
      describe: c.describe,
      streams,
      reloads: reloads.length,
      reloadErrors: reloads.filter(r => r.code !== 0).length,
      reloadMedianMs: percentile(durations, 0.5),
      reloadMaxMs: Math.max(0, ...durations),
      switchNew: switchCheck(recs, 'new', reloads, loadEnd),
      switchKa: switchCheck(recs, 'ka', reloads, loadEnd),
      nstatLb: delta(lb0, lb1),
      rstToClient: rst.toClient,
      rstToOthers: rst.toOthers,
      nstatClient: delta(cl0, cl1),
      generatorLagMs: lag,
      leftover
    }
  } finally {
    await stopChild(load, 'SIGTERM')
    log(`== ${c.name}: stop`)
    await c.stop()
  }
}

/** Proxy processes beyond the one generation that should be serving (and tslb's standby). */
async function countProxyProcesses (lab: Lab, c: Contender): Promise<number> {
  const pids = await nsPids(lab, 'lb1')
  let n = 0
  for (const p of pids) {
    let cmd: string
    try { cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ') } catch { continue }
    if (c.name.startsWith('tslb') ? cmd.includes('worker-main') : cmd.includes('haproxy')) n++
  }
  // serving: tslb one worker; HAProxy -W master + worker; -sf one process
  const serving = c.name.startsWith('tslb') ? 1 : c.name === 'HAProxy -W' ? 2 : 1
  return Math.max(0, n - serving - (await c.idleProcesses?.() ?? 0))
}

// ---------------------------------------------------------------- report

function fmt (n: number): string { return n.toLocaleString('en-US') }

function verdict (r: ContenderResult): { pass: boolean, reasons: string[] } {
  const reasons: string[] = []
  for (const s of STREAMS) {
    const x = r.streams[s]
    if (x.failed > 0) reasons.push(`${s}: ${x.failed} failed`)
    if (x.issued !== x.recorded) reasons.push(`${s}: ${x.issued - x.recorded} issued but never completed`)
    if (x.max >= 1000) reasons.push(`${s}: max latency ${x.max.toFixed(0)} ms${s === 'slow' ? ' over the 2 s' : ''} (${x.slowOver1s} requests >= 1 s)`)
  }
  if (r.rstToClient > 0) reasons.push(`${r.rstToClient} RSTs from the proxy to the client`)
  const rstC = (r.nstatClient.TcpEstabResets ?? 0) + (r.nstatClient.TcpAttemptFails ?? 0)
  if (rstC > 0) reasons.push(`${rstC} connections reset or refused in the client's namespace`)
  for (const k of ['TcpExtListenOverflows', 'TcpExtListenDrops', 'TcpExtTCPSynRetrans'] as const) {
    const v = (r.nstatLb[k] ?? 0) + (r.nstatClient[k] ?? 0)
    if (v > 0) reasons.push(`${k} ${v}`)
  }
  if (r.reloadErrors > 0) reasons.push(`${r.reloadErrors} reloads failed`)
  if (r.switchNew.failures > 0) reasons.push(`${r.switchNew.failures} config-check failures`)
  return { pass: reasons.length === 0, reasons }
}

function report (results: readonly ContenderResult[], o: RunOptions): string {
  const L: string[] = []
  const failText = (f: Record<string, number>): string => Object.keys(f).length === 0 ? '0' : Object.entries(f).map(([k, v]) => `${v} ${k}`).join(', ')
  L.push(`Load (open loop, per contender): (a) ${o.rates.new} req/s, a new connection each; (b) ${o.rates.ka} req/s over ${o.rates.kaConns} keep-alive connections; (c) ${o.rates.slow} req/s of 2 s requests. Timeout 5 s. ${o.reloads} reloads every ${o.intervalMs} ms ±20%, alternating configurations A and B, after ${o.baselineMs / 1000} s without reloads.`)
  L.push('')
  L.push('| contender | stream | issued | in reload windows | completed OK | failed (by kind) | p99 ms | max ms | ≥ 1 s | p99 before reloads |')
  L.push('|---|---|---:|---:|---:|---|---:|---:|---:|---:|')
  for (const r of results) {
    for (const s of STREAMS) {
      const x = r.streams[s]
      const unfinished = x.issued - x.recorded
      L.push(`| ${r.name} | ${STREAM_LABEL[s]} | ${fmt(x.issued)} | ${fmt(x.reloadWindowN)} | ${fmt(x.ok)} | ${failText(x.failures)}${unfinished > 0 ? `, ${unfinished} unfinished` : ''} | ${x.p99.toFixed(0)} | ${x.max.toFixed(0)} | ${x.slowOver1s} | ${x.baselineP99.toFixed(0)} |`)
    }
  }
  L.push('')
  L.push('Latencies run from the moment the generator issued the request to the end of the answer; the slow stream\'s are the time over its 2 s. "In reload windows": issued between the start of a reload and 1 s after it returned. "≥ 1 s": completed requests that took 1 s or more.')
  L.push('')
  L.push('"Reload latency": from the start of the reload (tslb: `tslb reload` started; HAProxy -W: SIGUSR2 sent; -sf: the new process started) to the first request issued after the last answer from the old configuration, on new connections: the time until a new connection meets the new configuration.')
  L.push('"New config after": from the moment the reload returned (tslb: `tslb reload` exited; HAProxy -W: SIGUSR2 sent; -sf: the new process has daemonized) to the first request of the stream issued after the last answer from the old configuration; a config-check failure is a reload whose configuration did not answer every new connection within 1 s.')
  L.push('')
  L.push('| contender | reloads (failed) | reload returns after, median / max ms | config-check failures | new config on new connections after, median / max ms | reload latency (start to new config), median / p90 / max ms | on keep-alive, max ms | lb1 TcpOutRsts (to client / to backends) | lb1 ListenOverflows / ListenDrops | client EstabResets / AttemptFails / OutRsts | SynRetrans lb1 / client | old generations left | verdict |')
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|')
  for (const r of results) {
    const v = verdict(r)
    const lb = r.nstatLb
    const cl = r.nstatClient
    const isTslb = r.name.startsWith('tslb')
    L.push(`| ${r.name} | ${r.reloads} (${r.reloadErrors}) | ${r.reloadMedianMs.toFixed(0)} / ${r.reloadMaxMs.toFixed(0)} | ${r.switchNew.failures} | ${r.switchNew.medianMs.toFixed(0)} / ${r.switchNew.maxMs.toFixed(0)} | ${r.switchNew.latencyMedianMs.toFixed(0)} / ${r.switchNew.latencyP90Ms.toFixed(0)} / ${r.switchNew.latencyMaxMs.toFixed(0)} | ${r.switchKa.maxMs.toFixed(0)} | ${lb.TcpOutRsts} (${r.rstToClient} / ${r.rstToOthers}) | ${lb.TcpExtListenOverflows} / ${lb.TcpExtListenDrops} | ${cl.TcpEstabResets} / ${cl.TcpAttemptFails} / ${cl.TcpOutRsts} | ${lb.TcpExtTCPSynRetrans} / ${cl.TcpExtTCPSynRetrans} | ${r.leftover} | ${v.pass ? '**pass**' : isTslb ? '**FAIL**' : 'fail'} |`)
  }
  L.push('')
  for (const r of results) {
    const v = verdict(r)
    L.push(`- ${r.name}: ${r.describe}. ${v.pass ? 'Meets every criterion.' : `Misses: ${v.reasons.join('; ')}.`} Load generator's own worst timer lag: ${r.generatorLagMs.toFixed(0)} ms.`)
  }
  return L.join('\n')
}

// ---------------------------------------------------------------- main

async function run (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      prefix: { type: 'string' },
      net: { type: 'string' },
      reloads: { type: 'string', default: '50' },
      'interval-ms': { type: 'string', default: '500' },
      contenders: { type: 'string', default: 'tslb,haproxy-W,haproxy-sf,haproxy-sf-x' },
      strategy: { type: 'string', default: 'handoff' },
      'tslb-option': { type: 'string', default: '' },
      'rate-new': { type: 'string', default: '200' },
      'rate-ka': { type: 'string', default: '200' },
      'ka-conns': { type: 'string', default: '16' },
      'rate-slow': { type: 'string', default: '10' },
      'baseline-ms': { type: 'string', default: '3000' },
      out: { type: 'string' },
      command: { type: 'string', default: 'scripts/bench reload' }
    }
  })
  if (values.prefix === undefined || values.net === undefined) throw new Error('--prefix and --net are required')
  const lab: Lab = { prefix: values.prefix, net: values.net }
  const out = values.out ?? `/tmp/tslb-bench-reload-${new Date().toISOString().replace(/[:.]/g, '-')}`
  const o: RunOptions = {
    reloads: Number(values.reloads),
    intervalMs: Number(values['interval-ms']),
    rates: { new: Number(values['rate-new']), ka: Number(values['rate-ka']), kaConns: Number(values['ka-conns']), slow: Number(values['rate-slow']) },
    baselineMs: Number(values['baseline-ms'])
  }
  mkdirSync(out, { recursive: true })

  // Two slow backends (one per configuration) on CPU1.
  const slow = [
    nsSpawn(lab, 'web1', ['taskset', '-c', '1', process.execPath, '--disable-warning=ExperimentalWarning', SLOW_SERVER, String(SLOW_PORT), String(SLOW_MS), 'slowA'], join(out, 'slowA.log')),
    nsSpawn(lab, 'web3', ['taskset', '-c', '1', process.execPath, '--disable-warning=ExperimentalWarning', SLOW_SERVER, String(SLOW_PORT), String(SLOW_MS), 'slowB'], join(out, 'slowB.log'))
  ]
  const results: ContenderResult[] = []
  try {
    await waitHttp(`http://${lab.net}.21:${SLOW_PORT}/stats`, /max/, 10_000)
    await waitHttp(`http://${lab.net}.23:${SLOW_PORT}/stats`, /max/, 10_000)
    const contenders: Contender[] = []
    const dirFor = (name: string): string => {
      const d = join(out, name)
      mkdirSync(d, { recursive: true })
      return d
    }
    for (const name of values.contenders.split(',')) {
      if (name === 'tslb') {
        // tslb as is, then (--tslb-option) with each extra option in its defaults
        for (const s of values.strategy.split(',')) {
          for (const o of ['', ...values['tslb-option'].split(',').filter(x => x !== '')]) {
            contenders.push(tslbContender(lab, dirFor(`tslb-${s}${o === '' ? '' : `-${o}`}`), s, o))
          }
        }
      }
      else if (name === 'haproxy-W') contenders.push(haproxyMasterWorker(lab, dirFor(name)))
      else if (name === 'haproxy-sf') contenders.push(haproxyClassic(lab, dirFor(name), false))
      else if (name === 'haproxy-sf-x') contenders.push(haproxyClassic(lab, dirFor(name), true))
      else throw new Error(`unknown contender '${name}' (tslb, haproxy-W, haproxy-sf, haproxy-sf-x)`)
    }
    for (const c of contenders) {
      const r = await runContender(lab, c, o)
      results.push(r)
      const v = verdict(r)
      log(`   ${c.name}: ${STREAMS.map(s => `${s} ${r.streams[s].failed} failed/${r.streams[s].issued}`).join(', ')}; ${v.pass ? 'pass' : `fails: ${v.reasons.join('; ')}`}`)
      for (const s of STREAMS) for (const f of r.streams[s].firstFailures.slice(0, 5)) log(`     ${f}`)
      for (const d of r.switchNew.detail.slice(0, 5)) log(`     ${d}`)
    }
  } finally {
    await Promise.all(slow.map(async s => { await stopChild(s, 'SIGTERM') }))
  }
  writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2))
  process.stdout.write(`\nCommand: ${values.command}\n\n${report(results, o)}\n\nresults and logs: ${out}\n`)
  const tslbFailed = results.some(r => r.name.startsWith('tslb') && !verdict(r).pass)
  return tslbFailed ? 3 : 0
}

const [mode, ...rest] = process.argv.slice(2)
if (mode === 'run') {
  run(rest).then(code => { process.exitCode = code }, (err: unknown) => {
    process.stderr.write(`bench reload: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exitCode = 1
  })
} else {
  process.stderr.write('usage: reload.ts run --prefix P --net N [options] (see scripts/bench reload --help)\n')
  process.exitCode = 2
}
