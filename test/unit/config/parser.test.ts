import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'

function diagnostics (text: string): string[] {
  return parseConfig(text, 't.cfg', { env: {} }).diagnostics.map(formatDiagnostic)
}
function errors (text: string): string[] {
  return diagnostics(text).filter(d => !d.includes(': warning: '))
}
function config (text: string, env: Record<string, string> = {}): ReturnType<typeof parseConfig>['config'] {
  const r = parseConfig(text, 't.cfg', { env })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic), [])
  return r.config
}

const BASE = `defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
`

test('every error is reported with FILE:LINE in one pass', () => {
  const errs = errors(`frontend fe
  bind *:80
  balanc roundrobin
  default_backend missing
backend be
  server s1 198.18.0.21:80 chek
  timeout connect 5z
  option nosuchoption
`)
  assert.deepEqual(errs, [
    "t.cfg:3: unknown keyword 'balanc' in frontend section (did you mean 'balance'?)",
    "t.cfg:6: unknown server option 'chek' (did you mean 'check'?)",
    "t.cfg:7: timeout connect: expected a time such as 5000, 5s or 1m, got '5z'",
    "t.cfg:8: unknown option 'nosuchoption'",
    "t.cfg:1: frontend 'fe' routes to backend 'missing', which does not exist"
  ].sort((a, b) => Number(a.split(':')[1]) - Number(b.split(':')[1])))
})

test('a keyword outside any section is an error', () => {
  assert.deepEqual(errors('  mode http\n'), ["t.cfg:1: 'mode' is outside any section ('mode' belongs in a defaults/frontend/backend/listen section)", 't.cfg: configuration has no frontend, backend, listen, peers or vrrp_instance section'])
})

test('defaults are inherited by the proxies declared after them, and a new defaults resets', () => {
  const c = config(`${BASE}  balance leastconn
  option redispatch
  retries 3
backend a
  server s 198.18.0.21:80
defaults
  mode tcp
  timeout connect 1s
  timeout client 1s
  timeout server 1s
backend b
  server s 198.18.0.22:80
`)
  const [a, b] = c.proxies
  assert.equal(a?.mode, 'http')
  assert.deepEqual(a?.balance, { algorithm: 'leastconn' })
  assert.equal(a?.options.redispatch, true)
  assert.equal(a?.retries, 3)
  assert.equal(a?.timeouts.server, 30_000)
  assert.equal(b?.mode, 'tcp')
  assert.equal(b?.balance, undefined)
  assert.equal(b?.options.redispatch, undefined)
  assert.equal(b?.timeouts.server, 1000)
})

test('a proxy changing an inherited setting does not change the defaults for the next one', () => {
  const c = config(`${BASE}backend a
  timeout server 1s
  option httplog
  server s 198.18.0.21:80
backend b
  server s 198.18.0.22:80
`)
  assert.equal(c.proxies[1]?.timeouts.server, 30_000)
  assert.equal(c.proxies[1]?.options.httplog, undefined)
})

test('named defaults and from', () => {
  const c = config(`defaults web
  mode http
  timeout connect 1s
  timeout client 1s
  timeout server 1s
defaults tcp
  mode tcp
backend b from web
  server s 198.18.0.21:80
`)
  assert.equal(c.proxies[0]?.mode, 'http')
})

test('default-server options apply to the servers after it', () => {
  const c = config(`${BASE}backend b
  default-server inter 3s fall 3 rise 2
  server s1 198.18.0.21:80 check
  server s2 198.18.0.22:80 check fall 5 weight 50 backup
`)
  const [s1, s2] = c.proxies[0]?.servers ?? []
  assert.deepEqual([s1?.inter, s1?.fall, s1?.rise], [3000, 3, 2])
  assert.deepEqual([s2?.fall, s2?.weight, s2?.backup], [5, 50, true])
})

