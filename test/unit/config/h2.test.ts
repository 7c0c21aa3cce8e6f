import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'
import { DEFAULT_H2_SETTINGS, h2Settings } from '../../../src/proxy/h2/connection.ts'

function errors (text: string): string[] {
  return parseConfig(text, 't.cfg', { env: {} }).diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic)
}

const BASE = `defaults
  timeout connect 5s
  timeout client 30s
  timeout server 30s
backend be
  mode http
  server s1 198.18.0.21:80
`

test('bind proto h2 / h1 in mode http; any other protocol, or mode tcp, is an error', () => {
  const r = parseConfig(`${BASE}frontend fe
  mode http
  bind :80 proto h2
  bind :81 proto h1
  default_backend be
`, 't.cfg', { env: {} })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  const fe = r.config.proxies.find(p => p.name === 'fe')
  assert.deepEqual(fe?.binds.map(b => b.options.proto), ['h2', 'h1'])
  assert.deepEqual(errors(`${BASE}frontend fe
  mode http
  bind :80 proto h3
  default_backend be
`), ["t.cfg:10: bind option 'proto' expects h1 or h2, got 'h3'"])
  assert.deepEqual(errors(`${BASE}frontend t
  mode tcp
  bind :80 proto h2
`), ["t.cfg:10: 'bind ... proto h2' needs 'mode http' (frontend 't' is in tcp mode)"])
})

test('tune.h2.*: HAProxy 2.6 defaults, the values set, and out-of-range values refused', () => {
  assert.deepEqual(h2Settings({}), DEFAULT_H2_SETTINGS)
  assert.deepEqual(DEFAULT_H2_SETTINGS, { maxConcurrentStreams: 100, initialWindowSize: 65535, headerTableSize: 4096,
    maxFrameSize: 16384 })
  const r = parseConfig(`global
  tune.h2.max-concurrent-streams 10
  tune.h2.initial-window-size 1048576
  tune.h2.header-table-size 8192
  tune.h2.max-frame-size 32768
${BASE}`, 't.cfg', { env: {} })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  assert.deepEqual(h2Settings(r.config.global.tune), { maxConcurrentStreams: 10, initialWindowSize: 1048576,
    headerTableSize: 8192, maxFrameSize: 32768 })
  for (const bad of ['tune.h2.max-concurrent-streams 0', 'tune.h2.max-frame-size 1000',
    'tune.h2.header-table-size 70000', 'tune.h2.initial-window-size x']) {
    assert.equal(errors(`global\n  ${bad}\n${BASE}`).length, 1, bad)
  }
})
