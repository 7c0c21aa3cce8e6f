/**
 * TLS on loopback: tslb terminates TLS (SNI, ALPN, client certificates, strict-sni, sample fetches
 * in rules, mode tcp) and speaks TLS to an nginx server (verify, SNI, check-ssl). Certificates are
 * made by the openssl CLI at test time; clients are curl, openssl s_client and Node's tls.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { connect as netConnect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeCertDir, type CertDir } from '../helpers/certs.ts'
import { startTslb, tslb, waitExit } from '../helpers/cli.ts'
import { freePort } from '../helpers/ports.ts'

async function run (cmd: string, args: readonly string[], input = ''): Promise<{ code: number, out: string }> {
  return await new Promise(resolve => {
    const child = execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: stdout + stderr })
    })
    // A client that exits before reading its input (curl, s_client on a refused handshake) must not fail the test.
    child.stdin?.on('error', () => {})
    child.stdin?.end(input)
  })
}

const certs: CertDir = makeCertDir()
const otherCa: CertDir = makeCertDir()
const P = { redirectPlain: 0, redirectTls: 0, stats: 0, nginxMtls: 0, mtlsCrl: 0, router: 0, https: 0, plain: 0, mtls: 0, mtlsOptional: 0, strict: 0, tcp: 0, nginx: 0, app: 0, b: 0, plainApp: 0,
  client1: 0, tls13: 0 }
const servers: HttpServer[] = []
/** The ports tslb binds (chosen again if one was taken meanwhile). */
const PROXY_PORTS = ['redirectPlain', 'redirectTls', 'stats', 'mtlsCrl', 'router', 'https', 'plain', 'mtls',
  'mtlsOptional', 'strict', 'tcp'] as const
let nginx: ChildProcess | undefined
let proxy: Awaited<ReturnType<typeof startTslb>> | undefined
const ctl = join(certs.dir, 'ctl.sock')
const stats = join(certs.dir, 'stats.sock')
const cfgFile = join(certs.dir, 'tslb.cfg')

