/**
 * Runs HAProxy 2.6's regression tests (reg-tests/, driven by VTest) against tslb: selects them as
 * HAProxy's scripts/run-regtests.sh does, runs each with a timeout, prints a table per directory.
 * Invoked by scripts/regtest (which builds VTest); see docs/conformance.md.
 */
import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'

type Outcome = 'pass' | 'skipped' | 'refused' | 'behaviour' | 'harness'

interface Result { readonly test: string, readonly outcome: Outcome, readonly seconds: number, readonly reason: string }

interface BuildInfo { readonly version: string, readonly target: string, readonly features: Set<string>, readonly services: Set<string> }

const { values, positionals } = parseArgs({
  options: {
    vtest: { type: 'string' },
    regtests: { type: 'string' },
    program: { type: 'string' },
    'with-haproxy': { type: 'boolean' },
    haproxy: { type: 'string', default: '/usr/sbin/haproxy' },
    jobs: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '20' },
    expect: { type: 'string' },
    budget: { type: 'string' },
    'in-scope': { type: 'boolean' },
    markdown: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' }
  },
  allowPositionals: true
})

/** The directories tslb claims (issue 17); the others hold features out of scope for now. */
export const IN_SCOPE = ['balance', 'checks', 'connection', 'converter', 'http-capture', 'http-cookies', 'http-errorfiles', 'http-messaging', 'http-rules', 'http-set-timeout', 'log', 'mcli', 'peers', 'sample_fetches', 'server', 'ssl', 'startup', 'stick-table', 'stickiness', 'stream', 'tcp-rules', 'webstats']
const TYPES = new Set(['default', 'bug', 'devel', 'slow'])

const vtest = values.vtest ?? fail('--vtest PATH is required')
const regtests = values.regtests ?? fail('--regtests DIR is required')
const program = values.program ?? fail('--program PATH is required')
const jobs = Math.max(1, Number(values.jobs))
const timeout = Number(values.timeout)

function fail (msg: string): never {
  process.stderr.write(`regtest: ${msg}\n`)
  process.exit(2)
}

/** `haproxy -vv` as run-regtests.sh reads it: version, TARGET, +FEATURES, services. */
function buildInfo (exe: string): BuildInfo {
  const out = execFileSync(exe, ['-vv'], { encoding: 'utf8' })
  const version = /version (\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1] ?? '0.0'
  const target = /TARGET\s*=\s*(\S+)/.exec(out)?.[1] ?? ''
  const features = new Set([.../Feature list :(.*)/.exec(out)?.[1]?.matchAll(/\+(\w+)/g) ?? []].map(m => m[1] as string))
  const opts = /OPTIONS = (.*)/.exec(out)?.[1] ?? ''
  for (const m of opts.matchAll(/USE_(\w+)=1/g)) features.add(m[1] as string)
  const services = new Set((/Available services :(.*)/.exec(out)?.[1] ?? '').trim().split(/\s+/).filter(s => s !== '' && s !== 'none'))
  if (out.includes('Built with the Prometheus exporter as a service')) services.add('prometheus-exporter')
  return { version, target, features, services }
}

function versionNumber (v: string): number {
  const [a = 0, b = 0, c = 0] = v.split('.').map(x => Number.parseInt(x, 10) || 0)
  return a * 1_000_000 + b * 1000 + c
}

