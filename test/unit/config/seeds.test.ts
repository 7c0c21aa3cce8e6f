import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseConfig } from '../../../src/config/parser.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'

const dir = join(import.meta.dirname, '../../fixtures/seeds')
const seeds = readdirSync(dir).filter(f => f.endsWith('.cfg')).sort()

test('there are seed configurations to check', () => {
  assert.ok(seeds.length >= 25, `only ${seeds.length} seed configs found`)
})

for (const file of seeds) {
  test(`seed ${file} loads without error`, () => {
    const text = readFileSync(join(dir, file), 'utf8')
    const localPeer = file.startsWith('000-') ? 'haproxy1' : undefined
    const { config, diagnostics } = parseConfig(text, file, { env: {}, localPeer })
    const errors = diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic)
    assert.deepEqual(errors, [])
    assert.ok(config.proxies.length + config.peers.length > 0)
  })
}

test('legacy 1.x keywords load with a warning naming the modern form', () => {
  const text = readFileSync(join(dir, '004-s4.2.1-port81-tcp-dispatch.cfg'), 'utf8')
  const { config, diagnostics } = parseConfig(text, 'x.cfg', { env: {} })
  const warnings = diagnostics.filter(d => d.severity === 'warning').map(d => d.message).join('\n')
  assert.match(warnings, /'contimeout' is deprecated: use 'timeout connect'/)
  assert.match(warnings, /'clitimeout' is deprecated: use 'timeout client'/)
  assert.match(warnings, /'srvtimeout' is deprecated: use 'timeout server'/)
  assert.match(warnings, /'dispatch' is a 1.x keyword/)
  const listen = config.proxies[0]
  assert.equal(listen?.timeouts.connect, 1000)
  assert.equal(listen?.timeouts.client, 10_000)
  assert.equal(listen?.dispatch?.port, 80)
})

test('seed 000: stick table replicated through a peers section', () => {
  const text = readFileSync(join(dir, '000-stick-table-replication.cfg'), 'utf8')
  const { config } = parseConfig(text, 'x.cfg', { env: {}, localPeer: 'haproxy1' })
  assert.deepEqual(config.peers[0]?.peers.map(p => p.name), ['haproxy1', 'haproxy2', 'haproxy3'])
  const backend = config.proxies.find(p => p.stickTable !== undefined)
  assert.equal(backend?.stickTable?.type, 'string')
  assert.equal(backend?.stickTable?.peers, 'mypeers')
  assert.deepEqual(backend?.stickRules.map(r => [r.kind, r.pattern]), [['on', 'req.cook(PHPSESSID)'], ['store-response', 'res.cook(PHPSESSID)']])
})

test('seed 004 §1: listen with cookie insert indirect', () => {
  const text = readFileSync(join(dir, '004-s1-cookie-insert.cfg'), 'utf8')
  const { config } = parseConfig(text, 'x.cfg', { env: {} })
  const p = config.proxies[0]
  assert.equal(p?.kind, 'listen')
  assert.equal(p?.binds[0]?.addresses[0]?.host, '198.18.0.100')
  assert.equal(p?.cookie?.mode, 'insert')
  assert.equal(p?.cookie?.indirect, true)
  assert.deepEqual(p?.servers.map(s => [s.name, s.cookie, s.check]), [['webA', 'A', true], ['webB', 'B', true], ['webC', 'C', true], ['webD', 'D', true]])
  assert.equal(p?.httpCheck?.method, 'HEAD')
  assert.equal(p?.httpCheck?.uri, '/index.html')
})
