/**
 * TLS keywords: bind/server/global parsing (no files), then loading with certificates made by
 * the openssl CLI in a temporary directory.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseConfig, loadConfig } from '../../../src/config/parser.ts'
import { ConfigError, formatDiagnostic } from '../../../src/util/errors.ts'
import { parseCrtList } from '../../../src/config/tls-files.ts'
import { makeCertDir, type CertDir } from '../../helpers/certs.ts'

function diagnostics (text: string): string[] {
  return parseConfig(text, 't.cfg', { env: {} }).diagnostics.map(formatDiagnostic)
}

const BASE = `defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
`

test('bind ssl: needs a certificate; TLS options without ssl are reported; refused options say why', () => {
  assert.match(diagnostics(`${BASE}frontend f\n  bind :443 ssl\n`).join('\n'), /needs a certificate/)
  assert.match(diagnostics(`${BASE}frontend f\n  bind :443 crt /x.pem\n`).join('\n'),
    /warning: bind option 'crt' has no effect without 'ssl'/)
  assert.match(diagnostics(`${BASE}frontend f\n  bind :443 ssl crt /x.pem npn http/1.1\n`).join('\n'),
    /bind option 'npn': NPN is obsolete/)
  assert.match(diagnostics(`${BASE}frontend f\n  bind :443 ssl crt /x.pem crt-ignore-err all\n`).join('\n'),
    /ignoring verification errors is not supported/)
  assert.match(diagnostics(`${BASE}frontend f\n  bind :443 ssl crt /x.pem ssl-min-ver SSLv3\n`).join('\n'),
    /SSLv3 is not available/)
  assert.match(diagnostics(`${BASE}frontend f\n  bind :443 ssl crt /x.pem verify sometimes\n`).join('\n'),
    /'verify' expects none, optional or required/)
})

test('bind ssl options land in the model', () => {
  const r = parseConfig(`${BASE}frontend f
  bind :443 ssl crt /a.pem crt /dir crt-list /l.txt alpn h2,http/1.1 ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3 ciphers ECDHE-RSA-AES128-GCM-SHA256 ciphersuites TLS_AES_128_GCM_SHA256 curves X25519:P-256 ca-file /ca.pem verify optional crl-file /crl.pem no-tls-tickets strict-sni no-tlsv11 prefer-client-ciphers
`, 't.cfg', { env: {} })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  const ssl = r.config.proxies.find(p => p.name === 'f')?.binds[0]?.ssl
  assert.deepEqual(ssl?.crt, ['/a.pem', '/dir'])
  assert.deepEqual(ssl?.crtList, ['/l.txt'])
  assert.equal(ssl?.strictSni, true)
  assert.deepEqual(ssl?.settings, { alpn: ['h2', 'http/1.1'], minVer: 'TLSv1.2', maxVer: 'TLSv1.3',
    ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', ciphersuites: 'TLS_AES_128_GCM_SHA256', curves: 'X25519:P-256',
    caFile: '/ca.pem', verify: 'optional', crlFile: '/crl.pem', noTlsTickets: true, disabled: ['TLSv1.1'],
    preferClientCiphers: true })
})

test('server ssl options, default-server copies staying independent', () => {
  const r = parseConfig(`${BASE}backend b
  default-server ssl verify none
  server s1 127.0.0.1:443 sni req.hdr(host) check-ssl check-sni api.test
  server s2 127.0.0.1:443 verify required ca-file /ca.pem verifyhost api.test crt /client.pem alpn http/1.1
  server s3 127.0.0.1:443 no-ssl
`, 't.cfg', { env: {} })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  const [s1, s2, s3] = r.config.proxies.find(p => p.name === 'b')?.servers ?? []
  assert.equal(s1?.ssl, true)
  assert.equal(s1?.checkSsl, true)
  assert.deepEqual(s1?.tls, { verify: 'none', sni: 'req.hdr(host)', checkSni: 'api.test' })
  assert.deepEqual(s2?.tls, { verify: 'required', caFile: '/ca.pem', verifyhost: 'api.test', crt: '/client.pem',
    alpn: ['http/1.1'] })
  assert.equal(s3?.ssl, false)
  assert.match(diagnostics(`${BASE}backend b\n  server s 1.2.3.4:443 ssl sni nosuchfetch\n`).join('\n'),
    /server option 'sni': unknown fetch method 'nosuchfetch'/)
  assert.match(diagnostics(`${BASE}backend b\n  server s 1.2.3.4:443 ssl verify optional\n`).join('\n'),
    /expects none or required/)
})

test('global ssl-default-* and tune.ssl.* keywords', () => {
  const r = parseConfig(`global
  ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256
  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256
  ssl-default-bind-curves X25519
  ssl-default-bind-options prefer-client-ciphers no-sslv3 no-tlsv10 no-tlsv11 no-tls-tickets
  ssl-default-server-ciphers ECDHE-ECDSA-AES128-GCM-SHA256
  ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256
  ssl-default-server-options ssl-min-ver TLSv1.2
  ssl-server-verify none
  crt-base /etc/certs
  ca-base /etc/ca
  tune.ssl.default-dh-param 2048
  tune.ssl.cachesize 1000
  tune.ssl.lifetime 10m
listen l
  bind :80
  server s 127.0.0.1:80
`, 't.cfg', { env: {} })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  assert.deepEqual(r.config.global.tls, {
    defaultBind: { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', ciphersuites: 'TLS_AES_128_GCM_SHA256', curves: 'X25519',
      preferClientCiphers: true, disabled: ['TLSv1.0', 'TLSv1.1'], noTlsTickets: true },
    defaultServer: { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', ciphersuites: 'TLS_AES_128_GCM_SHA256',
      minVer: 'TLSv1.2' },
    serverVerify: 'none', crtBase: '/etc/certs', caBase: '/etc/ca', defaultDhParam: 2048, cacheSize: 1000,
    lifetime: 600_000
  })
  assert.match(diagnostics('global\n  ssl-default-bind-options bogus\n').join('\n'), /unknown option 'bogus'/)
})

test('crt-list lines: file, bracketed options, SNI filters, comments', () => {
  const entries = parseCrtList(`# comment
/c/a.pem
/c/b.pem [alpn http/1.1 ssl-min-ver TLSv1.3] b.example.com *.b.example.com !x.b.example.com

/c/c.pem [verify required ca-file /ca.pem]
`, 'l.txt', () => {})
  assert.deepEqual(entries.map(e => [e.file, e.settings, e.filters, e.line]), [
    ['/c/a.pem', {}, [], 2],
    ['/c/b.pem', { alpn: ['http/1.1'], minVer: 'TLSv1.3' }, ['b.example.com', '*.b.example.com', '!x.b.example.com'],
      3],
    ['/c/c.pem', { verify: 'required', caFile: '/ca.pem' }, [], 5]
  ])
  assert.throws(() => parseCrtList('/a.pem [npn h2]\n', 'l.txt', () => {}), /crt-list option 'npn' is not supported/)
  assert.throws(() => parseCrtList('/a.pem [alpn h2\n', 'l.txt', () => {}), /missing '\]'/)
})

describe('loading certificates', () => {
  let certs: CertDir
  before(() => {
    certs = makeCertDir()
    certs.leaf('a', ['a.example.com'])
    certs.leaf('b', ['b.example.com', '*.b.example.com'])
    // A directory as HAProxy loads it: every file, the key in a side file.
    mkdirSync(join(certs.dir, 'dir'))
    certs.leaf('c', ['c.example.com'])
    renameSync(join(certs.dir, 'c.crt'), join(certs.dir, 'dir', 'c.pem'))
    renameSync(join(certs.dir, 'c.key'), join(certs.dir, 'dir', 'c.pem.key'))
    certs.leaf('d', ['d.example.com'])
    writeFileSync(join(certs.dir, 'list.txt'), `${join(certs.dir, 'd.pem')} [alpn http/1.1] d.example.com
b.pem
`)
  })
  after(() => { certs.remove() })

  async function load (text: string): Promise<{ config: Awaited<ReturnType<typeof loadConfig>>['config'],
    messages: string[] }> {
    const file = join(certs.dir, `t${Math.random().toString(16).slice(2)}.cfg`)
    writeFileSync(file, text)
    try {
      const r = await loadConfig(file, { env: {} })
      return { config: r.config, messages: r.diagnostics.map(formatDiagnostic) }
    } catch (err) {
      if (err instanceof ConfigError) return { config: undefined as never, messages: err.diagnostics.map(formatDiagnostic) }
      throw err
    }
  }

  test('files, directories (with .key side files) and crt-lists, in order, with their names', async () => {
    const { config, messages } = await load(`global
  crt-base ${certs.dir}
${BASE}frontend f
  bind 127.0.0.1:8443 ssl crt a.pem crt ${join(certs.dir, 'dir')} crt-list list.txt alpn h2,http/1.1
  default_backend b
backend b
  server s 127.0.0.1:80
`)
    assert.deepEqual(messages.filter(m => !m.includes('warning')), [])
    const ssl = config.proxies.find(p => p.name === 'f')?.binds[0]?.ssl
    assert.deepEqual(ssl?.certs.map(c => [c.names, c.filters]), [
      [['a.example.com'], undefined], [['c.example.com'], undefined], [['d.example.com'], ['d.example.com']],
      [['b.example.com', '*.b.example.com'], undefined]])
    assert.deepEqual(ssl?.settings.alpn, ['h2', 'http/1.1'], 'clients may negotiate HTTP/2')
    assert.ok(ssl?.certs[1]?.key.includes('PRIVATE KEY'))
    assert.equal(typeof config.global.tls?.ticketKeys, 'string')
  })

  test('what would fail in a worker fails the check', async () => {
    const errs = async (text: string): Promise<string> => (await load(`${BASE}${text}`)).messages.join('\n')
    assert.match(await errs('frontend f\n  bind :8443 ssl crt /nonexistent.pem\n'),
      /unable to stat SSL certificate from file '\/nonexistent.pem'/)
    certs.leaf('m1', ['m1.test'])
    certs.leaf('m2', ['m2.test'])
    writeFileSync(join(certs.dir, 'mismatch.pem'), readFileSync(join(certs.dir, 'm1.crt'), 'utf8') +
      readFileSync(join(certs.dir, 'm2.key'), 'utf8'))
    assert.match(await errs(`frontend f\n  bind :8443 ssl crt ${join(certs.dir, 'mismatch.pem')}\n`),
      /does not match its certificate/)
    assert.match(await errs(`frontend f\n  bind :8443 ssl crt ${join(certs.dir, 'a.crt')}\n`), /no private key/)
    assert.match(await errs(`frontend f\n  bind :8443 ssl crt ${join(certs.dir, 'a.pem')} verify required\n`),
      /'verify required' needs a 'ca-file'/)
    assert.match(await errs(`frontend f\n  bind :8443 ssl crt ${join(certs.dir, 'a.pem')} ciphers NOPE\n`),
      /no cipher match/)
    assert.doesNotMatch(await errs(`frontend f\n  bind :8443 ssl crt ${join(certs.dir, 'a.pem')} alpn h2\n`),
      /alpn/, 'clients may negotiate HTTP/2 alone')
    assert.match(await errs('backend b\n  server s1 127.0.0.1:443 ssl\n'),
      /'server b\/s1' : verify is enabled by default but no CA file specified/)
    assert.doesNotMatch(await errs('global\n  ssl-server-verify none\n' + BASE + 'backend b\n  server s1 127.0.0.1:443 ssl\n'),
      /error/)
    assert.match(await errs('backend b\n  server s1 127.0.0.1:443 ssl verify none send-proxy\n'),
      /'send-proxy' with 'ssl' is not supported by tslb yet/)
    assert.match(await errs(`frontend f\n  bind :8443 ssl crt ${join(certs.dir, 'a.pem')} accept-proxy\n`),
      /'bind ... ssl accept-proxy' is not supported by tslb yet/)
  })

  test('servers in mode http are never offered h2 (tslb speaks HTTP/1.1 to them)', async () => {
    const { config, messages } = await load(`global\n  ssl-server-verify none\n${BASE}backend b
  server s 127.0.0.1:443 ssl alpn h2,http/1.1
`)
    assert.match(messages.join('\n'), /warning: server 's': 'alpn h2,http\/1.1': h2 is not offered/)
    assert.deepEqual(config.proxies.find(p => p.name === 'b')?.servers[0]?.tls?.alpn, ['http/1.1'])
    assert.match((await load(`global\n  ssl-server-verify none\n${BASE}backend b\n  server s 127.0.0.1:443 ssl alpn h2\n`))
      .messages.join('\n'), /'alpn h2': HTTP\/2 to servers is not supported by tslb yet/)
  })

  test('a multi-certificate bundle name loads NAME.rsa and NAME.ecdsa', async () => {
    certs.leaf('bundle-rsa', ['bundle.test'], { rsa: true })
    certs.leaf('bundle-ec', ['bundle.test'])
    renameSync(join(certs.dir, 'bundle-rsa.pem'), join(certs.dir, 'bundle.pem.rsa'))
    renameSync(join(certs.dir, 'bundle-ec.pem'), join(certs.dir, 'bundle.pem.ecdsa'))
    const { config, messages } = await load(`${BASE}frontend f
  bind 127.0.0.1:8443 ssl crt ${join(certs.dir, 'bundle.pem')}
  default_backend b
backend b
  server s 127.0.0.1:80
`)
    assert.deepEqual(messages, [])
    assert.deepEqual(config.proxies.find(p => p.name === 'f')?.binds[0]?.ssl?.certs.map(c => c.file),
      [join(certs.dir, 'bundle.pem.rsa'), join(certs.dir, 'bundle.pem.ecdsa')])
  })

  test('mode tcp offers the ALPN list as written (the server speaks it)', async () => {
    const { config, messages } = await load(`${BASE}listen t
  mode tcp
  bind 127.0.0.1:8443 ssl crt ${join(certs.dir, 'a.pem')} alpn h2,http/1.1
  server s 127.0.0.1:80
`)
    assert.deepEqual(messages, [])
    assert.deepEqual(config.proxies.find(p => p.name === 't')?.binds[0]?.ssl?.settings.alpn, ['h2', 'http/1.1'])
  })
})

test('SNI routing without termination: content rules over req.ssl_* are enforced once inspect-delay waits for the ClientHello', () => {
  const errs = (text: string): string[] => diagnostics(text)
  const sniRouting = `${BASE}frontend f
  mode tcp
  bind :443
  tcp-request inspect-delay 5s
  tcp-request content reject if { req.ssl_sni -i blocked.test }
  tcp-request content accept if { req_ssl_hello_type 1 }
  use_backend b if { req.ssl_sni -i a.test }
  default_backend b
backend b
  mode tcp
  server s 127.0.0.1:443
`
  assert.deepEqual(errs(sniRouting), [])
  assert.match(errs(sniRouting.replace('  tcp-request inspect-delay 5s\n', '')).join('\n'),
    /'tcp-request content reject over req.ssl_sni' is not enforced yet/, 'without inspect-delay nothing waits')
  assert.match(errs(sniRouting.replace('  mode tcp\n  bind', '  mode http\n  bind')).join('\n'),
    /over req.ssl_sni' is not enforced yet/, 'mode http does not read the ClientHello')
})
