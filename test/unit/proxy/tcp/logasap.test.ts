/** `option logasap` in TCP mode: the line leaves once the server is connected, "+Tt" and "+bytes". */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type AddressInfo } from 'node:net'
import { once } from 'node:events'
import { parseConfig } from '../../../../src/config/parser.ts'
import { Backend } from '../../../../src/proxy/backend.ts'
import type { FrontendContext } from '../../../../src/proxy/frontend-context.ts'
import { startTcpSession } from '../../../../src/proxy/tcp/tcp-session.ts'

test('logasap (tcp): one line, sent while the connection is still open', async () => {
  const origin = createServer(s => { s.on('error', () => {}) })
  origin.listen(0, '127.0.0.1')
  await once(origin, 'listening')
  const { config } = parseConfig(`listen t\n    mode tcp\n    bind 127.0.0.1:1\n    log stdout local0\n    option tcplog\n    option logasap\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    server s1 127.0.0.1:${(origin.address() as AddressInfo).port}\n`, 'test.cfg', { env: {} })
  const px = config.proxies[0]
  assert.ok(px !== undefined)
  assert.equal(px.options.logasap, true)
  const backend = new Backend(px)
  const logs: string[] = []
  const fe: FrontendContext = {
    name: 't', timeouts: px.timeouts, dontLogNull: false, logAsap: true, logging: true,
    logTraffic: line => { logs.push(line) }, connections: () => 1, globalConnections: () => 1
  }
  const proxy = createServer({ allowHalfOpen: true, pauseOnConnect: true }, c => { startTcpSession(c, backend, fe) })
  proxy.listen(0, '127.0.0.1')
  await once(proxy, 'listening')
  const client = connect((proxy.address() as AddressInfo).port, '127.0.0.1')
  const deadline = Date.now() + 3000
  while (logs.length === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(client.destroyed, false)
  assert.match(logs[0] ?? '', / t t\/s1 \d+\/\d+\/\+\d+ \+0 -- /)
  client.destroy()
  await new Promise(resolve => setTimeout(resolve, 200))
  assert.equal(logs.length, 1)
  proxy.close()
  origin.close()
})
