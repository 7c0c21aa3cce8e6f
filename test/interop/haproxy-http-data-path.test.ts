/**
 * Differential: the same hostile HTTP inputs through HAProxy 2.6 (/usr/sbin/haproxy) and through
 * tslb's engine, same configuration, same raw backend, on 127.0.0.1. Where docs/security.md says
 * tslb matches HAProxy, the answers match here: a fragment in the target (400), a slowloris head
 * under `timeout http-request` and a connection that sends nothing (408 within the deadline), an unsolicited 101 to a request without
 * Upgrade (502), pipelined monitor-uri requests (each answered).
 */
import { HAPROXY, haproxy26Skip } from '../helpers/haproxy.ts'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/index.ts'
import { listenerKey } from '../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../src/net/listen-handle.ts'
import { Engine } from '../../src/proxy/engine.ts'
import { freePort } from '../helpers/ports.ts'


const skip = haproxy26Skip()
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

function config (port: number, backendPort: number): string {
  return `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout http-request 600ms
frontend fe
    bind 127.0.0.1:${port}
    monitor-uri /alive
    default_backend be
backend be
    server s1 127.0.0.1:${backendPort}
`
}

/** Answers `GET /upgrade-me` with a bare 101 (no Upgrade asked), anything else with 200 and the path. */
let backend: Server
let backendPort = 0
const received: string[] = []

let haproxy: ChildProcess | undefined
let haproxyPort = 0
let engine: Engine | undefined
let tslbPort = 0
let dir = ''

/** Sends `write(sock)` and resolves with what came back until the proxy closed (or `ms` passed), and how long. */
async function exchange (port: number, write: (s: Socket) => void, ms = 3000): Promise<{ text: string, ms: number }> {
  const t0 = Date.now()
  const sock = connect({ host: '127.0.0.1', port })
  let text = ''
  sock.setEncoding('latin1')
  sock.on('data', (d: string) => { text += d })
  sock.on('error', () => {})
  sock.on('connect', () => { write(sock) })
  await new Promise<void>(resolve => {
    const timer = setTimeout(() => { sock.destroy(); resolve() }, ms)
    sock.on('close', () => { clearTimeout(timer); resolve() })
  })
  return { text, ms: Date.now() - t0 }
}

const statusOf = (text: string): string => /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 'none'

describe('tslb answers hostile HTTP input as HAProxy 2.6 does', { skip, timeout: 60_000 }, () => {
  before(async () => {
    backend = createServer(s => {
      s.setEncoding('latin1')
      s.on('error', () => {})
      s.on('data', (d: string) => {
        received.push(d)
        if (d.startsWith('GET /upgrade-me ')) s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n')
        else s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${d.split(' ')[1]?.length ?? 0}\r\n\r\n${d.split(' ')[1] ?? ''}`)
      })
    })
    await new Promise<void>(resolve => { backend.listen(0, '127.0.0.1', resolve) })
    backendPort = (backend.address() as AddressInfo).port

    dir = mkdtempSync(join(tmpdir(), 'tslb-hap-http-'))
    haproxyPort = await freePort()
    writeFileSync(join(dir, 'haproxy.cfg'), config(haproxyPort, backendPort))
    haproxy = spawn(HAPROXY, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' })
    for (let i = 0; i < 100; i++) {
      const r = await exchange(haproxyPort, s => { s.write('GET /alive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n') }, 200)
      if (statusOf(r.text) === '200') break
      await sleep(50)
    }

    const handle = bindTcp('127.0.0.1', 0, 4)
    tslbPort = handleAddress(handle).port
    const parsed = parseConfig(config(tslbPort, backendPort), 'differential.cfg', { env: {} })
    assert.deepEqual(parsed.diagnostics.filter(d => d.severity === 'error'), [])
    engine = new Engine(parsed.config, { logFor: () => () => {} })
    engine.listen(new Map([[listenerKey('127.0.0.1', tslbPort), handle]]))
  })
  after(async () => {
    engine?.stopAccepting()
    engine?.close()
    if (haproxy !== undefined && haproxy.exitCode === null) {
      const exited = new Promise(resolve => { haproxy?.once('exit', resolve) })
      haproxy.kill('SIGKILL')
      await exited
    }
    await new Promise(resolve => { backend.close(resolve) })
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  /** The same input to both; returns [haproxy, tslb]. */
  async function both (write: (s: Socket) => void): Promise<[{ text: string, ms: number }, { text: string, ms: number }]> {
    return [await exchange(haproxyPort, write), await exchange(tslbPort, write)]
  }

  test('a fragment in the request target: 400 from both, nothing forwarded', async () => {
    const before = received.length
    const [h, t] = await both(s => { s.write('GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n') })
    assert.equal(statusOf(h.text), '400', h.text)
    assert.equal(statusOf(t.text), '400', t.text)
    assert.equal(received.length, before)
  })

  test('control: the same request without the fragment is forwarded by both', async () => {
    const [h, t] = await both(s => { s.write('GET /ab HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n') })
    assert.equal(statusOf(h.text), '200', h.text)
    assert.equal(statusOf(t.text), '200', t.text)
  })

  test('a slowloris head: 408 from both within the 600 ms deadline', async () => {
    const slow = (s: Socket): void => {
      const timer = setInterval(() => { if (s.destroyed) clearInterval(timer); else s.write('a') }, 200)
      s.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    }
    const [h, t] = await both(slow)
    assert.equal(statusOf(h.text), '408', h.text)
    assert.equal(statusOf(t.text), '408', t.text)
    for (const r of [h, t]) assert.ok(r.ms >= 550 && r.ms < 1300, `closed after ${r.ms} ms`)
  })

  test('a connection that sends nothing: 408 from both at the deadline', async () => {
    const [h, t] = await both(() => {})
    assert.equal(statusOf(h.text), '408', h.text)
    assert.equal(statusOf(t.text), '408', t.text)
    for (const r of [h, t]) assert.ok(r.ms >= 550 && r.ms < 1300, `closed after ${r.ms} ms`)
  })

  test('an unsolicited 101 (request without Upgrade): 502 from both, the smuggled request never reaches the server raw', async () => {
    const write = (s: Socket): void => {
      s.write('GET /upgrade-me HTTP/1.1\r\nHost: x\r\n\r\n')
      s.once('data', () => { if (!s.destroyed) s.write('GET /smuggled HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n') })
    }
    const [h, t] = await both(write)
    assert.equal(statusOf(h.text), '502', h.text)
    assert.equal(statusOf(t.text), '502', t.text)
    // HAProxy keeps the client connection and forwards /smuggled as a new, parsed request (Host
    // lower-cased); tslb closes it. Neither tunnels it: no raw "Host: x" line after the 101.
    assert.ok(!received.some(r => r.startsWith('GET /smuggled') && r.includes('\r\nHost: x\r\n')), received.join('|'))
  })

  test('three pipelined monitor-uri requests: three answers from both', async () => {
    const get = 'GET /alive HTTP/1.1\r\nHost: x\r\n\r\n'
    const [h, t] = await both(s => { s.write(get + get + get.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')) })
    assert.equal(h.text.split('HTTP/1.1 200 OK').length - 1, 3, h.text)
    assert.equal(t.text.split('HTTP/1.1 200 OK').length - 1, 3, t.text)
  })
})