/** Why run-regtests.sh would not run `file` against `info`, or undefined when it would. */
function excluded (file: string, info: BuildInfo): string | undefined {
  const head = new Map<string, string>()
  for (const m of readFileSync(file, 'utf8').matchAll(/^#([0-9A-Z_]+)=(.*)$/gm)) {
    const key = m[1] as string
    const v = (m[2] as string).trim()
    if (key === 'REQUIRE_OPTION' || key === 'REQUIRE_SERVICE' || key === 'EXCLUDE_TARGET') {
      const plural = `${key}S`
      const first = v.split(',')[0] ?? ''
      head.set(plural, [head.get(plural), first].filter(x => x !== undefined && x !== '').join(','))
    } else {
      head.set(key, v)
    }
  }
  const type = head.get('REGTEST_TYPE') ?? 'default'
  if (!TYPES.has(type)) return `type ${type}`
  const atLeast = head.get('REQUIRE_VERSION')
  if (atLeast !== undefined && versionNumber(info.version) < versionNumber(atLeast)) return `needs version ${atLeast}`
  const below = head.get('REQUIRE_VERSION_BELOW')
  if (below !== undefined && versionNumber(info.version) >= versionNumber(below)) return `needs version below ${below}`
  for (const t of (head.get('EXCLUDE_TARGETS') ?? '').split(',')) if (t !== '' && t === info.target) return `target ${t} excluded`
  for (const o of (head.get('REQUIRE_OPTIONS') ?? '').split(',')) if (o !== '' && !o.split('|').some(x => info.features.has(x))) return `needs option ${o}`
  for (const s of (head.get('REQUIRE_SERVICES') ?? '').split(',')) if (s !== '' && !s.split('|').some(x => info.services.has(x))) return `needs service ${s}`
  return undefined
}

function findTests (root: string, paths: string[]): string[] {
  const out: string[] = []
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e))
    else if (p.endsWith('.vtc')) out.push(p)
  }
  for (const p of paths.length === 0 ? [root] : paths.map(x => existsSync(x) ? x : join(root, x))) walk(p)
  return out
}

/** Sorts a failure by its VTest log: the configuration refused, the harness, or behaviour. */
export function classify (log: string): { outcome: Outcome, reason: string } {
  const alert = /\[ALERT\][^\n]*?: (?:config : )?(?:parsing \[[^\]]*\] : )?([^\n]*)/.exec(log)
  if (/Fatal errors found in configuration|Failed to evaluate condition/.test(log) || (alert !== null && /PID file check failed|Bad exit status/.test(log) && !/Fatal errors/.test(log))) {
    return { outcome: 'refused', reason: (alert?.[1] ?? 'configuration refused').trim().slice(0, 140) }
  }
  if (/TIMED OUT|Create listen socket failed|PID file check failed|Did not find expected string|cannot listen on fd@/.test(log)) {
    const m = /(TIMED OUT[^\n]*|PID file check failed[^\n]*|Did not find expected string[^\n]*|cannot listen on fd@[^\n]*)/.exec(log)
    return { outcome: 'harness', reason: (m?.[1] ?? 'harness').trim().slice(0, 140) }
  }
  const lines = log.split('\n')
  const line = lines.find(l => l.startsWith('---- ')) ?? 'failed'
  return { outcome: 'behaviour', reason: line.replace(/^[*\s-]+/, '').replace(/\s+/g, ' ').slice(0, 140) }
}

let runCount = 0

async function runOne (file: string, exe: string): Promise<Result> {
  const started = Date.now()
  const refusedFile = join(process.env.TMPDIR ?? '/tmp', `tslb-regtest-refused-${process.pid}-${++runCount}`)
  const env = { ...process.env, HAPROXY_PROGRAM: exe, TMPDIR: process.env.TMPDIR ?? '/tmp',
    TSLB_HAPROXY_REFUSED_FILE: refusedFile }
  return await new Promise(resolve => {
    const child = spawn(vtest, ['-v', '-t', String(timeout), file], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { if (out.length < 4_000_000) out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { if (out.length < 4_000_000) out += d.toString() })
    // A refused start fails the test, but VTest's clients then wait on the listeners it bound
    // itself until -t: `tslb haproxy` notes the refusal in this file and the test is stopped at
    // once (not for -conf-BAD tests, which expect the refusal).
    const watch = readFileSync(file, 'utf8').includes('-conf-BAD') ? undefined : setInterval(() => {
      if (existsSync(refusedFile)) child.kill('SIGKILL')
    }, 200)
    // VTest kills the test at -t; this bounds VTest itself.
    const guard = setTimeout(() => { child.kill('SIGKILL') }, (timeout + 15) * 1000)
    child.once('close', code => {
      clearTimeout(guard)
      clearInterval(watch)
      const refusal = existsSync(refusedFile) ? readFileSync(refusedFile, 'utf8').split('\n')[0] ?? '' : undefined
      rmSync(refusedFile, { force: true })
      const seconds = (Date.now() - started) / 1000
      const test = relative(regtests, file)
      if (code === 0) resolve({ test, outcome: 'pass', seconds, reason: '' })
      else if (code === 77) resolve({ test, outcome: 'skipped', seconds, reason: 'feature cmd: not available' })
      else if (refusal !== undefined && code === null) resolve({ test, outcome: 'refused', seconds,
        reason: refusal.slice(0, 140) })
      else {
        const c = classify(out)
        if (values.verbose === true) process.stderr.write(out)
        resolve({ test, seconds, ...c })
      }
    })
  })
}

/** Runs `files`, `jobs` at a time; none is started once `deadline` (ms since the epoch) has passed. */
async function runAll (files: string[], exe: string, onResult: (r: Result) => void, deadline = Infinity): Promise<Map<string, Result>> {
  const results = new Map<string, Result>()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < files.length && Date.now() < deadline) {
      const f = files[next++] as string
      const r = await runOne(f, exe)
      results.set(r.test, r)
      onResult(r)
    }
  }
  await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker))
  return results
}

