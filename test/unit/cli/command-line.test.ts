import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTslb, tslb, waitExit } from '../../helpers/cli.ts'
import { COMMANDS } from '../../../src/cli/commands.ts'

const dir = mkdtempSync(join(tmpdir(), 'tslb-cmdline-'))
const DEFAULTS = 'defaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n'

test('every command has its own --help listing each of its options, -q where it applies', async () => {
  for (const c of COMMANDS) {
    for (const args of [[c.name, '--help'], [c.name, '-h'], ['help', c.name]]) {
      const r = await tslb(args)
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stdout, new RegExp(`^Usage: tslb ${c.name} `))
      for (const o of c.options) assert.ok(r.stdout.includes(`--${o.name}`), `${c.name} --help lists --${o.name}`)
    }
  }
  assert.match((await tslb(['check', '--help'])).stdout, /-q, --quiet/)
  assert.match((await tslb(['reload', '--help'])).stdout, /--strategy NAME\n\s+reload strategy: handoff, syn-drop, tc-plug, iptables-flip/)
})

test("an unknown option or a missing value is one line on stderr naming the command's help, exit 2", async () => {
  const cases: [string[], string][] = [
    [['check', '--nope'], "tslb check: unknown option '--nope' (see 'tslb check --help')\n"],
    [['reload', '-x'], "tslb reload: unknown option '-x' (see 'tslb reload --help')\n"],
    [['status', '--seamless'], "tslb status: unknown option '--seamless' (see 'tslb status --help')\n"],
    [['check', '-f'], "tslb check: option '-f, --config' expects a value (see 'tslb check --help')\n"],
    [['status', 'extra'], "tslb status: unexpected argument 'extra' (see 'tslb status --help')\n"],
    [['--bogus'], "tslb: unknown option '--bogus' (see 'tslb --help')\n"]
  ]
  for (const [args, stderr] of cases) {
    const r = await tslb(args)
    assert.equal(r.code, 2, args.join(' '))
    assert.equal(r.stderr, stderr)
  }
})

