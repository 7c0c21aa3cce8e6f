import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  HelloParser, PEERS_STATUS, StatusParser, encodeHello, encodeStatus, statusName
} from '../../../src/peers/handshake.ts'
import type { HelloResult } from '../../../src/peers/handshake.ts'
import { PeersEncodeError } from '../../../src/peers/errors.ts'

const known = new Set(['hap1', 'node1', 'node2'])
const parser = (max?: number): HelloParser => new HelloParser({ localName: 'node1', isKnownPeer: n => known.has(n), ...(max === undefined ? {} : { maxLineLength: max }) })

function rejected (r: HelloResult): { code: string, status: number | undefined } {
  assert.equal(r.kind, 'reject')
  return { code: r.error.code, status: r.error.status }
}

test('the hello HAProxy 2.6.12 sent, byte for byte', () => {
  const capture = 'HAProxyS 2.1\nnode1\nhap1 13640 1\n'
  assert.equal(encodeHello({ remoteName: 'node1', localName: 'hap1', pid: 13640 }).toString(), capture)
  const r = parser().push(Buffer.from(capture))
  assert.equal(r.kind, 'accept')
  assert.deepEqual(r.hello, { major: 2, minor: 1, downgraded: false, localName: 'node1', peerName: 'hap1', tail: '13640 1', pid: 13640, relativePid: 1 })
  assert.equal(r.rest.length, 0)
})

test('downgraded hello and the reload hello (both names local)', () => {
  assert.equal(encodeHello({ remoteName: 'n', localName: 'l', pid: 1, minorVersion: 0 }).toString(), 'HAProxyS 2.0\nn\nl 1 1\n')
  const r = parser().push(Buffer.from('HAProxyS 2.0\nnode1\nnode1 77 1\n'))
  assert.equal(r.kind, 'accept')
  assert.equal(r.hello.downgraded, true)
  assert.equal(r.hello.peerName, 'node1')
})

test('byte-by-byte arrival, CRLF, and binary bytes after the hello are handed back', () => {
  const p = parser()
  const bytes = Buffer.from('HAProxyS 2.1\r\nnode1\r\nnode2 1 1\r\n\x00\x04')
  let r: HelloResult = { kind: 'need-more' }
  for (let i = 0; i < bytes.length - 2; i++) {
    assert.equal(r.kind, 'need-more')
    r = p.push(bytes.subarray(i, i + 1))
  }
  assert.equal(r.kind, 'accept')
  const again = p.push(bytes.subarray(bytes.length - 2))
  assert.equal(again, r, 'done: the result is sticky')
  const whole = parser().push(bytes)
  assert.equal(whole.kind, 'accept')
  assert.equal(whole.rest.toString('hex'), '0004')
})

test('each line is checked as it arrives, with HAProxy status codes', () => {
  // Line 1: prefix → 501; version → 502 (before the other lines arrive).
  assert.deepEqual(rejected(parser().push(Buffer.from('HAProxyX 2.1\n'))), { code: 'TSLB_ERR_PEERS_HANDSHAKE_PROTOCOL', status: 501 })
  assert.deepEqual(rejected(parser().push(Buffer.from('HAProxyS2.1\n'))), { code: 'TSLB_ERR_PEERS_HANDSHAKE_PROTOCOL', status: 501 })
  for (const v of ['3.0', '2.2', '1.1', '2', '2.', '.1', '2.1.0', '2.1 ', 'x.y', '2.-1', '']) {
    assert.deepEqual(rejected(parser().push(Buffer.from(`HAProxyS ${v}\n`))), { code: 'TSLB_ERR_PEERS_HANDSHAKE_VERSION', status: 502 }, v)
  }
  // read_uint() wraps: 2.4294967296 is minor 0 to HAProxy.
  assert.equal(parser().push(Buffer.from('HAProxyS 2.4294967296\nnode1\nhap1 1 1\n')).kind, 'accept')
  assert.equal(parser().push(Buffer.from('HAProxyS 02.01\nnode1\nhap1 1 1\n')).kind, 'accept')
  // Line 2 → 503.
  assert.deepEqual(rejected(parser().push(Buffer.from('HAProxyS 2.1\nnode9\n'))), { code: 'TSLB_ERR_PEERS_HANDSHAKE_LOCAL_NAME', status: 503 })
  assert.deepEqual(rejected(parser().push(Buffer.from('HAProxyS 2.1\nnode1 \n'))), { code: 'TSLB_ERR_PEERS_HANDSHAKE_LOCAL_NAME', status: 503 })
  // Line 3: no space → 501; unknown peer → 504.
  assert.deepEqual(rejected(parser().push(Buffer.from('HAProxyS 2.1\nnode1\nhap1\n'))), { code: 'TSLB_ERR_PEERS_HANDSHAKE_PROTOCOL', status: 501 })
  assert.deepEqual(rejected(parser().push(Buffer.from('HAProxyS 2.1\nnode1\nhap9 1 1\n'))), { code: 'TSLB_ERR_PEERS_HANDSHAKE_UNKNOWN_PEER', status: 504 })
  // HAProxy does not read pid/relative pid: anything after the space is accepted.
  const r = parser().push(Buffer.from('HAProxyS 2.1\nnode1\nhap1 whatever\n'))
  assert.equal(r.kind, 'accept')
  assert.deepEqual([r.hello.pid, r.hello.relativePid, r.hello.tail], [undefined, undefined, 'whatever'])
})