function config (): string {
  return `global
  stats socket ${stats} level admin
  crt-base ${certs.dir}
  ca-base ${certs.dir}
defaults
  mode http
  log stdout local0
  option httplog
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend https
  bind 127.0.0.1:${P.https} ssl crt a.pem crt b.pem alpn h2,http/1.1
  bind 127.0.0.1:${P.plain}
  use_backend plain if !{ ssl_fc }
  use_backend nginx if { path_beg /nginx }
  use_backend badca if { path_beg /badca }
  use_backend withcrt if { path_beg /withcrt }
  use_backend nocrt if { path_beg /nocrt }
  use_backend b if { ssl_fc_sni -m end .b.example.com }
  use_backend tls13 if { ssl_fc_protocol TLSv1.3 } { path /protocol }
  default_backend app
frontend mtls
  bind 127.0.0.1:${P.mtls} ssl crt a.pem ca-file ca.pem verify required
  use_backend client1 if { ssl_c_s_dn(CN) client1 } { ssl_c_verify 0 }
  default_backend app
frontend mtls_crl
  bind 127.0.0.1:${P.mtlsCrl} ssl crt a.pem ca-file ca.pem crl-file crl.pem verify required
  default_backend client1
frontend mtls_optional
  bind 127.0.0.1:${P.mtlsOptional} ssl crt a.pem ca-file ca.pem verify optional
  use_backend client1 if { ssl_c_used }
  default_backend app
frontend strict
  bind 127.0.0.1:${P.strict} ssl crt a.pem strict-sni no-tls-tickets
  default_backend app
frontend tcp_tls
  mode tcp
  bind 127.0.0.1:${P.tcp} ssl crt a.pem crt b.pem
  use_backend tcp_b if { ssl_fc_sni b.example.com }
  default_backend tcp_a
frontend sni_router
  mode tcp
  bind 127.0.0.1:${P.router}
  tcp-request inspect-delay 2s
  tcp-request content reject if { req.ssl_sni -i blocked.example.com }
  tcp-request content accept if { req_ssl_hello_type 1 }
  use_backend to_nginx if { req.ssl_sni -i a.example.com }
  use_backend to_https if { req.ssl_sni -m end .b.example.com }
  default_backend tcp_a
backend to_nginx
  mode tcp
  server n 127.0.0.1:${P.nginx}
backend to_https
  mode tcp
  server h 127.0.0.1:${P.https}
frontend redirect
  bind 127.0.0.1:${P.redirectPlain}
  bind 127.0.0.1:${P.redirectTls} ssl crt a.pem
  http-request redirect scheme https code 301 unless { ssl_fc }
  http-response set-header Strict-Transport-Security "max-age=31536000"
  http-response set-header X-TLS "%[ssl_fc_protocol] %[ssl_fc_sni]"
  default_backend app
listen stats
  bind 127.0.0.1:${P.stats} ssl crt a.pem
  stats enable
  stats uri /stats
  http-request use-service prometheus-exporter if { path /metrics }
backend app
  server s 127.0.0.1:${P.app}
backend b
  server s 127.0.0.1:${P.b}
backend plain
  server s 127.0.0.1:${P.plainApp}
backend client1
  server s 127.0.0.1:${P.client1}
backend tls13
  server s 127.0.0.1:${P.tls13}
backend nginx
  server n 127.0.0.1:${P.nginx} ssl verify required ca-file ca.pem sni str(a.example.com) check inter 300
backend withcrt
  server n 127.0.0.1:${P.nginxMtls} ssl verify required ca-file ca.pem verifyhost a.example.com crt client1.pem
backend nocrt
  server n 127.0.0.1:${P.nginxMtls} ssl verify required ca-file ca.pem verifyhost a.example.com
backend tcpcheck
  option tcp-check
  tcp-check send "GET / HTTP/1.0\\r\\n\\r\\n"
  tcp-check expect string "nginx sni=a.example.com"
  server n 127.0.0.1:${P.nginx} ssl verify required ca-file ca.pem sni str(a.example.com) check-sni a.example.com check inter 300
backend badca
  server n 127.0.0.1:${P.nginx} ssl verify required ca-file ${otherCa.ca} sni str(a.example.com) check inter 300
backend tcp_a
  mode tcp
  server s 127.0.0.1:${P.app}
backend tcp_b
  mode tcp
  server s 127.0.0.1:${P.b}
`
}

async function curl (args: readonly string[]): Promise<{ code: number, out: string }> {
  return await run('curl', ['-s', '--max-time', '5', '--cacert', certs.ca, ...args])
}

