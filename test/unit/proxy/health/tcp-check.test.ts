import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type AddressInfo } from 'node:net'
import { parseConfig } from '../../../../src/config/parser.ts'
import { effectiveTcpCheckRules } from '../../../../src/config/sections.ts'
import type { TcpCheckRule } from '../../../../src/config/model.ts'
import { compileTcpCheck, TcpCheckSession } from '../../../../src/proxy/health/tcp-check.ts'
import { startTcpCheckProbe } from '../../../../src/proxy/health/tcp-check-probe.ts'
import { systemClock, type ProbeOutcome } from '../../../../src/proxy/health/probe.ts'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')

function rulesOf (lines: string, head = 'option tcp-check'): { rules: readonly TcpCheckRule[], errors: string[], warnings: string[] } {
  const r = parseConfig(`backend be\n  timeout connect 1s\n  timeout server 1s\n  ${head}\n${lines.split('\n').map(l => `  ${l}`).join('\n')}\n  server s 127.0.0.1:1 check\n`, 't.cfg', { env: {} })
  const p = r.config.proxies[0]
  return {
    rules: p === undefined ? [] : effectiveTcpCheckRules(p) ?? [],
    errors: r.diagnostics.filter(d => d.severity === 'error').map(d => d.message),
    warnings: r.diagnostics.filter(d => d.severity === 'warning').map(d => d.message)
  }
}

function session (lines: string): TcpCheckSession {
  return new TcpCheckSession(compileTcpCheck(rulesOf(lines).rules))
}

test('tcp-check lines parse as HAProxy writes them; what tslb does not do is refused with the reason', () => {
  const { rules, errors } = rulesOf([
    'tcp-check comment "redis"',
    'tcp-check connect port 6379 addr 198.18.0.5 comment c',
    'tcp-check send "PING\\r\\n"',
    'tcp-check send-binary 0a0B',
    'tcp-check expect min-recv 5 error-status L7STS !rstring "^-ERR"',
    'tcp-check expect ! string +PONG ok-status L6OK tout-status L6TOUT on-success fine on-error bad'
  ].join('\n'))
  assert.deepEqual(errors, [])
  assert.deepEqual(rules[1], { type: 'connect', port: 6379, addr: '198.18.0.5', comment: 'c' })
  assert.deepEqual(rules[2], { type: 'send', data: 'PING\r\n', comment: undefined })
  assert.deepEqual(rules[3], { type: 'send', data: '\n\x0b', comment: undefined })
  assert.deepEqual(rules[4], { type: 'expect', negate: true, match: 'rstring', pattern: '^-ERR', minRecv: 5, okStatus: undefined, errorStatus: 'L7STS', toutStatus: undefined, onSuccess: undefined, onError: undefined, comment: undefined })
  assert.equal((rules[5] as { negate: boolean }).negate, true)
  const refused = (line: string): string => rulesOf(line).errors.join('\n')
  assert.match(refused('tcp-check send-lf "%[src]"'), /not supported by tslb yet \(log-format payloads\)/)
  assert.match(refused('tcp-check connect ssl'), /not supported by tslb yet \(TLS on check connections\)/)
  assert.match(refused('tcp-check set-var(check.x) int(1)'), /not supported by tslb yet \(check variables\)/)
  assert.match(refused('tcp-check send-binary 0a0'), /even number of hexadecimal digits/)
  assert.match(refused('tcp-check expect rstring "("'), /invalid regular expression/)
  assert.match(refused('tcp-check expect ok-status L7STS string x'), /'ok-status' only supports 'L4OK', 'L6OK', 'L7OK', 'L7OKC'/)
  assert.match(refused('tcp-check expect on-error "%[src]" string x'), /log-format strings are not supported/)
  assert.match(refused('tcp-check expect min-recv 3'), /expects a matching pattern/)
  assert.match(refused('tcp-check bogus'), /only supports 'comment', 'connect', 'send', 'send-binary' and 'expect'/)
  assert.match(rulesOf('tcp-check expect string x', '').warnings.join('\n'), /'tcp-check' rules but no 'option tcp-check'/)
})

