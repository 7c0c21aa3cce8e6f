import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTslb, tslb, waitExit } from '../../helpers/cli.ts'
import { controlRequest } from '../../../src/supervisor/control-socket.ts'

const dir = mkdtempSync(join(tmpdir(), 'tslb-cli-'))
const GOOD = `defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
backend app
  server web1 198.18.0.21:80 check
`
const BAD = `${GOOD}  balanc roundrobin
  server web2 198.18.0.22:80 weight 999
`

test('--version and --help', async () => {
  const v = await tslb(['--version'])
  assert.equal(v.code, 0)
  assert.match(v.stdout, /^tslb \d+\.\d+\.\d+ \(node v24\./)
  const h = await tslb(['--help'])
  assert.equal(h.code, 0)
  for (const cmd of ['run', 'check', 'reload', 'status', 'convert']) assert.match(h.stdout, new RegExp(`  ${cmd} `))
})

test('check: exit 0 on a valid file, 1 with FILE:LINE messages on a broken one', async () => {
  const good = join(dir, 'good.cfg')
  const bad = join(dir, 'bad.cfg')
  writeFileSync(good, GOOD)
  writeFileSync(bad, BAD)
  const ok = await tslb(['check', '-f', good])
  assert.equal(ok.code, 0, ok.stderr)
  assert.match(ok.stdout, /Configuration file is valid/)
  const ko = await tslb(['check', '-f', bad])
  assert.equal(ko.code, 1)
  assert.match(ko.stderr, new RegExp(`${bad}:8: unknown keyword 'balanc' in backend section \\(did you mean 'balance'\\?\\)`))
  assert.match(ko.stderr, new RegExp(`${bad}:9: weight: 999 is out of range \\(0..256\\)`))
  assert.match(ko.stderr, /2 error\(s\): configuration not valid/)
})

test('check: a missing file and bad usage are reported, not thrown', async () => {
  const missing = await tslb(['check', '-f', join(dir, 'nope.cfg')])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /cannot read configuration file .*nope.cfg.*ENOENT/)
  const usage = await tslb(['frobnicate'])
  assert.equal(usage.code, 2)
  assert.match(usage.stderr, /unknown command 'frobnicate'/)
  const badOpt = await tslb(['check', '--nope'])
  assert.equal(badOpt.code, 2)
})

test('run: control socket 0600, status, reload refuses a broken file and keeps the old one, SIGTERM stops cleanly', async () => {
  const cfg = join(dir, 'run.cfg')
  const sock = join(dir, 'ctl', 'master.sock')
  const pid = join(dir, 'tslb.pid')
  writeFileSync(cfg, GOOD)
  const { child } = await startTslb(['run', '-f', cfg, '-S', sock, '-p', pid, '-L', 'lb1'], /supervisor started/)
  try {
    assert.equal(statSync(sock).mode & 0o777, 0o600)
    assert.equal(readFileSync(pid, 'utf8').trim(), String(child.pid))
    const status = await tslb(['status', '-S', sock, '--json'])
    assert.equal(status.code, 0, status.stderr)
    const s = JSON.parse(status.stdout) as { node: string, proxies: { name: string }[], reloads: number }
    assert.equal(s.node, 'lb1')
    assert.deepEqual(s.proxies.map(p => p.name), ['app'])

    writeFileSync(cfg, BAD)
    const refused = await tslb(['reload', '--seamless', '-S', sock])
    assert.equal(refused.code, 1)
    assert.match(refused.stdout, /run.cfg:8: unknown keyword 'balanc'/)
    assert.match(refused.stderr, /the running one is kept/)

    writeFileSync(cfg, `${GOOD}backend other\n  server web2 198.18.0.22:80\n`)
    const reloaded = await tslb(['reload', '-S', sock])
    assert.equal(reloaded.code, 0, reloaded.stderr)
    assert.match(reloaded.stdout, /configuration valid: 2 proxies/)
    const after = JSON.parse((await tslb(['status', '-S', sock, '--json'])).stdout) as { proxies: { name: string }[], reloads: number }
    assert.deepEqual(after.proxies.map(p => p.name), ['app', 'other'])
    assert.equal(after.reloads, 1)

    const unknown = await tslb(['reload', '--strategy', 'hot-swap', '-S', sock])
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /unknown reload strategy 'hot-swap' \(one of: handoff, syn-drop, tc-plug, iptables-flip\)/)
    const direct = await controlRequest(sock, { cmd: 'reload', strategy: 'hot-swap' })
    assert.equal(direct.ok, false)
    assert.match(direct.error ?? '', /unknown reload strategy 'hot-swap'/)
  } finally {
    child.kill('SIGTERM')
  }
  assert.equal(await waitExit(child), 0)
  assert.equal(existsSync(pid), false)
})

test('run: a broken configuration does not start', async () => {
  const cfg = join(dir, 'broken-run.cfg')
  writeFileSync(cfg, BAD)
  const r = await tslb(['run', '-f', cfg, '-S', join(dir, 'x.sock')])
  assert.equal(r.code, 1)
  assert.match(r.stdout + r.stderr, /configuration not valid: not starting/)
})

test('status: no supervisor running is a clear error', async () => {
  const r = await tslb(['status', '-S', join(dir, 'absent.sock')])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /cannot reach the supervisor .*\(is 'tslb run' running\?\)/)
})
