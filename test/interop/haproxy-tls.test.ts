/**
 * TLS termination, differential against a real HAProxy 2.6 (/usr/sbin/haproxy) on 127.0.0.1: the
 * same configuration (only the ports differ), the same certificates (made by the openssl CLI at
 * test time), the same questions; both must answer alike.
 *
 * - which certificate each SNI gets: a `crt`, a crt-list with filters (wildcards, `!name`), no
 *   SNI, an unknown name, and `strict-sni`;
 * - client certificates under `verify optional`: none, a trusted one, an untrusted one;
 * - rules on `ssl_fc_sni`, `ssl_c_s_dn(CN)`, `ssl_fc_protocol`, `ssl_c_used`.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { join } from 'node:path'
import { makeCertDir, type CertDir } from '../helpers/certs.ts'
import { startTslb, waitExit } from '../helpers/cli.ts'
import { freePort } from '../helpers/ports.ts'

const HAPROXY = '/usr/sbin/haproxy'
const version = existsSync(HAPROXY) ? /HAProxy version (\S+)/.exec(execFileSync(HAPROXY, ['-v']).toString())?.[1]
  : undefined
const skip = version === undefined ? 'no /usr/sbin/haproxy' : !version.startsWith('2.6') ? `HAProxy ${version}` : false

interface Ports { main: number, strict: number, optional: number, dual: number }

const certs: CertDir = makeCertDir()
const other: CertDir = makeCertDir()
const backends: HttpServer[] = []
const backendPort: Record<string, number> = {}

function config (p: Ports): string {
  const be = (name: string): string => `backend ${name}\n  server s 127.0.0.1:${backendPort[name] ?? 0}\n`
  return `defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend main
  bind 127.0.0.1:${p.main} ssl crt ${certs.dir}/default.pem crt-list ${certs.dir}/list.txt
  use_backend sni_api if { ssl_fc_sni api.example.com }
  use_backend tls13 if { ssl_fc_protocol TLSv1.3 } { path /protocol }
  default_backend app
frontend dual
  bind 127.0.0.1:${p.dual} ssl crt ${certs.dir}/dual-rsa.pem crt ${certs.dir}/dual-ec.pem
  default_backend app
frontend strict
  bind 127.0.0.1:${p.strict} ssl crt ${certs.dir}/default.pem strict-sni
  default_backend app
frontend optional
  bind 127.0.0.1:${p.optional} ssl crt ${certs.dir}/default.pem ca-file ${certs.ca} verify optional
  use_backend client1 if { ssl_c_s_dn(CN) client1 }
  use_backend used if { ssl_c_used }
  default_backend app
${['app', 'sni_api', 'tls13', 'client1', 'used'].map(be).join('')}`
}

/** The CN of the certificate presented for `servername`, or 'refused'. */
async function presented (port: number, servername: string | undefined): Promise<string> {
  return await new Promise(resolve => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false })
    s.on('secureConnect', () => {
      const cn = s.getPeerCertificate().subject?.CN
      s.destroy()
      resolve(typeof cn === 'string' ? cn : 'none')
    })
    s.on('error', () => { resolve('refused') })
    s.on('close', () => { resolve('refused') })
  })
}

/** A request over TLS: the backend's answer, or 'refused'. */
async function ask (port: number, path: string, extra: ConnectionOptions = {}): Promise<string> {
  return await new Promise(resolve => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'a.example.com', rejectUnauthorized: false, ...extra },
      () => { s.write(`GET ${path} HTTP/1.0\r\nHost: a\r\n\r\n`) })
    let out = ''
    s.on('data', (b: Buffer) => { out += b.toString() })
    s.on('end', () => { resolve(out.split('\r\n\r\n')[1] ?? 'no body') })
    s.on('error', () => { resolve('refused') })
  })
}

