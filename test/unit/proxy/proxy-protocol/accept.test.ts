/**
 * `bind … accept-proxy` in an engine on loopback: the header's addresses become the client's
 * (logs, ACL `src`, X-Forwarded-For), and a connection without a valid header is refused and
 * logged with HAProxy 2.6's text.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type AddressInfo, type Server } from 'node:net'
import { once } from 'node:events'
import { parseConfig } from '../../../../src/config/index.ts'
import { listenerKey } from '../../../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../../../src/net/listen-handle.ts'
import { Engine } from '../../../../src/proxy/engine.ts'
import { encodeProxyV1, encodeProxyV2 } from '../../../../src/proxy/proxy-protocol/codec.ts'

let engine: Engine
let port: number
let origin: Server
const logs: { line: string, severity: number | undefined }[] = []
/** What the origin server received, per connection. */
const received: string[] = []

before(async () => {
  origin = createServer(s => {
    let text = ''
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1')
      if (!text.includes('\r\n\r\n')) return
      received.push(text)
      s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok')
    })
    s.on('error', () => {})
  })
  origin.listen(0, '127.0.0.1')
  await once(origin, 'listening')
  const handle = bindTcp('127.0.0.1', 0, 4)
  port = handleAddress(handle).port
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    option httplog
    option forwardfor
    option log-separate-errors
    timeout client 300
    timeout connect 1s
    timeout server 2s
frontend www
    bind 127.0.0.1:${port} accept-proxy name pp
    log stdout local0
    acl from_doc src 192.0.2.0/24 2001:db8::/32
    use_backend doc if from_doc
backend doc
    server o 127.0.0.1:${(origin.address() as AddressInfo).port}
`, 'pp.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  engine = new Engine(config, { logFor: () => (line, severity) => { logs.push({ line, severity }) } })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
})

after(() => {
  engine.stopAccepting()
  engine.close()
  origin.close()
})

interface Outcome { readonly reply: string, readonly error: string | undefined, readonly ms: number }

async function send (chunks: (Buffer | string)[], gapMs = 0): Promise<Outcome> {
  const sock = connect({ host: '127.0.0.1', port })
  const started = Date.now()
  let reply = ''
  let error: string | undefined
  sock.on('data', (d: Buffer) => { reply += d.toString('latin1') })
  sock.on('error', (e: NodeJS.ErrnoException) => { error = e.code })
  const closed = new Promise(resolve => { sock.on('close', resolve) })
  await once(sock, 'connect')
  for (const c of chunks) {
    sock.write(c)
    if (gapMs > 0) await new Promise(resolve => setTimeout(resolve, gapMs))
  }
  if (chunks.length === 0) sock.end()
  await closed
  return { reply, error, ms: Date.now() - started }
}

const REQUEST = 'GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'

async function lastLog (): Promise<{ line: string, severity: number | undefined }> {
  const deadline = Date.now() + 2000
  const n = logs.length
  while (logs.length === n && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
  const l = logs.at(-1)
  assert.ok(l !== undefined)
  return l
}

test('a v1 header: its source is the client for routing, X-Forwarded-For and the log', async () => {
  const header = encodeProxyV1({ address: '192.0.2.7', port: 4567 }, { address: '198.51.100.1', port: 443 })
  const logged = lastLog()
  const o = await send([Buffer.concat([header, Buffer.from(REQUEST)])])
  assert.match(o.reply, /^HTTP\/1\.1 200 /)
  assert.match(received.at(-1) ?? '', /\r\nx-forwarded-for: 192\.0\.2\.7\r\n/i)
  assert.match((await logged).line, /^192\.0\.2\.7:4567 \[.+\] www doc\/o .* 200 .* "GET \/x HTTP\/1\.1"$/)
})

test('a v2 header over IPv6, split over several writes, the request in the same segment as its end', async () => {
  const header = encodeProxyV2({ address: '2001:db8::5', port: 1000 }, { address: '2001:db8::1', port: 80 })
  const o = await send([header.subarray(0, 5), header.subarray(5, 20), Buffer.concat([header.subarray(20),
    Buffer.from(REQUEST)])], 20)
  assert.match(o.reply, /^HTTP\/1\.1 200 /)
  assert.match(received.at(-1) ?? '', /\r\nx-forwarded-for: 2001:db8::5\r\n/i)
})

test('a v2 LOCAL header keeps the connection\'s own address (not routed to the doc backend: 503)', async () => {
  const o = await send([Buffer.concat([encodeProxyV2(undefined, undefined), Buffer.from(REQUEST)])])
  assert.match(o.reply, /^HTTP\/1\.1 503 /)
})

test('no header: reset, logged as HAProxy 2.6 logs it (err with log-separate-errors)', async () => {
  const logged = lastLog()
  const o = await send([REQUEST])
  assert.equal(o.reply, '')
  assert.equal(o.error, 'ECONNRESET')
  const l = await logged
  assert.match(l.line,
    /^127\.0\.0\.1:\d+ \[\d\d\/\w{3}\/\d{4}:[\d:.]+\] www\/pp: Received something which does not look like a PROXY protocol header$/)
  assert.equal(l.severity, 3)
})

test('an invalid header: reset and logged', async () => {
  const logged = lastLog()
  const o = await send(['PROXY TCP4 192.0.2.1 192.0.2.2 1 99999\r\n', REQUEST])
  assert.equal(o.error, 'ECONNRESET')
  assert.match((await logged).line, / www\/pp: Received an invalid PROXY protocol header$/)
})

test('an incomplete header: closed after timeout client, logged', async () => {
  const logged = lastLog()
  const o = await send(['PROXY TCP4 192.0.2.1'])
  assert.equal(o.reply, '')
  assert.ok(o.ms >= 280 && o.ms < 1500, `closed after ${o.ms} ms`)
  assert.match((await logged).line, / www\/pp: Timeout while waiting for PROXY protocol header$/)
})

test('a client that closes before its header: logged (no dontlognull here), nothing else', async () => {
  const logged = lastLog()
  const o = await send([])
  assert.equal(o.reply, '')
  assert.match((await logged).line, / www\/pp: Connection closed while waiting for PROXY protocol header$/)
})
