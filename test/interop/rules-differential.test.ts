/**
 * Differential test of the rule language against HAProxy 2.6 (/usr/sbin/haproxy): one
 * configuration with http-request / http-response rules run by HAProxy and by `tslb run` on
 * loopback in front of one echo server; every request is sent to both, and the status line, the
 * response fields and bodies, and what the echo server received (method, target, fields in
 * order) are compared.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTslb } from '../helpers/cli.ts'
import { freePorts } from '../helpers/ports.ts'

const HAPROXY = '/usr/sbin/haproxy'
const version = existsSync(HAPROXY) ? /HAProxy version (\S+)/.exec(execFileSync(HAPROXY, ['-v']).toString())?.[1] : undefined
const skip = version === undefined ? 'no /usr/sbin/haproxy' : version.startsWith('2.6') ? false : `HAProxy ${version}, not 2.6`

interface Answer {
  readonly status: string
  readonly headers: string[]
  readonly body: string
}

/** Sends `raw` on a new connection and reads one response (content-length framed, or until close). */
async function exchange (port: number, raw: string): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1')
    let buf = Buffer.alloc(0)
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no answer to ${JSON.stringify(raw)}`)) }, 5000)
    const done = (): boolean => {
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return false
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n')
      const len = Number(/^content-length:\s*(\d+)$/im.exec(lines.join('\n'))?.[1] ?? -1)
      const body = buf.subarray(end + 4)
      if (len >= 0 && body.length < len) return false
      clearTimeout(timer)
      s.destroy()
      resolve({
        status: lines[0] ?? '',
        // Fields a proxy or Node's server sets on its own are not what the rules decide.
        headers: lines.slice(1).filter(l => !/^(date|connection|keep-alive):/i.test(l)).map(l => {
          const i = l.indexOf(':')
          return `${l.slice(0, i).toLowerCase()}:${l.slice(i + 1)}`
        }),
        body: body.subarray(0, len < 0 ? body.length : len).toString('latin1')
      })
      return true
    }
    s.on('data', (b: Buffer) => { buf = Buffer.concat([buf, b]); done() })
    s.on('end', () => { if (!done()) { clearTimeout(timer); reject(new Error(`closed without an answer to ${JSON.stringify(raw)}: ${buf.toString()}`)) } })
    s.on('error', reject)
    s.write(raw)
  })
}

function config (bind: number, echo: number, dir: string): string {
  return `global
  log stdout format raw local0 emerg
defaults
  mode http
  timeout client 5s
  timeout server 5s
  timeout connect 5s
  timeout tarpit 100ms
userlist admins
  group ops
  group staff users admin
  user admin insecure-password secret
  user ops groups ops password ${'$'}6$saltsalt$pn.eNCAqRIao3pxsOGdjVa9wVR7Rb/3WnbxOluoQKVZPzLuyetx3yF6VIZDfQnn/arrFVfrq3BqRb9gLqhI5z0