/** The subject CN of the certificate tslb presents for `servername` (none: no SNI). */
async function presented (port: number, servername?: string): Promise<string> {
  const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`,
    ...(servername === undefined ? ['-noservername'] : ['-servername', servername])], '')
  return /subject=.*CN\s*=\s*([^\s,]+)/.exec(r.out)?.[1] ?? `no certificate (${r.out.split('\n')[0] ?? ''})`
}

async function showStat (): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = netConnect(stats)
    let out = ''
    s.on('data', b => { out += b.toString() })
    s.on('end', () => { resolve(out) })
    s.on('error', reject)
    s.end('show stat\n')
  })
}

async function serverStatus (backend: string): Promise<string> {
  const line = (await showStat()).split('\n').find(l => l.startsWith(`${backend},n,`))
  return line?.split(',')[17] ?? ''
}

async function waitFor (what: string, cond: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 5000
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

describe('TLS', () => {
  before(async () => {
    certs.leaf('a', ['a.example.com'])
    certs.leaf('b', ['b.example.com', '*.b.example.com'])
    certs.leaf('client1', ['client1'], { client: true })
    certs.leaf('revoked', ['revoked'], { client: true })
    certs.crl(['revoked'])
    otherCa.leaf('intruder', ['intruder'], { client: true })
    for (const name of [...PROXY_PORTS, 'nginxMtls', 'nginx'] as const) P[name] = await freePort()
    for (const name of ['app', 'b', 'plainApp', 'client1', 'tls13'] as const) {
      const srv = createHttpServer((req, res) => { res.end(`${name} ${req.url ?? ''}\n`) })
      await new Promise<void>(resolve => { srv.listen(0, '127.0.0.1', resolve) })
      P[name] = (srv.address() as { port: number }).port
      servers.push(srv)
    }
    const ng = join(certs.dir, 'nginx')
    mkdirSync(ng)
    writeFileSync(join(ng, 'nginx.conf'), `daemon off;
pid ${ng}/nginx.pid;
error_log ${ng}/error.log;
events {}
http {
  access_log off;
  client_body_temp_path ${ng}; proxy_temp_path ${ng}; fastcgi_temp_path ${ng}; uwsgi_temp_path ${ng};
  scgi_temp_path ${ng};
  server {
    listen 127.0.0.1:${P.nginx} ssl;
    ssl_certificate ${certs.dir}/a.crt;
    ssl_certificate_key ${certs.dir}/a.key;
    location / { return 200 "nginx sni=$ssl_server_name\\n"; }
  }
  server {
    listen 127.0.0.1:${P.nginxMtls} ssl;
    ssl_certificate ${certs.dir}/a.crt;
    ssl_certificate_key ${certs.dir}/a.key;
    ssl_client_certificate ${certs.ca};
    ssl_verify_client on;
    location / { return 200 "nginx client=$ssl_client_s_dn\\n"; }
  }
}
`)
    nginx = spawn('nginx', ['-c', join(ng, 'nginx.conf'), '-p', ng], { stdio: 'ignore' })
    // The ports were free when chosen; another process on a busy machine may take one before tslb binds it: then the
    // proxy's ports are chosen again (nginx and the apps keep theirs).
    for (let attempt = 1; ; attempt++) {
      writeFileSync(cfgFile, config())
      try {
        proxy = await startTslb(['run', '-f', cfgFile, '-S', ctl, '-p', join(certs.dir, 'pid')], /supervisor started/)
        break
      } catch (err) {
        if (attempt === 3 || !String(err).includes('EADDRINUSE')) throw err
        for (const name of PROXY_PORTS) P[name] = await freePort()
      }
    }
  })

  after(async () => {
    if (proxy !== undefined) {
      proxy.child.kill('SIGTERM')
      await waitExit(proxy.child)
    }
    nginx?.kill('SIGTERM')
    for (const s of servers) s.close()
    certs.remove()
    otherCa.remove()
  })

  test('SNI picks the certificate: exact, wildcard, and the first one as default', async () => {
    assert.equal(await presented(P.https, 'a.example.com'), 'a.example.com')
    assert.equal(await presented(P.https, 'b.example.com'), 'b.example.com')
    assert.equal(await presented(P.https, 'x.b.example.com'), 'b.example.com', 'wildcard')
    assert.equal(await presented(P.https, 'unknown.test'), 'a.example.com', 'default')
    assert.equal(await presented(P.https), 'a.example.com', 'no SNI: default')
  })

  test('curl over TLS reaches the backend its TLS facts choose; plain traffic sees ssl_fc false', async () => {
    const resolve = (n: string): string[] => ['--resolve', `${n}:${P.https}:127.0.0.1`]
    assert.equal((await curl([...resolve('a.example.com'), `https://a.example.com:${P.https}/x`])).out, 'app /x\n')
    assert.equal((await curl([...resolve('www.b.example.com'), `https://www.b.example.com:${P.https}/y`])).out,
      'b /y\n')
    assert.equal((await curl([...resolve('a.example.com'), `https://a.example.com:${P.https}/protocol`])).out,
      'tls13 /protocol\n')
    assert.equal((await curl([`http://127.0.0.1:${P.plain}/z`])).out, 'plainApp /z\n')
  })

  test('ALPN h2: an HTTP/2 connection whose streams see the TLS facts; http/1.1 still negotiated for HTTP/1.1 clients', async () => {
    const resolve = ['--resolve', `a.example.com:${P.https}:127.0.0.1`]
    const h2 = await curl(['--http2', '-w', '%{http_version}', ...resolve, `https://a.example.com:${P.https}/alpn`])
    assert.equal(h2.out, 'app /alpn\n2')
    const facts = await curl(['--http2', '-w', '%{http_version}', ...resolve, `https://a.example.com:${P.https}/protocol`])
    assert.equal(facts.out, 'tls13 /protocol\n2', 'use_backend on ssl_fc_protocol, per HTTP/2 stream')
    const h1 = await curl(['--http1.1', '-w', '%{http_version}', ...resolve, `https://a.example.com:${P.https}/alpn`])
    assert.equal(h1.out, 'app /alpn\n1.1')
    const h2only = await run('openssl', ['s_client', '-connect', `127.0.0.1:${P.https}`, '-alpn', 'h2'], '')
    assert.match(h2only.out, /ALPN protocol: h2/)
  })

  test('client certificates: verify required refuses none and untrusted ones; rules read the subject', async () => {
    const url = `https://a.example.com:${P.mtls}/m`
    const resolve = ['--resolve', `a.example.com:${P.mtls}:127.0.0.1`]
    const withCert = await curl([...resolve, '--cert', join(certs.dir, 'client1.crt'), '--key',
      join(certs.dir, 'client1.key'), url])
    assert.equal(withCert.out, 'client1 /m\n')
    const none = await curl([...resolve, url])
    assert.notEqual(none.code, 0, 'no certificate: refused')
    const untrusted = await curl([...resolve, '--cert', join(otherCa.dir, 'intruder.crt'), '--key',
      join(otherCa.dir, 'intruder.key'), url])
    assert.notEqual(untrusted.code, 0, 'a certificate from another CA: refused')
    assert.equal(untrusted.out, '')
  })

  test('client certificates: a certificate the crl-file revokes is refused', async () => {
    const url = `https://a.example.com:${P.mtlsCrl}/crl`
    const resolve = ['--resolve', `a.example.com:${P.mtlsCrl}:127.0.0.1`]
    const withCert = (name: string): string[] => ['--cert', join(certs.dir, `${name}.crt`), '--key',
      join(certs.dir, `${name}.key`)]
    assert.equal((await curl([...resolve, ...withCert('client1'), url])).out, 'client1 /crl\n')
    const revoked = await curl([...resolve, ...withCert('revoked'), url])
    assert.notEqual(revoked.code, 0)
    assert.equal(revoked.out, '')
  })

  test('client certificates: verify optional lets clients without one in, ssl_c_used tells them apart', async () => {
    const url = `https://a.example.com:${P.mtlsOptional}/o`
    const resolve = ['--resolve', `a.example.com:${P.mtlsOptional}:127.0.0.1`]
    assert.equal((await curl([...resolve, url])).out, 'app /o\n')
    assert.equal((await curl([...resolve, '--cert', join(certs.dir, 'client1.crt'), '--key',
      join(certs.dir, 'client1.key'), url])).out, 'client1 /o\n')
    assert.notEqual((await curl([...resolve, '--cert', join(otherCa.dir, 'intruder.crt'), '--key',
      join(otherCa.dir, 'intruder.key'), url])).code, 0, 'a certificate presented must be valid')
  })

  test('strict-sni refuses names without a certificate; the failure is logged', async () => {
    assert.equal(await presented(P.strict, 'a.example.com'), 'a.example.com')
    const r = await curl(['-k', '--resolve', `nope.test:${P.strict}:127.0.0.1`, `https://nope.test:${P.strict}/`])
    assert.notEqual(r.code, 0)
    await waitFor('the handshake failure log line', async () => await Promise.resolve(
      /strict\/1: SSL handshake failure/.test(proxy?.output() ?? '')))
  })

  test('TLS to nginx: verify required with the CA and SNI; a wrong CA fails the connection and check-ssl (also tcp-check)', async () => {
    assert.equal((await curl(['--resolve', `a.example.com:${P.https}:127.0.0.1`,
      `https://a.example.com:${P.https}/nginx`])).out, 'nginx sni=a.example.com\n')
    await waitFor('check-ssl to mark badca/n DOWN and nginx/n UP', async () =>
      (await serverStatus('badca')).startsWith('DOWN') && (await serverStatus('nginx')) === 'UP' &&
      (await serverStatus('tcpcheck')) === 'UP')
    const r = await curl(['-w', '%{http_code}', '-o', '/dev/null', '--resolve', `a.example.com:${P.https}:127.0.0.1`,
      `https://a.example.com:${P.https}/badca`])
    assert.equal(r.out, '503')
  })

  test('TLS to servers: crt presents a client certificate', async () => {
    const resolve = ['--resolve', `a.example.com:${P.https}:127.0.0.1`]
    assert.equal((await curl([...resolve, `https://a.example.com:${P.https}/withcrt`])).out,
      'nginx client=CN=client1,O=tslb\n')
    assert.match((await curl([...resolve, `https://a.example.com:${P.https}/nocrt`])).out,
      /400 No required SSL certificate was sent/)
  })

  test('rules see TLS: redirect to HTTPS unless ssl_fc, HSTS, %[ssl_fc_*] in a header', async () => {
    const plain = await curl(['-i', '-H', 'Host: a.example.com', `http://127.0.0.1:${P.redirectPlain}/r`])
    assert.match(plain.out, /^HTTP\/1\.1 301 /)
    assert.match(plain.out, /^location: https:\/\/a\.example\.com\/r\r$/mi)
    const tls = await curl(['-i', '--resolve', `a.example.com:${P.redirectTls}:127.0.0.1`,
      `https://a.example.com:${P.redirectTls}/r`])
    assert.match(tls.out, /^HTTP\/1\.1 200 /)
    assert.match(tls.out, /^strict-transport-security: max-age=31536000\r$/mi)
    assert.match(tls.out, /^x-tls: TLSv1\.3 a\.example\.com\r$/mi)
  })

  test('the stats page and the Prometheus exporter on an ssl bind', async () => {
    const resolve = ['--resolve', `a.example.com:${P.stats}:127.0.0.1`]
    assert.equal((await curl([...resolve, '-o', '/dev/null', '-w', '%{http_code}',
      `https://a.example.com:${P.stats}/stats`])).out, '200')
    assert.match((await curl([...resolve, `https://a.example.com:${P.stats}/metrics`])).out,
      /^haproxy_process_nbthread 1$/m)
  })

  test('mode tcp: TLS terminated, clear bytes relayed, routed by ssl_fc_sni', async () => {
    const ask = async (servername: string): Promise<string> => await new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: P.tcp, servername, ca: readFileSync(certs.ca) }, () => {
        s.write('GET /tcp HTTP/1.0\r\n\r\n')
      })
      let out = ''
      s.on('data', (b: Buffer) => { out += b.toString() })
      s.on('end', () => { resolve(out.split('\r\n\r\n')[1] ?? '') })
      s.on('error', reject)
    })
    assert.equal(await ask('a.example.com'), 'app /tcp\n')
    assert.equal(await ask('b.example.com'), 'b /tcp\n')
    // Half-close after the request (close_notify and FIN): the answer still comes back.
    const halfClosed = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: P.tcp, servername: 'a.example.com', ca: readFileSync(certs.ca) },
        () => { s.end('GET /half HTTP/1.0\r\n\r\n') })
      let out = ''
      s.on('data', (b: Buffer) => { out += b.toString() })
      s.on('close', () => { resolve(out.split('\r\n\r\n')[1] ?? '') })
      s.on('error', reject)
    })
    assert.equal(halfClosed, 'app /half\n')
  })

  test('mode tcp routes by req.ssl_sni after tcp-request inspect-delay (content rules too), TLS untouched', async () => {
    assert.equal((await curl(['--resolve', `a.example.com:${P.router}:127.0.0.1`,
      `https://a.example.com:${P.router}/r`])).out, 'nginx sni=a.example.com\n')
    assert.equal((await curl(['--resolve', `www.b.example.com:${P.router}:127.0.0.1`,
      `https://www.b.example.com:${P.router}/r`])).out, 'b /r\n')
    assert.equal((await curl([`http://127.0.0.1:${P.router}/plain`])).out, 'app /plain\n', 'not TLS: default backend')
    const blocked = await curl(['-k', '--resolve', `blocked.example.com:${P.router}:127.0.0.1`,
      `https://blocked.example.com:${P.router}/r`])
    assert.notEqual(blocked.code, 0, 'tcp-request content reject over req.ssl_sni')
  })

  test('clients resetting TLS connections mid-request do not take the worker down', async () => {
    const workersBefore = (proxy?.output() ?? '').split('starting proxy worker').length
    for (let i = 0; i < 5; i++) {
      await new Promise<void>(resolve => {
        const raw = netConnect(P.https, '127.0.0.1')
        const s = tlsConnect({ socket: raw, servername: 'a.example.com', ca: readFileSync(certs.ca) }, () => {
          s.write('GET /reset HTTP/1.1\r\nHost: a\r\n')
          // An RST, not a FIN: the worker's TLS socket gets ECONNRESET.
          setTimeout(() => { raw.resetAndDestroy(); resolve() }, 20)
        })
        s.on('error', () => { resolve() })
      })
    }
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.equal((await curl(['--resolve', `a.example.com:${P.https}:127.0.0.1`,
      `https://a.example.com:${P.https}/after`])).out, 'app /after\n')
    assert.equal((proxy?.output() ?? '').split('starting proxy worker').length, workersBefore, 'no worker restart')
  })

  test('a reload serves a certificate changed on disk; a broken one is refused and the old one kept', async () => {
    const serial = async (): Promise<string> => await new Promise((resolve, reject) => {
      const sock = tlsConnect({ host: '127.0.0.1', port: P.https, servername: 'a.example.com', rejectUnauthorized: false },
        () => { resolve(sock.getPeerX509Certificate()?.serialNumber ?? ''); sock.destroy() })
      sock.on('error', reject)
    })
    const before = await serial()
    certs.leaf('a', ['a.example.com'])
    const expected = new X509Certificate(readFileSync(join(certs.dir, 'a.crt'))).serialNumber
    assert.notEqual(expected, before)
    const r = await tslb(['reload', '-S', ctl])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(await serial(), expected)
    writeFileSync(join(certs.dir, 'a.pem'), readFileSync(join(certs.dir, 'a.crt')))
    const refused = await tslb(['reload', '-S', ctl])
    assert.equal(refused.code, 1)
    assert.match(refused.stdout + refused.stderr, /no private key/)
    assert.equal(await serial(), expected, 'the running generation keeps serving')
    certs.leaf('a', ['a.example.com'])
  })

  test('sessions resume: tickets across a reload, the session cache with no-tls-tickets', async () => {
    const sess = join(certs.dir, 'sess')
    // TLSv1.3 tickets come after the handshake: ask for a response so that s_client reads them before it leaves.
    const first = await run('openssl', ['s_client', '-ign_eof', '-connect', `127.0.0.1:${P.https}`, '-servername',
      'a.example.com', '-sess_out', sess], 'GET / HTTP/1.0\r\n\r\n')
    assert.match(first.out, /^New, TLSv1\.3/m)
    const r = await tslb(['reload', '-S', ctl])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const again = await run('openssl', ['s_client', '-connect', `127.0.0.1:${P.https}`, '-servername',
      'a.example.com', '-sess_in', sess], '')
    assert.match(again.out, /^Reused, TLSv1\.3/m, 'a ticket from the previous worker generation')
    const cached = join(certs.dir, 'sess12')
    await run('openssl', ['s_client', '-tls1_2', '-connect', `127.0.0.1:${P.strict}`, '-servername', 'a.example.com',
      '-sess_out', cached], '')
    const resumed = await run('openssl', ['s_client', '-tls1_2', '-connect', `127.0.0.1:${P.strict}`, '-servername',
      'a.example.com', '-sess_in', cached], '')
    assert.match(resumed.out, /^Reused, TLSv1\.2/m, 'session ID from the session cache')
  })
})
