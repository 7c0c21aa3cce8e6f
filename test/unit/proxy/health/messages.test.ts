import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { buildHttpRequest, CheckResponseReader, compileExpect, compileExpects, judgeHttpResponse } from '../../../../src/proxy/health/http-check.ts'
import { parseConfig } from '../../../../src/config/parser.ts'
import { isTlsRecordStart, sslv3ClientHello } from '../../../../src/proxy/health/ssl-hello.ts'
import { appendStatus, asciiEncode, connectError, statusDescription, strerror } from '../../../../src/proxy/health/status.ts'

test('sslv3ClientHello is HAProxy 2.6 sslv3_client_hello byte for byte', () => {
  // src/tcpcheck.c proxy_parse_ssl_hello_chk_opt(), with %[date(),htonl,hex] = 0x65000000.
  const expected = '16' + '0300' + '0079' + '01' + '000075' + '0300' + '65000000' +
    Buffer.from('HAPROXYSSLCHK\nHAPROXYSSLCHK\n', 'latin1').toString('hex') +
    '00' + '004e' +
    '0001000200030004' + '0005000600070008' + '0009000a000b000c' + '000d000e000f0010' +
    '0011001200130014' + '0015001600170018' + '0019001a001b002f' + '0030003100320033' +
    '0034003500360037' + '00380039003a' +
    '01' + '00'
  assert.equal(sslv3ClientHello(0x65000000).toString('hex'), expected)
  assert.equal(sslv3ClientHello(0).length, 5 + 0x79)
  assert.equal(isTlsRecordStart(Buffer.from('150300000202', 'hex')), true)
  assert.equal(isTlsRecordStart(Buffer.from('160303', 'hex')), true)
  assert.equal(isTlsRecordStart(Buffer.from('HTTP/1.1 400', 'latin1')), false)
})

test('status descriptions are HAProxy check_statuses[]', () => {
  assert.equal(statusDescription('L4OK'), 'Layer4 check passed')
  assert.equal(statusDescription('L4TOUT'), 'Layer4 timeout')
  assert.equal(statusDescription('L4CON'), 'Layer4 connection problem')
  assert.equal(statusDescription('L6OK'), 'Layer6 check passed')
  assert.equal(statusDescription('L6TOUT'), 'Layer6 timeout')
  assert.equal(statusDescription('L6RSP'), 'Layer6 invalid response')
  assert.equal(statusDescription('L7TOUT'), 'Layer7 timeout')
  assert.equal(statusDescription('L7RSP'), 'Layer7 invalid response')
  assert.equal(statusDescription('L7OK'), 'Layer7 check passed')
  assert.equal(statusDescription('L7OKC'), 'Layer7 check conditionally passed')
  assert.equal(statusDescription('L7STS'), 'Layer7 wrong status')
  assert.equal(statusDescription('SOCKERR'), 'Socket error')
  assert.equal(statusDescription('INI'), 'Initializing')
})

test('srv_append_status: code only from L7OK on, info ascii-encoded, counts', () => {
  assert.equal(appendStatus({ status: 'L7STS', code: 503, desc: 'Service Unavailable', duration: 3 }, undefined),
    ', reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: 3ms')
  assert.equal(appendStatus({ status: 'L7RSP', code: 200, desc: '', duration: 0 }, undefined), ', reason: Layer7 invalid response, check duration: 0ms')
  assert.equal(appendStatus(undefined, { down: true, active: 0, backup: 2, sessions: 4, xferred: 1, queued: 2 }),
    '. 0 active and 2 backup servers left. Running on backup. 4 sessions active, 1 requeued, 2 remaining in queue')
  assert.equal(appendStatus(undefined, { down: false, active: 3, backup: 0, sessions: 0, xferred: 2, queued: 0 }),
    '. 3 active and 0 backup servers online. 2 sessions requeued, 0 total in queue')
  assert.equal(asciiEncode('say "hi" <b>\u0001é'), 'say <22>hi<22> <3C>b<3E><01><E9>')
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
  assert.equal(strerror(refused), 'Connection refused')
  assert.equal(connectError(refused), 'Connection refused')
  const unreachable = Object.assign(new Error('connect ENETUNREACH 255.255.255.255:1'), { code: 'ENETUNREACH' })
  assert.equal(connectError(unreachable), 'General socket error (Network is unreachable)')
})