frontend fe
  bind 127.0.0.1:${bind}
  tcp-request connection reject if { src 127.0.0.2 }
  tcp-request connection accept if { src 127.0.0.4 }
  tcp-request connection reject if { src 127.0.0.4 }
  tcp-request content reject if { src 127.0.0.3 }
  acl is_admin path_beg /admin
  http-request set-src hdr(x-real-ip) if { hdr(x-real-ip) -m found }
  http-request deny deny_status 403 if { path_beg /setsrc } { src 10.66.0.0/16 }
  acl bad_path path_beg -f ${dir}/paths.lst
  http-request deny if bad_path
  http-request deny deny_status 403 if { src -f ${dir}/blocked.lst }
  http-request return status 200 content-type text/plain string mapped if { hdr(host) -M -f ${dir}/acl-hosts.map }
  acl internal src 10.0.0.0/8
  http-request deny if is_admin !internal
  http-request deny deny_status 429 hdr X-Limit 1 content-type text/plain string "slow down" if { path_beg /limited }
  http-request deny deny_status 503 if { path_beg /unavailable }
  http-request tarpit if { path_beg /tarpit }
  http-request auth realm Private if { path_beg /private } !{ http_auth(admins) }
  http-request deny if { path_beg /private/staff } !{ http_auth_group(admins) staff }
  http-request set-header X-User %[http_auth_group(admins)] if { path_beg /private }
  http-request redirect location /moved code 301 if { path /old }
  http-request redirect prefix /v2 drop-query if { path_beg /v1/ }
  http-request redirect prefix /app append-slash if { path_beg /dir }
  http-request redirect scheme https code 308 if { hdr(x-forwarded-proto) http }
  http-request redirect location /see code 303 if { path /see-other }
  http-request redirect location /tmp code 307 if { path /temporary }
  http-request return status 200 content-type text/plain string "pong" hdr X-Return yes if { path /ping }
  http-request return status 404 if { path /nothing }
  http-request return content-type application/json lf-string "{\\"ip\\":\\"%[src]\\"}" if { path /whoami }
  http-request allow if { path_beg /allowed }
  http-request deny if { path_beg /allowed-but-denied }
  http-request set-header X-Client %[src]
  http-request add-header X-Added "a b"
  http-request add-header X-Added second
  http-request del-header X-Secret
  http-request del-header X-Drop- -m beg
  http-request replace-header X-Swap (.*)-(.*) \\2-\\1
  http-request replace-value X-List ^v(.*) w\\1
  http-request set-var(txn.host) req.hdr(host)
  http-request set-header X-Host-Var %[var(txn.host)]
  http-request set-path /rewritten%[path] if { path_beg /rewrite }
  http-request set-query debug=1 if { path_beg /query }
  http-request set-uri /uri-replaced if { path_beg /uri }
  http-request set-method PUT if { path_beg /method }
  http-request replace-path ^/strip/(.*) /\\1
  http-request deny if { path_beg /denied-after-rewrite }
  acl fetch path_beg /fetch
  http-request return status 200 content-type text/plain lf-string "path=%[path] query=%[query] base=%[base]" if { path_beg /abs }
  http-request deny deny_status 400 if fetch { hdr(x-multi) -m str second }
  http-request deny deny_status 405 if fetch HTTP_1.0
  http-request deny deny_status 429 if fetch { hdr_val(x-n) gt 10 }
  http-request set-header X-Fe %[fe_name] if fetch
  http-request set-header X-Ver %[req.ver] if fetch
  http-request set-header X-Last %[req.hdr(x-multi)] if fetch
  http-request set-header X-Full %[req.fhdr(x-multi)] if fetch
  http-request set-header X-Cnt %[req.hdr_cnt(x-multi)] if fetch
  http-request set-header X-Path %[path] if fetch
  http-request set-header X-Query %[query] if fetch
  http-request set-header X-Url-Param %[url_param(b)] if fetch
  http-request set-header X-Base %[base] if fetch
  http-request set-header X-Cookie %[req.cook(sid)] if fetch
  http-request set-header X-Cookie-Cnt %[req.cook_cnt(sid)] if fetch
  http-request deny deny_status 403 if fetch { req.cook(sid) -m str first } { req.cook_cnt(sid) ge 2 }
  http-request set-header X-State be_conn=%[be_conn(echo)],fe_conn=%[fe_conn],queue=%[queue(echo)],avg=%[avg_queue(echo)],up=%[srv_is_up(echo/s1)],srv_conn=%[srv_conn(echo/s1)],nbsrv=%[nbsrv(echo)] if fetch
  http-request deny deny_status 503 if fetch { srv_is_up(echo/s1) -m bool } { req.hdr(x-check-up) -m found }
  acl match path_beg /match
  http-request return status 200 content-type text/plain string dir if match { path -m dir sub }
  http-request return status 200 content-type text/plain string dom if match { hdr(host) -m dom example }
  http-request return status 200 content-type text/plain string len if match { hdr(x-l) -m len gt 5 }
  http-request return status 200 content-type text/plain string end if match { hdr(x-e) -i -m end .JPG }
  http-request return status 200 content-type text/plain string reg if match { hdr(x-r) -i -m reg ^ab+c$ }
  http-request return status 200 content-type text/plain string range if match { hdr_val(x-n) 5:9 }
  http-request return status 200 content-type text/plain string sub if match { hdr(x-s) -m sub needle }
  http-request return status 200 content-type text/plain string ip if match { hdr(x-ip) -m ip 192.0.2.0/24 2001:db8::/32 }
  http-request return status 200 content-type text/plain string not-or if match !{ hdr(x-a) -m found } || { hdr(x-b) -m found }
  http-request return status 200 content-type text/plain string none if match
  acl conv path_beg /conv
  http-request deny if conv { req.hdr(x-user),lower -m str admin }
  http-request set-header X-Lower %[req.hdr(x-mixed),lower] if conv
  http-request set-header X-Upper %[req.hdr(x-mixed),upper] if conv
  http-request set-header X-Net %[src,ipmask(24)] if conv
  http-request set-header X-Map %[req.hdr(host),map(${dir}/hosts.map,none)] if conv
  http-request set-header X-Map-Beg %[path,map_beg(${dir}/paths.map)] if conv
  http-request set-header X-Field %[req.hdr(x-csv),field(2,:)] if conv
  http-request set-header X-Field-Last %[req.hdr(x-csv),field(-1,:)] if conv
  http-request set-header X-Word %[req.hdr(x-words),word(2,/)] if conv
  http-request set-header X-B64 %[req.hdr(x-mixed),base64] if conv
  http-request set-header X-Hex %[req.hdr(x-mixed),hex] if conv
  http-request set-header X-Crc %[req.hdr(x-mixed),crc32] if conv
  http-request set-header X-Djb2 %[req.hdr(x-mixed),djb2] if conv
  http-request set-header X-Sdbm %[req.hdr(x-mixed),sdbm] if conv
  http-request set-header X-Wt6 %[req.hdr(x-mixed),wt6] if conv
  http-request set-header X-Dec %[url_param(q),url_dec] if conv
  http-request set-header X-Regsub %[req.hdr(x-mixed),regsub(l+,L,g)] if conv
  http-request set-header X-Json %[req.hdr(x-quote),json] if conv
  http-request set-header X-Add %[req.hdr(x-num),add(5),mul(3),sub(1)] if conv
  http-request set-header X-Div %[req.hdr(x-num),div(3)] if conv
  http-request set-header X-Mod %[req.hdr(x-num),mod(3)] if conv
  http-request set-header X-Bool %[req.hdr(x-num),bool] if conv
  http-request set-header X-Not %[req.hdr(x-num),not] if conv
  http-request set-header X-Bytes %[req.hdr(x-mixed),bytes(1,3)] if conv
  http-request set-header X-Len %[req.hdr(x-mixed),length] if conv
  http-request set-var(txn.sep) str(-) if conv
  http-request set-var(txn.user) req.hdr(x-mixed) if conv
  http-request set-header X-Concat %[req.hdr(x-csv),concat(<,txn.sep,>)] if conv
  http-request set-header X-Concat2 %[str(a),concat(,txn.user)] if conv
  http-request set-header X-Strcmp "%[str(HeLlo World),strcmp(txn.user)]" if conv
  http-request set-header X-Strcmp2 %[str(Zzz),strcmp(txn.user)] if conv
  http-request set-header X-Memcmp "%[str(HeLlo World),secure_memcmp(txn.user)]" if conv
  http-request set-header X-Int %[int(41),add(1)] if conv
  http-request set-header X-Utime "%[int(1700000000),utime(%Y-%m-%d %H:%M:%S %a %b %j %e %I%p %y %z %Z %s)]" if conv
  http-request set-header X-Ltime "%[int(1700000000),ltime(%Y-%m-%dT%H:%M:%S%z,3600)]" if conv
  http-request set-header X-Date-Ok %[date,sub(1700000000),bool] if conv
  http-request set-header X-Uuid-Len %[uuid,length] if conv
  http-request set-header X-Rand %[rand(1)] if conv
  http-response set-header X-Status %[status] if { res.hdr(x-echo-path) -m beg /fetch }
  http-after-response set-header X-After fe
  http-after-response set-header X-After-Order fe
  http-response set-header X-Frontend 1
  http-response del-header X-Echo-Secret
  use_backend %[req.hdr(x-backend),lower] if { req.hdr(x-backend) -m found }
  default_backend echo
