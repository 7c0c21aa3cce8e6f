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
