import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type AddressInfo } from 'node:net'
import { newExchange, pgsqlStartup } from '../../../../src/proxy/health/exchanges.ts'
import { startProbe, systemClock, type ProbeOutcome } from '../../../../src/proxy/health/probe.ts'
import { parseConfig } from '../../../../src/config/parser.ts'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')

test('redis-check: PING, +PONG is L7OK "Redis server is ok", anything else L7STS with its first line', () => {
  const x = newExchange('redis-check', [])
  assert.equal(x.greeting?.toString(), '*1\r\n$4\r\nPING\r\n')
  assert.deepEqual(x.onData(b('+PO'), false), {})
  assert.deepEqual(x.onData(b('+PONG\r\n'), false).outcome, { status: 'L7OK', code: 0, desc: 'Redis server is ok' })
  assert.deepEqual(newExchange('redis-check', []).onData(b('-Error message\r\n'), false).outcome, { status: 'L7STS', code: 0, desc: '-Error message' })
})

test('smtpchk: banner, then HELO localhost (or the configured EHLO); the reply\'s code and text are the status', () => {
  const ok = newExchange('smtpchk', [])
  assert.equal(ok.greeting, undefined)
  assert.equal(ok.onData(b('220 smtp-check.vtc SMTP Server\r\n'), false).send?.toString(), 'HELO localhost\r\n')
  assert.deepEqual(ok.onData(b('250 smtp-check.vtc\r\n'), false).outcome, { status: 'L7OK', code: 250, desc: 'smtp-check.vtc' })
  const ehlo = newExchange('smtpchk', ['EHLO', 'domain.tld'])
  assert.equal(ehlo.onData(b('220 x\r\n'), false).send?.toString(), 'EHLO domain.tld\r\n')
  assert.deepEqual(ehlo.onData(b('250-smtp-check.vtc\r\n250-KEYWORD\r\n'), false).outcome, { status: 'L7OK', code: 250, desc: 'smtp-check.vtc' })
  assert.deepEqual(newExchange('smtpchk', []).onData(b("I'm not a SMTP server\r\n"), false).outcome, { status: 'L7RSP', code: 0, desc: "I'm not a SMTP server" })
  assert.deepEqual(newExchange('smtpchk', []).onData(b('421 Try again later\r\n'), false).outcome, { status: 'L7STS', code: 421, desc: 'Try again later' })
  const late = newExchange('smtpchk', ['EHLO', 'domain.tld'])
  late.onData(b('220 x\r\n'), false)
  assert.deepEqual(late.onData(b('512 DNS error\r\n'), false).outcome, { status: 'L7STS', code: 512, desc: 'DNS error' })
})

test('pgsql-check: the 23-byte StartupMessage for "postgres"; AuthenticationOk is up, ErrorResponse gives its severity', () => {
  assert.equal(pgsqlStartup('postgres').toString('hex'), '00000017000300007573657200706f7374677265730000')
  const x = newExchange('pgsql-check', ['user', 'postgres'])
  assert.deepEqual(x.onData(Buffer.from('520000000800000000', 'hex'), false).outcome, { status: 'L7OK', code: 0, desc: 'PostgreSQL server is ok' })
  assert.deepEqual(newExchange('pgsql-check', ['user', 'p']).onData(Buffer.from('450000000B53464154414C00', 'hex'), false).outcome, { status: 'L7RSP', code: 0, desc: 'FATAL' })
  assert.deepEqual(newExchange('pgsql-check', ['user', 'p']).onData(b('Not a PostgreSQL response'), false).outcome, { status: 'L7STS', code: 0, desc: 'PostgreSQL unknown error' })
})

test('a probe runs the SMTP exchange over a real connection', async () => {
  const srv = createServer(s => {
    s.write('220 hello\r\n')
    s.once('data', d => { s.end(d.toString() === 'HELO localhost\r\n' ? '250 fine\r\n' : '500 bad\r\n') })
  })
  await new Promise<void>(resolve => { srv.listen(0, '127.0.0.1', resolve) })
  const outcome = await new Promise<ProbeOutcome>(resolve => {
    startProbe({ kind: 'exchange', host: '127.0.0.1', port: (srv.address() as AddressInfo).port, connectTimeout: 2000, checkTimeout: 2000, exchange: () => newExchange('smtpchk', []) }, systemClock, resolve)
  })
  srv.close()
  assert.deepEqual(outcome, { status: 'L7OK', code: 250, desc: 'fine' })
})

