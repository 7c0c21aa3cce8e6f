import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatAddress, parseAddress, parseNetwork, parseSeconds, parseSize, parseTime } from '../../../src/config/values.ts'
import { ValueError } from '../../../src/config/errors.ts'

test('times default to milliseconds and take HAProxy units', () => {
  assert.equal(parseTime('5000'), 5000)
  assert.equal(parseTime('5s'), 5000)
  assert.equal(parseTime('2m'), 120_000)
  assert.equal(parseTime('1h'), 3_600_000)
  assert.equal(parseTime('1d'), 86_400_000)
  assert.equal(parseTime('500us'), 0.5)
  for (const bad of ['', '5z', '-1', '1.5s', 's', '99999999999d']) assert.throws(() => parseTime(bad), ValueError, bad)
})

test('keepalived seconds take fractions', () => {
  assert.equal(parseSeconds('1', 'advert_int'), 1000)
  assert.equal(parseSeconds('0.1', 'advert_int'), 100)
  assert.throws(() => parseSeconds('1s', 'advert_int'), ValueError)
})

test('sizes take k, m, g', () => {
  assert.equal(parseSize('1m'), 1024 * 1024)
  assert.equal(parseSize('200k'), 200 * 1024)
  assert.equal(parseSize('16384'), 16384)
  assert.throws(() => parseSize('1t'), ValueError)
})

test('addresses in every form HAProxy writes them', () => {
  assert.deepEqual(parseAddress('*:80', 'bind', true), { host: '', family: 0, port: 80, portEnd: 80 })
  assert.deepEqual(parseAddress(':80', 'bind', true), { host: '', family: 0, port: 80, portEnd: 80 })
  assert.deepEqual(parseAddress('198.18.0.1:8080', 'bind', true), { host: '198.18.0.1', family: 4, port: 8080, portEnd: 8080 })
  assert.deepEqual(parseAddress('[::1]:443', 'bind', true), { host: '::1', family: 6, port: 443, portEnd: 443 })
  assert.deepEqual(parseAddress(':::80', 'bind', true), { host: '::', family: 6, port: 80, portEnd: 80 })
  assert.deepEqual(parseAddress('ipv6@::1:80', 'bind', true), { host: '::1', family: 6, port: 80, portEnd: 80 })
  assert.deepEqual(parseAddress('198.18.0.1:80-85', 'bind', true), { host: '198.18.0.1', family: 4, port: 80, portEnd: 85 })
  assert.deepEqual(parseAddress('198.18.0.21', 'server', false), { host: '198.18.0.21', family: 4, port: undefined, portEnd: undefined })
  assert.equal(formatAddress(parseAddress('[::1]:443', 'bind', true)), '[::1]:443')
  assert.equal(formatAddress(parseAddress('*:80', 'bind', true)), '*:80')
})

test('bad addresses are refused with the reason', () => {
  assert.throws(() => parseAddress('198.18.0.1', 'bind', true), /missing port/)
  assert.throws(() => parseAddress('www.example.com:80', 'server', false), /not an IP address/)
  assert.throws(() => parseAddress('198.18.0.1:0', 'bind', true), /out of range/)
  assert.throws(() => parseAddress('198.18.0.1:70000', 'bind', true), /out of range/)
  assert.throws(() => parseAddress('198.18.0.1:90-80', 'bind', true), /reversed/)
  assert.throws(() => parseAddress('[::1:80', 'bind', true), /missing '\]'/)
  assert.throws(() => parseAddress('ipv4@::1:80', 'bind', true), /not an IPv4/)
  assert.throws(() => parseAddress('abns@foo', 'bind', true), /not supported/)
})

test('networks', () => {
  assert.equal(parseNetwork('198.18.0.0/15', 'x'), '198.18.0.0/15')
  assert.equal(parseNetwork('127.0.0.1', 'x'), '127.0.0.1')
  assert.throws(() => parseNetwork('198.18.0.0/33', 'x'), ValueError)
  assert.throws(() => parseNetwork('nope/8', 'x'), ValueError)
})
