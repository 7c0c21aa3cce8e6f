import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../../src/config/parser.ts'
import { compileTcpRules, contentDecided, tcpAccepts } from '../../../../src/proxy/rules/tcp-rules.ts'
import { formatDiagnostic } from '../../../../src/util/errors.ts'

function rules (lines: string): ReturnType<typeof compileTcpRules> {
  const { config } = parseConfig(`frontend fe\n  bind :80\n${lines}`, 't.cfg', { env: {} })
  return compileTcpRules(config.proxies[0] as NonNullable<typeof config.proxies[0]>)
}

const from = (src: string) => ({ src, srcPort: 1234, dst: '127.0.0.1', dstPort: 80 })

test('no tcp-request rule: nothing to run', () => {
  assert.equal(rules(''), undefined)
})

test('each phase stops at its first matching rule; accept lets the next phase run; a reject in any phase closes', () => {
  const r = rules([
    '  tcp-request connection accept if { src 10.0.0.1 }',
    '  tcp-request connection reject if { src 10.0.0.0/8 }',
    '  tcp-request content reject if { src 10.0.0.1 } { dst_port 80 }',
    '  tcp-request session reject if { src 192.0.2.0/24 }', ''].join('\n'))
  assert.ok(r !== undefined)
  assert.equal(tcpAccepts(r, from('10.0.0.2')), false)
  assert.equal(tcpAccepts(r, from('10.0.0.1')), false)
  assert.equal(tcpAccepts(r, from('192.0.2.9')), false)
  assert.equal(tcpAccepts(r, from('::ffff:198.51.100.1')), true)
})

test('tcp-request set-var(txn.x) is HAProxy syntax and refused while not enforced (an enforced deny may read it)', () => {
  const { diagnostics } = parseConfig('frontend fe\n  bind :80\n  tcp-request content set-var(txn.x) src\n', 't.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic), [
    "t.cfg:3: 'tcp-request content set-var' is not enforced yet: tslb refuses it rather than let through what it would stop"
  ])
})

test('content rules over req.len / req.payload: wait while a rule over them does not hold yet, decide when one holds (as HAProxy)', () => {
  const relay = ['  mode tcp', '  tcp-request inspect-delay 100ms',
    '  tcp-request content accept if { req.len eq 4 } { req.payload(0,4) -m bin "0B000001" }',
    '  tcp-request content reject', '  default_backend b', 'backend b', '  mode tcp', '  server s 127.0.0.1:1', ''].join('\n')
  const { config, diagnostics } = parseConfig(`frontend fe\n  bind :80\n${relay}`, 't.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic), [])
  const r = compileTcpRules(config.proxies[0] as NonNullable<typeof config.proxies[0]>)
  assert.ok(r !== undefined)
  const bytes = (hex: string) => ({ ...from('127.0.0.1'), payload: Buffer.from(hex, 'hex') })
  assert.equal(contentDecided(r, bytes('0B00')), false, 'two of four bytes: the accept may still hold')
  assert.equal(contentDecided(r, bytes('0B000001')), true)
  assert.equal(tcpAccepts(r, bytes('0B000001')), true)
  assert.equal(tcpAccepts(r, bytes('0B000002')), false, 'the right length, the wrong bytes: rejected')
  assert.equal(tcpAccepts(r, bytes('0B00')), false, 'the delay over with two bytes: the rules run as they are')
  const http = parseConfig('frontend fe\n  mode http\n  bind :80\n  http-request deny if { req.len gt 0 }\n', 't.cfg', { env: {} })
  assert.match(http.diagnostics.map(formatDiagnostic).join('\n'), /'req\.len' is not enforced yet: tslb refuses it/, 'in HTTP rules req.len is not enforced: refused')
  const noDelay = parseConfig(`frontend fe\n  mode tcp\n  bind :80\n  tcp-request content reject if { req.len gt 0 }\n`, 't.cfg', { env: {} })
  assert.match(noDelay.diagnostics.map(formatDiagnostic).join('\n'), /'req\.len' is not enforced yet: tslb refuses it|tcp-request content reject over req\.len/, 'without inspect-delay nothing is read: refused')
  assert.match(parseConfig('frontend fe\n  mode tcp\n  bind :80\n  acl x req.payload(0,2) -m bin 0B0\n', 't.cfg', { env: {} }).diagnostics.map(formatDiagnostic).join('\n'),
    /'-m bin' expects an even number of hexadecimal digits/)
})
