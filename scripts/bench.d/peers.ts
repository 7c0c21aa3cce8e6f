/**
 * `scripts/bench peers`: stick-table peers sync, tslb against HAProxy 2.6 (nbthread 1), same lab,
 * same run, rounds interleaved (order alternated). Started by peers.sh inside the lab's `client`
 * namespace, with a lab of its own already up.
 *
 *   node peers.ts run --prefix P --net N [--rounds R] [--sizes 100000,1000000] [--contenders tslb,haproxy]
 *                     [--lat-count N] [--lat-rate R] [--load-seconds S] [--load-connections C] [--markdown] [--out DIR]
 *
 * The node under test (lb1, pinned to CPU1) has a frontend on :80 to nginx on web1 and a backend
 * table `stick-table type string len 32 ... peers bench` filled by `stick store-request
 * req.hdr(x-key)`. This process is the other peer of the section (`meas`, peers-meas.ts) and the
 * writer, so sending and arrival times come from one clock:
 *
 * - latency: requests with fresh keys, paced at --lat-rate/s; latency = arrival of the key's
 *   update at `meas` − the moment the request was sent (so it includes the proxy's request path up
 *   to the table write: HAProxy writes store-request entries when the response starts, tslb when
 *   the server is chosen; nginx answers in well under a millisecond);
 * - sustained: wrk (1 thread, C connections, a fresh key per request) for S seconds; updates/s
 *   is what arrived at `meas` during the load, with the lag after the load's end;
 * - resync: a fresh node; `meas` pushes N entries over the peers protocol (waits for the node's
 *   ACK of the last one), closes, reconnects and sends RESYNC_REQ; the time from the request to
 *   RESYNC_FINISHED, every update counted.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { MeasSession } from './peers-meas.ts'

const execFileAsync = promisify(execFile)
const ROOT = join(import.meta.dirname, '../..')
const TSLB = join(ROOT, 'bin/tslb')
const HAPROXY = '/usr/sbin/haproxy'
const PEERS_PORT = 10000
const TABLE = 'app'
const KEY_LEN = 33
const EXPIRE_MS = 30 * 60_000

type Contender = 'tslb' | 'haproxy'
interface Lab { readonly prefix: string, readonly net: string }
interface Opts {
  readonly lab: Lab
  readonly out: string
  readonly latCount: number
  readonly latRate: number
  readonly loadSeconds: number
  readonly loadConnections: number
}

interface Latency { readonly n: number, readonly lost: number, readonly p50: number, readonly p90: number, readonly p99: number, readonly max: number, readonly httpP50: number }
interface Sustained { readonly requestsPerS: number, readonly updatesPerS: number, readonly requests: number, readonly updates: number, readonly lagMs: number }
interface Resync { readonly size: number, readonly ms: number, readonly cpuMs: number, readonly updates: number, readonly partial: boolean, readonly fillMs: number }
interface RoundResult { readonly contender: Contender, readonly round: number, latency?: Latency, sustained?: Sustained, readonly resync: Resync[] }

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const addr = (lab: Lab, node: 'client' | 'lb1' | 'web1'): string => `${lab.net}.${node === 'client' ? 2 : node === 'lb1' ? 11 : 21}`

function nsSpawn (lab: Lab, node: string, argv: string[], logFile: string): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', `${lab.prefix}${node}`, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSLB_LOG_FORMAT: 'json' } })
  let out = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { out += b.toString() })
  child.once('exit', () => { writeFileSync(logFile, out) })
  return child
}

async function stopChild (child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  child.kill('SIGTERM')
  const t = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
  await gone
  clearTimeout(t)
}

async function waitUntil (what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out (${timeoutMs} ms) waiting for ${what}`)
    await sleep(50)
  }
}

async function httpOk (url: string): Promise<boolean> {
  return await new Promise(resolve => {
    const req = http.get(url, { timeout: 1000, agent: false }, res => { res.resume(); resolve(res.statusCode === 200) })
    req.on('error', () => { resolve(false) })
    req.on('timeout', () => { req.destroy() })
  })
}

/** CPU time (user + system, ms) of a process and its descendants (tslb: supervisor and worker). */
function treeCpuMs (root: number): number {
  const stats = new Map<number, { ppid: number, ms: number }>()
  const tick = 1000 / 100
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'latin1')
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
      stats.set(Number(d), { ppid: Number(rest[1]), ms: (Number(rest[11]) + Number(rest[12])) * tick })
    } catch { continue }
  }
  let total = 0
  const todo = [root]
  while (todo.length > 0) {
    const p = todo.pop() as number
    total += stats.get(p)?.ms ?? 0
    for (const [pid, st] of stats) if (st.ppid === p) todo.push(pid)
  }
  return total
}

