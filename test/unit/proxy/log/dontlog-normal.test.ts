/**
 * `option dontlog-normal` and `option log-separate-errors` through an engine: a 200 is not logged,
 * a 503 (no server) is, at `err` with log-separate-errors.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type AddressInfo } from 'node:net'
import { once } from 'node:events'
import { parseConfig } from '../../../../src/config/index.ts'
import { listenerKey } from '../../../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../../../src/net/listen-handle.ts'
import { Engine } from '../../../../src/proxy/engine.ts'

async function get (port: number, path: string): Promise<string> {
  const sock = connect({ host: '127.0.0.1', port })
  let reply = ''
  sock.on('data', (d: Buffer) => { reply += d.toString() })
  const closed = new Promise(resolve => { sock.on('close', resolve) })
  sock.write(`GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`)
  await closed
  return reply
}

test('dontlog-normal + log-separate-errors: only the error is logged, at err', async () => {
  const origin = createServer(s => {
    s.on('data', () => { s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n') })
  })
  origin.listen(0, '127.0.0.1')
  await once(origin, 'listening')
  const handle = bindTcp('127.0.0.1', 0, 4)
  const port = handleAddress(handle).port
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    option httplog
    option dontlog-normal
    option log-separate-errors
    timeout client 2s
    timeout connect 1s
    timeout server 2s
frontend f
    bind 127.0.0.1:${port}
    log stdout local0
    use_backend empty if { path_beg /down }
    default_backend ok
backend ok
    server o 127.0.0.1:${(origin.address() as AddressInfo).port}
backend empty
`, 't.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const logs: { line: string, severity: number | undefined }[] = []
  const engine = new Engine(config, { logFor: () => (line, severity) => { logs.push({ line, severity }) } })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  try {
    assert.match(await get(port, '/fine'), /^HTTP\/1\.1 200 /)
    assert.match(await get(port, '/down'), /^HTTP\/1\.1 503 /)
    await new Promise(resolve => setTimeout(resolve, 50))
  } finally {
    engine.stopAccepting()
    engine.close()
    origin.close()
  }
  assert.equal(logs.length, 1, logs.map(l => l.line).join('\n'))
  assert.match(logs[0]?.line ?? '', / 503 .*"GET \/down HTTP\/1\.1"$/)
  assert.equal(logs[0]?.severity, 3)
})
