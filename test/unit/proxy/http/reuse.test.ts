/**
 * `http-reuse` and `pool-max-conn`: which server connections a request may take. Three clients,
 * one after the other, each sends two keep-alive requests; the server counts connections.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { connect } from 'node:net'
import { parseConfig } from '../../../../src/config/index.ts'
import { Engine } from '../../../../src/proxy/engine.ts'
import { bindTcp, handleAddress } from '../../../../src/net/listen-handle.ts'
import { listenerKey } from '../../../../src/ipc/messages.ts'

let backend: Server
let backendPort = 0
let connections = 0

before(async () => {
  backend = createServer((_req, res) => { res.end('ok') })
  backend.on('connection', () => { connections++ })
  await new Promise<void>(resolve => { backend.listen(0, '127.0.0.1', resolve) })
  backendPort = (backend.address() as { port: number }).port
})
after(async () => {
  backend.closeAllConnections()
  await new Promise(resolve => { backend.close(resolve) })
})

/** Server connections used by 3 clients × `requests` requests with `lines` in the backend. */
async function serverConnections (lines: string, serverOptions = '', requests = 2): Promise<number> {
  const handle = bindTcp('127.0.0.1', 0, 4)
  const { port } = handleAddress(handle)
  const { config, diagnostics } = parseConfig(`defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    http-reuse always\nfrontend www\n    bind 127.0.0.1:${port}\n    default_backend app\nbackend app\n${lines}\n    server s1 127.0.0.1:${backendPort} ${serverOptions}\n`, 'reuse.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const engine = new Engine(config, { logFor: () => () => {} })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  const before = connections
  for (let c = 0; c < 3; c++) {
    const sock = connect({ host: '127.0.0.1', port })
    sock.setEncoding('utf8')
    let text = ''
    sock.on('data', (d: string) => { text += d })
    for (let r = 1; r <= requests; r++) {
      sock.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n')
      const deadline = Date.now() + 3000
      while ((text.match(/\r\n\r\nok/g) ?? []).length < r && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    }
    assert.equal((text.match(/\r\n\r\nok/g) ?? []).length, requests, text)
    sock.destroy()
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  engine.stopAccepting()
  engine.close()
  return connections - before
}

test('http-reuse always (here from defaults): every request may take any idle connection: one in all', async () => {
  assert.equal(await serverConnections(''), 1)
})

test('http-reuse never (overriding defaults): each client session keeps its own connection: three', async () => {
  assert.equal(await serverConnections('    http-reuse never'), 3)
})

test('http-reuse safe: a session\'s first request never takes a shared idle connection', async () => {
  assert.equal(await serverConnections('    http-reuse safe'), 3)
})

test('pool-max-conn 0: no idle connection is kept, every request connects', async () => {
  assert.equal(await serverConnections('', 'pool-max-conn 0'), 6)
})

test('http-reuse aggressive: a first request takes only an idle connection that already carried two requests', async () => {
  // One request per client: no connection is ever proven, each client connects (always would share one).
  assert.equal(await serverConnections('    http-reuse aggressive', '', 1), 3)
  assert.equal(await serverConnections('    http-reuse always', '', 1), 1)
  // Two per client: the first client's connection carried two, the next clients' first requests may take it.
  assert.equal(await serverConnections('    http-reuse aggressive'), 1)
})
