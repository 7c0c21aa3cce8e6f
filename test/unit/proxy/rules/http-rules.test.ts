import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../../src/config/parser.ts'
import type { Proxy } from '../../../../src/config/model.ts'
import { rulesOf, runRules } from '../../../../src/proxy/rules/index.ts'
import { setUserlists } from '../../../../src/proxy/rules/userlists.ts'
import { RequestSample } from '../../../../src/proxy/http/request-sample.ts'
import { serializeRequestHead, serializeResponseHead } from '../../../../src/proxy/http/codec.ts'
import { req, res } from '../http/helpers.ts'

const ORIGIN = { srcIp: '192.0.2.7', srcPort: 40000, dstIp: '127.0.0.1', dstPort: 80, nbsrv: () => 1 }

function frontend (rules: string, extra = ''): Proxy {
  const { config, diagnostics } = parseConfig(`${extra}frontend fe\n  mode http\n  bind :80\n${rules}`, 't.cfg',
    { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  setUserlists(config.userlists)
  return config.proxies[0] as Proxy
}

function request (p: Proxy, text: string): { verdict: ReturnType<typeof runRules>, head: string, sample: RequestSample } {
  const head = req(text)
  // A new connection each time: set-src changes the connection's address.
  const sample = new RequestSample(head, { ...ORIGIN })
  const verdict = runRules(rulesOf(p).request, { request: head, sample })
  return { verdict, head: serializeRequestHead(head).toString('latin1'), sample }
}

const GET = (path: string, headers = ''): string => `GET ${path} HTTP/1.1\r\nHost: h\r\n${headers}\r\n`

test('deny stops at the first matching rule, with HAProxy default 403 page; other requests pass untouched', () => {
  const p = frontend('  http-request deny if { path_beg /admin }\n  http-request set-header X-After 1\n')
  const denied = request(p, GET('/admin/x'))
  assert.equal(denied.verdict?.kind, 'reply')
  if (denied.verdict?.kind !== 'reply') return
  assert.equal(denied.verdict.status, 403)
  assert.match(denied.verdict.bytes.toString(), /^HTTP\/1\.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text\/html\r\n\r\n<html>/)
  const passed = request(p, GET('/public'))
  assert.equal(passed.verdict, undefined)
  assert.match(passed.head, /X-After: 1\r\n/)
})

test('allow ends the list: a later deny does not apply; unless negates', () => {
  const p = frontend('  http-request allow if { src 192.0.2.0/24 }\n  http-request deny\n')
  assert.equal(request(p, GET('/')).verdict?.kind, 'allow')
  const q = frontend('  http-request deny unless { src 10.0.0.0/8 }\n')
  assert.equal(request(q, GET('/')).verdict?.kind, 'reply')
})

test('deny with deny_status, hdr, content-type and string: fields in HAProxy order', () => {
  const p = frontend('  http-request deny deny_status 429 hdr X-A b content-type text/plain string "slow down"\n')
  const v = request(p, GET('/')).verdict
  assert.ok(v?.kind === 'reply')
  assert.equal(v.bytes.toString(), 'HTTP/1.1 429 Too Many Requests\r\nx-a: b\r\ncontent-length: 9\r\ncontent-type: text/plain\r\n\r\nslow down')
})

test('auth answers 401 with the realm unless the Basic credentials are a user of the list (plain and SHA-crypt)', () => {
  const list = 'userlist ul\n  user admin insecure-password secret\n' +
    '  user ops password $5$rounds=1200$abc$Q3kHwYakADWyEZC17fqyY424kvUniNt7oJc1b4TQU/2\n'
  const p = frontend('  http-request auth realm Admin unless { http_auth(ul) }\n', list)
  const none = request(p, GET('/')).verdict
  assert.ok(none?.kind === 'reply')
  assert.match(none.bytes.toString(), /^HTTP\/1\.1 401 Unauthorized\r\n.*www-authenticate: Basic realm="Admin"\r\n\r\n/s)
  const basic = (u: string): string => `Authorization: Basic ${Buffer.from(u).toString('base64')}\r\n`
  assert.equal(request(p, GET('/', basic('admin:secret'))).verdict, undefined)
  assert.equal(request(p, GET('/', basic('ops:secret'))).verdict, undefined)
  assert.equal(request(p, GET('/', basic('ops:wrong'))).verdict?.kind, 'reply')
  assert.equal(request(p, GET('/', basic('nobody:secret'))).verdict?.kind, 'reply')
})

test('redirect location, prefix with drop-query and append-slash, scheme; cache-control as HAProxy (302/303/307 only)', () => {
  const p = frontend([
    '  http-request redirect location /new code 301 if { path_beg /r1 }',
    '  http-request redirect prefix /p drop-query append-slash if { path_beg /r2 }',
    '  http-request redirect scheme https if { path_beg /r3 }', ''].join('\n'))
  const text = (path: string): string => { const v = request(p, GET(path)).verdict; assert.ok(v?.kind === 'reply'); return v.bytes.toString() }
  assert.equal(text('/r1'), 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /new\r\n\r\n')
  assert.equal(text('/r2/x?y=1'), 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /p/r2/x/\r\ncache-control: no-cache\r\n\r\n')
  assert.equal(text('/r3/a?b'), 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://h/r3/a?b\r\ncache-control: no-cache\r\n\r\n')
})

test('return with a sample in a header (lf) and a literal body', () => {
  const p = frontend('  http-request return status 200 content-type text/plain string hello hdr X-Src %[src]\n')
  const v = request(p, GET('/')).verdict
  assert.ok(v?.kind === 'reply')
  assert.equal(v.bytes.toString(), 'HTTP/1.1 200 OK\r\nx-src: 192.0.2.7\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello')
})

test('header rewrites: set replaces every occurrence, add appends, del (-m beg), replace-header with \\N, replace-value per element', () => {
  const p = frontend([
    '  http-request set-header X-Set %[req.hdr(host)]-%[src]',
    '  http-request add-header X-Add "a b"',
    '  http-request del-header x-tmp -m beg',
    '  http-request replace-header X-Rep (.*)-(.*) \\2-\\1',
    '  http-request replace-value X-List ^v(.) w\\1', ''].join('\n'))
  const { head } = request(p, GET('/', 'X-Set: old\r\nX-Set: older\r\nX-Tmp-1: a\r\nx-tmp2: b\r\nX-Rep: one-two\r\nX-List: v1, v2,z\r\n'))
  assert.equal(head, 'GET / HTTP/1.1\r\nHost: h\r\nX-Rep: two-one\r\nX-List: w1,w2,z\r\nX-Set: h-192.0.2.7\r\nX-Add: a b\r\n\r\n')
})

test('path, query, uri and method rewrites; later rules and ACLs see the rewritten request', () => {
  const p = frontend([
    '  http-request set-path /api%[path]',
    '  http-request set-query q=1',
    '  http-request set-method POST if { path_beg /api/ }',
    '  http-request replace-path ^/api/v1/(.*) /v2/\\1',
    '  http-request set-header X-Path %[path]', ''].join('\n'))
  const { head } = request(p, GET('/v1/users?old=1'))
  assert.equal(head, 'POST /v2/users?q=1 HTTP/1.1\r\nHost: h\r\nX-Path: /v2/users\r\n\r\n')
  const u = frontend('  http-request set-uri /x?y\n  http-request set-pathq /p?q\n  http-request replace-uri ^/p(.*) /r\\1\n')
  assert.equal(request(u, GET('/a')).head, 'GET /r?q HTTP/1.1\r\nHost: h\r\n\r\n')
})

test('set-var / unset-var with var() in a condition and in a value; the scope is kept apart', () => {
  const p = frontend([
    '  http-request set-var(txn.host) req.hdr(host)',
    '  http-request set-header X-Host %[var(txn.host)]',
    '  http-request set-var(txn.gone) src',
    '  http-request unset-var(txn.gone)',
    '  http-request deny if { var(txn.gone) -m found }',
    '  http-request deny if { var(txn.host) -m str evil }', ''].join('\n'))
  const ok = request(p, GET('/'))
  assert.equal(ok.verdict, undefined)
  assert.match(ok.head, /X-Host: h\r\n/)
  assert.equal(ok.sample.variable('txn.host'), 'h')
  assert.equal(request(p, 'GET / HTTP/1.1\r\nHost: evil\r\n\r\n').verdict?.kind, 'reply')
})

test('set-var over an expression without a sample leaves the variable as it was (HAProxy: the action does nothing)', () => {
  const p = frontend('  http-request set-var(txn.id) str(first)\n  http-request set-var(txn.id) req.hdr(x-none)\n')
  assert.equal(request(p, GET('/')).sample.variable('txn.id'), 'first')
})

test('reject and silent-drop drop the request; tarpit carries its status', () => {
  assert.equal(request(frontend('  http-request reject\n'), GET('/')).verdict?.kind, 'drop')
  assert.equal(request(frontend('  http-request silent-drop\n'), GET('/')).verdict?.kind, 'drop')
  const t = request(frontend('  http-request tarpit deny_status 503\n'), GET('/')).verdict
  assert.ok(t?.kind === 'tarpit')
  assert.equal(t.status, 503)
  assert.match(t.bytes.toString(), /^HTTP\/1\.1 503 Service Unavailable\r\n/)
})

test('http-response: header actions and set-status edit the response; deny gives a 502', () => {
  const p = frontend('  http-response set-header X-Resp 1\n  http-response del-header Server\n  http-response set-status 203 reason Fine\n' +
    '  http-response deny if { res.hdr(x-leak) -m found }\n')
  const request = req(GET('/'))
  const sample = new RequestSample(request, ORIGIN)
  const response = res('HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 0\r\n\r\n')
  sample.response = response
  assert.equal(runRules(rulesOf(p).response, { request, response, sample }), undefined)
  assert.equal(serializeResponseHead(response).toString(), 'HTTP/1.1 203 Fine\r\nContent-Length: 0\r\nX-Resp: 1\r\n\r\n')
  const leak = res('HTTP/1.1 200 OK\r\nX-Leak: 1\r\nContent-Length: 0\r\n\r\n')
  sample.response = leak
  assert.equal(runRules(rulesOf(p).response, { request, response: leak, sample })?.kind, 'reply')
})

test('rule arguments are checked at load with a FILE:LINE error', () => {
  const errors = (rules: string): string[] => parseConfig(`frontend fe\n  mode http\n  bind :80\n${rules}`, 't.cfg', { env: {} })
    .diagnostics.filter(d => d.severity === 'error').map(d => `${d.line}: ${d.message}`)
  assert.deepEqual(errors('  http-request set-header Content-Length 1\n'), ["4: 'http-request set-header': 'Content-Length' frames the message and cannot be changed by a rule"])
  assert.deepEqual(errors('  http-request set-header X %ci\n'), ["4: 'http-request set-header': log-format tags such as '%c…' are not supported in rule arguments yet (only %[sample])"])
  assert.deepEqual(errors('  http-request set-header X %[src,ipmask]\n'), ["4: 'http-request set-header': converter 'ipmask' expects 1 to 2 argument(s), got 0"])
  assert.deepEqual(errors('  http-request redirect location /x code 305\n'), ["4: 'http-request redirect' code expects 301, 302, 303, 307 or 308, got 305"])
  assert.deepEqual(errors('  http-request deny deny_status 418\n'), ["4: 'http-request deny': status 418 has no default page: give it a body ('content-type … string …')"])
  assert.deepEqual(errors('  http-request set-var(foo) src\n'), ["4: 'http-request set-var' expects set-var(SCOPE.NAME) with SCOPE proc, sess, txn, req or res"])
})

test('a value with CR or LF from a sample is never written: the rewrite fails with a 500 (HAProxy strict-mode)', () => {
  const p = frontend([
    '  http-request set-header X-Q %[url_param(q),url_dec] if { path_beg /h }',
    '  http-request redirect location %[url_param(q),url_dec] if { path_beg /r }',
    '  http-request return status 200 hdr X-Q %[url_param(q),url_dec] if { path_beg /ret }',
    '  http-request set-path %[url_param(q),url_dec] if { path_beg /p }', ''].join('\n'))
  for (const path of ['/h', '/r', '/ret', '/p']) {
    const { verdict, head } = request(p, GET(`${path}?q=a%0d%0aEvil:%201`))
    assert.ok(verdict?.kind === 'reply', path)
    assert.equal(verdict.status, 500, path)
    assert.ok(!verdict.bytes.toString().includes('Evil'), path)
    assert.ok(!head.includes('\r\nEvil'), path)
  }
  const errors = parseConfig('frontend fe\n  mode http\n  bind :80\n  http-request set-header X "a\\r\\nB: c"\n', 't.cfg', { env: {} })
    .diagnostics.filter(d => d.severity === 'error').map(d => d.message)
  assert.equal(errors.length, 1)
  assert.match(errors[0] ?? '', /holds a line break/)
})

test('set-src replaces the client address for later rules (an invalid address changes nothing)', () => {
  const p = frontend('  http-request set-src hdr(x-real-ip)\n  http-request deny if { src 10.66.0.0/16 }\n')
  assert.equal(request(p, GET('/', 'X-Real-IP: 10.66.1.1\r\n')).verdict?.kind, 'reply')
  const kept = request(p, GET('/', 'X-Real-IP: nonsense\r\n'))
  assert.equal(kept.verdict, undefined)
  assert.equal(kept.sample.src, '192.0.2.7')
})