/** One command on a runtime API socket (both contenders speak HAProxy's). */
async function cli (path: string, cmd: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = connect(path)
    let out = ''
    s.setEncoding('utf8')
    s.on('data', (d: string) => { out += d })
    s.on('end', () => { resolve(out) })
    s.on('error', reject)
    s.write(`${cmd}\n`)
  })
}

function config (o: Opts, who: Contender, sock: string): string {
  const lab = o.lab
  return `global
    stats socket ${sock} mode 600 level admin
${who === 'haproxy' ? '    nbthread 1\n' : ''}defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
peers bench
    peer lb1 ${addr(lab, 'lb1')}:${PEERS_PORT}
    peer meas ${addr(lab, 'client')}:${PEERS_PORT}
frontend www
    bind *:80
    default_backend ${TABLE}
backend ${TABLE}
    stick-table type string len ${KEY_LEN - 1} size 2m expire ${EXPIRE_MS / 60_000}m peers bench
    stick store-request req.hdr(x-key)
    server web1 ${addr(lab, 'web1')}:80
`
}

/** The node under test on lb1, CPU1. */
async function startNode (o: Opts, who: Contender, tag: string): Promise<{ child: ChildProcess, sock: string }> {
  const dir = join(o.out, tag)
  mkdirSync(dir, { recursive: true })
  const cfg = join(dir, `${who}.cfg`)
  const sock = join(dir, `${who}.sock`)
  writeFileSync(cfg, config(o, who, sock))
  const argv = who === 'tslb'
    ? ['taskset', '-c', '1', TSLB, 'run', '-f', cfg, '-L', 'lb1', '-S', join(dir, 'master.sock')]
    : ['taskset', '-c', '1', HAPROXY, '-db', '-f', cfg, '-L', 'lb1']
  const child = nsSpawn(o.lab, 'lb1', argv, join(dir, `${who}.log`))
  await waitUntil(`${who} answering on lb1:80`, async () => existsSync(sock) && await httpOk(`http://${addr(o.lab, 'lb1')}/`), 30_000)
  return { child, sock }
}

async function openMeas (o: Opts, onKey?: (key: string, at: number) => void): Promise<MeasSession> {
  const s = await MeasSession.open({ host: addr(o.lab, 'lb1'), port: PEERS_PORT, remoteName: 'lb1', localName: 'meas', ...(onKey === undefined ? {} : { onKey }) })
  return s
}

function pct (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))] as number
}

async function latency (o: Opts, tag: string): Promise<{ sent: Map<string, number>, measure: (arrivals: Map<string, number>) => Latency }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const sent = new Map<string, number>()
  const httpMs: number[] = []
  const interval = 1000 / o.latRate
  const t0 = performance.now()
  let inflight = 0
  await new Promise<void>(resolve => {
    let i = 0
    const tick = (): void => {
      const due = Math.min(o.latCount, Math.floor((performance.now() - t0) / interval) + 1)
      for (; i < due; i++) {
        const key = `L${tag}-${i}`
        inflight++
        const start = performance.now()
        sent.set(key, start)
        const req = http.request({ host: addr(o.lab, 'lb1'), port: 80, path: '/', agent, headers: { 'x-key': key } }, res => {
          res.resume()
          res.on('end', () => {
            httpMs.push(performance.now() - start)
            if (--inflight === 0 && i >= o.latCount) resolve()
          })
        })
        req.on('error', () => { if (--inflight === 0 && i >= o.latCount) resolve() })
        req.end()
      }
      if (i < o.latCount) setTimeout(tick, Math.max(0, interval / 2))
    }
    tick()
  })
  agent.destroy()
  return {
    sent,
    measure: arrivals => {
      const lat: number[] = []
      for (const [k, at] of arrivals) {
        const s = sent.get(k)
        if (s !== undefined) lat.push(at - s)
      }
      lat.sort((a, b) => a - b)
      httpMs.sort((a, b) => a - b)
      return { n: lat.length, lost: sent.size - lat.length, p50: pct(lat, 50), p90: pct(lat, 90), p99: pct(lat, 99), max: lat[lat.length - 1] ?? NaN, httpP50: pct(httpMs, 50) }
    }
  }
}

