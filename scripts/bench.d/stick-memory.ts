/**
 * Stick-table memory per entry: tslb's store (src/stick) vs HAProxy 2.6, side by side, for two
 * tables at 100k and 1M entries:
 *
 *   string  stick-table type string len 32 size N store server_id          (32-byte keys)
 *   ip      stick-table type ip size N store server_id,conn_rate(10s),http_req_rate(10s)
 *
 * tslb: each case runs in a fresh `node --expose-gc` child; after a full GC before and after
 * filling the table, bytes/entry = (heapUsed + external delta + the table's shared buffers) / N
 * (the store is in SharedArrayBuffers, which `external` does not count: `table.arrayBytes`), and
 * the RSS delta / N for comparison with HAProxy.
 * HAProxy: one `haproxy -db` per case with the table and a stats socket; the table is filled
 * with `set table NAME key K data.server_id 1` over one interactive CLI session; bytes/entry =
 * VmRSS delta / N, plus the size of one object of its `sticktables` pool (`show pools`).
 *
 *   node scripts/bench.d/stick-memory.ts [--sizes 100000,1000000] [--no-haproxy] [--json]
 *
 * Target (docs/benchmarks.md): tslb within 3x of HAProxy per entry.
 */
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { StickTableSpec } from '../../src/config/model.ts'
import { StickTable } from '../../src/stick/index.ts'

type Case = 'string' | 'ip'
const CASES: readonly Case[] = ['string', 'ip']
const HAPROXY = process.env.HAPROXY ?? '/usr/sbin/haproxy'

interface TslbResult { readonly heapPerEntry: number, readonly externalPerEntry: number, readonly sharedPerEntry: number, readonly totalPerEntry: number, readonly rssPerEntry: number, readonly fillMs: number, readonly size: number }
interface HaproxyResult { readonly rssPerEntry: number, readonly poolObject: number | undefined, readonly fillMs: number, readonly used: number }

function spec (kind: Case, n: number): StickTableSpec {
  const loc = { file: 'bench', line: 1 }
  return kind === 'string'
    ? { type: 'string', len: 32, size: n, expire: 600000, nopurge: false, store: [{ name: 'server_id' }], loc }
    : { type: 'ip', size: n, expire: 600000, nopurge: false, store: [{ name: 'server_id' }, { name: 'conn_rate', period: 10000 }, { name: 'http_req_rate', period: 10000 }], loc }
}

/** The i-th key: 32 hex characters (a flat string, as a header value would be) or an IPv4 address. */
function makeKeys (kind: Case): (i: number) => string | number {
  if (kind === 'ip') return i => (0x0a000000 + i) >>> 0
  const buf = Buffer.alloc(32, 0x30)
  return i => {
    buf.write(i.toString(16).padStart(32, '0'), 0, 'latin1')
    return buf.toString('latin1', 0, 32)
  }
}

function gc (): void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g === undefined) throw new Error('run the child with --expose-gc')
  g(); g()
}

function child (kind: Case, n: number): void {
  const key = makeKeys(kind)
  gc()
  const m0 = process.memoryUsage()
  const t0 = performance.now()
  const table = new StickTable(kind, spec(kind, n))
  let now = 1000
  for (let i = 0; i < n; i++) {
    if ((i & 1023) === 0) now++
    table.update(key(i), e => e.set('server_id', 1), now)
  }
  const fillMs = performance.now() - t0
  gc()
  const m1 = process.memoryUsage()
  const heap = m1.heapUsed - m0.heapUsed
  const ext = m1.external - m0.external
  // SharedArrayBuffers are not counted in `external`: the table reports its own
  const shared = table.arrayBytes
  const out: TslbResult = { heapPerEntry: heap / n, externalPerEntry: ext / n, sharedPerEntry: shared / n, totalPerEntry: (heap + ext + shared) / n, rssPerEntry: (m1.rss - m0.rss) / n, fillMs, size: table.size }
  process.stdout.write(JSON.stringify(out) + '\n')
}

