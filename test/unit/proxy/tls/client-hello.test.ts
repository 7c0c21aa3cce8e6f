import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseClientHello } from '../../../../src/proxy/tls/client-hello.ts'

/** A ClientHello Node 24 sent (servername www.example.com, ALPN h2,http/1.1), captured on the wire. */
const CAPTURED = Buffer.from(readFileSync(join(import.meta.dirname, 'fixtures/client-hello-node24.hex'), 'utf8').trim(),
  'hex')

/** A minimal ClientHello record with the given extensions. */
function hello (extensions: Buffer | undefined): Buffer {
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32), Buffer.from([0]), Buffer.from([0, 2, 0x13, 0x01]),
    Buffer.from([1, 0]), ...(extensions === undefined ? [] : [u16(extensions.length), extensions])])
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body])
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16(hs.length), hs])
}
const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff])
function ext (type: number, data: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(data.length), data])
}
function sniExt (name: string): Buffer {
  const n = Buffer.from(name)
  const entry = Buffer.concat([Buffer.from([0]), u16(n.length), n])
  return ext(0, Buffer.concat([u16(entry.length), entry]))
}

test('a captured ClientHello: SNI and ALPN', () => {
  assert.deepEqual(parseClientHello(CAPTURED), { state: 'hello', helloType: 1, sni: 'www.example.com',
    alpn: ['h2', 'http/1.1'] })
})

test('bytes arriving one by one: incomplete until the whole record is there', () => {
  for (let n = 0; n < CAPTURED.length; n += 97) {
    assert.deepEqual(parseClientHello(CAPTURED.subarray(0, n)), { state: 'incomplete' }, `at ${n} bytes`)
  }
  assert.equal(parseClientHello(CAPTURED).state, 'hello')
})

test('crafted hellos: no extensions, SNI only, other extensions before it', () => {
  assert.deepEqual(parseClientHello(hello(undefined)), { state: 'hello', helloType: 1 })
  assert.deepEqual(parseClientHello(hello(sniExt('a.test'))), { state: 'hello', helloType: 1, sni: 'a.test' })
  assert.deepEqual(parseClientHello(hello(Buffer.concat([ext(23, Buffer.alloc(0)), ext(0xff01, Buffer.from([0])),
    sniExt('b.test')]))), { state: 'hello', helloType: 1, sni: 'b.test' })
})

test('not TLS, or malformed: no SNI, never a throw', () => {
  assert.deepEqual(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')), { state: 'not-tls' })
  assert.deepEqual(parseClientHello(Buffer.from([0x16, 2, 0, 0, 10])), { state: 'not-tls' })
  assert.deepEqual(parseClientHello(Buffer.from([0x16, 3, 1, 0xff, 0xff])), { state: 'not-tls' }, 'oversized record')
  const lying = hello(sniExt('c.test'))
  lying[lying.length - 8] = 0xff // a name length past the end
  assert.deepEqual(parseClientHello(lying), { state: 'hello', helloType: 1 })
  for (let i = 0; i < 500; i++) {
    const junk = Buffer.from(CAPTURED)
    junk[9 + Math.floor(Math.random() * (junk.length - 9))] = Math.floor(Math.random() * 256)
    const v = parseClientHello(junk)
    assert.ok(v.state === 'hello', JSON.stringify(v))
  }
})

test('another handshake type is reported as such', () => {
  const r = hello(undefined)
  r[5] = 2
  assert.deepEqual(parseClientHello(r), { state: 'hello', helloType: 2 })
})
