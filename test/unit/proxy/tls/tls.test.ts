import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SniSelector } from '../../../../src/proxy/tls/sni.ts'
import { formatDn, tlsSamples, type TlsFacts } from '../../../../src/proxy/tls/facts.ts'
import { SessionCache } from '../../../../src/proxy/tls/session-cache.ts'
import { mergeTls, versionRange } from '../../../../src/config/tls-options.ts'
import { fetchSamples } from '../../../../src/proxy/acl/sample.ts'
import { compileAcl } from '../../../../src/proxy/acl/matcher.ts'
import { parseAclDefinition } from '../../../../src/config/acl.ts'
import { constantSni, serverName, serverTlsOptions } from '../../../../src/proxy/tls/client.ts'
import type { PeerCertificate } from 'node:tls'

const cert = (id: string, names: string[]): { id: string, names: string[] } => ({ id, names })

test('SNI: exact names first, then one-label wildcards, the first declared among equals, else none', () => {
  const s = new SniSelector([cert('default', ['www.example.com']), cert('wild', ['*.example.com']),
    cert('api', ['api.example.com']), cert('api2', ['api.example.com']), cert('deep', ['*.b.example.com'])])
  assert.equal(s.match('api.example.com')?.id, 'api')
  assert.equal(s.match('API.Example.COM.')?.id, 'api')
  assert.equal(s.match('foo.example.com')?.id, 'wild')
  assert.equal(s.match('x.b.example.com')?.id, 'deep')
  assert.equal(s.match('a.x.example.com'), undefined, 'a wildcard covers one label only')
  assert.equal(s.match('example.com'), undefined)
  assert.equal(s.match(undefined), undefined)
  assert.equal(s.fallback?.id, 'default')
})

test('SNI: a crt-list !name filter keeps its certificate out for that name', () => {
  const s = new SniSelector([cert('first', ['a.test']), cert('wild', ['*.example.com', '!secure.example.com']),
    cert('secure', ['*.example.com'])])
  assert.equal(s.match('www.example.com')?.id, 'wild')
  assert.equal(s.match('secure.example.com')?.id, 'secure')
})

test('distinguished names in HAProxy form, or one entry of them', () => {
  const dn = 'C=FR\nO=tslb\nOU=a\nOU=b\nCN=client one'
  assert.equal(formatDn(dn, undefined, undefined), '/C=FR/O=tslb/OU=a/OU=b/CN=client one')
  assert.equal(formatDn(dn, 'CN', undefined), 'client one')
  assert.equal(formatDn(dn, 'OU', '1'), 'a')
  assert.equal(formatDn(dn, 'OU', undefined), 'b', 'the last occurrence by default')
  assert.equal(formatDn(dn, 'L', undefined), undefined)
})

const facts = (over: Partial<TlsFacts> = {}): TlsFacts => ({ sni: 'a.example.com', alpn: 'http/1.1',
  protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', resumed: false, peerCertificate: undefined,
  verifyError: undefined, ...over })

test('TLS fetches: plain connections have ssl_fc false and no other sample', () => {
  assert.deepEqual(tlsSamples('ssl_fc', [], undefined), ['0'])
  assert.deepEqual(tlsSamples('ssl_c_used', [], undefined), ['0'])
  assert.deepEqual(tlsSamples('ssl_fc_sni', [], undefined), [])
  assert.equal(tlsSamples('src', [], undefined), undefined, 'not a TLS fetch')
  const t = facts()
  assert.deepEqual(tlsSamples('ssl_fc', [], t), ['1'])
  assert.deepEqual(tlsSamples('ssl_fc_sni', [], t), ['a.example.com'])
  assert.deepEqual(tlsSamples('ssl_fc_protocol', [], t), ['TLSv1.3'])
  assert.deepEqual(tlsSamples('ssl_fc_cipher', [], t), ['TLS_AES_128_GCM_SHA256'])
  assert.deepEqual(tlsSamples('ssl_fc_alpn', [], t), ['http/1.1'])
  assert.deepEqual(tlsSamples('ssl_fc_has_crt', [], t), ['0'])
  assert.deepEqual(tlsSamples('ssl_c_verify', [], t), ['0'])
  assert.deepEqual(tlsSamples('ssl_c_s_dn', [], t), [])
})

test('TLS fetches through the ACL matcher: bool, int and string defaults', () => {
  const src = { src: '127.0.0.1', srcPort: 1, dst: '127.0.0.1', dstPort: 443, tls: facts() }
  const plain = { src: '127.0.0.1', srcPort: 1, dst: '127.0.0.1', dstPort: 80 }
  const acl = (words: string[]): (s: typeof plain) => boolean => compileAcl(parseAclDefinition('x', words,
    { file: 't', line: 1 }))
  assert.equal(acl(['ssl_fc'])(src), true)
  assert.equal(acl(['ssl_fc'])(plain), false)
  assert.equal(acl(['ssl_fc_sni', '-i', 'A.EXAMPLE.COM'])(src), true)
  assert.equal(acl(['ssl_fc_sni_end', '.example.com'])(src), true)
  assert.equal(acl(['ssl_c_verify', '0'])(src), true)
  assert.deepEqual(fetchSamples('ssl_fc_protocol', [], src), ['TLSv1.3'])
})