async function runChild (kind: Case, n: number): Promise<TslbResult> {
  const self = fileURLToPath(import.meta.url)
  return await new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', '--disable-warning=ExperimentalWarning', self, '--child', kind, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (c: Buffer) => { out += c.toString() })
    p.on('error', reject)
    p.on('exit', code => code === 0 ? resolve(JSON.parse(out) as TslbResult) : reject(new Error(`child exited ${code}`)))
  })
}

/** `show pools`: object size -> objects allocated. */
function poolCounts (text: string): Map<number, number> {
  const m = new Map<number, number>()
  for (const x of text.matchAll(/Pool \S+ \((\d+) bytes\) : (\d+) allocated/g)) m.set(Number(x[1]), (m.get(Number(x[1])) ?? 0) + Number(x[2]))
  return m
}

function vmRssBytes (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m?.[1] ?? 0) * 1024
}

async function cliOnce (sock: string, command: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = connect(sock)
    let out = ''
    s.on('data', (c: Buffer) => { out += c.toString('latin1') })
    s.on('error', reject)
    s.on('end', () => resolve(out))
    s.end(command + '\n')
  })
}

/** Streams `set table` commands over one interactive CLI session, then waits for `used:N`. */
async function fillHaproxy (sock: string, table: string, kind: Case, n: number): Promise<number> {
  const key = makeKeys(kind)
  const s = connect(sock)
  let tail = ''
  let used = -1
  const done = new Promise<void>((resolve, reject) => {
    s.on('data', (c: Buffer) => {
      tail = (tail + c.toString('latin1')).slice(-4096)
      const m = new RegExp(`# table: ${table}, type: \\w+, size:\\d+, used:(\\d+)`).exec(tail)
      if (m !== null) { used = Number(m[1]); resolve() }
    })
    s.on('error', reject)
    s.on('close', () => resolve())
  })
  const write = async (chunk: string): Promise<void> => {
    if (!s.write(chunk)) await new Promise(resolve => s.once('drain', resolve))
  }
  await write('prompt\n')
  let batch = ''
  for (let i = 0; i < n; i++) {
    const k = key(i)
    batch += `set table ${table} key ${typeof k === 'number' ? `${k >>> 24}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}` : k} data.server_id 1\n`
    if (batch.length > 60000) { await write(batch); batch = '' }
  }
  await write(batch + 'show table\n')
  await done
  s.end('quit\n')
  return used
}

