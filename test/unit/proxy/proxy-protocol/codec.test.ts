/**
 * The PROXY protocol codec. The `HAPROXY` vectors were captured from HAProxy 2.6.12 (`server …
 * send-proxy` / `send-proxy-v2`, and health checks with `check-send-proxy`) sending to a listener.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeProxyHeader, encodeProxyV1, encodeProxyV2, type ProxyHeader } from
  '../../../../src/proxy/proxy-protocol/codec.ts'
import { crc32c } from '../../../../src/proxy/proxy-protocol/crc32c.ts'
import { ProxyHeaderError, ProxyHeaderMissingError } from '../../../../src/proxy/errors.ts'

const HAPROXY = {
  /** 127.0.0.1:40001 → 127.0.0.1:39101, then v2 40002 → 39102 */
  v1tcp4: Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 40001 39101\r\n'),
  v2tcp4: Buffer.from('0d0a0d0a000d0a515549540a2111000c7f0000017f0000019c4298be', 'hex'),
  /** [::1]:40003 → [::1]:39103, then v2 40004 → 39104 */
  v1tcp6: Buffer.from('PROXY TCP6 ::1 ::1 40003 39103\r\n'),
  v2tcp6: Buffer.from('0d0a0d0a000d0a515549540a21210024' + '00000000000000000000000000000001'.repeat(2) + '9c4498c0',
    'hex'),
  /** The health check of a `send-proxy-v2` server: LOCAL, no address. */
  v2local: Buffer.from('0d0a0d0a000d0a515549540a20000000', 'hex')
}

function decoded (buf: Buffer): { header: ProxyHeader, length: number } {
  const r = decodeProxyHeader(buf)
  assert.ok(r.done)
  return r
}

test('HAProxy 2.6 vectors decode to the addresses it sent', () => {
  const pair = (a: string, sport: number, dport: number): Omit<ProxyHeader, 'version' | 'tlvs'> =>
    ({ source: { address: a, port: sport }, destination: { address: a, port: dport } })
  assert.deepEqual(decoded(HAPROXY.v1tcp4).header, { version: 1, ...pair('127.0.0.1', 40001, 39101), tlvs: [] })
  assert.deepEqual(decoded(HAPROXY.v2tcp4).header, { version: 2, ...pair('127.0.0.1', 40002, 39102), tlvs: [] })
  assert.deepEqual(decoded(HAPROXY.v1tcp6).header, { version: 1, ...pair('::1', 40003, 39103), tlvs: [] })
  assert.deepEqual(decoded(HAPROXY.v2tcp6).header, { version: 2, ...pair('::1', 40004, 39104), tlvs: [] })
  assert.deepEqual(decoded(HAPROXY.v2local).header, { version: 2, tlvs: [] })
  assert.deepEqual(decoded(Buffer.from('PROXY UNKNOWN\r\n')).header, { version: 1, tlvs: [] })
  assert.deepEqual(decoded(Buffer.from('PROXY UNKNOWN 1.2.3.4 x y z\r\n')).header, { version: 1, tlvs: [] })
})

test('the encoders write what HAProxy 2.6 writes', () => {
  const src4 = { address: '127.0.0.1', port: 40001 }
  const dst4 = { address: '127.0.0.1', port: 39101 }
  assert.deepEqual(encodeProxyV1(src4, dst4), HAPROXY.v1tcp4)
  assert.deepEqual(encodeProxyV2({ ...src4, port: 40002 }, { ...dst4, port: 39102 }), HAPROXY.v2tcp4)
  const src6 = { address: '::1', port: 40003 }
  const dst6 = { address: '::1', port: 39103 }
  assert.deepEqual(encodeProxyV1(src6, dst6), HAPROXY.v1tcp6)
  assert.deepEqual(encodeProxyV2({ ...src6, port: 40004 }, { ...dst6, port: 39104 }), HAPROXY.v2tcp6)
  assert.deepEqual(encodeProxyV2(undefined, undefined), HAPROXY.v2local)
  assert.deepEqual(encodeProxyV1(undefined, undefined), Buffer.from('PROXY UNKNOWN\r\n'))
  // The kernel's v4-mapped form of an IPv4 client is IPv4; a mixed pair becomes TCP6.
  assert.equal(encodeProxyV1({ address: '::ffff:10.0.0.1', port: 1 }, { address: '::ffff:10.0.0.2', port: 2 })
    .toString(), 'PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n')
  assert.equal(encodeProxyV1({ address: '10.0.0.1', port: 1 }, { address: '2001:db8::1', port: 2 }).toString(),
    'PROXY TCP6 ::ffff:10.0.0.1 2001:db8::1 1 2\r\n')
})

test('the bytes after the header are not part of it; a partial header asks for more', () => {
  const withData = Buffer.concat([HAPROXY.v2tcp4, Buffer.from('GET / HTTP/1.1\r\n')])
  assert.equal(decoded(withData).length, HAPROXY.v2tcp4.length)
  assert.equal(decoded(Buffer.concat([HAPROXY.v1tcp4, Buffer.from('x')])).length, HAPROXY.v1tcp4.length)
  for (const whole of [HAPROXY.v1tcp4, HAPROXY.v2tcp6]) {
    for (let n = 0; n < whole.length; n++) assert.equal(decodeProxyHeader(whole.subarray(0, n)).done, false)
  }
})

