/**
 * `scripts/bench failover`: how long a client cannot reach a VIP when the master dies (SIGKILL)
 * or stops cleanly (SIGTERM: priority-0 advert), tslb against keepalived 2.2.7, same lab, same
 * run, rounds interleaved. Started by failover.sh with a lab of its own already up.
 *
 *   node failover.ts run --prefix P --net N [--rounds R] [--variants v2,v3fast] [--markdown] [--out DIR]
 *   node failover.ts probe VIP PORT        (inside the client namespace) one TCP connect every
 *                                          20 ms, 150 ms timeout; prints "start end ok server"
 *   node failover.ts serve PORT NAME       (inside an lb namespace) answers NAME and closes
 *
 * Each round, for each contender: the VRRP daemon on lb1 (priority 150) and lb2 (100), a tiny
 * TCP service on both; wait until lb1 holds the VIP and serves; then
 *   hard:  SIGKILL the daemon and the service on lb1 (the node's software dies);
 *   clean: (after lb1 is back and has preempted) SIGTERM the daemon on lb1, its service stays.
 * The gap is the time between the client's last successful connect before the event and its
 * first successful connect after it (served by lb2), at the 20 ms resolution of the probe.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)
const ROOT = join(import.meta.dirname, '../..')
const TSLB = join(ROOT, 'bin/tslb')
const KEEPALIVED = '/usr/sbin/keepalived'
const PORT = 7000
const PROBE_EVERY_MS = 20
const PROBE_TIMEOUT_MS = 150

type Contender = 'tslb' | 'keepalived'
interface Variant { readonly name: string, readonly version: 2 | 3, readonly advertInt: string }
const VARIANTS: Record<string, Variant> = {
  v2: { name: 'v2', version: 2, advertInt: '1' },
  v3fast: { name: 'v3fast', version: 3, advertInt: '0.1' }
}

// ---------------------------------------------------------------- probe / serve (in namespaces)

function probe (vip: string, port: number): void {
  const t00 = performance.timeOrigin
  const tick = (): void => {
    const start = t00 + performance.now()
    let data = ''
    let done = false
    const finish = (ok: boolean): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      sock.destroy()
      process.stdout.write(`${start.toFixed(1)} ${(t00 + performance.now()).toFixed(1)} ${ok ? 1 : 0} ${ok ? data.trim() : '-'}\n`)
    }
    const sock = connect({ host: vip, port })
    const timer = setTimeout(() => { finish(false) }, PROBE_TIMEOUT_MS)
    sock.setEncoding('utf8')
    sock.on('data', (d: string) => { data += d })
    sock.on('end', () => { finish(data.length > 0) })
    sock.on('error', () => { finish(false) })
  }
  setInterval(tick, PROBE_EVERY_MS)
}

function serve (port: number, name: string): void {
  createServer(s => { s.on('error', () => {}); s.end(`${name}\n`) }).listen(port, '0.0.0.0')
}

// ---------------------------------------------------------------- orchestration

interface Lab { readonly prefix: string, readonly net: string }

async function nsExec (lab: Lab, node: string, argv: string[]): Promise<string> {
  try {
    return (await execFileAsync('ip', ['netns', 'exec', `${lab.prefix}${node}`, ...argv], { encoding: 'utf8' })).stdout
  } catch (err) {
    const e = err as { stdout?: string }
    return e.stdout ?? ''
  }
}

function nsSpawn (lab: Lab, node: string, argv: string[], logFile?: string): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', `${lab.prefix}${node}`, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSLB_LOG_FORMAT: 'json' } })
  if (logFile !== undefined) {
    let out = ''
    child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
    child.stderr?.on('data', (b: Buffer) => { out += b.toString() })
    child.once('exit', () => { writeFileSync(logFile, out) })
  } else {
    child.stdout?.resume()
    child.stderr?.resume()
  }
  return child
}

async function stopChild (child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  child.kill(signal)
  const t = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
  await gone
  clearTimeout(t)
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function holders (lab: Lab, vip: string): Promise<string[]> {
  const out: string[] = []
  for (const n of ['lb1', 'lb2']) if ((await nsExec(lab, n, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).includes(` ${vip}/`)) out.push(n)
  return out
}

async function waitUntil (what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out (${timeoutMs} ms) waiting for ${what}`)
    await sleep(20)
  }
}

function tslbConfig (lab: Lab, v: Variant, priority: number): string {
  return `vrrp_instance VI_1
    interface eth0
    virtual_router_id 51
    priority ${priority}
    version ${v.version}
    advert_int ${v.advertInt}
    virtual_ipaddress ${lab.net}.100/24 dev eth0
`
}

function keepalivedConfig (lab: Lab, v: Variant, priority: number): string {
  return `global_defs {
    router_id bench
    script_user root
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${priority}
    version ${v.version}
    advert_int ${v.advertInt}
    virtual_ipaddress {
        ${lab.net}.100/24 dev eth0
    }
}
`
}

interface ProbeResult { readonly start: number, readonly end: number, readonly ok: boolean, readonly server: string }

class Prober {
  readonly results: ProbeResult[] = []
  readonly child: ChildProcess
  constructor (lab: Lab, vip: string) {
    this.child = spawn('ip', ['netns', 'exec', `${lab.prefix}client`, process.execPath, '--disable-warning=ExperimentalWarning', import.meta.filename, 'probe', vip, String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let buf = ''
    this.child.stdout?.on('data', (b: Buffer) => {
      buf += b.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [s, e, ok, server] = buf.slice(0, nl).split(' ')
        buf = buf.slice(nl + 1)
        this.results.push({ start: Number(s), end: Number(e), ok: ok === '1', server: server ?? '-' })
      }
    })
  }

  lastOk (): ProbeResult | undefined { return this.results.filter(r => r.ok).at(-1) }

  /** Last success that started before `t`, first success by `by` that started after it. */
  gap (t: number, by: string): { gapMs: number, before: ProbeResult, after: ProbeResult } | undefined {
    const before = this.results.filter(r => r.ok && r.start < t).at(-1)
    const after = this.results.find(r => r.ok && r.start >= t && r.server === by)
    if (before === undefined || after === undefined) return undefined
    return { gapMs: after.start - before.start, before, after }
  }

  async stop (): Promise<void> { await stopChild(this.child, 'SIGTERM') }
}