test('the session cache keeps the most recent entries for their lifetime', () => {
  let now = 0
  const c = new SessionCache(2, 1000, () => now)
  const id = (n: number): Buffer => Buffer.from([n])
  c.set(id(1), Buffer.from('one'))
  c.set(id(2), Buffer.from('two'))
  c.set(id(3), Buffer.from('three'))
  assert.equal(c.get(id(1)), undefined, 'the oldest went')
  assert.equal(c.get(id(3))?.toString(), 'three')
  now = 1000
  assert.equal(c.get(id(3)), undefined, 'expired')
  assert.equal(new SessionCache(0, 1000).length, 0)
})

test('TLS version range: defaults, ssl-min/max-ver, no-tlsv1x holes', () => {
  assert.deepEqual(versionRange({}), { min: 'TLSv1.2', max: 'TLSv1.3' })
  assert.deepEqual(versionRange({ minVer: 'TLSv1.3' }), { min: 'TLSv1.3', max: 'TLSv1.3' })
  assert.deepEqual(versionRange({ maxVer: 'TLSv1.1' }), { min: 'TLSv1.1', max: 'TLSv1.1' })
  assert.deepEqual(versionRange({ minVer: 'TLSv1.0', disabled: ['TLSv1.0', 'TLSv1.1'] }),
    { min: 'TLSv1.2', max: 'TLSv1.3' })
  assert.deepEqual(versionRange({ disabled: ['TLSv1.2'] }), { min: 'TLSv1.3', max: 'TLSv1.3' })
  assert.deepEqual(versionRange({ minVer: 'TLSv1.0', disabled: ['TLSv1.1'] }), { min: 'TLSv1.0', max: 'TLSv1.0' },
    'the range stops at the first hole')
  assert.throws(() => versionRange({ disabled: ['TLSv1.2', 'TLSv1.3'] }), /no TLS version left/)
})

test('bind settings over ssl-default-bind-options, no-tlsv1x accumulating', () => {
  assert.deepEqual(mergeTls({ ciphers: 'A', disabled: ['TLSv1.0'] }, { ciphers: 'B', disabled: ['TLSv1.1'] }),
    { ciphers: 'B', disabled: ['TLSv1.0', 'TLSv1.1'] })
  assert.deepEqual(mergeTls({ disabled: ['TLSv1.2'] }, { minVer: 'TLSv1.2' }), { minVer: 'TLSv1.2',
    disabled: undefined }, 'an explicit version range replaces the default flags')
})

test('server SNI: a constant, a fetch over the request (port dropped), nothing', () => {
  const req = { src: '1.2.3.4', srcPort: 1, dst: '5.6.7.8', dstPort: 443,
    headerValues: (n: string) => n === 'host' ? ['api.example.com:8443'] : [] }
  assert.equal(serverName({ sni: 'str(backend.test)' }, undefined), 'backend.test')
  assert.equal(serverName({ sni: 'req.hdr(host)' }, req), 'api.example.com')
  assert.equal(serverName({ sni: 'req.hdr(x-none)' }, req), undefined)
  assert.equal(serverName({}, req), undefined)
  assert.equal(constantSni({ sni: 'str(a)' }), true)
  assert.equal(constantSni({ sni: 'req.hdr(host)' }), false)
  assert.equal(constantSni(undefined), true)
})

test('server verification: none, the chain only, the SNI or verifyhost name', () => {
  const cert = { subject: { CN: 'a.test' }, subjectaltname: 'DNS:a.test' } as unknown as PeerCertificate
  const none = serverTlsOptions({ verify: 'none' }, 'b.test')
  assert.equal(none.rejectUnauthorized, false)
  assert.equal(none.checkServerIdentity?.('x', cert), undefined)
  const chainOnly = serverTlsOptions({ verify: 'required' }, undefined)
  assert.equal(chainOnly.rejectUnauthorized, true)
  assert.equal(chainOnly.checkServerIdentity?.('127.0.0.1', cert), undefined, 'no SNI, no verifyhost: no name check')
  assert.equal(serverTlsOptions({ verify: 'required' }, 'a.test').checkServerIdentity?.('x', cert), undefined)
  assert.ok(serverTlsOptions({ verify: 'required' }, 'b.test').checkServerIdentity?.('x', cert) instanceof Error)
  assert.ok(serverTlsOptions({ verify: 'required', verifyhost: 'c.test' }, 'a.test').checkServerIdentity?.('x',
    cert) instanceof Error, 'verifyhost wins over the SNI')
  assert.equal(serverTlsOptions({ verify: 'none' }, '10.0.0.1').servername, undefined, 'never an IP address as SNI')
  assert.deepEqual(serverTlsOptions({ verify: 'none', alpn: ['http/1.1'] }, undefined).ALPNProtocols, ['http/1.1'])
})
