/**
 * Stick-table operation cost on one thread: CPU ns per operation for the calls the proxy makes per
 * request, on a table of 100k entries (median of 5 rounds, each in this one process):
 *
 *   lookup         ip table, `lookup(key, now)` hit
 *   track          ip table, `update(key, e => { e.add('gpc0'); e.hit('http_req_rate', now) }, now)` (existing keys)
 *   string-update  string len 32 table, `update(key, e => e.set('server_id', 1), now)` (existing keys, each
 *                  a fresh string decoded from a buffer, as the proxy's keys are)
 *   create-evict   ip table full, `update(newKey, ...)`: create + purge of the oldest entries
 *
 *   node scripts/bench.d/stick-ops.ts [--entries 100000] [--ops 400000] [--only CASE] [--json]
 *   STICK_IMPL=/elsewhere/src/stick/index.ts node scripts/bench.d/stick-ops.ts   (another checkout's store)
 *
 * Run on an idle machine (the figures are ns): compare two commits in the same minute.
 */
import type { StickTableSpec } from '../../src/config/model.ts'
import type { StickTable as Table } from '../../src/stick/index.ts'

// STICK_IMPL=/path/to/src/stick/index.ts compares another checkout's store
const { StickTable } = await import(process.env.STICK_IMPL ?? '../../src/stick/index.ts') as {
  StickTable: typeof Table }
type StickTable = Table

const args = process.argv.slice(2)
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name)
  return i === -1 ? def : Number(args[i + 1])
}
const N = opt('--entries', 100_000)
const OPS = opt('--ops', 400_000)
const loc = { file: 'bench', line: 1 }
const ipSpec: StickTableSpec = { type: 'ip', size: N, expire: 600_000, nopurge: false, loc,
  store: [{ name: 'gpc0' }, { name: 'http_req_rate', period: 10_000 }] }
const strSpec: StickTableSpec = { type: 'string', len: 32, size: N, expire: 600_000, nopurge: false, loc,
  store: [{ name: 'server_id' }] }

const strKeys: string[] = []
for (let i = 0; i < N; i++) strKeys.push(i.toString(16).padStart(32, '0'))
// the proxy's keys are fresh strings decoded from the request (no cached hash, no shared object)
const strBuf = Buffer.from(strKeys.join(''), 'latin1')
const freshKey = (i: number): string => strBuf.toString('latin1', i * 32, i * 32 + 32)
// a fixed pseudo-random walk over the keys, so the index is not read in order
const order = new Uint32Array(OPS)
let x = 12345
for (let i = 0; i < OPS; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; order[i] = x % N }

function fill (t: StickTable, key: (i: number) => string | number, field: 'gpc0' | 'server_id'): void {
  for (let i = 0; i < N; i++) t.update(key(i), e => { e.set(field, 1) }, 1000)
}

/** CPU time of this process (ms): less disturbed than wall time on a shared machine. */
function cpuMs (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

type Case = () => number
const ip = new StickTable('ip', ipSpec)
fill(ip, i => 0x0a000000 + i, 'gpc0')
const str = new StickTable('str', strSpec)
fill(str, i => strKeys[i] as string, 'server_id')
let fresh = 0x20000000

const cases: Record<string, Case> = {
  lookup: () => {
    let n = 0
    for (let i = 0; i < OPS; i++) if (ip.lookup(0x0a000000 + (order[i] as number), 2000) !== undefined) n++
    return n
  },
  track: () => {
    const now = 2000
    for (let i = 0; i < OPS; i++) ip.update(0x0a000000 + (order[i] as number), e => { e.add('gpc0'); e.hit('http_req_rate', now) }, now)
    return OPS
  },
  'string-update': () => {
    for (let i = 0; i < OPS; i++) str.update(freshKey(order[i] as number), e => { e.set('server_id', 1) }, 2000)
    return OPS
  },
  'create-evict': () => {
    const full = new StickTable('full', ipSpec)
    for (let i = 0; i < N; i++) full.update(0x0a000000 + i, () => {}, 1000)
    const t0 = cpuMs()
    for (let i = 0; i < OPS; i++) full.update(fresh++, e => { e.add('gpc0') }, 2000)
    return cpuMs() - t0
  }
}

const results: Record<string, number> = {}
const only = args.indexOf('--only')
for (const [name, fn] of Object.entries(cases)) {
  if (only !== -1 && args[only + 1] !== name) continue
  const rounds: number[] = []
  for (let r = 0; r < 6; r++) {
    const t0 = cpuMs()
    const v = fn()
    const ms = name === 'create-evict' ? v : cpuMs() - t0
    if (r > 0) rounds.push(ms * 1e6 / OPS)
  }
  rounds.sort((a, b) => a - b)
  results[name] = rounds[rounds.length >> 1] as number
}
if (args.includes('--json')) console.log(JSON.stringify({ node: process.version, entries: N, ops: OPS, nsPerOp: results }))
else for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(14)} ${v.toFixed(0).padStart(6)} ns/op`)