test("a backend without tcp-check lines uses its defaults'; its own lines replace them", () => {
  const r = parseConfig('defaults\n  option tcp-check\n  tcp-check send "A"\nbackend one\n  server s 127.0.0.1:1\nbackend two\n  tcp-check send "B"\n  server s 127.0.0.1:1\n', 't.cfg', { env: {} })
  const [one, two] = r.config.proxies
  assert.deepEqual(one === undefined ? undefined : effectiveTcpCheckRules(one), [{ type: 'send', data: 'A', comment: undefined }])
  assert.deepEqual(two === undefined ? undefined : effectiveTcpCheckRules(two), [{ type: 'send', data: 'B', comment: undefined }])
})

test('steps: an implicit connect (step 0) when the rules do not start with one; comment lines name the rules after them', () => {
  const c = compileTcpCheck(rulesOf('tcp-check comment "hello"\ntcp-check send x\ntcp-check expect string y\ntcp-check expect string z comment own').rules)
  assert.deepEqual(c.steps.map(s => [s.rule.type, s.id, s.comment, s.chainHead]), [['connect', 0, undefined, 0], ['send', 2, 'hello', 1], ['expect', 3, undefined, 2], ['expect', 4, 'own', 2]])
  const explicit = compileTcpCheck(rulesOf('tcp-check connect\ntcp-check expect string y').rules)
  assert.deepEqual(explicit.steps.map(s => s.id), [1, 2])
})

test('min-recv: a negative regex waits for more bytes without it (then times out at the first expect of the run), and decides with it', () => {
  const rules = 'tcp-check connect\ntcp-check expect !rstring "^error" comment "negative check"\ntcp-check expect string "valid" comment "positive check"\ntcp-check send "0123456789"\ntcp-check expect string "valid" comment "positive check"'
  const waiting = session(rules)
  assert.equal(waiting.start().next.kind, 'connect')
  assert.equal(waiting.connected().next.kind, 'wait')
  assert.equal(waiting.data(b('valid'), false).next.kind, 'wait')
  assert.deepEqual(waiting.timedOut(), { status: 'L7TOUT', code: 0, desc: " at step 2 of tcp-check (expect regex) comment: 'negative check'" })
  const bounded = session(rules.replace('expect !rstring', 'expect min-recv 5 !rstring'))
  bounded.start()
  bounded.connected()
  const sent = bounded.data(b('valid'), false)
  assert.deepEqual(sent.sends.map(s => s.toString()), ['0123456789'])
  assert.equal(sent.next.kind, 'wait', 'the send discarded what was read: the last expect waits for new bytes')
  assert.deepEqual(bounded.data(b('valid'), false).next, { kind: 'done', outcome: { status: 'L7OK', code: 0, desc: '(tcp-check)' } })
})