interface Measure { readonly variant: string, readonly contender: Contender, readonly round: number, readonly kind: 'hard' | 'clean', readonly gapMs: number }

async function round (lab: Lab, v: Variant, who: Contender, r: number, out: string): Promise<Measure[]> {
  const vip = `${lab.net}.100`
  const dir = join(out, `${v.name}-${who}-${r}`)
  mkdirSync(dir, { recursive: true })
  const services = new Map<string, ChildProcess>()
  const daemons = new Map<string, ChildProcess>()
  const startService = (node: string): void => {
    services.set(node, nsSpawn(lab, node, [process.execPath, '--disable-warning=ExperimentalWarning', import.meta.filename, 'serve', String(PORT), node]))
  }
  let n = 0
  const vrrpPidFiles = new Map<string, string>()
  const startDaemon = (node: string, priority: number): void => {
    const tag = `${node}-${++n}`
    if (who === 'tslb') {
      const cfg = join(dir, `${tag}.cfg`)
      writeFileSync(cfg, tslbConfig(lab, v, priority))
      daemons.set(node, nsSpawn(lab, node, [TSLB, 'run', '-f', cfg, '-L', node, '-S', join(dir, `${tag}.sock`)], join(dir, `${tag}.log`)))
    } else {
      const cfg = join(dir, `${tag}.conf`)
      writeFileSync(cfg, keepalivedConfig(lab, v, priority))
      vrrpPidFiles.set(node, join(dir, `${tag}.vrrp.pid`))
      daemons.set(node, nsSpawn(lab, node, [KEEPALIVED, '-n', '-l', '-D', '-P', '-f', cfg, '-p', join(dir, `${tag}.pid`), '-r', join(dir, `${tag}.vrrp.pid`)], join(dir, `${tag}.log`)))
    }
  }
  const prober = new Prober(lab, vip)
  const served = (node: string) => () => prober.results.slice(-5).length === 5 && prober.results.slice(-5).every(x => x.ok && x.server === node)
  const results: Measure[] = []
  try {
    startService('lb1')
    startService('lb2')
    startDaemon('lb2', 100)
    startDaemon('lb1', 150)
    await waitUntil('lb1 to hold the VIP', async () => (await holders(lab, vip)).join() === 'lb1', 15_000)
    await waitUntil('lb1 to serve the client', served('lb1'), 5000)
    await sleep(1000)

    // Hard: the daemon and the service on lb1 die. keepalived's VRRP work is done by a child
    // process that gets SIGTERM when its parent dies (and would then stop cleanly): kill it first.
    let vrrpChild: number | undefined
    if (who === 'keepalived') vrrpChild = Number(readFileSync(vrrpPidFiles.get('lb1') ?? '', 'utf8').trim())
    const tHard = performance.timeOrigin + performance.now()
    if (vrrpChild !== undefined) process.kill(vrrpChild, 'SIGKILL')
    await Promise.all([stopChild(daemons.get('lb1'), 'SIGKILL'), stopChild(services.get('lb1'), 'SIGKILL')])
    await waitUntil('lb2 to serve after the SIGKILL', served('lb2'), 15_000)
    const hard = prober.gap(tHard, 'lb2')
    if (hard === undefined) throw new Error('no gap measured (hard)')
    results.push({ variant: v.name, contender: who, round: r, kind: 'hard', gapMs: hard.gapMs })

    // lb1 comes back (keepalived left its VIP there: it removes it at start, as tslb does) and preempts.
    startService('lb1')
    startDaemon('lb1', 150)
    await waitUntil('lb1 to preempt', async () => (await holders(lab, vip)).join() === 'lb1', 15_000)
    await waitUntil('lb1 to serve again', served('lb1'), 5000)
    await sleep(1000)

    // Clean: SIGTERM the daemon on lb1; its service stays up.
    const tClean = performance.timeOrigin + performance.now()
    await stopChild(daemons.get('lb1'), 'SIGTERM')
    await waitUntil('lb2 to serve after the SIGTERM', served('lb2'), 15_000)
    const clean = prober.gap(tClean, 'lb2')
    if (clean === undefined) throw new Error('no gap measured (clean)')
    results.push({ variant: v.name, contender: who, round: r, kind: 'clean', gapMs: clean.gapMs })
    writeFileSync(join(dir, 'probe.txt'), prober.results.map(x => `${x.start.toFixed(1)} ${x.end.toFixed(1)} ${x.ok ? 1 : 0} ${x.server}`).join('\n'))
  } finally {
    await prober.stop()
    await Promise.all([...daemons.values()].map(async d => { await stopChild(d, 'SIGTERM') }))
    await Promise.all([...services.values()].map(async s => { await stopChild(s, 'SIGKILL') }))
    // Whatever a killed keepalived left: the next round starts clean.
    for (const node of ['lb1', 'lb2']) await nsExec(lab, node, ['ip', 'addr', 'del', `${vip}/24`, 'dev', 'eth0'])
  }
  return results
}