test('-vv prints the build: Node.js, OpenSSL, each native addon loading, systeminformation, the feature list', async () => {
  const r = await tslb(['-vv'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^tslb \d+\.\d+\.\d+ \(node v24\./)
  assert.match(r.stdout, new RegExp(`Runtime: Node.js ${process.versions.node} .*OpenSSL ${process.versions.openssl.replace(/\./g, '\\.')}`))
  for (const addon of ['raw-socket', 'cap', 'netlink', 'sd-notify', 'unix-dgram']) assert.match(r.stdout, new RegExp(`  ${addon} \\d+\\.\\d+\\.\\d+: loads`))
  assert.match(r.stdout, /systeminformation \d+\.\d+\.\d+/)
  assert.match(r.stdout, /Feature list : .*-TLS .*\+VRRPv3 /)
  assert.match(r.stdout, /Reload strategies : handoff syn-drop tc-plug iptables-flip/)
  assert.equal((await tslb(['-v'])).stdout.split('\n').length, 2)
})

test('check --json: one object with validity, counts and every diagnostic, for CI', async () => {
  const good = join(dir, 'good.cfg')
  const bad = join(dir, 'bad.cfg')
  writeFileSync(good, `${DEFAULTS}backend app\n  server s1 198.18.0.21:80\n`)
  writeFileSync(bad, `${DEFAULTS}backend app\n  balanc roundrobin\n  server s1 198.18.0.21:80 weight 999\n`)
  const ok = await tslb(['check', '--json', '-f', good])
  assert.equal(ok.code, 0)
  assert.equal(ok.stderr, '')
  assert.deepEqual(JSON.parse(ok.stdout), { valid: true, files: [good], errors: 0, warnings: 0, diagnostics: [] })
  const ko = await tslb(['check', '--json', '-f', bad])
  assert.equal(ko.code, 1)
  assert.equal(ko.stderr, '')
  assert.deepEqual(JSON.parse(ko.stdout), {
    valid: false,
    files: [bad],
    errors: 2,
    warnings: 1,
    diagnostics: [
      { severity: 'warning', file: bad, line: 6, message: "backend 'app' has no server: every request gets 503" },
      { severity: 'error', file: bad, line: 7, message: "unknown keyword 'balanc' in backend section (did you mean 'balance'?)" },
      { severity: 'error', file: bad, line: 8, message: 'weight: 999 is out of range (0..256)' }
    ]
  })
  const missing = await tslb(['check', '--json', '-f', join(dir, 'nope.cfg')])
  assert.equal(missing.code, 1)
  assert.match((JSON.parse(missing.stdout) as { diagnostics: { message: string }[] }).diagnostics[0]?.message ?? '', /ENOENT/)
})

test('check -f FILE -f DIR: problems in any file reported with its name and line', async () => {
  const d = join(dir, 'conf.d')
  mkdirSync(d)
  const base = join(dir, 'base.cfg')
  writeFileSync(base, DEFAULTS)
  writeFileSync(join(d, '10-app.cfg'), 'backend app\n  server s1 198.18.0.21:80\n')
  writeFileSync(join(d, '20-fe.cfg'), 'frontend fe\n  bind 127.0.0.1:18080\n  default_backend ap\n  maxconns 10\n')
  const r = await tslb(['check', '-f', base, '-f', d])
  assert.equal(r.code, 1)
  assert.equal(r.stderr, [
    `${join(d, '20-fe.cfg')}:1: frontend 'fe' routes to backend 'ap', which does not exist`,
    `${join(d, '20-fe.cfg')}:4: unknown keyword 'maxconns' in frontend section (did you mean 'maxconn'?)`,
    `${base} ${d}: 2 error(s): configuration not valid`,
    ''
  ].join('\n'))
})

test('run -f FILE -f DIR: a reload re-reads the same files and directories, a file added to the directory included', async () => {
  const d = join(dir, 'run.d')
  mkdirSync(d)
  const base = join(dir, 'run-base.cfg')
  writeFileSync(base, DEFAULTS)
  writeFileSync(join(d, '10-app.cfg'), 'backend app\n  server s1 198.18.0.21:80\n')
  const sock = join(dir, 'run.sock')
  const { child } = await startTslb(['run', '-f', base, '-f', d, '-S', sock, '-L', 'lb1'], /supervisor started/)
  try {
    const before = JSON.parse((await tslb(['status', '--json', '-S', sock])).stdout) as { configFiles: string[], proxies: { name: string }[], host: { cpus: number } }
    assert.deepEqual(before.configFiles, [base, d])
    assert.deepEqual(before.proxies.map(p => p.name), ['app'])
    assert.ok(before.host.cpus >= 1)
    writeFileSync(join(d, '20-other.cfg'), 'backend other\n  server s2 198.18.0.22:80\n')
    const reload = await tslb(['reload', '-S', sock])
    assert.equal(reload.code, 0, reload.stderr)
    assert.match(reload.stdout, new RegExp(`reading ${base} ${d}\n`))
    const after = JSON.parse((await tslb(['status', '--json', '-S', sock])).stdout) as { proxies: { name: string }[] }
    assert.deepEqual(after.proxies.map(p => p.name), ['app', 'other'])
    const quiet = await tslb(['reload', '-q', '-S', sock])
    assert.equal(quiet.code, 0)
    assert.equal(quiet.stdout, '')
    const text = await tslb(['status', '-S', sock])
    assert.match(text.stdout, new RegExp(`config ${base} ${d}\n`))
    assert.match(text.stdout, /\nhost: \d+ CPUs, load [\d.]+ [\d.]+ [\d.]+, memory \d+ MiB available of \d+ MiB\n/)
  } finally {
    child.kill('SIGTERM')
  }
  assert.equal(await waitExit(child), 0)
})