async function sustained (o: Opts, tag: string, counted: () => { n: number, last: number }): Promise<Sustained> {
  const lua = join(o.out, `wrk-${tag}.lua`)
  writeFileSync(lua, `local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/", { ["X-Key"] = "S${tag}-" .. n })
end
done = function(summary)
  io.write(string.format("WRK_REQUESTS %d %d\\n", summary.requests, summary.duration))
end
`)
  const before = counted().n
  const t0 = performance.now()
  const { stdout } = await execFileAsync('taskset', ['-c', '0', 'wrk', '-t1', `-c${o.loadConnections}`, `-d${o.loadSeconds}s`, '-s', lua, `http://${addr(o.lab, 'lb1')}/`], { encoding: 'utf8' })
  const t1 = performance.now()
  const atEnd = counted().n
  const m = /WRK_REQUESTS (\d+) (\d+)/.exec(stdout)
  const requests = Number(m?.[1] ?? 0)
  const durUs = Number(m?.[2] ?? (t1 - t0) * 1000)
  // Let the tail arrive: until nothing new for 1 s (or 10 s).
  let last = counted().n
  for (let k = 0; k < 20; k++) {
    await sleep(500)
    const now = counted().n
    if (now === last && now - before >= requests) break
    last = now
  }
  const c = counted()
  return {
    requestsPerS: requests / (durUs / 1e6),
    updatesPerS: (atEnd - before) / ((t1 - t0) / 1000),
    requests,
    updates: c.n - before,
    lagMs: Math.max(0, c.last - t1)
  }
}

async function roundLoad (o: Opts, who: Contender, round: number, r: RoundResult): Promise<void> {
  const tag = `r${round}-${who}-load`
  const node = await startNode(o, who, tag)
  try {
    const arrivals = new Map<string, number>()
    const s = { n: 0, last: 0 }
    const lt = `${round}${who[0] ?? ''}`
    const meas = await openMeas(o, (key, at) => {
      if (key.charCodeAt(0) === 76 /* L */) arrivals.set(key, at)
      else { s.n++; s.last = at }
    })
    await sleep(500)
    const l = await latency(o, lt)
    await sleep(500)
    r.latency = l.measure(arrivals)
    process.stderr.write(`   latency: p50 ${r.latency.p50.toFixed(2)} ms, p99 ${r.latency.p99.toFixed(2)} ms (${r.latency.n} samples, ${r.latency.lost} lost)\n`)
    r.sustained = await sustained(o, lt, () => s)
    process.stderr.write(`   sustained: ${Math.round(r.sustained.requestsPerS)} req/s, ${Math.round(r.sustained.updatesPerS)} updates/s at the peer, ${r.sustained.updates}/${r.sustained.requests} replicated, lag ${Math.round(r.sustained.lagMs)} ms\n`)
    await meas.close()
  } finally {
    await stopChild(node.child)
  }
}

