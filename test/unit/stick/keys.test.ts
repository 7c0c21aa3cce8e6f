import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  dumpBinary, dumpText, formatIPv6, formatKey, inetaddrHost, keyBytes, keyComparator, normalizeKey, parseIPv4, parseIPv6,
  strl2llrc, strtoulKey, type KeyShape
} from '../../../src/stick/keys.ts'

const ip: KeyShape = { type: 'ip', maxLen: 4 }
const ipv6: KeyShape = { type: 'ipv6', maxLen: 16 }
const int: KeyShape = { type: 'integer', maxLen: 4 }
const str: KeyShape = { type: 'string', maxLen: 8 }
const bin: KeyShape = { type: 'binary', maxLen: 4 }

test('ip keys: IPv4 text, IPv4-mapped IPv6, numbers and bytes give one 32-bit key', () => {
  const k = normalizeKey(ip, '192.168.1.200')
  assert.equal(k, (0xc0a801c8 | 0))
  assert.equal(normalizeKey(ip, '::ffff:192.168.1.200'), k)
  assert.equal(normalizeKey(ip, '::FFFF:c0a8:01c8'), k)
  assert.equal(normalizeKey(ip, 0xc0a801c8), k)
  assert.equal(normalizeKey(ip, new Uint8Array([192, 168, 1, 200])), k)
  assert.equal(normalizeKey(ip, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 168, 1, 200])), k)
  assert.equal(typeof k, 'number')
  for (const bad of ['2001:db8::1', '::1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '', 'a.b.c.d']) {
    assert.equal(normalizeKey(ip, bad), undefined, bad)
  }
  assert.equal(normalizeKey(ip, new Uint8Array(16).fill(1)), undefined)
  assert.equal(formatKey('ip', k), '192.168.1.200')
  assert.deepEqual([...keyBytes('ip', k)], [192, 168, 1, 200])
})

test('ipv6 keys: 16 bytes; IPv4 maps to ::ffff:a.b.c.d', () => {
  const k = normalizeKey(ipv6, '2001:db8::1') as string
  assert.equal(k.length, 16)
  assert.equal(formatKey('ipv6', k), '2001:db8::1')
  assert.equal(formatKey('ipv6', normalizeKey(ipv6, '10.0.0.1') as string), '::ffff:10.0.0.1')
  assert.equal(normalizeKey(ipv6, new Uint8Array(4).fill(10)), normalizeKey(ipv6, '::ffff:10.10.10.10'))
  assert.equal(normalizeKey(ipv6, '1:2:3:4:5:6:7:8:9'), undefined)
  assert.equal(normalizeKey(ipv6, '1::2::3'), undefined)
  assert.equal(normalizeKey(ipv6, ':::'), undefined)
  assert.equal(normalizeKey(ipv6, '12345::'), undefined)
  assert.deepEqual([...keyBytes('ipv6', k)], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
})

test('IPv6 text: parsed as inet_pton, printed as glibc inet_ntop', () => {
  // pairs checked with Python's socket.inet_ntop (glibc) on the test host
  const cases: [string, string][] = [
    ['::', '::'], ['::1', '::1'], ['::2', '::2'], ['::1.2.3.4', '::1.2.3.4'], ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::ffff:0:1.2.3.4', '::ffff:0:102:304'], ['1::', '1::'], ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'], ['0:0:1::', '0:0:1::'], ['fe80::1:0:0:1', 'fe80::1:0:0:1'],
    ['::ffff:0102:0304', '::ffff:1.2.3.4'], ['::ffff', '::ffff'], ['::fffe:1.2.3.4', '::fffe:102:304'],
    ['64:ff9b::1.2.3.4', '64:ff9b::102:304'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'], ['0:0:0:0:0:1:0:0', '::1:0:0'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1']
  ]
  for (const [input, printed] of cases) {
    const b = parseIPv6(input)
    assert.ok(b !== undefined, input)
    assert.equal(formatIPv6(b), printed, input)
  }
  assert.equal(parseIPv6('10.0.0.1'), undefined)
  assert.equal(parseIPv6('1.2.3.4::'), undefined)
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff)
})

