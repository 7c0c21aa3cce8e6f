/**
 * The HTTP data path against hostile clients and servers, on loopback (port 0, no lab): the
 * `timeout http-request` deadline (slowloris on the head, on a keep-alive request, on a body with
 * `option http-buffer-request`), an unsolicited 101 from a server, pipelined monitor-uri requests
 * and a fragment in the request target. See docs/security.md, "HTTP data path".
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { parseConfig } from '../../src/config/index.ts'
import { listenerKey } from '../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../src/net/listen-handle.ts'
import { Engine } from '../../src/proxy/engine.ts'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

interface Proxy {
  engine: Engine
  port: number
  logs: string[]
  stop: () => void
}

/** An engine on 127.0.0.1:0 with `frontend fe` (FRONTEND lines added) routing to `backend be` on `backendPort`. */
function startProxy (backendPort: number, frontend = '', backend = ''): Proxy {
  const handle = bindTcp('127.0.0.1', 0, 4)
  const { port } = handleAddress(handle)
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout http-request 600ms
    timeout http-keep-alive 2s
frontend fe
    bind 127.0.0.1:${port}
    option httplog
    monitor-uri /alive
${frontend}
    default_backend be
backend be
${backend}
    server s1 127.0.0.1:${backendPort}
`, 'data-path.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const logs: string[] = []
  const engine = new Engine(config, { logFor: () => line => { logs.push(line) } })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  return { engine, port, logs, stop: () => { engine.stopAccepting(); engine.close() } }
}

/** A client connection collecting what the proxy sends; `ended` resolves when the proxy closes it. */
interface Client {
  sock: Socket
  text: () => string
  ended: Promise<void>
}

async function client (port: number): Promise<Client> {
  const sock = connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
  let text = ''
  sock.setEncoding('latin1')
  sock.on('data', (d: string) => { text += d })
  const ended = new Promise<void>(resolve => {
    sock.on('close', () => { resolve() })
    sock.on('error', () => { resolve() })
  })
  return { sock, text: () => text, ended }
}

/** Writes `data` one byte every `everyMs` until the socket closes; returns the stop function. */
function trickle (sock: Socket, data: string, everyMs: number): () => void {
  let i = 0
  const timer = setInterval(() => {
    if (sock.destroyed || sock.writableEnded) {
      clearInterval(timer)
      return
    }
    sock.write(data[i++ % data.length] ?? 'x')
  }, everyMs)
  return () => { clearInterval(timer) }
}

/** Resolves with the time `c` took to be closed by the proxy, failing the test past `limitMs`. */
async function closedWithin (c: Client, limitMs: number, t0: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      c.sock.destroy()
      reject(new Error(`still open after ${limitMs} ms; got ${JSON.stringify(c.text())}`))
    }, limitMs)
  })
  try {
    await Promise.race([c.ended, late])
  } finally {
    clearTimeout(timer)
  }
  return Date.now() - t0
}

let web: HttpServer
let webPort = 0
const webRequests: { url: string, headers: Record<string, string | string[] | undefined>, body: string }[] = []

before(async () => {
  web = createHttpServer((req, res) => {
    let body = ''
    req.setEncoding('latin1')
    req.on('data', (d: string) => { body += d })
    req.on('end', () => {
      webRequests.push({ url: req.url ?? '', headers: req.headers, body })
      res.end(`answer ${req.url ?? ''} body=${body.length}`)
    })
  })
  await new Promise<void>(resolve => { web.listen(0, '127.0.0.1', resolve) })
  webPort = (web.address() as AddressInfo).port
})
after(async () => {
  web.closeAllConnections()
  await new Promise(resolve => { web.close(resolve) })
})

describe('timeout http-request is a deadline', () => {
  test('a slowloris head (one byte every 200 ms) gets 408 within the deadline, logged cR-- 408', async () => {
    const p = startProxy(webPort)
    try {
      const t0 = Date.now()
      const c = await client(p.port)
      const stop = trickle(c.sock, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200), 200)
      const took = await closedWithin(c, 3000, t0)
      stop()
      assert.match(c.text(), /^HTTP\/1\.1 408 /)
      assert.ok(took >= 550 && took < 1200, `closed after ${took} ms (deadline 600 ms)`)
      const line = p.logs.find(l => l.includes(' 408 '))
      assert.ok(line !== undefined, p.logs.join('\n'))
      assert.match(line, / fe fe\/<NOSRV> .* 408 .* cR-- .*"<BADREQ>"$/)
    } finally {
      p.stop()
    }
  })

  test('a keep-alive request trickled after an idle pause gets 408 within the deadline from its first byte', async () => {
    const p = startProxy(webPort)
    try {
      const c = await client(p.port)
      c.sock.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n')
      while (!c.text().includes('answer /first')) await sleep(5)
      await sleep(800) // idle, under timeout http-keep-alive (2 s), past timeout http-request
      assert.equal(c.sock.destroyed, false, 'closed while idle under timeout http-keep-alive')
      const t0 = Date.now()
      const stop = trickle(c.sock, 'GET /second HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'b'.repeat(200), 200)
      const took = await closedWithin(c, 3000, t0)
      stop()
      assert.match(c.text(), /answer \/first body=0HTTP\/1\.1 408 /)
      assert.ok(took >= 550 && took < 1200, `closed ${took} ms after the first byte (deadline 600 ms)`)
    } finally {
      p.stop()
    }
  })

  test('a connection that sends nothing gets 408 at the deadline (logged), unless http-ignore-probes', async () => {
    for (const [options, answered, logged] of [['', true, true], ['    option dontlognull', true, false],
      ['    option http-ignore-probes', false, false]] as const) {
      const p = startProxy(webPort, options)
      try {
        const t0 = Date.now()
        const c = await client(p.port)
        const took = await closedWithin(c, 3000, t0)
        assert.ok(took >= 550 && took < 1200, `${options}: closed after ${took} ms (deadline 600 ms)`)
        assert.equal(/^HTTP\/1\.1 408 /.test(c.text()), answered, `${options}: ${c.text()}`)
        assert.equal(p.logs.some(l => / 408 .* cR-- .*"<BADREQ>"$/.test(l)), logged, `${options}: ${p.logs.join('\n')}`)
      } finally {
        p.stop()
      }
    }
  })

  test('a head that completes in time is served though its bytes come slowly', async () => {
    const p = startProxy(webPort)
    try {
      const c = await client(p.port)
      const head = 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n'
      c.sock.write(head.slice(0, 10))
      await sleep(300)
      c.sock.write(head.slice(10))
      while (!c.text().includes('answer /ok')) await sleep(5)
      await sleep(700) // the deadline of the answered request must not fire afterwards
      assert.equal(c.sock.destroyed, false)
      assert.doesNotMatch(c.text(), /408/)
      c.sock.destroy()
    } finally {
      p.stop()
    }
  })
})

describe('option http-buffer-request', () => {
  test('a body trickled one byte every 200 ms gets 408 within the deadline; the server sees nothing', async () => {
    const p = startProxy(webPort, '    option http-buffer-request')
    const before = webRequests.length
    try {
      const t0 = Date.now()
      const c = await client(p.port)
      c.sock.write('POST /slow-body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n')
      const stop = trickle(c.sock, 'z', 200)
      const took = await closedWithin(c, 3000, t0)
      stop()
      assert.match(c.text(), /^HTTP\/1\.1 408 /)
      assert.ok(took >= 550 && took < 1200, `closed after ${took} ms (deadline 600 ms)`)
      assert.equal(webRequests.length, before)
      const line = p.logs.find(l => l.includes(' 408 '))
      assert.ok(line !== undefined, p.logs.join('\n'))
      assert.match(line, / fe be\/<NOSRV> .* 408 .* cR-- .*"POST \/slow-body HTTP\/1\.1"$/)
    } finally {
      p.stop()
    }
  })

  test('a body that stops coming gets 408 at timeout client (cD--), before the deadline', async () => {
    const p = startProxy(webPort, '    option http-buffer-request\n    timeout client 200ms')
    try {
      const t0 = Date.now()
      const c = await client(p.port)
      c.sock.write('POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc')
      const took = await closedWithin(c, 3000, t0)
      assert.match(c.text(), /^HTTP\/1\.1 408 /)
      assert.ok(took < 550, `closed after ${took} ms (timeout client 200 ms)`)
      assert.ok(p.logs.some(l => / 408 .* cD-- .*"POST \/stalled HTTP\/1\.1"$/.test(l)), p.logs.join('\n'))
    } finally {
      p.stop()
    }
  })

  test('a body that arrives in time is forwarded whole; Expect: 100-continue is answered by the proxy', async () => {
    const p = startProxy(webPort, '', '    option http-buffer-request')
    try {
      const c = await client(p.port)
      c.sock.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n')
      while (!c.text().includes('100 Continue')) await sleep(5)
      c.sock.write('01234')
      await sleep(100)
      c.sock.write('56789GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
      await closedWithin(c, 3000, Date.now())
      assert.match(c.text(), /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 [^]*answer \/upload body=10/)
      assert.match(c.text(), /answer \/next body=0$/)
      const upload = webRequests.find(r => r.url === '/upload')
      assert.equal(upload?.body, '0123456789')
      assert.equal(upload?.headers.expect, undefined)
    } finally {
      p.stop()
    }
  })
})

/** A raw TCP server answering its first request with `response`, recording everything it receives. */
async function rawServer (response: string): Promise<{ server: Server, port: number, received: () => string,
  closed: Promise<void> }> {
  let received = ''
  let onClosed = (): void => {}
  const closed = new Promise<void>(resolve => { onClosed = resolve })
  const server = createServer(s => {
    let answered = false
    s.setEncoding('latin1')
    s.on('data', (d: string) => {
      received += d
      if (!answered) {
        answered = true
        s.write(response)
      }
    })
    s.on('error', () => {})
    s.on('close', onClosed)
  })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  return { server, port: (server.address() as AddressInfo).port, received: () => received, closed }
}

describe('an unsolicited 101 from the server', () => {
  const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
  const cases: [string, string, string][] = [
    ['a request without Upgrade', '', 'websocket'],
    ['Upgrade: h2c', 'Connection: upgrade\r\nUpgrade: h2c\r\n', 'h2c'],
    ['a response Upgrade other than the requested one', 'Connection: upgrade\r\nUpgrade: websocket\r\n', 'foo']
  ]
  for (const [name, requestHeaders, responseUpgrade] of cases) {
    test(`to ${name}: 502 to the client, server connection closed, nothing tunnelled`, async () => {
      const raw = await rawServer(`HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: ${
        responseUpgrade}\r\n\r\n`)
      const p = startProxy(raw.port)
      try {
        const c = await client(p.port)
        c.sock.write(`GET /ws HTTP/1.1\r\nHost: x\r\n${requestHeaders}\r\n`)
        while (c.text() === '' && !c.sock.destroyed) await sleep(5)
        if (!c.sock.destroyed) c.sock.write(SMUGGLED)
        await closedWithin(c, 3000, Date.now())
        await raw.closed
        await sleep(50)
        assert.match(c.text(), /^HTTP\/1\.1 502 /)
        assert.doesNotMatch(c.text(), /101/)
        assert.doesNotMatch(raw.received(), /smuggled/)
        assert.ok(p.logs.some(l => / 502 .* PH-- /.test(l)), p.logs.join('\n'))
      } finally {
        p.stop()
        raw.server.close()
      }
    })
  }

  test('the requested upgrade (same protocol, any case) still becomes a tunnel', async () => {
    const raw = await rawServer('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: WebSocket\r\n\r\n')
    const p = startProxy(raw.port)
    try {
      const c = await client(p.port)
      c.sock.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n')
      while (!c.text().includes('\r\n\r\n')) await sleep(5)
      c.sock.write('tunnel-bytes')
      while (!raw.received().includes('tunnel-bytes')) await sleep(5)
      assert.match(c.text(), /^HTTP\/1\.1 101 /)
      c.sock.destroy()
    } finally {
      p.stop()
      raw.server.close()
    }
  })
})

describe('monitor-uri', () => {
  test('pipelined requests in one write are each answered, in order, monitor and proxied alike', async () => {
    const p = startProxy(webPort)
    try {
      const c = await client(p.port)
      const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`
      c.sock.write(get('/alive') + get('/a') + get('/alive') + get('/b', 'Connection: close\r\n'))
      await closedWithin(c, 3000, Date.now())
      const order = [...c.text().matchAll(/Service ready|answer \/\w/g)].map(m => m[0])
      assert.deepEqual(order, ['Service ready', 'answer /a', 'Service ready', 'answer /b'])
    } finally {
      p.stop()
    }
  })

  test('three pipelined monitor requests get three answers', async () => {
    const p = startProxy(webPort)
    try {
      const c = await client(p.port)
      const get = 'GET /alive HTTP/1.1\r\nHost: x\r\n\r\n'
      c.sock.write(get + get + get.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'))
      await closedWithin(c, 3000, Date.now())
      assert.equal(c.text().split('HTTP/1.1 200 OK').length - 1, 3, c.text())
    } finally {
      p.stop()
    }
  })
})

test('a fragment in the request target is answered 400 and not forwarded', async () => {
  const p = startProxy(webPort)
  const before = webRequests.length
  try {
    const c = await client(p.port)
    c.sock.write('GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n')
    await closedWithin(c, 3000, Date.now())
    assert.match(c.text(), /^HTTP\/1\.1 400 /)
    assert.equal(webRequests.length, before)
  } finally {
    p.stop()
  }
})
