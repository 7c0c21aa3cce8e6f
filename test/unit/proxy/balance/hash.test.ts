import { test } from 'node:test'
import assert from 'node:assert/strict'
import { crc32, djb2, fullHash, hashKey, parseIPv4, sdbm, sourceKey, wt6 } from '../../../../src/proxy/balance/hash.ts'

// Computed with HAProxy 2.6's hash_sdbm/hash_djb2/hash_wt6/hash_crc32 (src/hash.c).
const KEYS = ['', 'a', 'abc', '/index.html', '123456789', 'haproxy.1wt.eu', 'The quick brown fox jumps over the lazy dog', '\xff\x80\x01']
const VECTORS: ReadonlyArray<readonly [number, number, number, number, number]> = [
  [0, 0, 5381, 4187620192, 0],
  [1, 97, 177670, 1900802597, 3904355907],
  [2, 807794786, 193485963, 2483038440, 891568578],
  [3, 858007926, 3776231887, 822151038, 3928116034],
  [4, 1755344949, 902675330, 2225171485, 3421780262],
  [5, 3573640649, 1429640482, 1353059386, 317446440],
  [6, 2359783795, 885799134, 3840389189, 1095738169],
  [7, 2115080448, 193658917, 879659207, 224216354],
]

test('hash functions: the values HAProxy 2.6 computes', () => {
  for (const [i, s, d, w, c] of VECTORS) {
    const key = KEYS[i] as string
    assert.equal(sdbm(key), s, `sdbm ${JSON.stringify(key)}`)
    assert.equal(djb2(key), d, `djb2 ${JSON.stringify(key)}`)
    assert.equal(wt6(key), w, `wt6 ${JSON.stringify(key)}`)
    assert.equal(crc32(key), c, `crc32 ${JSON.stringify(key)}`)
  }
  assert.equal(crc32('123456789'), 0xcbf43926) // the standard CRC-32 check value
})

test('hash functions: a sub-range hashes like the substring', () => {
  const s = 'xx/index.htmlyy'
  for (const fn of [sdbm, djb2, wt6, crc32]) assert.equal(fn(s, 2, 13), fn('/index.html'))
})

test('avalanche: HAProxy\'s full_hash()', () => {
  const vectors: ReadonlyArray<readonly [number, number]> = [
    [0, 2874071335], [1, 881230262], [2, 3798448204], [4096, 1237450891], [4097, 2761370759],
    [4294967295, 2120532354], [3323068418, 2536554273], [12345678, 2396576541],
  ]
  for (const [a, h] of vectors) assert.equal(fullHash(a), h, String(a))
})

test('hashKey: bytes as they came (latin1), UTF-8 for wider characters', () => {
  assert.equal(hashKey(sdbm, 'caf\xe9'), sdbm('caf\xe9'))
  assert.equal(hashKey(sdbm, 'café€'), sdbm(Buffer.from('café€', 'utf8').toString('latin1')))
  assert.equal(hashKey(crc32, '/€?x', 0, 2), crc32('/\xe2\x82\xac'))
})

test('source key: the XOR of the address\'s 32-bit words, as get_server_sh()', () => {
  // Computed with HAProxy's loop over inet_pton() bytes.
  assert.equal(sourceKey('198.18.0.2'), 3323068418)
  assert.equal(sourceKey('10.0.0.1'), 167772161)
  assert.equal(sourceKey('192.168.1.254'), 3232236030)
  assert.equal(sourceKey('::1'), 1)
  assert.equal(sourceKey('2001:db8::1'), 536939961)
  assert.equal(sourceKey('fe80::1:2:3:4'), 4269932550)
})

test('source key: IPv6 spellings, mapped IPv4, zones and brackets', () => {
  const full = sourceKey('2001:0db8:0000:0000:0000:0000:0000:0001')
  assert.equal(full, sourceKey('2001:db8::1'))
  assert.equal(sourceKey('2001:DB8::1'), full)
  assert.equal(sourceKey('[2001:db8::1]'), full)
  assert.equal(sourceKey('fe80::1%eth0'), sourceKey('fe80::1'))
  assert.equal(sourceKey('::ffff:198.18.0.2'), sourceKey('198.18.0.2'))
  assert.equal(sourceKey('::'), 0)
  assert.equal(sourceKey('1::'), 0x10000)
  assert.equal(sourceKey('1:2:3:4:5:6:7:8'), ((0x10002 ^ 0x30004 ^ 0x50006 ^ 0x70008) >>> 0))
  assert.equal(sourceKey('64:ff9b::198.18.0.2'), ((0x0064ff9b ^ 0xc6120002) >>> 0))
})

test('source key: anything else is not an address', () => {
  for (const bad of ['', 'unix', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.4 ', ':', ':::', '1:2', '1::2::3',
    '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1:', '::1.2.3', '1:2:3:4:5:6:7::8.8.8.8']) {
    assert.equal(sourceKey(bad), undefined, JSON.stringify(bad))
  }
  assert.equal(parseIPv4('x1.2.3.4', 1, 8), 0x01020304)
})