test('failures carry HAProxy\'s info text: content, unwanted content, empty response, connect step, error/ok statuses', () => {
  const run = (rules: string, ...reads: [string, boolean][]): ProbeOutcome | undefined => {
    const s = session(rules)
    s.start()
    let next = s.connected().next
    for (const [text, ended] of reads) next = s.data(b(text), ended).next
    return next.kind === 'done' ? next.outcome : undefined
  }
  assert.deepEqual(run('tcp-check expect string valid', ['nope', true]), { status: 'L7RSP', code: 0, desc: "TCPCHK did not match content 'valid' at step 1" })
  assert.deepEqual(run('tcp-check expect ! string err comment c', ['an err', false]), { status: 'L7RSP', code: 0, desc: "TCPCHK matched unwanted content 'err' at step 1 comment: c" })
  assert.deepEqual(run('tcp-check expect rstring ^ok error-status L7STS', ['ko', true]), { status: 'L7STS', code: 0, desc: 'TCPCHK did not match content (regex) at step 1' })
  assert.deepEqual(run('tcp-check expect binary 0d0a on-error "no crlf"', ['x', true]), { status: 'L7RSP', code: 0, desc: 'no crlf' })
  assert.deepEqual(run('tcp-check expect rbinary ^2B4F4B', ['+OK', false]), { status: 'L7OK', code: 0, desc: '(tcp-check)' }, 'rbinary matches the hex dump')
  assert.deepEqual(run('tcp-check expect string ok ok-status L7OKC on-success "all good"', ['ok', false]), { status: 'L7OKC', code: 0, desc: 'all good' })
  assert.deepEqual(run('tcp-check send x comment "say x"\ntcp-check expect string y comment "want y"', ['', true]), { status: 'L7RSP', code: 0, desc: 'TCPCHK got an empty response at step 2 comment: \'want y\'' })
  assert.equal(run('tcp-check connect\ntcp-check connect port 9'), undefined, 'a second connect is asked for')
  const two = session('tcp-check connect port 8\ntcp-check connect port 1')
  two.start()
  assert.deepEqual(two.connected().next, { kind: 'connect', port: 1, addr: undefined })
  assert.deepEqual(two.connectFailed('Connection refused'), { status: 'L4CON', code: 0, desc: 'Connection refused at step 2 of tcp-check (connect port 1)' })
  const implicit = session('tcp-check send x')
  implicit.start()
  assert.deepEqual(implicit.connectFailed('Connection refused'), { status: 'L4CON', code: 0, desc: 'Connection refused at initial connection step of tcp-check' })
  assert.deepEqual(implicit.timedOut(), { status: 'L4TOUT', code: 0, desc: ' at initial connection step of tcp-check' })
  const onlyConnect = session('tcp-check connect')
  onlyConnect.start()
  assert.deepEqual(onlyConnect.connected().next, { kind: 'done', outcome: { status: 'L4OK', code: 0, desc: '(tcp-check)' } })
})

test('a probe runs a redis-style ruleset over real connections, reconnecting for a connect rule', async () => {
  const seen: string[] = []
  const srv = createServer(s => {
    s.on('data', d => {
      seen.push(d.toString())
      s.write(d.toString() === 'PING\r\n' ? '+PONG\r\n' : '-ERR\r\n')
    })
  })
  await new Promise<void>(resolve => { srv.listen(0, '127.0.0.1', resolve) })
  const port = (srv.address() as AddressInfo).port
  const probe = async (lines: string): Promise<ProbeOutcome> => await new Promise<ProbeOutcome>(resolve => {
    startTcpCheckProbe({ kind: 'tcp-check', host: '127.0.0.1', port, connectTimeout: 2000, checkTimeout: 2000 }, compileTcpCheck(rulesOf(lines).rules), systemClock, resolve)
  })
  assert.deepEqual(await probe('tcp-check send "PING\\r\\n"\ntcp-check expect string +PONG\ntcp-check connect\ntcp-check send "QUIT\\r\\n"\ntcp-check expect string -ERR'), { status: 'L7OK', code: 0, desc: '(tcp-check)' })
  assert.deepEqual(seen, ['PING\r\n', 'QUIT\r\n'])
  const timedOut = await new Promise<ProbeOutcome>(resolve => {
    startTcpCheckProbe({ kind: 'tcp-check', host: '127.0.0.1', port, connectTimeout: 2000, checkTimeout: 300 }, compileTcpCheck(rulesOf('tcp-check send "HELLO\\r\\n"\ntcp-check expect string +PONG comment pong').rules), systemClock, resolve)
  })
  assert.deepEqual(timedOut, { status: 'L7TOUT', code: 0, desc: " at step 2 of tcp-check (expect string '+PONG') comment: 'pong'" })
  srv.close()
})
