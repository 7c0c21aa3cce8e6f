/**
 * An engine starts the session its frontend's mode asks for, with nothing injected: an HTTP
 * frontend never runs as TCP (it used to, when the worker did not pass the HTTP starter).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/index.ts'
import { listenerKey } from '../../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../../src/net/listen-handle.ts'
import { Engine } from '../../../src/proxy/engine.ts'
import { rawExchange } from '../../helpers/http-get.ts'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'


test('an HTTP frontend of an engine built with only a log function answers HTTP (monitor-uri)', async () => {
  const handle = bindTcp('127.0.0.1', 0, 4)
  const { port } = handleAddress(handle)
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    timeout client 5s
frontend www
    bind 127.0.0.1:${port}
    monitor-uri /alive
`, 'sessions.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const engine = new Engine(config, { logFor: () => () => {} })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  try {
    const reply = await rawExchange(port, 'GET /alive HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
    assert.match(reply, /^HTTP\/1\.1 200 /)
  } finally {
    engine.stopAccepting()
    engine.close()
  }
})

test('a frontend without a backend answers 503 and logs it with option httplog, request after request', async () => {
  const handle = bindTcp('127.0.0.1', 0, 4)
  const { port } = handleAddress(handle)
  const { config } = parseConfig(`defaults
    mode http
    timeout client 5s
frontend www
    bind 127.0.0.1:${port}
    option httplog
`, 'sessions.cfg')
  const lines: string[] = []
  const engine = new Engine(config, { logFor: () => line => { lines.push(line) } })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  try {
    for (let i = 0; i < 2; i++) {
      const reply = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
      assert.match(reply, /^HTTP\/1\.1 503 /)
    }
    assert.equal(lines.length, 2)
    assert.match(lines[0] ?? '', / www www\/<NOSRV> .* 503 .* "GET \/ HTTP\/1\.1"/)
  } finally {
    engine.stopAccepting()
    engine.close()
  }
})

test('so_name and so_id name the listening socket that accepted the connection', async () => {
  const handles = [bindTcp('127.0.0.1', 0, 4), bindTcp('127.0.0.1', 0, 4), bindTcp('127.0.0.1', 0, 4)]
  const ports = handles.map(h => handleAddress(h).port)
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    timeout client 5s
frontend www
    bind 127.0.0.1:${ports[0]} name first
    bind 127.0.0.1:${ports[1]} id 1
    bind 127.0.0.1:${ports[2]} name third
    http-request return status 200 hdr x-so "%[so_name]/%[so_id]"
`, 'sessions.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const engine = new Engine(config, { logFor: () => () => {} })
  engine.listen(new Map(handles.map((h, i) => [listenerKey('127.0.0.1', ports[i] ?? 0), h])))
  try {
    const answers: string[] = []
    for (const port of ports) {
      const reply = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
      answers.push(/\r\nx-so: ([^\r]*)\r\n/.exec(reply)?.[1] ?? reply)
    }
    // The automatic ids skip the one `id 1` holds.
    assert.deepEqual(answers, ['first/2', '/1', 'third/3'])
  } finally {
    engine.stopAccepting()
    engine.close()
  }
})

test('fe_id and be_id: the proxy ids the stats show (automatic, or `id`)', async () => {
  const handle = bindTcp('127.0.0.1', 0, 4)
  const { port } = handleAddress(handle)
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    timeout client 5s
frontend www
    bind 127.0.0.1:${port}
    use_backend b if { path /b }
    default_backend a
backend a
    http-request return status 200 hdr x-ids "%[fe_id]/%[be_id]"
backend b
    id 7
    http-request return status 200 hdr x-ids "%[fe_id]/%[be_id]"
`, 'sessions.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const engine = new Engine(config, { logFor: () => () => {} })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  try {
    const ids = async (path: string): Promise<string> => {
      const reply = await rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`)
      return /\r\nx-ids: ([^\r]*)\r\n/.exec(reply)?.[1] ?? reply
    }
    assert.equal(await ids('/'), '1/2')
    assert.equal(await ids('/b'), '1/7')
  } finally {
    engine.stopAccepting()
    engine.close()
  }
})

test('unique-id-format: one id per request, sent to the server in unique-id-header, read by unique-id and %ID', async () => {
  const app = createServer((req, res) => { res.end(String(req.headers['x-unique-id'])) })
  await new Promise<void>(resolve => { app.listen(0, '127.0.0.1', resolve) })
  const handle = bindTcp('127.0.0.1', 0, 4)
  const { port } = handleAddress(handle)
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    timeout client 5s
    timeout connect 1s
    timeout server 5s
frontend www
    bind 127.0.0.1:${port}
    unique-id-format ID-%[req.hdr(x-in)]-%{+X}o%ci
    unique-id-header X-Unique-ID
    log-format "log %ID"
    http-response set-header X-Id %[unique-id]
    default_backend app
backend app
    server s 127.0.0.1:${(app.address() as AddressInfo).port}
`, 'sessions.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const lines: string[] = []
  const engine = new Engine(config, { logFor: () => line => { lines.push(line) } })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  try {
    const reply = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nX-In: abc\r\nConnection: close\r\n\r\n')
    assert.match(reply, /\r\nX-Id: ID-abc-7F000001\r\n/i)
    assert.match(reply, /\r\n\r\nID-abc-7F000001$/)
    assert.deepEqual(lines, ['log ID-abc-7F000001'])
  } finally {
    engine.stopAccepting()
    engine.close()
    app.close()
  }
})
