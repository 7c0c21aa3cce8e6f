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

test('option mysql-check, ldap-check and spop-check are refused, not run as a TCP connect', () => {
  for (const o of ['mysql-check user u', 'ldap-check', 'spop-check']) {
    const r = parseConfig(`backend be\n  option ${o}\n  server s 127.0.0.1:1 check\n`, 't.cfg', { env: {} })
    assert.match(r.diagnostics.filter(d => d.severity === 'error').map(d => d.message).join('\n'), new RegExp(`'option ${o.split(' ')[0] ?? ''}' is not supported by tslb yet`))
  }
  const ok = parseConfig('backend be\n  option smtpchk EHLO d.tld\n  server s 127.0.0.1:1 check\n', 't.cfg', { env: {} })
  assert.deepEqual(ok.config.proxies[0]?.checkOption, { name: 'smtpchk', args: ['EHLO', 'd.tld'] })
})
