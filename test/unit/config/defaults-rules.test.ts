import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import type { Proxy } from '../../../src/config/model.ts'
import { rulesOf, runRules } from '../../../src/proxy/rules/index.ts'
import { RequestSample } from '../../../src/proxy/http/request-sample.ts'
import { serializeRequestHead } from '../../../src/proxy/http/codec.ts'
import { req } from '../proxy/http/helpers.ts'

function load (text: string): { proxies: Proxy[], errors: string[] } {
  const { config, diagnostics } = parseConfig(text, 't.cfg', { env: {} })
  return { proxies: config.proxies, errors: diagnostics.filter(d => d.severity === 'error').map(d => d.message) }
}

function run (p: Proxy, path: string): { kind: string | undefined, head: string } {
  const head = req(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`)
  const sample = new RequestSample(head, { srcIp: '198.18.0.1', srcPort: 1, dstIp: '198.18.0.2', dstPort: 80,
    nbsrv: () => 1 })
  const v = runRules(rulesOf(p).request, { request: head, sample })
  return { kind: v?.kind, head: serializeRequestHead(head).toString('latin1') }
}

const BASE = 'defaults common\n  mode http\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\n'

test('rules of a named defaults section run before the proxy\'s own, with ACLs of their own', () => {
  const { proxies, errors } = load(`${BASE}defaults def_front from common
  acl admin path_beg /admin
  http-request set-header X-From defaults
  http-request allow if { path /open }
  http-request deny if admin
frontend fe from def_front
  bind :80
  acl admin path_beg /other
  http-request set-header X-Own fe
  http-request deny if admin
`)
  assert.deepEqual(errors, [])
  const fe = proxies[0] as Proxy
  const plain = run(fe, '/x')
  assert.equal(plain.kind, undefined)
  assert.match(plain.head, /X-From: defaults\r\nX-Own: fe\r\n/, 'the defaults\' rules first')
  assert.equal(run(fe, '/admin').kind, 'reply', 'the defaults\' ACL named admin')
  assert.equal(run(fe, '/other').kind, 'reply', 'the proxy\'s own ACL named admin')
  const open = run(fe, '/open')
  assert.equal(open.kind, 'allow')
  assert.doesNotMatch(open.head, /X-Own/, 'an allow among the defaults\' rules ends the proxy\'s rules too')
})

test('a proxy that does not use the section does not get its rules; the last named defaults is used implicitly', () => {
  const { proxies, errors } = load(`${BASE}defaults rules from common
  http-request set-header X-Rules 1
frontend a from common
  bind :80
frontend b
  bind :81
`)
  assert.deepEqual(errors, [])
  assert.doesNotMatch(run(proxies[0] as Proxy, '/').head, /X-Rules/)
  assert.match(run(proxies[1] as Proxy, '/').head, /X-Rules: 1/)
})

test('misuses are refused as HAProxy refuses them', () => {
  assert.match(load('defaults\n  http-request set-header X 1\n').errors[0] ?? '',
    /'http-request' is not allowed in an anonymous 'defaults' section/)
  assert.match(load('defaults\n  tcp-request connection accept\n').errors[0] ?? '', /anonymous 'defaults' section/)
  const rules = 'defaults r\n  mode http\n  http-request set-header X 1\n'
  assert.match(load(`${rules}listen l from r\n  bind :80\n`).errors[0] ?? '', /listen 'l' cannot use defaults section 'r'/)
  assert.match(load(`${rules}frontend f from r\n  bind :80\nbackend b from r\n`).errors[0] ?? '',
    /backend 'b' cannot use defaults section 'r': it holds rules and frontend 'f' uses it already/)
  assert.match(load(`${rules}defaults d from r\n`).errors[0] ?? '', /another defaults section cannot be made from it/)
  assert.match(load('defaults r\n  tcp-request connection accept\nbackend b from r\n').errors[0] ?? '',
    /'tcp-request connection' rules apply to frontends only/)
})