test('ACLs, anonymous ACLs and use_backend conditions', () => {
  const c = config(`${BASE}frontend fe
  bind 198.18.0.100:80
  acl url_static path_beg -i /static /images
  acl url_static path_end -i .jpg .css
  acl is_api hdr(host) -i api.example
  use_backend static if url_static || { path_reg ^/assets/ }
  use_backend api if is_api !METH_POST
  default_backend app
backend static
  server s 198.18.0.21:80
backend api
  server s 198.18.0.22:80
backend app
  server s 198.18.0.23:80
`)
  const fe = c.proxies[0]
  assert.equal(fe?.acls.length, 3)
  assert.deepEqual(fe?.acls[0]?.flags.match, 'beg')
  assert.equal(fe?.acls[0]?.flags.ignoreCase, true)
  assert.deepEqual(fe?.acls[0]?.values, ['/static', '/images'])
  assert.equal(fe?.acls[2]?.fetch, 'hdr')
  assert.deepEqual(fe?.acls[2]?.fetchArgs, ['host'])
  const cond = fe?.useBackends[0]?.cond
  assert.equal(cond?.terms.length, 2)
  assert.equal(typeof cond?.terms[1]?.[0]?.acl, 'object')
  assert.deepEqual(fe?.useBackends[1]?.cond?.terms[0]?.map(t => [t.acl, t.negate]), [['is_api', false], ['METH_POST', true]])
})

test('undeclared ACLs and bad conditions are errors', () => {
  assert.match(errors(`${BASE}frontend fe\n  bind :80\n  use_backend b if nope\nbackend b\n  server s 198.18.0.21:80\n`)[0] ?? '', /t.cfg:8: ACL 'nope' is not declared/)
  assert.match(errors(`${BASE}frontend fe\n  bind :80\n  use_backend b if { path_beg /x\nbackend b\n  server s 198.18.0.21:80\n`)[0] ?? '', /missing closing '}'/)
  assert.match(errors(`${BASE}frontend fe\n  bind :80\n  acl a nosuchfetch x\n`)[0] ?? '', /unknown fetch method 'nosuchfetch'/)
  assert.match(errors(`${BASE}frontend fe\n  bind :80\n  acl a path_reg ([\n`)[0] ?? '', /invalid regular expression/)
})

test('keywords in the wrong section and removed 1.x keywords say what to do', () => {
  assert.match(errors(`${BASE}backend b\n  bind :80\n`)[0] ?? '', /'bind' is not allowed in a 'backend' section/)
  assert.match(errors(`${BASE}backend b\n  reqrep ^Host:\\ foo Host:\\ bar\n`)[0] ?? '', /removed in HAProxy 2.x.*http-request replace-header/)
  assert.match(errors(`${BASE}backend b\n  appsession JSESSIONID len 52 timeout 3h\n`)[0] ?? '', /stick-table/)
})

test('http frontend cannot route to a tcp backend', () => {
  assert.match(errors(`${BASE}frontend fe\n  bind :80\n  default_backend b\nbackend b\n  mode tcp\n  server s 198.18.0.21:80\n`)[0] ?? '', /http mode and cannot use backend 'b' in tcp mode/)
})

test('two frontends binding the same address and port is an error', () => {
  assert.match(errors(`${BASE}frontend a\n  bind 198.18.0.1:80\nfrontend b\n  bind 198.18.0.1:80\n`).join('\n'), /already bound by frontend 'a'/)
})

test('balance algorithms and hash-type', () => {
  const c = config(`${BASE}backend b
  balance hdr(User-Agent) use_domain_only
  hash-type consistent djb2 avalanche
  server s 198.18.0.21:80
backend c
  balance url_param userid check_post 64
  server s 198.18.0.21:80
backend d
  balance uri whole depth 3
  server s 198.18.0.21:80
`)
  assert.deepEqual(c.proxies[0]?.balance, { algorithm: 'hdr', header: 'User-Agent', useDomainOnly: true })
  assert.deepEqual(c.proxies[0]?.hashType, { method: 'consistent', function: 'djb2', avalanche: true })
  assert.deepEqual(c.proxies[1]?.balance, { algorithm: 'url_param', param: 'userid', checkPost: 64 })
  assert.deepEqual(c.proxies[2]?.balance, { algorithm: 'uri', whole: true, len: undefined, depth: 3 })
  const po = config(`${BASE}backend b\n  balance uri path-only len 8\n  server s 198.18.0.21:80\n`)
  assert.deepEqual(po.proxies[0]?.balance, { algorithm: 'uri', whole: false, len: 8, depth: undefined, pathOnly: true })
  assert.match(errors(`${BASE}backend b\n  balance roundrobinn\n`)[0] ?? '', /unknown balance algorithm 'roundrobinn'/)
})

