/**
 * TCP mode against real sockets on port 0: a large answer to a client that reads slowly arrives
 * whole and in order (back-pressure, buffer reuse), both half-closes are passed on, and the
 * byte counts are what went through.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { parseConfig } from '../../../../src/config/parser.ts'
import { Backend } from '../../../../src/proxy/backend.ts'
import type { FrontendContext } from '../../../../src/proxy/frontend-context.ts'
import { startTcpSession } from '../../../../src/proxy/tcp/tcp-session.ts'
import { type ClientSink, ServerToClient } from '../../../../src/proxy/tcp/relay.ts'

const PAYLOAD = randomBytes(8 * 1024 * 1024 + 123)
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

let origin: Server
let proxy: Server
let backend: Backend
const logs: string[] = []

/** The server: "big" → the payload then FIN; anything else is echoed back after the client's FIN, then FIN. */
function startOrigin (): Server {
  return createServer({ allowHalfOpen: true }, s => {
    const got: Buffer[] = []
    s.on('data', (b: Buffer) => {
      got.push(b)
      if (Buffer.concat(got).toString() === 'big') s.end(PAYLOAD)
    })
    s.on('end', () => { if (Buffer.concat(got).toString() !== 'big') s.end(Buffer.concat([Buffer.from('echo:'), ...got])) })
    s.on('error', () => {})
  })
}

async function listen (server: Server): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

async function readAll (s: Socket, slow: boolean): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of s) {
    parts.push(chunk as Buffer)
    if (slow && parts.length % 16 === 0) await new Promise(resolve => setTimeout(resolve, 5))
  }
  return Buffer.concat(parts)
}

describe('TCP session relay', () => {
  before(async () => {
    origin = startOrigin()
    const port = await listen(origin)
    const { config } = parseConfig(`listen t\n    mode tcp\n    bind 127.0.0.1:1\n    log stdout local0\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    server s1 127.0.0.1:${port}\n`, 'test.cfg')
    const proxyConfig = config.proxies[0]
    assert.ok(proxyConfig)
    backend = new Backend(proxyConfig)
    const fe: FrontendContext = {
      name: 't', timeouts: proxyConfig.timeouts, dontLogNull: false, logging: true,
      logTraffic: line => { logs.push(line) }, connections: () => 1, globalConnections: () => 1
    }
    proxy = createServer({ allowHalfOpen: true, pauseOnConnect: true }, c => { startTcpSession(c, backend, fe) })
    await listen(proxy)
  })
  after(() => {
    proxy.close()
    origin.close()
  })

  test('a large answer to a slow reader arrives whole, then the server FIN', async () => {
    const c = connect({ port: (proxy.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true })
    c.write('big')
    const got = await readAll(c, true)
    c.end()
    assert.equal(got.length, PAYLOAD.length)
    assert.equal(sha(got), sha(PAYLOAD))
  })

  test('the client half-closes: the server sees FIN and its answer still comes back', async () => {
    const c = connect({ port: (proxy.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true })
    c.write('hello ')
    c.end('world')
    const got = await readAll(c, false)
    assert.equal(got.toString(), 'echo:hello world')
  })

  test('the log line counts the bytes the server sent', async () => {
    await new Promise(resolve => setTimeout(resolve, 50))
    const big = logs.find(l => l.includes(` ${PAYLOAD.length} `))
    assert.ok(big, `no log line with ${PAYLOAD.length} bytes: ${logs.join('\n')}`)
    assert.equal(backend.activeConnections, 0)
  })
})

describe('ServerToClient buffer reuse', () => {
  /** A client socket whose kernel takes every write at once (`takes`) or keeps each one pending. */
  function fakeClient (takes: boolean): { sink: ClientSink, written: Uint8Array[] } {
    const written: Uint8Array[] = []
    let pending = 0
    const write = (chunk: Uint8Array): boolean => {
      written.push(chunk)
      if (!takes) pending += chunk.length
      return pending < 16 * 1024
    }
    const sink = {
      write,
      end: () => sink,
      get writableLength () { return pending },
      destroyed: false,
      on: () => sink
    }
    return { sink: sink as unknown as ClientSink, written }
  }

  test('reads go on into the same buffer while every write is taken at once', () => {
    const relay = new ServerToClient(fakeClient(true).sink)
    const gen = relay.onread.buffer as () => Uint8Array
    const first = gen()
    relay.onread.callback(10, first)
    relay.onread.callback(10, gen())
    assert.ok(gen() === first, 'the read buffer changed')
    assert.equal(relay.bytes, 20)
  })

  test('a write still pending keeps its buffer: the next read goes into a fresh one', () => {
    const { sink, written } = fakeClient(false)
    const relay = new ServerToClient(sink)
    const gen = relay.onread.buffer as () => Uint8Array
    const first = gen()
    first.fill(1, 0, 10)
    assert.equal(relay.onread.callback(10, first), true)
    const second = gen()
    assert.ok(second !== first, 'a pending write\'s buffer was reused')
    second.fill(2, 0, 10)
    relay.onread.callback(10, second)
    assert.deepEqual([...(written[0] ?? [])], Array(10).fill(1))
  })
})
