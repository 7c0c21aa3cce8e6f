import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../../src/config/parser.ts'
import type { Proxy } from '../../../../src/config/model.ts'
import type { Backend } from '../../../../src/proxy/backend.ts'
import { analyseRequest } from '../../../../src/proxy/http/analysis.ts'
import { RequestSample } from '../../../../src/proxy/http/request-sample.ts'
import { serializeRequestHead } from '../../../../src/proxy/http/codec.ts'
import { req } from './helpers.ts'

function proxies (fe: string, be: string): { fe: Proxy, be: Proxy } {
  const { config, diagnostics } = parseConfig(`defaults\n  mode http\nfrontend fe\n  bind :80\n${fe}  default_backend be\n` +
    `backend be\n${be}  server s 127.0.0.1:8080\n`, 't.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  return { fe: config.proxies[0] as Proxy, be: config.proxies[1] as Proxy }
}

function analyse (fe: string, be: string, headers: string): { kind: string, status?: number, head: string } {
  const p = proxies(fe, be)
  const backend = { name: 'be', config: p.be } as unknown as Backend
  const head = req(`GET / HTTP/1.1\r\nHost: h\r\n${headers}\r\n`)
  const sample = new RequestSample(head, { srcIp: '198.18.0.1', srcPort: 1, dstIp: '198.18.0.2', dstPort: 80,
    nbsrv: () => 1 })
  const out = analyseRequest({ name: 'fe', config: p.fe, route: () => backend } as unknown as Parameters<
    typeof analyseRequest>[0], { request: head, sample })
  return { kind: out.kind, ...(out.kind === 'reply' ? { status: out.status } : {}),
    head: serializeRequestHead(head).toString('latin1') }
}

const ODD = 'X-my_hdr: on\r\nX-Ok: 1\r\n'

test('http-restrict-req-hdr-names: preserve (the default) forwards a name with an underscore', () => {
  assert.match(analyse('', '', ODD).head, /X-my_hdr: on/)
  assert.match(analyse('', '  option http-restrict-req-hdr-names preserve\n', ODD).head, /X-my_hdr: on/)
})

test('delete removes the names outside [A-Za-z0-9-] and keeps the others; reject answers 403', () => {
  const deleted = analyse('', '  option http-restrict-req-hdr-names delete\n', ODD)
  assert.equal(deleted.kind, 'forward')
  assert.doesNotMatch(deleted.head, /my_hdr/)
  assert.match(deleted.head, /X-Ok: 1/)
  assert.deepEqual(analyse('  option http-restrict-req-hdr-names reject\n', '', ODD).status, 403)
  assert.deepEqual(analyse('', '  option http-restrict-req-hdr-names reject\n', ODD).status, 403)
  assert.equal(analyse('', '  option http-restrict-req-hdr-names reject\n', 'X-Ok: 1\r\n').kind, 'forward')
})

test('it runs after the proxy\'s rules (an allow does not skip it); a bad argument is refused at load', () => {
  assert.equal(analyse('  http-request allow\n  option http-restrict-req-hdr-names reject\n', '', ODD).status, 403)
  const { diagnostics } = parseConfig('frontend fe\n  option http-restrict-req-hdr-names\n', 't.cfg', { env: {} })
  assert.ok(diagnostics.some(d => /expects preserve, delete or reject/.test(d.message)))
})