test('option spop-check is refused, not run as a TCP connect; mysql-check and ldap-check take HAProxy\'s arguments', () => {
  const errors = (o: string): string => parseConfig(`backend be\n  option ${o}\n  server s 127.0.0.1:1 check\n`, 't.cfg', { env: {} }).diagnostics.filter(d => d.severity === 'error').map(d => d.message).join('\n')
  assert.match(errors('spop-check'), /'option spop-check' is not supported by tslb yet/)
  for (const ok of ['mysql-check', 'mysql-check user u', 'mysql-check user u pre-41', 'mysql-check user u post-41', 'ldap-check']) assert.equal(errors(ok), '', ok)
  assert.notEqual(errors('mysql-check user u pre-42'), '')
  assert.notEqual(errors('mysql-check login u'), '')
  const ok = parseConfig('backend be\n  option smtpchk EHLO d.tld\n  server s 127.0.0.1:1 check\n', 't.cfg', { env: {} })
  assert.deepEqual(ok.config.proxies[0]?.checkOption, { name: 'smtpchk', args: ['EHLO', 'd.tld'] })
})

/** MySQL 8.0.19's initial handshake and error 1251, from HAProxy's reg-test checks/mysql-check.vtc. */
const MYSQL_HANDSHAKE = Buffer.from('4A0000000A382E302E3139000A0000006F3C025E6249410D00FFFFFF0200FFC715000000000000000000007C182159106E2761144322200063616368696E675F736861325F70617373776F726400', 'hex')
const MYSQL_1251 = Buffer.from('67000002FFE304436C69656E7420646F6573206E6F7420737570706F72742061757468656E7469636174696F6E2070726F746F636F6C20726571756573746564206279207365727665723B20636F6E736964657220757067726164696E67204D7953514C20636C69656E74', 'hex')

test('mysql-check: the login packets HAProxy sends; the handshake\'s version is the info; an error packet is L7STS with its code', () => {
  assert.equal(newExchange('mysql-check', ['user', 'user', 'pre-41']).greeting?.toString('hex').toUpperCase(), '0B00000100800000017573657200000100000001')
  assert.equal(newExchange('mysql-check', ['user', 'user']).greeting?.toString('hex').toUpperCase(), '2600000100820000008000012100000000000000000000000000000000000000000000007573657200000100000001')
  assert.equal(newExchange('mysql-check', []).greeting, undefined)
  const plain = newExchange('mysql-check', [])
  assert.deepEqual(plain.onData(MYSQL_HANDSHAKE.subarray(0, 20), false), {})
  assert.deepEqual(plain.onData(MYSQL_HANDSHAKE, false).outcome, { status: 'L7OK', code: 0, desc: '8.0.19' })
  const login = newExchange('mysql-check', ['user', 'u'])
  assert.deepEqual(login.onData(MYSQL_HANDSHAKE, false), {}, 'waits for the answer to the login')
  assert.deepEqual(login.onData(Buffer.concat([MYSQL_HANDSHAKE, Buffer.from('03000002000000', 'hex')]), false).outcome, { status: 'L7OK', code: 0, desc: '8.0.19' })
  assert.deepEqual(newExchange('mysql-check', ['user', 'pouet']).onData(Buffer.concat([MYSQL_HANDSHAKE, MYSQL_1251]), false).outcome, { status: 'L7STS', code: 1251, desc: 'Client does not support authentication protocol requested by server; consider upgrading MySQL client' })
  assert.deepEqual(newExchange('mysql-check', []).onData(MYSQL_HANDSHAKE.subarray(0, 10), true).outcome, { status: 'L7RSP', code: 0, desc: '' })
})

test('ldap-check: the anonymous bind; resultCode 0 is "Success", another code L7STS, anything else "Not LDAPv3 protocol"', () => {
  const x = newExchange('ldap-check', [])
  assert.equal(x.greeting?.toString('hex').toUpperCase(), '300C020101600702010304008000')
  assert.deepEqual(x.onData(Buffer.from('300C02010161070A010004000400', 'hex'), false).outcome, { status: 'L7OK', code: 0, desc: 'Success' })
  assert.deepEqual(newExchange('ldap-check', []).onData(Buffer.from('300C02010161070A013104000400', 'hex'), false).outcome, { status: 'L7STS', code: 0x31, desc: 'See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9' })
  assert.deepEqual(newExchange('ldap-check', []).onData(Buffer.from('310C02010161070A010004000400', 'hex'), false).outcome, { status: 'L7RSP', code: 0, desc: 'Not LDAPv3 protocol' })
  assert.deepEqual(newExchange('ldap-check', []).onData(Buffer.from('300C02010261070A010004000400', 'hex'), false).outcome, { status: 'L7RSP', code: 0, desc: 'Not LDAPv3 protocol' })
  assert.deepEqual(newExchange('ldap-check', []).onData(Buffer.from('300C0201', 'hex'), false), {}, 'fewer than 14 bytes: waits')
  const ad = newExchange('ldap-check', [])
  const longForm = Buffer.from('308400000010020101618400000007' + '0A0100' + '04000400', 'hex')
  assert.deepEqual(ad.onData(longForm.subarray(0, 17), false), {}, 'Active Directory: lengths on 4 bytes, the rest to come')
  assert.deepEqual(ad.onData(longForm, false).outcome, { status: 'L7OK', code: 0, desc: 'Success' })
})