async function roundResync (o: Opts, who: Contender, round: number, size: number, r: RoundResult): Promise<void> {
  const tag = `r${round}-${who}-resync-${size}`
  const node = await startNode(o, who, tag)
  try {
    const filler = await openMeas(o)
    await sleep(300)
    const f0 = performance.now()
    await filler.fill(TABLE, KEY_LEN, EXPIRE_MS, size, 'R')
    const fillMs = performance.now() - f0
    await filler.close()
    const used = /used:(\d+)/.exec(await cli(node.sock, 'show table'))?.[1]
    if (Number(used) !== size) throw new Error(`${who}: table holds ${used ?? '?'} entries after the fill, not ${size}`)
    const learner = await openMeas(o)
    await sleep(300)
    const pid = node.child.pid ?? 0
    const cpu0 = treeCpuMs(pid)
    const res = await learner.resync()
    const cpuMs = treeCpuMs(pid) - cpu0
    await learner.close()
    r.resync.push({ size, ...res, cpuMs, fillMs })
    process.stderr.write(`   resync ${size}: ${Math.round(res.ms)} ms, node CPU ${Math.round(cpuMs)} ms (${res.updates} updates${res.partial ? ', PARTIAL' : ''}; fill ${Math.round(fillMs)} ms)\n`)
  } finally {
    await stopChild(node.child)
  }
}

async function startNginx (o: Opts): Promise<ChildProcess> {
  const dir = join(o.out, 'nginx')
  mkdirSync(join(dir, 'tmp'), { recursive: true })
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path ${dir}/tmp/client_body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    keepalive_requests 1000000;
    server { listen 80; location / { return 200 "ok\\n"; } }
}
`)
  const child = nsSpawn(o.lab, 'web1', ['taskset', '-c', '0', 'nginx', '-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], join(dir, 'nginx.log'))
  await waitUntil('nginx on web1', async () => await httpOk(`http://${addr(o.lab, 'web1')}/`), 10_000)
  return child
}