function median (xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2
}

async function run (args: string[]): Promise<number> {
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(name)
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1] as string : dflt
  }
  const lab: Lab = { prefix: opt('--prefix', 'tslb-'), net: opt('--net', '198.18.0') }
  const rounds = Number(opt('--rounds', '3'))
  const variants = opt('--variants', 'v2,v3fast').split(',').map(v => {
    const x = VARIANTS[v]
    if (x === undefined) throw new Error(`unknown variant '${v}' (v2, v3fast)`)
    return x
  })
  const out = opt('--out', `/tmp/tslb-bench-failover-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  mkdirSync(out, { recursive: true })
  const all: Measure[] = []
  for (const v of variants) {
    for (let r = 1; r <= rounds; r++) {
      const order: Contender[] = r % 2 === 1 ? ['tslb', 'keepalived'] : ['keepalived', 'tslb']
      for (const who of order) {
        const ms = await round(lab, v, who, r, out)
        for (const m of ms) process.stderr.write(`${m.variant} round ${m.round} ${m.contender.padEnd(10)} ${m.kind.padEnd(5)} gap ${m.gapMs.toFixed(0)} ms\n`)
        all.push(...ms)
      }
    }
  }
  writeFileSync(join(out, 'results.json'), JSON.stringify(all, null, 2))
  const lines: string[] = []
  lines.push('| variant | event | tslb (median) | keepalived 2.2.7 (median) | tslb / keepalived | all runs tslb | all runs keepalived |')
  lines.push('|---|---|---:|---:|---:|---|---|')
  for (const v of variants) {
    for (const kind of ['hard', 'clean'] as const) {
      const of = (who: Contender): number[] => all.filter(m => m.variant === v.name && m.kind === kind && m.contender === who).map(m => m.gapMs)
      const t = of('tslb')
      const k = of('keepalived')
      const label = `${v.version === 2 ? 'VRRPv2' : 'VRRPv3'} advert_int ${v.advertInt} s`
      const ev = kind === 'hard' ? 'SIGKILL (daemon + service)' : 'SIGTERM (priority 0)'
      lines.push(`| ${label} | ${ev} | ${median(t).toFixed(0)} ms | ${median(k).toFixed(0)} ms | ${(median(t) / median(k)).toFixed(2)} | ${t.map(x => x.toFixed(0)).join(', ')} | ${k.map(x => x.toFixed(0)).join(', ')} |`)
    }
  }
  process.stdout.write(`\nVIP unreachable from the client (TCP connect every ${PROBE_EVERY_MS} ms, timeout ${PROBE_TIMEOUT_MS} ms), lb1 priority 150 → lb2 priority 100:\n\n${lines.join('\n')}\n\nresults and logs: ${out}\n`)
  return 0
}

const [mode, ...rest] = process.argv.slice(2)
if (mode === 'probe') probe(rest[0] ?? '', Number(rest[1]))
else if (mode === 'serve') serve(Number(rest[0]), rest[1] ?? 'lb')
else if (mode === 'run') {
  run(rest).then(code => { process.exitCode = code }, (err: unknown) => {
    process.stderr.write(`bench failover: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exitCode = 1
  })
} else {
  process.stderr.write('usage: failover.ts run|probe|serve ...\n')
  process.exitCode = 2
}