test('integer keys: the low 32 bits, as HAProxy casts a sample', () => {
  assert.equal(normalizeKey(int, 7), 7)
  assert.equal(normalizeKey(int, -1), -1) // stored as int32: 4294967295
  assert.equal(formatKey('integer', normalizeKey(int, -1) as number), '4294967295')
  assert.equal(normalizeKey(int, 2 ** 32 + 5), 5)
  assert.equal(normalizeKey(int, 2n ** 40n + 9n), 9)
  assert.equal(normalizeKey(int, '123'), 123)
  assert.equal(normalizeKey(int, '-2'), (0xfffffffe | 0))
  assert.equal(normalizeKey(int, 'abc'), undefined)
  assert.equal(normalizeKey(int, Number.NaN), undefined)
  assert.equal(normalizeKey(int, new Uint8Array([0, 0, 1, 0])), 256)
  assert.deepEqual([...keyBytes('integer', 256)], [0, 0, 1, 0])
})

test('string keys: bytes, truncated to len, cut at NUL; characters above U+00FF as UTF-8', () => {
  assert.equal(normalizeKey(str, 'alice'), 'alice')
  assert.equal(normalizeKey(str, '0123456789'), '01234567')
  assert.equal(normalizeKey(str, 'ab\0cd'), 'ab')
  assert.equal(normalizeKey(str, 'caf\u00c3\u00a9'), 'caf\u00c3\u00a9', 'a byte string stays as is')
  assert.equal(normalizeKey(str, 'ca\u00e9\u20ac\u20ac'), 'ca\u00c3\u00a9\u00e2\u0082\u00ac\u00e2', 'text is encoded UTF-8, then truncated to 8 bytes, even mid-character')
  assert.equal(normalizeKey(str, Buffer.from('xyz')), 'xyz')
  assert.equal(normalizeKey(str, 5), undefined)
})

test('binary keys: zero-padded or truncated to len', () => {
  assert.equal(normalizeKey(bin, 'ab'), 'ab\0\0')
  assert.equal(normalizeKey(bin, Buffer.from('abcdef')), 'abcd')
  assert.equal(formatKey('binary', 'ab\0\0'), '61620000')
  assert.equal(dumpBinary('\xab\x01'), 'AB01')
})

test('dump_text escapes as HAProxy prints string keys', () => {
  assert.equal(dumpText('bob smith=x'), 'bob\\ smith\\=x')
  assert.equal(dumpText('caf\u00c3\u00a9\ttab\\'), 'caf\\xC3\\xA9\\ttab\\\\')
  assert.equal(dumpText('a\r\n\x1b\x7fz'), 'a\\r\\n\\e\\x7Fz')
  assert.equal(dumpText('stop\0here'), 'stop')
})

test('key order is HAProxy key-tree order (integers little-endian)', () => {
  const ints = [1, 2, 256, 65536, 16777216, -1, 3, 177622].map(v => normalizeKey(int, v) as number)
  assert.deepEqual(ints.sort(keyComparator('integer')).map(v => v >>> 0), [16777216, 65536, 256, 1, 2, 3, 177622, 4294967295])
  const ips = ['127.0.0.1', '10.0.0.3', '1.2.3.4', '200.0.0.1'].map(v => normalizeKey(ip, v) as number)
  assert.deepEqual(ips.sort(keyComparator('ip')).map(v => formatKey('ip', v)), ['1.2.3.4', '10.0.0.3', '127.0.0.1', '200.0.0.1'])
  assert.deepEqual(['b', 'ab', 'a', 'aa', '0'].sort(keyComparator('string')), ['0', 'a', 'aa', 'ab', 'b'])
})

test('CLI key parsers: inetaddr_host, strtoul, strl2llrc quirks', () => {
  assert.equal(inetaddrHost('127.0.0.1'), 0x7f000001)
  assert.equal(inetaddrHost('junk'), 0)
  assert.equal(inetaddrHost('::ffff:127.0.0.1'), 0)
  assert.equal(inetaddrHost('10.1'), 0x0a010000)
  assert.equal(inetaddrHost('1.2.3.999'), 0x01020300 + 999)
  assert.equal(inetaddrHost('1.2.3.41234'), 0x01020300 + 234, 'the last three digits of a group')
  assert.equal(strtoulKey('12abc'), 12)
  assert.equal(strtoulKey(' +5'), 5)
  assert.equal(strtoulKey('-0'), 0)
  assert.equal(strtoulKey('-1'), undefined)
  assert.equal(strtoulKey('4294967295'), 4294967295)
  assert.equal(strtoulKey('4294967296'), undefined)
  assert.equal(strtoulKey('abc'), undefined)
  assert.equal(strl2llrc('-42'), -42n)
  assert.equal(strl2llrc('-'), 0n)
  assert.equal(strl2llrc(''), undefined)
  assert.equal(strl2llrc('1+'), undefined)
  assert.equal(strl2llrc('9223372036854775807'), 9223372036854775807n)
  assert.equal(strl2llrc('9223372036854775808'), undefined)
})
