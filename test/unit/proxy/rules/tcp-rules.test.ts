import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../../src/config/parser.ts'
import { compileTcpRules, tcpAccepts } from '../../../../src/proxy/rules/tcp-rules.ts'
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