test('HTTP check request building and response judging', () => {
  assert.equal(buildHttpRequest({ method: 'GET', uri: '/', version: 'HTTP/1.1', headers: ['Connection: keep-alive'] }).toString('latin1'),
    'GET / HTTP/1.1\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n')
  const judge = (raw: string[], rule: ReturnType<typeof compileExpect>, lastRead: boolean, method = 'GET'): ReturnType<typeof judgeHttpResponse> => {
    const reader = new CheckResponseReader(method)
    for (const r of raw) reader.push(Buffer.from(r, 'latin1'))
    return judgeHttpResponse(reader, { expect: rule, accept404AsStopping: false }, lastRead)
  }
  const status = compileExpect(undefined)
  assert.equal(judge(['HTTP/1.1 200 OK\r\n'], status, false), undefined, 'waits for the whole head')
  assert.deepEqual(judge(['HTTP/1.1 200 OK\r\n'], status, true), { status: 'L7RSP', code: 0, desc: '' })
  assert.deepEqual(judge(['HTTP/1.1 399 Whatever\r\n\r\n'], status, false), { status: 'L7OK', code: 399, desc: '' })
  assert.deepEqual(judge(['HTTP/1.1 400 Bad Request\r\n\r\n'], status, false), { status: 'L7STS', code: 400, desc: 'Bad Request' })
  const str = compileExpect({ negate: false, kind: 'string', pattern: 'OK' })
  const chunked = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'
  assert.equal(judge([chunked, '1\r\nO\r\n'], str, false), undefined, 'partial body: wait')
  assert.deepEqual(judge([chunked, '1\r\nO\r\n', '1\r\nK\r\n0\r\n\r\n'], str, false), { status: 'L7OK', code: 200, desc: '' })
  assert.deepEqual(judge([chunked, '2\r\nno\r\n0\r\n\r\n'], str, false), { status: 'L7RSP', code: 200, desc: 'HTTP content check did not match' })
  assert.deepEqual(judge([chunked, 'zz\r\n'], str, false), { status: 'L7RSP', code: 0, desc: '' }, 'bad chunk framing')
  assert.deepEqual(judge(['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nxxOK'], str, false), { status: 'L7OK', code: 200, desc: '' }, 'a match does not wait for the rest')
  assert.deepEqual(judge(['HTTP/1.1 200 OK\r\n\r\nabc'], str, true), { status: 'L7RSP', code: 200, desc: 'HTTP content check did not match' })
  const statuses = compileExpect({ negate: false, kind: 'status', pattern: '200,301-302' })
  assert.equal(judge(['HTTP/1.1 302 Found\r\n\r\n'], statuses, false)?.status, 'L7OK')
  assert.equal(judge(['HTTP/1.1 303 See Other\r\n\r\n'], statuses, false)?.status, 'L7STS')
})