function dirOf (test: string): string {
  return test.split('/')[0] ?? test
}

function summaryTable (tests: string[], runs: { name: string, results: Map<string, Result> }[], notSelected: Map<string, number>): string {
  const dirs = [...new Set([...tests.map(dirOf), ...notSelected.keys()])].sort()
  const md = values.markdown === true
  const header = ['directory', 'selected', ...runs.flatMap(r => runs.length > 1 ? [`${r.name} pass`, `${r.name} fail (refused/behaviour/harness)`, `${r.name} skipped`] : ['pass', 'fail (refused/behaviour/harness)', 'skipped']), 'not selected']
  const rows: string[][] = []
  const total = { sel: 0, ns: 0, per: runs.map(() => [0, 0, 0, 0, 0, 0]) }
  const cells = (c: number[]): string[] => [String(c[0]), `${(c[1] ?? 0) + (c[2] ?? 0) + (c[3] ?? 0)} (${c[1]}/${c[2]}/${c[3]})`, `${c[4]}${(c[5] ?? 0) > 0 ? ` (+${c[5]} not run)` : ''}`]
  for (const d of dirs) {
    const inDir = tests.filter(t => dirOf(t) === d)
    const row = [d + (IN_SCOPE.includes(d) ? '' : ' (out of scope)'), String(inDir.length)]
    runs.forEach((r, i) => {
      const c = [0, 0, 0, 0, 0, 0]
      for (const t of inDir) {
        const o = r.results.get(t)?.outcome
        const k = o === 'pass' ? 0 : o === 'refused' ? 1 : o === 'behaviour' ? 2 : o === 'harness' ? 3 : o === 'skipped' ? 4 : 5
        c[k] = (c[k] ?? 0) + 1
      }
      c.forEach((n, k) => { (total.per[i] as number[])[k] = ((total.per[i] as number[])[k] ?? 0) + n })
      row.push(...cells(c))
    })
    row.push(String(notSelected.get(d) ?? 0))
    total.sel += inDir.length
    total.ns += notSelected.get(d) ?? 0
    rows.push(row)
  }
  const totalRow = ['total', String(total.sel), ...total.per.flatMap(cells), String(total.ns)]
  rows.push(totalRow)
  if (md) {
    return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map(r => `| ${r.join(' | ')} |`)].join('\n') + '\n'
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const fmt = (r: string[]): string => r.map((c, i) => i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)).join('  ')
  return [fmt(header), ...rows.map(fmt)].join('\n') + '\n'
}

