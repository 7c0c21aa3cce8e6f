import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseLogFormat } from '../../../../src/config/log-format.ts'
import { compileLogFormat, type LogRecord } from '../../../../src/proxy/log/log-format.ts'

const RECORD: LogRecord = {
  http: true, clientIp: '::ffff:198.18.0.1', clientPort: 40000, acceptedAt: Date.UTC(2026, 11, 7, 10, 20, 30, 45),
  frontend: 'fe', backend: 'be', server: 'web1', tq: 3, tw: 1, tc: 2, tr: 10, tt: 20, status: 200, bytesRead: 512,
  termination: '--NI', actconn: 4, feconn: 3, beconn: 2, srvConn: 1, retries: 0, srvQueue: 0, backendQueue: 0,
  requestLine: 'GET http://h/a/b?x=1&y="q" HTTP/1.1', capturedRequest: 'a|', tls: true, frontendIp: '198.18.0.2',
  frontendPort: 443, serverIp: '198.18.1.1', serverPort: 8080, bytesUploaded: 99, requestCounter: 26, uniqueId: 'ID-1',
  sample: { src: '198.18.0.1', srcPort: 40000, dst: '198.18.0.2', dstPort: 443, variable: n => n === 'txn.v' ? 'v"1]'
    : undefined }
}

const line = (format: string, mode: 'http' | 'tcp' = 'http', record: LogRecord = RECORD): string =>
  compileLogFormat(parseLogFormat(format, mode, 'log-format'))(record)

test('addresses, names and counters; +X in hexadecimal; a missing string is - (nothing when quoted)', () => {
  assert.equal(line('%ci:%cp %fi:%fp %si:%sp %f %ft %b %s'), '198.18.0.1:40000 198.18.0.2:443 198.18.1.1:8080 fe fe~ be web1')
  assert.equal(line('%{+X}ci:%{+X}cp %{+X}rt %rt'), 'C6120001:9C40 001A 26')
  assert.equal(line('%{+Q}b %bi:%bp %{+Q}bi %sslc'), '"be" -:- "" -')
  assert.equal(line('%ac/%fc/%bc/%sc/%rc %sq/%bq %ST %B %U %ts %tsc %ID'), '4/3/2/1/0 0/0 200 512 99 -- --NI ID-1')
})

test('the request line and its parts, encoded with # as HAProxy does; <BADREQ> without one', () => {
  assert.equal(line('%{+Q}r'), '"GET http://h/a/b?x=1&y=#22q#22 HTTP/1.1"')
  assert.equal(line('%HM|%HU|%HP|%HPO|%HQ|%HV'), 'GET|http://h/a/b?x=1&y=#22q#22|http://h/a/b|/a/b|?x=1&y=#22q#22|HTTP/1.1')
  assert.equal(line('%HM %HPO %r', 'http', { ...RECORD, requestLine: '<BADREQ>' }), '<BADREQ> <BADREQ> <BADREQ>')
})

test('timers: Tq = Th + Ti + TR, Ta and Tt, Td the rest; logasap prefixes Tt and B with +', () => {
  assert.equal(line('%Th/%Ti/%TR/%Tq/%Tw/%Tc/%Tr/%Ta/%Tt/%Tu/%Td'), '0/0/3/3/1/2/10/20/20/20/4')
  assert.equal(line('%Tt %B', 'http', { ...RECORD, early: true }), '+20 +512')
  assert.equal(line('%t %T %Ts %ms', 'http').split(' ').slice(2).join(' '), '+0000 1796638830 045')
})

test('samples, flags, %o, separators merged, %%, captures', () => {
  assert.equal(line('%[var(txn.v)] %{+Q}[var(txn.v)] %{+Q,+E}[var(txn.v)] %[var(txn.none)] %{+Q}[var(txn.none)]'),
    'v"1] "v"1]" "v\\"1\\]" - ""')
  assert.equal(line('%{+Q}o %b   %s %{-Q}f 100%%'), '"be" "web1" fe 100%')
  // As HAProxy: the separator before an empty field stays.
  assert.equal(line('%hr %hrl %{+Q}hrl %hs'), '{a|} a - "a" "" ')
})

test('load-time errors: unknown variable, HTTP variable in tcp mode, a request fetch in a log line, a lone %', () => {
  assert.throws(() => parseLogFormat('%zz', 'http', 'log-format'), /no such format variable 'zz'/)
  assert.throws(() => parseLogFormat('%r', 'tcp', 'log-format'), /format variable 'r' is reserved for HTTP mode/)
  assert.throws(() => parseLogFormat('%[req.hdr(host)]', 'http', 'log-format'),
    /sample fetch <req.hdr\(host\)> may not be reliably used here because it needs 'HTTP request headers'/)
  assert.doesNotThrow(() => parseLogFormat('%[req.hdr(host)]', 'http', 'unique-id-format', false))
  assert.throws(() => parseLogFormat('50% off', 'http', 'log-format'), /write '%%' for a '%'/)
  assert.throws(() => parseLogFormat('%{+Z}b', 'http', 'log-format'), /unknown log-format flag '\+Z'/)
  assert.throws(() => parseLogFormat('%[src', 'http', 'log-format'), /missing '\]'/)
})

test('a unique-id-format leaves a missing value empty', () => {
  const id = compileLogFormat(parseLogFormat('%{+X}o %ci:%cp_%[var(txn.none)]_%rt', 'http', 'unique-id-format', false),
    false)
  assert.equal(id(RECORD), 'C6120001:9C40__001A')
})
