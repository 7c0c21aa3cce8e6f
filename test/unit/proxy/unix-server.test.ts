/**
 * Servers on unix stream sockets (`server s /path`, `unix@/path`, `abns@name`): parsed, proxied
 * to (HTTP and TCP), and health-checked on the socket.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../../src/config/index.ts'
import { listenerKey } from '../../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../../src/net/listen-handle.ts'
import { Engine } from '../../../src/proxy/engine.ts'
import { rawExchange } from '../../helpers/http-get.ts'
import { Backend } from '../../../src/proxy/backend.ts'
import { HealthChecker } from '../../../src/proxy/health/checker.ts'

const dir = mkdtempSync(join(tmpdir(), 'tslb-unix-'))
process.on('exit', () => { rmSync(dir, { recursive: true, force: true }) })

async function listenUnix (path: string, onConnection: (socket: Socket) => void): Promise<Server> {
  const srv = createServer(onConnection)
  await new Promise<void>(resolve => { srv.listen(path, resolve) })
  return srv
}


test('server addresses: /path, unix@/path and abns@name; relative or empty paths are refused', () => {
  const servers = (line: string): { config: ReturnType<typeof parseConfig>['config'], errors: string[] } => {
    const r = parseConfig(`backend b\n  mode tcp\n  ${line}\n`, 't.cfg', { env: {} })
    return { config: r.config, errors: r.diagnostics.filter(d => d.severity === 'error').map(d => d.message) }
  }
  assert.equal(servers('server s /run/app.sock').config.proxies[0]?.servers[0]?.address.path, '/run/app.sock')
  assert.equal(servers('server s unix@/run/app.sock').config.proxies[0]?.servers[0]?.address.path, '/run/app.sock')
  assert.equal(servers('server s abns@app').config.proxies[0]?.servers[0]?.address.path, '\0app')
  const noPortWarning = parseConfig('backend b\n  mode tcp\n  server s /run/app.sock\n', 't.cfg', { env: {} })
  assert.equal(noPortWarning.diagnostics.some(d => /has no port/.test(d.message)), false)
  assert.match(servers('server s unix@run/app.sock').errors.join('\n'), /must be absolute/)
  assert.match(servers('server s unix@').errors.join('\n'), /names no socket/)
  assert.match(servers(`server s /${'x'.repeat(120)}`).errors.join('\n'), /longer than 107 bytes/)
})

test('HTTP requests reach a server on a unix socket', async () => {
  const path = join(dir, 'web.sock')
  const web = await listenUnix(path, s => {
    s.once('data', () => { s.end('HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nunix') })
  })
  const handle = bindTcp('127.0.0.1', 0, 4)
  const { port } = handleAddress(handle)
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend www
    bind 127.0.0.1:${port}
    default_backend app
backend app
    server s1 unix@${path}
`, 'unix.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const engine = new Engine(config, { logFor: () => () => {} })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  try {
    const reply = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
    assert.match(reply, /^HTTP\/1\.1 200 [^]*\r\n\r\nunix$/)
  } finally {
    engine.stopAccepting()
    engine.close()
    web.close()
  }
})

test('a server on a unix socket is health-checked on the socket: up while it listens, down once it is gone', async () => {
  const path = join(dir, 'check.sock')
  let web: Server | undefined = await listenUnix(path, s => { s.end() })
  const { config } = parseConfig(`backend app\n  mode tcp\n  timeout connect 1s\n  server s1 ${path} check inter 50ms rise 1 fall 1\n`, 'c.cfg', { env: {} })
  const proxy = config.proxies[0]
  assert.ok(proxy !== undefined)
  const backend = new Backend(proxy)
  const checker = new HealthChecker(backend, { log: () => {} })
  checker.start()
  try {
    const waitFor = async (want: string): Promise<void> => {
      for (let i = 0; i < 100 && checker.status('s1')?.lastCheck !== want; i++) await new Promise(resolve => setTimeout(resolve, 20))
      assert.equal(checker.status('s1')?.lastCheck, want)
    }
    await waitFor('L4OK')
    await new Promise<void>(resolve => { web?.close(() => { resolve() }) })
    web = undefined
    await waitFor('L4CON')
  } finally {
    checker.stop()
    web?.close()
  }
})
