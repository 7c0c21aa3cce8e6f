import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'
import { listenerSpecs } from '../../../src/supervisor/listeners.ts'

function parse (text: string): ReturnType<typeof parseConfig> {
  return parseConfig(text, 't.cfg', { env: { fe1: '7', cli: '8' } })
}
function errors (text: string): string[] {
  return parse(text).diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic)
}

const FE = (bind: string): string => `defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\nfrontend fe\n  bind ${bind}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:8080\n`

test('bind "fd@${VAR}" listens on the inherited descriptor: one listener keyed fd@N', () => {
  const { config, diagnostics } = parse(FE('"fd@${fe1}"'))
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const a = config.proxies.find(p => p.name === 'fe')?.binds[0]?.addresses[0]
  assert.equal(a?.fd, 7)
  assert.deepEqual(listenerSpecs(config).map(s => [s.key, s.fd]), [['fd@7', 7]])
})

test('bind fd@ without a number, and two binds of one fd, are refused', () => {
  assert.match(errors(FE('fd@x')).join('\n'), /expected fd@ and a file descriptor number/)
  assert.match(errors(FE('fd@3,fd@3')).join('\n'), /already bound/)
})

test('stats socket on fd@N and on TCP: the supervisor listens (listener specs), the path stays empty', () => {
  const { config, diagnostics } = parse('global\n  stats socket "fd@${cli}" level admin\n  stats socket ipv4@127.0.0.1:9999 level admin\n  stats socket 127.0.0.1:9998\n  stats socket /run/x.sock mode 600\n' + FE('127.0.0.1:8000'))
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const socks = config.global.statsSockets
  assert.deepEqual(socks.map(s => [s.path, s.address?.fd, s.address?.host, s.address?.port]), [['', 8, '', undefined], ['', undefined, '127.0.0.1', 9999], ['', undefined, '127.0.0.1', 9998], ['/run/x.sock', undefined, undefined, undefined]])
  assert.deepEqual(listenerSpecs(config).map(s => s.key), ['127.0.0.1|8000', 'fd@8', '127.0.0.1|9999', '127.0.0.1|9998'])
})

test('stats socket with a port range is refused', () => {
  assert.match(errors('global\n  stats socket 127.0.0.1:9000-9001\n').join('\n'), /port range is not allowed/)
})

test('unquoted $VAR / ${VAR} in addresses are expanded, as HAProxy 2.6 does (checked with haproxy -c); not in other keywords', () => {
  const r = parseConfig('defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nlisten l\n  bind 127.0.0.1:${PORT}\n  bind 127.0.0.1:$PORT2\n  bind \'127.0.0.1:${PORT3}\'\n  server s ${ADDR}:${SPORT-81}\n', 't.cfg', { env: { PORT: '18081', PORT2: '18082', PORT3: '18083', ADDR: '127.0.0.2' } })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  const l = r.config.proxies.find(p => p.name === 'l')
  assert.deepEqual(l?.binds.map(b => b.addresses[0]?.port), [18081, 18082, 18083])
  assert.deepEqual([l?.servers[0]?.address.host, l?.servers[0]?.address.port], ['127.0.0.2', 81])
  // haproxy -c: "unexpected character '$' in 'timeout client'"
  const t = parseConfig('defaults\n  timeout client ${TMO}\n', 't.cfg', { env: { TMO: '5s' } })
  assert.ok(t.diagnostics.some(d => d.severity === 'error' && d.line === 2))
})