backend echo2
  option forwardfor except 127.0.0.5
  http-response set-header X-Which echo2
  http-response set-header X-Be %[be_name]
  server s1 127.0.0.1:${echo}
backend echo
  http-after-response set-header X-After-Order be
  http-after-response add-header X-After-Be %[status]
  http-request deny if { path_beg /backend-deny }
  http-request set-header X-Backend seen
  http-request set-header X-Be-Name %[be_name]
  http-response set-status 299 reason Rewritten if { res.hdr(x-echo-path) -m beg /status }
  http-response deny if { res.hdr(x-echo-path) -m beg /leak }
  http-response redirect location /elsewhere?from=%[res.hdr(x-echo-path)] code 303 if { res.hdr(x-echo-path) -m beg /redirect-response }
  http-response replace-value X-Echo-List ^(.*)$ <\\1>
  server s1 127.0.0.1:${echo}
# ${dir}
`
}

const CASES: readonly (readonly [string, string])[] = [
  ['deny', 'GET /admin/panel HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['deny with status, hdr, string', 'GET /limited HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['deny_status 503', 'GET /unavailable HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['tarpit', 'GET /tarpit HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['auth without credentials', 'GET /private HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['auth, good plain password', `GET /private HTTP/1.1\r\nHost: h\r\nAuthorization: Basic ${Buffer.from('admin:secret').toString('base64')}\r\n\r\n`],
  ['auth, good SHA-512 password', `GET /private HTTP/1.1\r\nHost: h\r\nAuthorization: Basic ${Buffer.from('ops:Hello world!').toString('base64')}\r\n\r\n`],
  ['http_auth_group: a member of the group', `GET /private/staff HTTP/1.1\r\nHost: h\r\nAuthorization: Basic ${Buffer.from('admin:secret').toString('base64')}\r\n\r\n`],
  ['http_auth_group: not a member', `GET /private/staff HTTP/1.1\r\nHost: h\r\nAuthorization: Basic ${Buffer.from('ops:Hello world!').toString('base64')}\r\n\r\n`],
  ['auth, bad password', `GET /private HTTP/1.1\r\nHost: h\r\nAuthorization: Basic ${Buffer.from('admin:nope').toString('base64')}\r\n\r\n`],
  ['redirect location 301', 'GET /old HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['redirect prefix drop-query', 'GET /v1/items?page=2 HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['redirect prefix append-slash', 'GET /dir/sub?x=1 HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['redirect scheme 308', 'GET /a?b=c HTTP/1.1\r\nHost: example.org\r\nX-Forwarded-Proto: http\r\n\r\n'],
  ['redirect 303', 'GET /see-other HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['redirect 307', 'GET /temporary HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['return with body and hdr', 'GET /ping HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['return 404 without body', 'GET /nothing HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['return lf-string', 'GET /whoami HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['allow ends the frontend list', 'GET /allowed-but-denied HTTP/1.1\r\nHost: h\r\nX-Secret: 1\r\n\r\n'],
  ['header rewrites', 'GET /headers HTTP/1.1\r\nHost: h\r\nX-Secret: s\r\nX-Drop-One: 1\r\nx-drop-two: 2\r\nX-Swap: left-right\r\nX-List: v1, v2, z\r\nX-Client: spoofed\r\n\r\n'],
  ['set-path', 'GET /rewrite/me?q=1 HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['set-query', 'GET /query?old=1 HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['set-uri', 'GET /uri/x?y HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['set-method', 'GET /method HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['replace-path, then a deny sees the new path', 'GET /strip/denied-after-rewrite HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['replace-path', 'GET /strip/kept?z=1 HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['backend deny', 'GET /backend-deny HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['http-response set-status', 'GET /status HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['http-response deny', 'GET /leak HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['http-response redirect', 'GET /redirect-response HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['HTTP/1.0 deny', 'GET /admin HTTP/1.0\r\n\r\n'],
  ['ACL file (path_beg -f), first pattern', 'GET /forbidden/x HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['ACL file, a pattern with leading blanks', 'GET /secret/a HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['ACL file, no pattern matches', 'GET /secretive HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['ACL map file (-M -f)', 'GET /m HTTP/1.1\r\nHost: mapped.example\r\n\r\n'],
  ['converters in header values', 'GET /conv/a/b?q=a%20b%2Fc+d HTTP/1.1\r\nHost: h\r\nX-Mixed: HeLlo World\r\nX-Csv: a:b:c\r\nX-Words: //x//y/z\r\nX-Quote: say "hi"\\ok\r\nX-Num: 7\r\n\r\n'],
  ['converters: map default, missing samples', 'GET /conv HTTP/1.1\r\nHost: other\r\n\r\n'],
  ['fetches: hdr occurrences, fhdr, hdr_cnt, path, query, url_param, base, cook, req.ver, fe_name, status',
    'GET /fetch/a?a=1&b=two HTTP/1.1\r\nHost: h\r\nX-Multi: one, two\r\nX-Multi: three\r\nCookie: a=1; sid=xyz\r\n\r\n'],
  ['srv_is_up as a boolean ACL', 'GET /fetch HTTP/1.1\r\nHost: h\r\nX-Check-Up: 1\r\n\r\n'],
  ['cookies: the last occurrence as a value, every one in an ACL, req.cook_cnt', 'GET /fetch HTTP/1.1\r\nHost: h\r\nCookie: sid=first; a=1\r\nCookie: sid=second\r\n\r\n'],
  ['cookies: req.cook_cnt counts', 'GET /fetch HTTP/1.1\r\nHost: h\r\nCookie: sid=one; sid=two; sid=three\r\n\r\n'],
  ['hdr() matches each comma-separated value', 'GET /fetch HTTP/1.1\r\nHost: h\r\nX-Multi: first, second\r\n\r\n'],
  ['HTTP_1.0 predefined ACL', 'GET /fetch HTTP/1.0\r\n\r\n'],
  ['hdr_val with an integer comparison', 'GET /fetch HTTP/1.1\r\nHost: h\r\nX-N: 12\r\n\r\n'],
  ['path of an absolute-form target', 'GET http://h/abs/x?y=1 HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['dynamic use_backend naming a backend', 'GET /dyn HTTP/1.1\r\nHost: h\r\nX-Backend: ECHO2\r\n\r\n'],
  ['dynamic use_backend naming no backend', 'GET /dyn HTTP/1.1\r\nHost: h\r\nX-Backend: nope\r\n\r\n'],
  ['-m dir', 'GET /match/sub?q HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n'],
  ['-m dom', 'GET /match HTTP/1.1\r\nHost: www.example.org:80\r\nX-A: 1\r\n\r\n'],
  ['-m len with an operator', 'GET /match HTTP/1.1\r\nHost: h\r\nX-L: 123456\r\nX-A: 1\r\n\r\n'],
  ['-m len not matching', 'GET /match HTTP/1.1\r\nHost: h\r\nX-L: 12345\r\nX-A: 1\r\n\r\n'],
  ['-i -m end', 'GET /match HTTP/1.1\r\nHost: h\r\nX-E: photo.jpg\r\nX-A: 1\r\n\r\n'],
  ['-i -m reg', 'GET /match HTTP/1.1\r\nHost: h\r\nX-R: ABBBC\r\nX-A: 1\r\n\r\n'],
  ['an integer range', 'GET /match HTTP/1.1\r\nHost: h\r\nX-N: 7\r\nX-A: 1\r\n\r\n'],
  ['-m sub', 'GET /match HTTP/1.1\r\nHost: h\r\nX-S: haystackneedlehay\r\nX-A: 1\r\n\r\n'],
  ['-m ip over IPv4 and IPv6 patterns', 'GET /match HTTP/1.1\r\nHost: h\r\nX-IP: 2001:db8::5\r\nX-A: 1\r\n\r\n'],
  ['! and || as HAProxy', 'GET /match HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['nothing matches', 'GET /match HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n'],
  ['set-src from a header, then an ACL on src denies', 'GET /setsrc HTTP/1.1\r\nHost: h\r\nX-Real-IP: 10.66.1.1\r\n\r\n'],
  ['set-src: the new address in values and X-Forwarded-For', 'GET /setsrc HTTP/1.1\r\nHost: h\r\nX-Real-IP: 192.0.2.9\r\nX-Backend: echo2\r\n\r\n'],
  ['set-src with something that is no address', 'GET /setsrc HTTP/1.1\r\nHost: h\r\nX-Real-IP: garbage\r\nX-Backend: echo2\r\n\r\n'],
  ['an ACL with a converter', 'GET /conv HTTP/1.1\r\nHost: h\r\nX-User: AdMiN\r\n\r\n']
]

describe('http rules: tslb and HAProxy 2.6 answer the same', { skip }, () => {
  let dir = ''
  let echo: http.Server
  let haproxy: ChildProcess | undefined
  let tslbChild: ChildProcess | undefined
  let hapPort = 0
  let tslbPort = 0

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-diff-'))
    echo = http.createServer((req, res) => {
      const raw = req.rawHeaders
      const fields: string[] = []
      for (let i = 0; i < raw.length; i += 2) fields.push(`${(raw[i] as string).toLowerCase()}: ${raw[i + 1] as string}`)
      const body = JSON.stringify({ method: req.method, url: req.url, fields: fields.filter(f => !f.startsWith('connection:')) })
      res.setHeader('Content-Type', 'application/json')
      res.setHeader('X-Echo-Path', req.url ?? '')
      res.setHeader('X-Echo-Secret', 'hidden')
      res.setHeader('X-Echo-List', 'a, b')
      res.end(body)
    })
    await new Promise<void>(resolve => { echo.listen(0, '127.0.0.1', resolve) })
    const echoPort = (echo.address() as net.AddressInfo).port;
    [hapPort, tslbPort] = await freePorts(2) as [number, number]
    writeFileSync(join(dir, 'paths.lst'), '# paths nobody may see\n/forbidden\n  /secret/\n\n')
    writeFileSync(join(dir, 'blocked.lst'), '127.0.0.6\n# a network\n10.0.0.0/8\n')
    writeFileSync(join(dir, 'acl-hosts.map'), 'mapped.example backend1\n')
    writeFileSync(join(dir, 'hosts.map'), 'mapped.example backend1\nh   host h value\n')
    writeFileSync(join(dir, 'paths.map'), '/conv/a first\n/conv second\n')
    writeFileSync(join(dir, 'haproxy.cfg'), config(hapPort, echoPort, dir))
    writeFileSync(join(dir, 'tslb.cfg'), config(tslbPort, echoPort, dir))
    let out = ''
    haproxy = spawn(HAPROXY, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] })
    haproxy.stderr?.on('data', (b: Buffer) => { out += b.toString() })
    const t = await startTslb(['run', '-f', join(dir, 'tslb.cfg'), '-S', join(dir, 'ctl.sock'), '-p', join(dir, 'pid')],
      /worker serving/)
    tslbChild = t.child
    const end = Date.now() + 10_000
    for (;;) {
      try {
        await exchange(hapPort, 'GET /ping HTTP/1.1\r\nHost: h\r\n\r\n')
        break
      } catch (err) {
        if (Date.now() > end) throw new Error(`haproxy did not start: ${out}`, { cause: err })
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    }
  })

  after(async () => {
    haproxy?.kill('SIGTERM')
    if (tslbChild !== undefined && tslbChild.exitCode === null) {
      const exited = new Promise(resolve => tslbChild?.once('exit', resolve))
      tslbChild.kill('SIGTERM')
      await exited
    }
    await new Promise(resolve => { echo.close(resolve) })
    rmSync(dir, { recursive: true, force: true })
  })

  for (const [name, raw] of CASES) {
    test(name, async () => {
      const [h, t] = await Promise.all([exchange(hapPort, raw), exchange(tslbPort, raw)])
      // fe_conn counts the connections still open: the previous case's may be closing on either side.
      const settled = (r: unknown): unknown => JSON.parse(JSON.stringify(r).replace(/fe_conn=[1-9]\d*/g, 'fe_conn>0'))
      assert.deepEqual(settled(t), settled(h))
    })
  }

  test('a request sent while a tarpit holds the previous answer is served after it, on the same connection', async () => {
    const read = async (port: number): Promise<string> => await new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1')
      let text = ''
      s.on('data', (b: Buffer) => {
        text += b.toString('latin1')
        if (text.endsWith('pong')) { s.destroy(); resolve(text.replace(/\r\n(date|connection): [^\r]*/gi, '')) }
      })
      s.on('error', reject)
      setTimeout(() => { s.destroy(); reject(new Error(`only ${text}`)) }, 3000)
      s.write('GET /tarpit HTTP/1.1\r\nHost: h\r\n\r\n')
      setTimeout(() => { s.write('GET /ping HTTP/1.1\r\nHost: h\r\n\r\n') }, 30)
    })
    // HAProxy writes every field name in lower case; tslb keeps the case it was given.
    assert.equal((await read(tslbPort)).toLowerCase(), (await read(hapPort)).toLowerCase())
  })

  test('tcp-request connection/content reject close the connection without an answer; accept ends its list', async () => {
    const from = async (port: number, source: string): Promise<string> => await new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress: source })
      let text = ''
      s.on('data', (b: Buffer) => { text += b.toString('latin1'); if (text.includes('\r\n\r\n')) s.destroy() })
      s.on('close', () => { resolve(text.split('\r\n')[0] ?? '') })
      s.on('error', () => { resolve(`error: ${text}`) })
      setTimeout(() => { s.destroy(); reject(new Error('neither answered nor closed')) }, 3000)
      s.write('GET /ping HTTP/1.1\r\nHost: h\r\n\r\n')
    })
    for (const source of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6']) {
      const [h, t] = [await from(hapPort, source), await from(tslbPort, source)]
      assert.equal(t.startsWith('error') ? '' : t, h.startsWith('error') ? '' : h, source)
      assert.equal(h === '' || h.startsWith('error'), source === '127.0.0.2' || source === '127.0.0.3', source)
      if (source === '127.0.0.6') assert.equal(t, 'HTTP/1.1 403 Forbidden')
    }
  })

  test('a denied request on a keep-alive connection: the next request on it is served, as HAProxy does', async () => {
    const two = 'GET /admin HTTP/1.1\r\nHost: h\r\n\r\nGET /ping HTTP/1.1\r\nHost: h\r\n\r\n'
    const read = async (port: number): Promise<string> => await new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1')
      let text = ''
      s.on('data', (b: Buffer) => {
        text += b.toString('latin1')
        if (text.endsWith('pong')) { s.destroy(); resolve(text.replace(/\r\n(date|connection): [^\r]*/gi, '')) }
      })
      s.on('error', reject)
      setTimeout(() => { s.destroy(); reject(new Error(`only ${text}`)) }, 3000)
      s.write(two)
    })
    assert.equal((await read(tslbPort)).toLowerCase(), (await read(hapPort)).toLowerCase())
  })
})