describe('TLS termination: tslb answers as HAProxy 2.6', { skip }, () => {
  const ports: Record<'haproxy' | 'tslb', Ports> = { haproxy: { main: 0, strict: 0, optional: 0, dual: 0 },
    tslb: { main: 0, strict: 0, optional: 0, dual: 0 } }
  let haproxy: ChildProcess | undefined
  let tslb: Awaited<ReturnType<typeof startTslb>> | undefined

  before(async () => {
    certs.leaf('default', ['default.test'])
    certs.leaf('wild', ['*.example.com'])
    certs.leaf('exact', ['api.example.com'])
    certs.leaf('secure', ['*.example.com'])
    certs.leaf('dual-rsa', ['dual.example.com'], { rsa: true })
    certs.leaf('dual-ec', ['dual.example.com'])
    certs.leaf('client1', ['client1'], { client: true })
    other.leaf('intruder', ['intruder'], { client: true })
    // In the crt-list the first wildcard certificate keeps out of secure.example.com, which the second one takes.
    writeFileSync(join(certs.dir, 'list.txt'), `${certs.dir}/wild.pem *.example.com !secure.example.com
${certs.dir}/exact.pem
${certs.dir}/secure.pem *.example.com
`)
    for (const name of ['app', 'sni_api', 'tls13', 'client1', 'used']) {
      const srv = createHttpServer((_req, res) => { res.end(name) })
      await new Promise<void>(resolve => { srv.listen(0, '127.0.0.1', resolve) })
      backendPort[name] = (srv.address() as { port: number }).port
      backends.push(srv)
    }
    for (const who of ['haproxy', 'tslb'] as const) {
      ports[who] = { main: await freePort(), strict: await freePort(), optional: await freePort(), dual: await freePort() }
      writeFileSync(join(certs.dir, `${who}.cfg`), config(ports[who]))
    }
    haproxy = spawn(HAPROXY, ['-db', '-f', join(certs.dir, 'haproxy.cfg')], { stdio: 'ignore' })
    tslb = await startTslb(['run', '-f', join(certs.dir, 'tslb.cfg'), '-S', join(certs.dir, 'ctl.sock'), '-p',
      join(certs.dir, 'pid')], /supervisor started/)
    const until = Date.now() + 5000
    while (await presented(ports.haproxy.main, undefined) === 'refused' && Date.now() < until) {
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  })

  after(async () => {
    haproxy?.kill('SIGTERM')
    if (tslb !== undefined) {
      tslb.child.kill('SIGTERM')
      await waitExit(tslb.child)
    }
    for (const b of backends) b.close()
    certs.remove()
    other.remove()
  })

  test('the certificate each SNI gets', async () => {
    const names = [undefined, 'default.test', 'api.example.com', 'API.EXAMPLE.COM', 'foo.example.com',
      'secure.example.com', 'a.b.example.com', 'example.com', 'unknown.test']
    for (const n of names) {
      const h = await presented(ports.haproxy.main, n)
      const t = await presented(ports.tslb.main, n)
      assert.equal(t, h, `SNI ${n ?? '(none)'}: HAProxy presents ${h}, tslb ${t}`)
    }
    for (const n of [undefined, 'default.test', 'unknown.test']) {
      assert.equal(await presented(ports.tslb.strict, n), await presented(ports.haproxy.strict, n),
        `strict-sni, SNI ${n ?? '(none)'}`)
    }
  })

  // On a line with several names, Node switches to the SNI-selected context with one certificate: there a client that
  // cannot take ECDSA gets the default context's RSA certificate (documented in configuration.md §3.15).
  test('RSA and ECDSA certificates for one name: each client gets the one its signature algorithms allow', async () => {
    const keyType = async (port: number, sigalgs: string | undefined): Promise<string> => await new Promise(resolve => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'dual.example.com', rejectUnauthorized: false,
        ...(sigalgs === undefined ? {} : { sigalgs }) })
      s.on('secureConnect', () => {
        resolve(s.getPeerX509Certificate()?.publicKey.asymmetricKeyType ?? 'none')
        s.destroy()
      })
      s.on('error', (e: Error) => { resolve(`refused: ${e.message}`) })
    })
    for (const sigalgs of [undefined, 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256', 'ecdsa_secp256r1_sha256']) {
      const h = await keyType(ports.haproxy.dual, sigalgs)
      const t = await keyType(ports.tslb.dual, sigalgs)
      assert.equal(t, h, `sigalgs ${sigalgs ?? '(default)'}: HAProxy presents ${h}, tslb ${t}`)
    }
  })

  test('rules on TLS fetches route alike', async () => {
    for (const [path, opts] of [['/x', { servername: 'api.example.com' }], ['/protocol', {}], ['/y', {}]] as const) {
      assert.equal(await ask(ports.tslb.main, path, opts), await ask(ports.haproxy.main, path, opts), path)
    }
  })

  test('verify optional: no certificate, a trusted one, an untrusted one', async () => {
    const cases: [string, ConnectionOptions][] = [
      ['none', {}],
      ['trusted', { cert: readFileSync(join(certs.dir, 'client1.crt')), key: readFileSync(join(certs.dir, 'client1.key')) }],
      ['untrusted', { cert: readFileSync(join(other.dir, 'intruder.crt')),
        key: readFileSync(join(other.dir, 'intruder.key')) }]
    ]
    // HAProxy refuses an untrusted certificate with an alert; tslb (Node verifies client certificates once the
    // handshake is done) closes the connection before reading a request. Either way no request is served.
    const refusedOrClosed = (a: string): string => a === 'no body' ? 'refused' : a
    for (const [what, opts] of cases) {
      const h = refusedOrClosed(await ask(ports.haproxy.optional, '/c', opts))
      const t = refusedOrClosed(await ask(ports.tslb.optional, '/c', opts))
      assert.equal(t, h, `${what}: HAProxy says ${h}, tslb ${t}`)
    }
  })
})