test('environment variables in double quotes', () => {
  const c = config(`${BASE}frontend fe\n  bind "\${VIP}:\${PORT}"\n  default_backend b\nbackend b\n  server s "\${WEB}:80"\n`, { VIP: '198.18.0.100', PORT: '8080', WEB: '198.18.0.21' })
  assert.equal(c.proxies[0]?.binds[0]?.addresses[0]?.port, 8080)
  assert.equal(c.proxies[1]?.servers[0]?.address.host, '198.18.0.21')
})

test('global section: stats socket, logs, tune', () => {
  const c = config(`global
  maxconn 4000
  stats socket /run/tslb/admin.sock mode 600 level admin
  log 127.0.0.1 local2
  tune.bufsize 32768
  hard-stop-after 30s
${BASE}backend b
  server s 198.18.0.21:80
`)
  assert.deepEqual(c.global.statsSockets.map(s => [s.path, s.mode, s.level]), [['/run/tslb/admin.sock', 0o600, 'admin']])
  assert.equal(c.global.logs[0]?.facility, 'local2')
  assert.equal(c.global.tune['tune.bufsize'], 32768)
  assert.equal(c.global.hardStopAfter, 30_000)
  assert.match(errors('global\n  log 127.0.0.1 local9\n')[0] ?? '', /unknown facility 'local9'/)
})

test('cookie and stick-table syntax', () => {
  const c = config(`${BASE}backend b
  cookie JSESSIONID prefix nocache
  stick-table type ip size 200k expire 30m store conn_rate(10s),gpc0,http_req_rate(10s)
  stick on src
  server s 198.18.0.21:80 cookie A
`)
  assert.equal(c.proxies[0]?.cookie?.mode, 'prefix')
  assert.equal(c.proxies[0]?.stickTable?.size, 200 * 1024)
  assert.deepEqual(c.proxies[0]?.stickTable?.store, [{ name: 'conn_rate', period: 10_000 }, { name: 'gpc0' }, { name: 'http_req_rate', period: 10_000 }])
  assert.match(errors(`${BASE}backend b\n  cookie X insert rewrite\n`)[0] ?? '', /cannot be combined/)
  assert.match(errors(`${BASE}backend b\n  stick-table type ip size 1k store conn_rate\n`)[0] ?? '', /needs a period/)
  assert.match(errors(`${BASE}backend b\n  stick on src\n  server s 198.18.0.21:80\n`)[0] ?? '', /needs a stick-table/)
  assert.match(errors(`${BASE}backend b\n  stick-table type ip size 1k peers nope\n  server s 198.18.0.21:80\n`)[0] ?? '', /peers section 'nope', which does not exist/)
})

test('vrrp_script and vrrp_instance sections', () => {
  const c = config(`vrrp_script chk_proxy
    script builtin proxy
    interval 2
    weight -20
    fall 2
vrrp_instance VI_1
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 101
    advert_int 1
    authentication PASS 1111
    unicast_src_ip 198.18.0.11
    unicast_peer 198.18.0.12 198.18.0.13
    virtual_ipaddress 198.18.0.100/24 dev eth0 label eth0:ha
    virtual_ipaddress 198.18.0.101/24
    track_script chk_proxy
    track_interface eth1 weight -20
    notify_master "/usr/local/bin/became-master --now"
vrrp_instance VI_6
    interface eth0
    virtual_router_id 52
    version 3
    advert_int 0.1
    nopreempt
    virtual_ipaddress fd00::100/64
`)
  const [s] = c.vrrpScripts
  assert.deepEqual(s?.script, { kind: 'builtin', name: 'proxy' })
  assert.deepEqual([s?.interval, s?.weight, s?.fall], [2000, -20, 2])
  const [v, v6] = c.vrrpInstances
  assert.deepEqual([v?.state, v?.virtualRouterId, v?.priority, v?.advertInt], ['MASTER', 51, 101, 1000])
  assert.deepEqual(v?.authentication, { type: 'PASS', password: '1111' })
  assert.deepEqual(v?.unicastPeers, ['198.18.0.12', '198.18.0.13'])
  assert.deepEqual(v?.virtualAddresses.map(a => [a.address, a.prefixLength, a.dev, a.label]), [['198.18.0.100', 24, 'eth0', 'eth0:ha'], ['198.18.0.101', 24, undefined, undefined]])
  assert.deepEqual(v?.trackInterfaces, [{ name: 'eth1', weight: -20 }])
  assert.deepEqual(v?.notify.master, { command: '/usr/local/bin/became-master --now' })
  assert.deepEqual([v6?.version, v6?.advertInt, v6?.nopreempt, v6?.virtualAddresses[0]?.family], [3, 100, true, 6])
})