function median (xs: readonly number[]): number {
  const s = [...xs].filter(x => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2
}

function summary (results: readonly RoundResult[], sizes: readonly number[], markdown: boolean, command: string): string {
  const of = (who: Contender): RoundResult[] => results.filter(r => r.contender === who)
  const med = (who: Contender, f: (r: RoundResult) => number | undefined): number => median(of(who).map(f).filter((x): x is number => x !== undefined))
  const rows: { what: string, unit: string, better: 'lower' | 'higher', f: (r: RoundResult) => number | undefined }[] = [
    { what: 'replication latency p50', unit: 'ms', better: 'lower', f: r => r.latency?.p50 },
    { what: 'replication latency p90', unit: 'ms', better: 'lower', f: r => r.latency?.p90 },
    { what: 'replication latency p99', unit: 'ms', better: 'lower', f: r => r.latency?.p99 },
    { what: 'replication latency max', unit: 'ms', better: 'lower', f: r => r.latency?.max },
    { what: 'HTTP response time p50 (context)', unit: 'ms', better: 'lower', f: r => r.latency?.httpP50 },
    { what: 'sustained: requests/s (wrk)', unit: '/s', better: 'higher', f: r => r.sustained?.requestsPerS },
    { what: 'sustained: updates/s at the peer', unit: '/s', better: 'higher', f: r => r.sustained?.updatesPerS },
    { what: 'sustained: lag after the load', unit: 'ms', better: 'lower', f: r => r.sustained?.lagMs },
    ...sizes.flatMap(n => [
      { what: `full resync ${n.toLocaleString('en')} entries`, unit: 'ms', better: 'lower' as const, f: (r: RoundResult) => r.resync.find(x => x.size === n)?.ms },
      { what: '  entries/s', unit: '/s', better: 'higher' as const, f: (r: RoundResult) => { const x = r.resync.find(y => y.size === n); return x === undefined ? undefined : x.updates / (x.ms / 1000) } },
      { what: '  CPU time of the node', unit: 'ms', better: 'lower' as const, f: (r: RoundResult) => r.resync.find(x => x.size === n)?.cpuMs }
    ])
  ]
  const fmt = (v: number, unit: string): string => !Number.isFinite(v) ? '-' : unit === 'ms' ? (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toString()) : Math.round(v).toLocaleString('en')
  const lines: string[] = []
  const rounds = new Set(results.map(r => r.round)).size
  if (markdown) {
    lines.push(`Medians over ${rounds} round(s); ratio = tslb / HAProxy.`, '', '| measure | tslb | HAProxy 2.6 | ratio |', '|---|---:|---:|---:|')
  } else {
    lines.push(`== medians over ${rounds} round(s); ratio = tslb / HAProxy`)
  }
  for (const row of rows) {
    const t = med('tslb', row.f)
    const h = med('haproxy', row.f)
    const ratio = Number.isFinite(t) && Number.isFinite(h) && h !== 0 ? `${(t / h).toFixed(2)}x` : '-'
    const u = row.unit === 'ms' ? ' ms' : ''
    if (markdown) lines.push(`| ${row.what} | ${fmt(t, row.unit)}${u} | ${fmt(h, row.unit)}${u} | ${ratio} |`)
    else lines.push(`${row.what.padEnd(36)} tslb ${(fmt(t, row.unit) + u).padStart(12)}   haproxy ${(fmt(h, row.unit) + u).padStart(12)}   ${ratio}`)
  }
  const lost = results.reduce((n, r) => n + (r.latency?.lost ?? 0), 0)
  const partial = results.some(r => r.resync.some(x => x.partial || x.updates < x.size))
  const p99 = med('tslb', r => r.latency?.p99)
  const r100k = med('tslb', r => r.resync.find(x => x.size === 100_000)?.ms)
  lines.push('')
  lines.push(`targets (tslb): p99 replication < 10 ms: ${Number.isFinite(p99) ? (p99 < 10 ? 'met' : 'MISSED') : 'not measured'}; resync of 100k < 1 s: ${Number.isFinite(r100k) ? (r100k < 1000 ? 'met' : 'MISSED') : 'not measured'}`)
  if (lost > 0) lines.push(`warning: ${lost} latency sample(s) never arrived`)
  if (partial) lines.push('warning: a resync ended PARTIAL or short of entries')
  lines.push(`command: ${command}`)
  return `${lines.join('\n')}\n`
}

async function run (): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: {
      prefix: { type: 'string' },
      net: { type: 'string' },
      rounds: { type: 'string', default: '2' },
      sizes: { type: 'string', default: '100000,1000000' },
      contenders: { type: 'string', default: 'tslb,haproxy' },
      'lat-count': { type: 'string', default: '1500' },
      'lat-rate': { type: 'string', default: '200' },
      'load-seconds': { type: 'string', default: '5' },
      'load-connections': { type: 'string', default: '32' },
      markdown: { type: 'boolean', default: false },
      out: { type: 'string' },
      command: { type: 'string', default: 'scripts/bench peers' }
    }
  })
  if (values.prefix === undefined || values.net === undefined || values.out === undefined) throw new Error('--prefix, --net and --out are required')
  const o: Opts = {
    lab: { prefix: values.prefix, net: values.net },
    out: values.out,
    latCount: Number(values['lat-count']),
    latRate: Number(values['lat-rate']),
    loadSeconds: Number(values['load-seconds']),
    loadConnections: Number(values['load-connections'])
  }
  const rounds = Number(values.rounds)
  const sizes = values.sizes === '' ? [] : values.sizes.split(',').map(Number)
  const contenders = values.contenders.split(',') as Contender[]
  mkdirSync(o.out, { recursive: true })
  const nginx = await startNginx(o)
  const results: RoundResult[] = []
  try {
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? contenders : [...contenders].reverse()
      for (const who of order) {
        process.stderr.write(`== round ${round}/${rounds}: ${who}\n`)
        const r: RoundResult = { contender: who, round, resync: [] }
        results.push(r)
        await roundLoad(o, who, round, r)
        for (const size of sizes) await roundResync(o, who, round, size, r)
        writeFileSync(join(o.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
      }
    }
  } finally {
    await stopChild(nginx)
  }
  process.stdout.write(summary(results, sizes, false, values.command))
  if (values.markdown) process.stdout.write(`\n${summary(results, sizes, true, values.command)}`)
}

if (process.argv[2] === 'run') {
  run().then(() => { process.exit(0) }, (err: unknown) => {
    process.stderr.write(`bench peers: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exit(1)
  })
} else {
  process.stderr.write('usage: node peers.ts run --prefix P --net N --out DIR [options] (see scripts/bench peers --help)\n')
  process.exit(2)
}
