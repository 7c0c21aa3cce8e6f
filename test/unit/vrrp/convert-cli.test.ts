import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tslb } from '../../helpers/cli.ts'

const seeds = join(import.meta.dirname, '../../fixtures/seeds')

test('tslb convert: every keepalived seed → sections that `tslb check` accepts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-convert-'))
  try {
    for (const f of readdirSync(seeds).filter(x => x.endsWith('.keepalived.conf'))) {
      const conv = await tslb(['convert', join(seeds, f)])
      assert.equal(conv.code, 0, conv.stderr)
      assert.match(conv.stdout, /^vrrp_instance VI_1$/m)
      const out = join(dir, `${f}.cfg`)
      writeFileSync(out, conv.stdout)
      const check = await tslb(['check', '-f', out])
      assert.equal(check.code, 0, `${f}:\n${conv.stdout}\n${check.stderr}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('tslb convert: usage errors, unreadable files, syntax errors', async () => {
  const none = await tslb(['convert'])
  assert.equal(none.code, 2)
  assert.match(none.stderr, /expects a keepalived\.conf file/)
  const missing = await tslb(['convert', '/nonexistent/keepalived.conf'])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /cannot read/)
  const dir = mkdtempSync(join(tmpdir(), 'tslb-convert-'))
  try {
    const bad = join(dir, 'bad.conf')
    writeFileSync(bad, 'vrrp_instance X {\n  state MASTER\n')
    const r = await tslb(['convert', bad])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /line 1: '\{' is never closed/)
    const warn = join(dir, 'warn.conf')
    writeFileSync(warn, 'vrrp_instance X {\n  interface eth0\n  virtual_router_id 9\n  use_vmac\n  virtual_ipaddress {\n    198.18.0.100\n  }\n}\n')
    const w = await tslb(['convert', warn])
    assert.equal(w.code, 0)
    assert.match(w.stdout, /# warning: keepalived\.conf line 4: 'use_vmac' has no tslb equivalent/)
    assert.match(w.stderr, /1 warning\(s\)/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('tslb convert -o FILE writes the file; output that would not pass check exits 1 and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-convert-'))
  try {
    const good = join(dir, 'good.conf')
    writeFileSync(good, 'vrrp_instance X {\n  interface eth0\n  virtual_router_id 9\n  virtual_ipaddress {\n    198.18.0.100\n  }\n}\n')
    const out = join(dir, 'out.cfg')
    const r = await tslb(['convert', good, '-o', out])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(readFileSync(out, 'utf8'), /^vrrp_instance X$/m)
    assert.equal((await tslb(['check', '-f', out])).code, 0)
    const bad = join(dir, 'bad.conf')
    writeFileSync(bad, 'vrrp_instance X {\n  virtual_router_id 9\n  track_script {\n    missing\n  }\n  virtual_ipaddress {\n    198.18.0.100\n  }\n}\n')
    const b = await tslb(['convert', bad])
    assert.equal(b.code, 1)
    assert.match(b.stdout, /^vrrp_instance X$/m, 'the output is still written, to be fixed by hand')
    assert.match(b.stderr, /would not pass 'tslb check': .*has no 'interface'/)
    assert.match(b.stderr, /would not pass 'tslb check': .*tracks vrrp_script 'missing', which does not exist/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
