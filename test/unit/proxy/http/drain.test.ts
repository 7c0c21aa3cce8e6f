/**
 * Draining (the old worker generation after a reload): no request a client has sent, or is
 * about to send on a connection the old worker accepted, may be lost. Found by
 * `scripts/bench reload`: with the worker's event loop late, the close-spread timer of an
 * "idle" connection fired before the poll phase read the request already in the socket (the
 * close then reset the connection), and a connection accepted just before the drain, whose
 * client had not written its first request yet, was closed as if it were an idle keep-alive one.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { parseConfig } from '../../../../src/config/index.ts'
import { Engine } from '../../../../src/proxy/engine.ts'
import { bindTcp, handleAddress } from '../../../../src/net/listen-handle.ts'
import { listenerKey } from '../../../../src/ipc/messages.ts'

const REQUEST = 'GET / HTTP/1.1\r\nHost: t\r\n\r\n'
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Blocks the event loop, as a busy worker does: timers expire, data piles up in the sockets. */
function busy (ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) { /* spin */ }
}

let backend: Server
let backendPort = 0

before(async () => {
  backend = createServer((_req, res) => { res.end('ok') })
  await new Promise<void>(resolve => { backend.listen(0, '127.0.0.1', resolve) })
  backendPort = (backend.address() as { port: number }).port
})
after(async () => {
  backend.closeAllConnections()
  await new Promise(resolve => { backend.close(resolve) })
})

/** `closeSpread` undefined: no close-spread-time line (tslb's default drain). */
function startEngine (closeSpread: string | undefined, options = ''): { engine: Engine, port: number } {
  const handle = bindTcp('127.0.0.1', 0, 4)
  const { port } = handleAddress(handle)
  const { config, diagnostics } = parseConfig(`global
${closeSpread === undefined ? '' : `    close-spread-time ${closeSpread}`}
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout http-keep-alive 5s
${options}
frontend www
    bind 127.0.0.1:${port}
    default_backend app
backend app
    server s1 127.0.0.1:${backendPort}
`, 'drain.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const engine = new Engine(config, { logFor: () => () => {} })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  return { engine, port }
}

/** Collects what the proxy sends until it closes; resolves with the text, or the error code. */
function collect (sock: Socket): { text: () => string, ended: Promise<string> } {
  let text = ''
  sock.setEncoding('utf8')
  sock.on('data', (d: string) => { text += d })
  const ended = new Promise<string>(resolve => {
    sock.on('error', (err: NodeJS.ErrnoException) => { resolve(`error ${err.code ?? ''}`) })
    sock.on('close', () => { resolve('closed') })
  })
  return { text: () => text, ended }
}

async function connected (port: number): Promise<Socket> {
  const sock = connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
  return sock
}

describe('draining worker', () => {
  test('a connection accepted before the drain whose client writes its first request later is served (Connection: close)', async () => {
    const { engine, port } = startEngine('10ms')
    const sock = await connected(port)
    const c = collect(sock)
    await sleep(50)
    assert.equal(engine.activeConnections, 1)
    engine.stopAccepting()
    await sleep(100) // well past close-spread-time
    sock.write(REQUEST)
    const how = await c.ended
    assert.match(c.text(), /^HTTP\/1\.1 200 /, `got ${how}: ${JSON.stringify(c.text())}`)
    assert.match(c.text(), /\r\nconnection: close\r\n/i)
    assert.match(c.text(), /ok$/)
    engine.close()
  })

  test('an idle keep-alive connection whose next request arrived while the worker was busy is served, not reset', async () => {
    const { engine, port } = startEngine('1ms')
    const sock = await connected(port)
    const c = collect(sock)
    sock.write(REQUEST)
    while (!c.text().endsWith('ok')) await sleep(5)
    assert.doesNotMatch(c.text(), /connection: close/i)
    // The drain arms the close timer; the next request reaches the socket; the worker is busy
    // past the timer's deadline. Done in the check phase (setImmediate), the next loop iteration
    // runs the expired timer before the poll phase that reads the request.
    await new Promise<void>(resolve => {
      setImmediate(() => {
        engine.stopAccepting()
        sock.write(REQUEST)
        busy(30)
        resolve()
      })
    })
    const how = await c.ended
    const answers = c.text().split('HTTP/1.1 200 ').length - 1
    assert.equal(answers, 2, `the second request got no answer (${how}): ${JSON.stringify(c.text())}`)
    assert.match(c.text(), /\r\nconnection: close\r\n[^]*ok$/i)
    engine.close()
  })

  test('an idle keep-alive connection is still closed within close-spread-time', async () => {
    const { engine, port } = startEngine('50ms')
    const sock = await connected(port)
    const c = collect(sock)
    sock.write(REQUEST)
    while (!c.text().endsWith('ok')) await sleep(5)
    const t0 = Date.now()
    engine.stopAccepting()
    assert.equal(await c.ended, 'closed')
    assert.ok(Date.now() - t0 < 1000, `closed after ${Date.now() - t0} ms`)
    await engine.idle()
    engine.close()
  })

  /** An idle keep-alive connection survives the drain (`waitMs` past it) and its next request is answered with Connection: close. */
  async function idleSurvivesDrain (closeSpread: string | undefined, options: string, waitMs: number): Promise<void> {
    const { engine, port } = startEngine(closeSpread, options)
    const sock = await connected(port)
    const c = collect(sock)
    sock.write(REQUEST)
    while (!c.text().endsWith('ok')) await sleep(5)
    engine.stopAccepting()
    await sleep(waitMs)
    assert.equal(sock.destroyed || sock.readableEnded, false, 'closed by the drain')
    sock.write(REQUEST)
    assert.equal(await c.ended, 'closed')
    assert.equal(c.text().split('HTTP/1.1 200 ').length - 1, 2)
    assert.match(c.text(), /\r\nconnection: close\r\n[^]*ok$/i)
    await engine.idle()
    engine.close()
  }

  test('without close-spread-time an idle keep-alive connection stays open through the drain and its next request is answered with Connection: close', async () => {
    await idleSurvivesDrain(undefined, '', 1200) // past the 1 s window tslb used to close idle connections in
  })

  test('option idle-close-on-response: an idle keep-alive connection stays open through the drain and its next request is answered with Connection: close', async () => {
    await idleSurvivesDrain('10ms', '    option idle-close-on-response', 200) // well past close-spread-time
  })
})
