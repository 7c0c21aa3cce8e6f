/**
 * Error pages in an engine: the backend's reply before the frontend's before the default page,
 * `errorfile 200` for monitor-uri, and an empty errorfile that closes without a response.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../../../src/config/index.ts'
import { loadErrorReplies } from '../../../../src/config/error-replies.ts'
import { listenerKey } from '../../../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../../../src/net/listen-handle.ts'
import { Engine } from '../../../../src/proxy/engine.ts'

let dir: string
let engine: Engine
let port: number

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tslb-errpages-'))
  writeFileSync(join(dir, 'ok.http'), 'HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 6\n\nalive\n')
  writeFileSync(join(dir, 'empty.http'), '')
  const handle = bindTcp('127.0.0.1', 0, 4)
  port = handleAddress(handle).port
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    timeout client 2s
    timeout connect 1s
    timeout server 2s
frontend f
    bind 127.0.0.1:${port}
    monitor-uri /alive
    errorfile 200 ${join(dir, 'ok.http')}
    http-error status 503 content-type text/plain string "frontend says no"
    use_backend own if { path /own }
    use_backend silent if { path /silent }
    default_backend plain
backend own
    http-error status 503 content-type text/plain string "backend says no"
backend silent
    errorfile 503 ${join(dir, 'empty.http')}
backend plain
`, 'e.cfg')
  const loaded = await loadErrorReplies(config)
  assert.deepEqual([...diagnostics, ...loaded].filter(d => d.severity === 'error'), [])
  engine = new Engine(config, { logFor: () => () => {} })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
})

after(() => {
  engine.stopAccepting()
  engine.close()
  rmSync(dir, { recursive: true, force: true })
})

async function get (path: string): Promise<string> {
  const sock = connect({ host: '127.0.0.1', port })
  let reply = ''
  sock.on('data', (d: Buffer) => { reply += d.toString('latin1') })
  sock.on('error', () => {})
  const closed = new Promise(resolve => { sock.on('close', resolve) })
  sock.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`)
  await closed
  return reply
}

test('the backend\'s reply wins over the frontend\'s; without one, the frontend\'s', async () => {
  assert.equal(await get('/own'), 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 15\r\n' +
    'content-type: text/plain\r\nconnection: close\r\n\r\nbackend says no')
  assert.match(await get('/other'), /\r\n\r\nfrontend says no$/)
})

test('an empty errorfile: the connection closes without a response', async () => {
  assert.equal(await get('/silent'), '')
})

test('errorfile 200 is the monitor-uri answer (and closes)', async () => {
  assert.equal(await get('/alive'),
    'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 6\r\nconnection: close\r\n\r\nalive\n')
})