test('lines are C strings: a NUL ends them', () => {
  const r = parser().push(Buffer.from('HAProxyS 2.1\0junk\nnode1\0x\nhap1 5 1\n'))
  assert.equal(r.kind, 'accept')
})

test('line length is bounded: too long closes without a status', () => {
  const p = parser(64)
  assert.equal(p.push(Buffer.from('HAProxyS 2.1\nnode1\n')).kind, 'need-more')
  assert.deepEqual(rejected(p.push(Buffer.alloc(65, 0x61))), { code: 'TSLB_ERR_PEERS_HANDSHAKE_LINE_TOO_LONG', status: undefined })
  assert.deepEqual(rejected(parser(8).push(Buffer.from('HAProxyS 2.1\n'))), { code: 'TSLB_ERR_PEERS_HANDSHAKE_LINE_TOO_LONG', status: undefined })
  assert.equal(parser(12).push(Buffer.from('HAProxyS 2.1\n')).kind, 'need-more', '12 bytes before the newline fit')
})

test('status lines', () => {
  assert.equal(encodeStatus(200).toString(), '200\n')
  for (const code of [200, 300, 501, 502, 503, 504]) {
    const r = new StatusParser().push(encodeStatus(code))
    assert.equal(r.kind, 'status')
    assert.equal(r.code, code)
  }
  const r = new StatusParser().push(Buffer.concat([Buffer.from('200\r\n'), Buffer.from([0x0a, 0x82])]))
  assert.equal(r.kind, 'status')
  assert.equal(r.code, 200)
  assert.equal(r.rest.toString('hex'), '0a82')
  // atoi(): leading blanks and trailing junk are tolerated, garbage is 0.
  assert.equal((new StatusParser().push(Buffer.from(' 502 bad\n')) as { code: number }).code, 502)
  assert.equal((new StatusParser().push(Buffer.from('OK\n')) as { code: number }).code, 0)
  const p = new StatusParser({ maxLineLength: 4 })
  assert.equal(p.push(Buffer.from('20')).kind, 'need-more')
  const long = p.push(Buffer.from('0000'))
  assert.equal(long.kind, 'reject')
  assert.equal(long.error.code, 'TSLB_ERR_PEERS_HANDSHAKE_LINE_TOO_LONG')
  assert.deepEqual(Object.values(PEERS_STATUS).map(statusName), ['CONN', 'HSHK', 'ESTA', 'RETR', 'PROT', 'VERS', 'NAME', 'UNKN'])
})

test('hello fields that cannot be written', () => {
  const bad = [
    { remoteName: 'a\nb', localName: 'l', pid: 1 },
    { remoteName: 'r', localName: 'l m', pid: 1 },
    { remoteName: '', localName: 'l', pid: 1 },
    { remoteName: 'r', localName: 'l', pid: -1 },
    { remoteName: 'r', localName: 'l\0', pid: 1 }
  ]
  for (const h of bad) assert.throws(() => encodeHello(h), (e: unknown) => e instanceof PeersEncodeError && e.code === 'TSLB_ERR_PEERS_ENCODE_HANDSHAKE')
})