async function main (): Promise<number> {
  const reference = existsSync(values.haproxy) ? values.haproxy : program
  const info = buildInfo(reference)
  const expected = values.expect === undefined ? undefined : new Set(readFileSync(values.expect, 'utf8').split('\n').map(l => l.replace(/#.*/, '').trim()).filter(l => l !== ''))
  let files = findTests(regtests, positionals)
  if (values['in-scope'] === true) files = files.filter(f => IN_SCOPE.includes(dirOf(relative(regtests, f))))
  const notSelected = new Map<string, number>()
  const selected: string[] = []
  for (const f of files) {
    const why = excluded(f, info)
    if (why === undefined) selected.push(f)
    else notSelected.set(dirOf(relative(regtests, f)), (notSelected.get(dirOf(relative(regtests, f))) ?? 0) + 1)
  }
  process.stdout.write(`regtest: ${selected.length} tests selected of ${files.length} (as run-regtests.sh against ${reference} -vv: version ${info.version}, target ${info.target}); program ${program}; ${jobs} at a time, ${timeout} s each\n`)
  const started = Date.now()
  const show = (name: string) => (r: Result): void => {
    const tag = r.outcome === 'pass' ? 'pass' : r.outcome === 'skipped' ? 'skip' : `FAIL ${r.outcome}`
    const listed = expected === undefined ? '' : expected.has(r.test) ? (r.outcome === 'pass' ? '' : '  (LISTED in expected-pass)') : (r.outcome === 'pass' ? '  (passes, not listed)' : '')
    process.stdout.write(`${name}: ${tag.padEnd(15)} ${r.test} (${r.seconds.toFixed(1)} s)${r.reason === '' ? '' : ` — ${r.reason}`}${listed}\n`)
  }
  let order = selected
  let deadline = Infinity
  if (expected !== undefined) {
    // The listed tests first (they decide the exit status); then, within --budget, the others
    // (in-scope directories first) to find passing tests the list lacks.
    const rank = (f: string): number => expected.has(relative(regtests, f)) ? 0 : IN_SCOPE.includes(dirOf(relative(regtests, f))) ? 1 : 2
    order = [...selected].sort((a, b) => rank(a) - rank(b))
    if (values.budget !== undefined) deadline = started + Number(values.budget) * 1000
  }
  const tslbResults = await runAll(order.filter(f => expected?.has(relative(regtests, f)) === true), program, show('tslb'))
  for (const [k, v] of await runAll(order.filter(f => expected?.has(relative(regtests, f)) !== true), program, show('tslb'), deadline)) tslbResults.set(k, v)
  const runs = [{ name: 'tslb', results: tslbResults }]
  if (values['with-haproxy'] === true) runs.push({ name: 'haproxy', results: await runAll(selected, values.haproxy, show('haproxy')) })
  const tests = selected.map(f => relative(regtests, f))
  process.stdout.write(`\n${summaryTable(tests, runs, notSelected)}`)
  const tslb = runs[0]?.results ?? new Map<string, Result>()
  const passed = tests.filter(t => tslb.get(t)?.outcome === 'pass')
  const inScope = tests.filter(t => IN_SCOPE.includes(dirOf(t)))
  process.stdout.write(`in-scope directories: ${inScope.filter(t => tslb.get(t)?.outcome === 'pass').length} of ${inScope.length} selected tests pass\n`)
  process.stdout.write(`elapsed ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
  if (expected === undefined) {
    process.stdout.write(`regtest: ${passed.length} passed, ${tests.length - passed.length} failed\n`)
    return 0
  }
  const notTried = tests.filter(t => !tslb.has(t))
  if (notTried.length > 0) process.stdout.write(`regtest: ${notTried.length} unlisted tests not tried within the --budget of ${values.budget ?? ''} s (run scripts/regtest --expect ${values.expect} for all)\n`)
  const missing = [...expected].filter(t => !tests.includes(t))
  const listedFailed = tests.filter(t => expected.has(t) && tslb.get(t)?.outcome !== 'pass')
  const unlisted = passed.filter(t => !expected.has(t))
  for (const t of missing) process.stdout.write(`regtest: listed but not run (not found or not selected): ${t}\n`)
  for (const t of listedFailed) process.stdout.write(`regtest: LISTED TEST FAILED: ${t} — ${tslb.get(t)?.reason ?? ''}\n`)
  for (const t of unlisted) process.stdout.write(`regtest: passes but is not listed in ${values.expect}: ${t}\n`)
  const bad = listedFailed.length + missing.length
  process.stdout.write(`regtest: ${passed.length - unlisted.length} passed, ${bad} failed (of ${expected.size} listed; ${unlisted.length} more pass unlisted)\n`)
  return bad === 0 ? 0 : 1
}

process.exitCode = await main()