test('VRRP consistency errors', () => {
  const errs = errors(`vrrp_instance A
    interface eth0
    virtual_router_id 51
    advert_int 0.5
    track_script missing
    virtual_ipaddress fd00::1/64
vrrp_instance B
    interface eth0
    virtual_router_id 51
    virtual_ipaddress 198.18.0.100/24
    virtual_ipaddress 198.18.0.101/24
vrrp_instance C
    priority 300
`).join('\n')
  assert.match(errs, /IPv6 virtual addresses need 'version 3'/)
  assert.match(errs, /advert_int must be whole seconds/)
  assert.match(errs, /tracks vrrp_script 'missing', which does not exist/)
  assert.match(errs, /t.cfg:13: priority: 300 is out of range/)
  assert.match(errs, /'C' has no 'interface'/)
})

test('a VRRP-only configuration is valid', () => {
  const c = config('vrrp_instance V\n  interface eth0\n  virtual_router_id 7\n  virtual_ipaddress 198.18.0.100/24\n')
  assert.equal(c.proxies.length, 0)
  assert.equal(c.vrrpInstances.length, 1)
})

test('unsupported sections are errors that say so, and their bodies are skipped', () => {
  const errs = errors(`resolvers dns\n  nameserver a 198.18.0.53:53\n${BASE}backend b\n  server s 198.18.0.21:80\n`)
  assert.deepEqual(errs, ["t.cfg:1: 'resolvers' sections are not supported: DNS resolution at run time is not supported yet: write server addresses"])
})

test('duplicate names', () => {
  assert.match(errors(`${BASE}backend b\n  server s 198.18.0.21:80\nbackend b\n  server s 198.18.0.21:80\n`).join('\n'), /backend 'b' has the same name as backend 'b' declared at t.cfg:6/)
  assert.match(errors(`${BASE}backend b\n  server s 198.18.0.21:80\n  server s 198.18.0.22:80\n`).join('\n'), /server 's' is already defined/)
})

test('peers trust-peer-names: a flag of the section (tslb extension); it takes no argument', () => {
  const base = 'peers mesh\n    peer a 10.0.0.1:10000\n    peer b 10.0.0.2:10000\n'
  assert.equal(config(base).peers[0]?.trustPeerNames, undefined)
  assert.equal(config(base + '    trust-peer-names\n').peers[0]?.trustPeerNames, true)
  assert.match(errors(base + '    trust-peer-names yes\n').join('\n'), /'trust-peer-names' takes no argument/)
})

test('monitor-uri: a path or an absolute URI, not empty', () => {
  const c = config(`${BASE}frontend a\n  bind :8080\n  monitor-uri /health\nfrontend b\n  bind :8081\n` +
    '  monitor-uri http://www.haproxy.org/health\n')
  assert.equal(c.proxies[0]?.monitorUri, '/health')
  assert.equal(c.proxies[1]?.monitorUri, 'http://www.haproxy.org/health')
  assert.match(errors(`${BASE}frontend a\n  bind :8080\n  monitor-uri ""\n`)[0] ?? '', /'monitor-uri' expects a URI/)
})