test('http-check expect hdr/fhdr: name (any case) and value matching; several expect rules all judged in order', () => {
  const cfg = parseConfig(`backend b
  option httpchk
  http-check expect status 200-399
  http-check expect hdr name "x-test1"
  http-check expect hdr name -m str "X-Test2"
  http-check expect hdr name -m beg "X-Begin-"
  http-check expect hdr name -m end "-End"
  http-check expect hdr name -m sub "-Sub-"
  http-check expect hdr name -m reg "^[a-z]+-Reg-[a-z]+[0-9]$"
  http-check expect fhdr name "x-test1" value "true, next value"
  http-check expect hdr name "x-test2" value -m str "true"
  http-check expect hdr name -m beg "x-test" value -m beg "begin-"
  http-check expect hdr name -m beg "x-test" value -m end "-end"
  http-check expect hdr name -m beg "x-test" value -m sub "-sub-"
  http-check expect hdr name -m beg "x-test" value -m reg "^value-reg-[A-Z0-9]+$"
  http-check expect fhdr name -m beg "x-test" value -m reg "value-reg-[A-Z0-9]+"
  server s 127.0.0.1:1 check
`, 't.cfg', { env: {} })
  assert.deepEqual(cfg.diagnostics.filter(d => d.severity === 'error'), [])
  const rules = compileExpects(cfg.config.proxies[0]?.httpCheck?.expects)
  assert.equal(rules.length, 14)
  const head = 'HTTP/1.0 202 Accepted\r\nx-test1: true, next value\r\n' +
    'x-test2: true, begin-value, value-end, value-sub-string, value-reg-123ABC\r\nx-begin-test: 1\r\n' +
    'x-test-end: 1\r\nx-sub-test: 1\r\nx-reg-test1: 1\r\n\r\n'
  const judge = (raw: string, expect: ReturnType<typeof compileExpects>): ReturnType<typeof judgeHttpResponse> => {
    const reader = new CheckResponseReader('OPTIONS')
    reader.push(Buffer.from(raw, 'latin1'))
    return judgeHttpResponse(reader, { expect, accept404AsStopping: false }, true)
  }
  assert.deepEqual(judge(head, rules), { status: 'L7OK', code: 202, desc: '' })
  // Each rule fails alone when its header is missing: the status is L7STS with the reason phrase, as HAProxy.
  assert.deepEqual(judge('HTTP/1.0 200 OK\r\nx-test1: 1\r\n\r\n', rules), { status: 'L7STS', code: 200, desc: 'OK' })
  const one = (line: string): ReturnType<typeof compileExpects> => compileExpects(parseConfig(
    `backend b\n  option httpchk\n  http-check expect ${line}\n`, 't.cfg', { env: {} }).config.proxies[0]?.httpCheck?.expects)
  // hdr splits values on commas, fhdr does not; value matching is case-sensitive.
  assert.equal(judge(head, one('hdr name x-test1 value "next value"'))?.status, 'L7OK')
  assert.equal(judge(head, one('fhdr name x-test1 value "next value"'))?.status, 'L7STS')
  assert.equal(judge(head, one('hdr name x-test1 value TRUE'))?.status, 'L7STS')
  assert.equal(judge(head, one('! hdr name x-missing'))?.status, 'L7OK')
  const refused = (line: string): string => parseConfig(`backend b\n  http-check expect ${line}\n`, 't.cfg',
    { env: {} }).diagnostics.map(d => d.message).join('\n')
  assert.match(refused('hdr name-lf -m reg "%[var(check.x)]"'), /cannot be used with the regex matching method/)
  assert.match(refused('hdr name x value-lf "%[src]"'), /the fetch 'src' is not available in http-check rules/)
  assert.match(refused('hdr name -m dom x'), /expected str, beg, end, sub or reg/)
  assert.match(refused('hdr name -m reg "("'), /invalid regular expression/)
  assert.match(refused('status 200 comment x'), /'http-check expect' expects/)
})

test('http-check set-var(check.NAME) and name-lf/value-lf: evaluated on the response, in rule order', () => {
  const rules = compileExpects(parseConfig(`backend b
  option httpchk
  http-check set-var(check.hdr_name) res.fhdr(x-hdr-name)
  http-check expect hdr name-lf -m str "%[var(check.hdr_name)]"
  http-check expect hdr name-lf -m str "%[res.fhdr(x-hdr-name)]"
  http-check set-var(check.hdr_value) str(x-test1)
  http-check expect fhdr name -m beg "x-" value-lf -m str "%[res.fhdr(x-hdr-name)]"
  http-check expect hdr name -m beg "x-" value-lf -m str "%[var(check.hdr_value)]"
`, 't.cfg', { env: {} }).config.proxies[0]?.httpCheck?.expects)
  const judge = (raw: string, expect: ReturnType<typeof compileExpects>): ReturnType<typeof judgeHttpResponse> => {
    const reader = new CheckResponseReader('OPTIONS')
    reader.push(Buffer.from(raw, 'latin1'))
    return judgeHttpResponse(reader, { expect, accept404AsStopping: false }, true)
  }
  assert.deepEqual(judge('HTTP/1.1 200 OK\r\nx-test1: x-test1\r\nx-hdr-name: x-test1\r\n\r\n', rules),
    { status: 'L7OK', code: 200, desc: '' })
  assert.deepEqual(judge('HTTP/1.1 200 OK\r\nx-test1: 1\r\nx-hdr-name: x-other\r\n\r\n', rules),
    { status: 'L7STS', code: 200, desc: 'OK' })
  // A pattern that evaluates to nothing is an error of its own, as HAProxy reports it.
  assert.deepEqual(judge('HTTP/1.1 200 OK\r\n\r\n', rules),
    { status: 'L7RSP', code: 200, desc: 'log-format string evaluated to an empty string' })
  const refused = (line: string): string => parseConfig(`backend b\n  http-check ${line}\n`, 't.cfg',
    { env: {} }).diagnostics.map(d => d.message).join('\n')
  assert.match(refused('set-var(txn.x) str(y)'), /'http-check set-var' is not supported by tslb yet/)
  assert.match(refused('set-var(check.x) src'), /the fetch 'src' is not available/)
  assert.match(refused('unset-var(check.x) str(y)'), /takes no argument/)
})