test('anything else is refused at once', () => {
  for (const text of ['GET / HTTP/1.1\r\n', 'proxy TCP4', '\r\n\r\nX', 'PROXYTCP4']) {
    assert.throws(() => decodeProxyHeader(Buffer.from(text)), ProxyHeaderMissingError, text)
  }
})

test('malformed v1 lines are refused', () => {
  const bad = [
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', // LF without CR
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX',
    'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n',
    'PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n',
    'PROXY TCP4 ::1 5.6.7.8 1 2\r\n',
    'PROXY TCP6 1.2.3.4 ::1 1 2\r\n',
    'PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n',
    'PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n',
    'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n',
    `PROXY UNKNOWN ${'x'.repeat(100)}\r\n`
  ]
  for (const text of bad) assert.throws(() => decodeProxyHeader(Buffer.from(text)), ProxyHeaderError, text)
  // 107 bytes without a CRLF: refused without waiting for more.
  assert.throws(() => decodeProxyHeader(Buffer.from(`PROXY TCP6 ${'a'.repeat(96)}`)), ProxyHeaderError)
})

test('malformed v2 headers are refused', () => {
  const fixed = (verCmd: number, fam: number, len: number): Buffer => {
    const b = Buffer.from(HAPROXY.v2local)
    b[12] = verCmd
    b[13] = fam
    b.writeUInt16BE(len, 14)
    return b
  }
  const body = (n: number): Buffer => Buffer.alloc(n)
  const bad = [
    fixed(0x11, 0x11, 12), // version 1 in a v2 signature
    fixed(0x22, 0x11, 12), // command 2
    fixed(0x21, 0x41, 12), // family 4
    fixed(0x21, 0x13, 12), // transport 3
    fixed(0x21, 0x11, 11), // shorter than two IPv4 addresses and ports
    fixed(0x21, 0x21, 35)
  ].map(h => Buffer.concat([h, body(h.readUInt16BE(14))]))
  // A TLV running past the header, a truncated TLV, a CRC32C TLV of the wrong size.
  bad.push(Buffer.concat([fixed(0x21, 0x11, 12 + 3), body(12), Buffer.from([0x05, 0x00, 0x01])]))
  bad.push(Buffer.concat([fixed(0x21, 0x11, 12 + 2), body(12), Buffer.from([0x05, 0x00])]))
  bad.push(Buffer.concat([fixed(0x21, 0x11, 12 + 5), body(12), Buffer.from([0x03, 0x00, 0x02, 0, 0])]))
  for (const b of bad) assert.throws(() => decodeProxyHeader(b), ProxyHeaderError, b.toString('hex'))
})

test('v2 TLVs are returned; a CRC32C TLV must match', () => {
  const header = Buffer.concat([HAPROXY.v2tcp4.subarray(0, 16), HAPROXY.v2tcp4.subarray(16),
    Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32]), Buffer.from([0x04, 0x00, 0x01, 0x00]),
    Buffer.from([0x03, 0x00, 0x04, 0, 0, 0, 0])])
  header.writeUInt16BE(header.length - 16, 14)
  header.writeUInt32BE(crc32c(header), header.length - 4)
  const h = decoded(header).header
  assert.equal(h.source?.address, '127.0.0.1')
  // ALPN "h2" and the CRC; the NOOP is dropped.
  assert.deepEqual(h.tlvs.map(t => t.type), [0x01, 0x03])
  assert.equal(h.tlvs[0]?.value.toString(), 'h2')
  header.writeUInt8(header.readUInt8(header.length - 1) ^ 1, header.length - 1)
  assert.throws(() => decodeProxyHeader(header), /bad CRC32C/)
})

test('a v2 LOCAL command or an AF_UNIX/UNSPEC family carries no address', () => {
  const local = Buffer.from(HAPROXY.v2tcp4)
  local[12] = 0x20
  assert.deepEqual(decoded(local).header, { version: 2, tlvs: [] })
  const unix = Buffer.concat([Buffer.from(HAPROXY.v2local), Buffer.alloc(216)])
  unix[12] = 0x21
  unix[13] = 0x31
  unix.writeUInt16BE(216, 14)
  assert.deepEqual(decoded(unix).header, { version: 2, tlvs: [] })
})

test('crc32c: the RFC 3720 check value', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
})

test('decoding random bytes never throws anything but a ProxyHeader error', () => {
  let seed = 12345
  const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
  const prefixes = [HAPROXY.v2local.subarray(0, 12), Buffer.from('PROXY '), Buffer.alloc(0)]
  for (let i = 0; i < 3000; i++) {
    const p = prefixes[i % 3] as Buffer
    const b = Buffer.concat([p, Buffer.from(Array.from({ length: rand() % 80 }, () => rand() & 0xff))])
    try { decodeProxyHeader(b) } catch (err) {
      assert.ok(err instanceof ProxyHeaderError || err instanceof ProxyHeaderMissingError, String(err))
    }
  }
})
