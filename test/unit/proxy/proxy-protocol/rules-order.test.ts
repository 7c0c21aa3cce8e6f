/**
 * `accept-proxy` and `tcp-request` rules in HAProxy 2.6's order: `connection` rules judge the
 * connection itself (the relay that sent the header) before the header is read; `session` rules
 * see the client the header names. So "only our relays may connect" holds whatever a header
 * claims, and per-client rules act on the real client.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type AddressInfo } from 'node:net'
import { once } from 'node:events'
import { parseConfig } from '../../../../src/config/index.ts'
import { listenerKey } from '../../../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../../../src/net/listen-handle.ts'
import { Engine } from '../../../../src/proxy/engine.ts'

async function exchange (port: number, from: string, header: string): Promise<string> {
  const sock = connect({ host: '127.0.0.1', port, localAddress: from })
  let reply = ''
  sock.on('data', (d: Buffer) => { reply += d.toString() })
  sock.on('error', () => {})
  const closed = new Promise(resolve => { sock.on('close', resolve) })
  sock.end(`${header}ping`)
  await closed
  return reply
}

test('tcp-request connection sees the relay, tcp-request session the client of the header', async () => {
  const origin = createServer(s => { s.on('data', () => { s.end('pong') }); s.on('error', () => {}) })
  origin.listen(0, '127.0.0.1')
  await once(origin, 'listening')
  const handle = bindTcp('127.0.0.1', 0, 4)
  const port = handleAddress(handle).port
  const { config, diagnostics } = parseConfig(`defaults
    mode tcp
    timeout client 2s
    timeout connect 1s
    timeout server 2s
listen t
    bind 127.0.0.1:${port} accept-proxy
    tcp-request connection reject unless { src 127.0.0.2 }
    tcp-request session reject if { src 192.0.2.66 }
    server o 127.0.0.1:${(origin.address() as AddressInfo).port}
`, 't.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const engine = new Engine(config, { logFor: () => () => {} })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  const header = (client: string): string => `PROXY TCP4 ${client} 127.0.0.1 1000 ${port}\r\n`
  try {
    assert.equal(await exchange(port, '127.0.0.2', header('192.0.2.1')), 'pong', 'the relay, a fine client')
    assert.equal(await exchange(port, '127.0.0.2', header('192.0.2.66')), '', 'the relay, a refused client')
    assert.equal(await exchange(port, '127.0.0.3', header('127.0.0.2')), '',
      'not the relay: refused, whatever its header claims')
  } finally {
    engine.stopAccepting()
    engine.close()
    origin.close()
  }
})