async function runHaproxy (kind: Case, n: number): Promise<HaproxyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-stick-mem-'))
  const sock = join(dir, 'admin.sock')
  const table = `bench_${kind}`
  const s = spec(kind, n)
  const store = s.store.map(x => x.period === undefined ? x.name : `${x.name}(${x.period / 1000}s)`).join(',')
  writeFileSync(join(dir, 'haproxy.cfg'), `global
    stats socket ${sock} mode 600 level admin
    stats timeout 10m
    nbthread 1

backend ${table}
    stick-table type ${s.type}${s.len === undefined ? '' : ` len ${s.len}`} size ${n} expire 10m store ${store}
`)
  const hap = spawn(HAPROXY, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] })
  try {
    for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(50)
    await cliOnce(sock, 'show info')
    await sleep(200)
    const pools0 = poolCounts(await cliOnce(sock, 'show pools'))
    const rss0 = vmRssBytes(hap.pid as number)
    const t0 = performance.now()
    const used = await fillHaproxy(sock, table, kind, n)
    const fillMs = performance.now() - t0
    await sleep(200)
    const rss1 = vmRssBytes(hap.pid as number)
    // pools of the same size are merged (named after their first user): the entries' pool is the
    // one whose object count grew by about N
    const pools1 = poolCounts(await cliOnce(sock, 'show pools'))
    let obj: number | undefined
    for (const [size, count] of pools1) {
      if (count - (pools0.get(size) ?? 0) >= n * 0.99) obj = size
    }
    return { rssPerEntry: (rss1 - rss0) / n, poolObject: obj, fillMs, used }
  } finally {
    hap.kill('SIGTERM')
    await new Promise(resolve => hap.once('exit', resolve))
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main (): Promise<void> {
  const args = process.argv.slice(2)
  if (args[0] === '--child') { child(args[1] as Case, Number(args[2])); return }
  const sizesArg = args.indexOf('--sizes')
  const sizes = sizesArg === -1 ? [100_000, 1_000_000] : (args[sizesArg + 1] ?? '').split(',').map(Number)
  const withHaproxy = !args.includes('--no-haproxy') && existsSync(HAPROXY)
  const hapVersion = withHaproxy ? execFileSync(HAPROXY, ['-v'], { encoding: 'utf8' }).split('\n')[0] ?? '' : 'not measured'
  const rows: { kind: Case, n: number, tslb: TslbResult, haproxy: HaproxyResult | undefined }[] = []
  for (const kind of CASES) {
    for (const n of sizes) {
      const tslb = await runChild(kind, n)
      const haproxy = withHaproxy ? await runHaproxy(kind, n) : undefined
      rows.push({ kind, n, tslb, haproxy })
      if (!args.includes('--json')) {
        const h = haproxy === undefined ? 'HAProxy not measured' : `HAProxy RSS ${haproxy.rssPerEntry.toFixed(0)} B/entry (pool object ${haproxy.poolObject ?? '?'} B, used:${haproxy.used}, fill ${(haproxy.fillMs / 1000).toFixed(1)} s)`
        console.error(`${kind.padEnd(6)} ${String(n).padStart(8)}: tslb heap+ext+shared ${rowTotal(tslb)} B/entry (RSS ${tslb.rssPerEntry.toFixed(0)}, fill ${(tslb.fillMs / 1000).toFixed(2)} s); ${h}`)
      }
    }
  }
  if (args.includes('--json')) {
    console.log(JSON.stringify({ node: process.version, haproxy: hapVersion, rows }, null, 2))
    return
  }
  console.log(`\nstick-table memory per entry — node ${process.version}, ${hapVersion}`)
  console.log('| table | entries | tslb heap+ext+shared | tslb RSS | HAProxy RSS | HAProxy pool object | ratio (tslb heap+ext+shared / HAProxy RSS) | ratio (RSS / RSS) |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    const h = r.haproxy
    const ratio = (x: number): string => h === undefined || h.rssPerEntry <= 0 ? '-' : `${(x / h.rssPerEntry).toFixed(2)}x`
    console.log(`| ${r.kind === 'string' ? 'string len 32 + server_id' : 'ip + server_id, conn_rate, http_req_rate'} | ${r.n} | ${rowTotal(r.tslb)} B | ${r.tslb.rssPerEntry.toFixed(0)} B | ${h === undefined ? '-' : `${h.rssPerEntry.toFixed(0)} B`} | ${h?.poolObject ?? '-'} B | ${ratio(r.tslb.totalPerEntry)} | ${ratio(r.tslb.rssPerEntry)} |`)
  }
  const worst = Math.max(...rows.filter(r => r.haproxy !== undefined).map(r => r.tslb.totalPerEntry / (r.haproxy as HaproxyResult).rssPerEntry))
  if (Number.isFinite(worst)) console.log(`\nworst ratio ${worst.toFixed(2)}x (target: within 3x) — ${worst <= 3 ? 'PASS' : 'FAIL'}`)
}

function rowTotal (r: TslbResult): string {
  return `${r.totalPerEntry.toFixed(0)} (heap ${r.heapPerEntry.toFixed(0)} + ext ${r.externalPerEntry.toFixed(0)} + shared ${r.sharedPerEntry.toFixed(0)})`
}

await main()
