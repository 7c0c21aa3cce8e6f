/**
 * PROXY protocol against a real HAProxy 2.6 (/usr/sbin/haproxy) on loopback, both ways:
 *
 * - HAProxy `server … send-proxy` / `send-proxy-v2` → a tslb engine `bind … accept-proxy`: tslb
 *   sees the client HAProxy saw (a client bound to 127.0.0.2), in its routing ACL, its
 *   X-Forwarded-For and its log line;
 * - a tslb engine `server … send-proxy` / `send-proxy-v2` → HAProxy `bind … accept-proxy`, whose
 *   `http-request return` echoes `%[src]:%[src_port] %[dst]:%[dst_port]`: HAProxy sees the client of
 *   tslb (bound to 127.0.0.3) and the address it connected to; and tslb's `option httpchk` health
 *   checks with `check-send-proxy` pass HAProxy's accept-proxy (UP), where checks without a header
 *   fail.
 */
import { HAPROXY, haproxy26Skip } from '../helpers/haproxy.ts'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer, type AddressInfo, type Server } from 'node:net'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/index.ts'
import { listenerKey } from '../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../src/net/listen-handle.ts'
import { Engine } from '../../src/proxy/engine.ts'
import { freePorts } from '../helpers/ports.ts'

const skip = haproxy26Skip()

async function waitFor (what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** One HTTP/1.1 request from `localAddress`; the whole reply and the local port used. */
async function request (port: number, localAddress: string, path: string): Promise<{ reply: string,
  localPort: number }> {
  const sock = connect({ host: '127.0.0.1', port, localAddress })
  let reply = ''
  sock.on('data', (d: Buffer) => { reply += d.toString('latin1') })
  const closed = new Promise(resolve => { sock.on('close', resolve) })
  sock.on('error', () => {})
  await once(sock, 'connect')
  const localPort = sock.localPort ?? 0
  sock.write(`GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`)
  await closed
  return { reply, localPort }
}

let dir: string
let haproxy: ChildProcess | undefined
let haproxyOut = ''
let engine: Engine | undefined
let origin: Server
const received: string[] = []
const logs: string[] = []
let ports: { hapV1: number, hapV2: number, hapAccept: number, tslbAccept: number, tslbV1: number, tslbV2: number }

before(async () => {
  if (skip !== false) return
  dir = mkdtempSync(join(tmpdir(), 'tslb-pp-'))
  origin = createServer(s => {
    let text = ''
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1')
      if (!text.includes('\r\n\r\n')) return
      received.push(text)
      s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok')
    })
    s.on('error', () => {})
  })
  origin.listen(0, '127.0.0.1')
  await once(origin, 'listening')
  const [hapV1, hapV2, hapAccept] = await freePorts(3) as [number, number, number]
  const handles = [bindTcp('127.0.0.1', 0, 4), bindTcp('127.0.0.1', 0, 4), bindTcp('127.0.0.1', 0, 4)]
  const [tslbAccept, tslbV1, tslbV2] = handles.map(h => handleAddress(h).port) as [number, number, number]
  ports = { hapV1, hapV2, hapAccept, tslbAccept, tslbV1, tslbV2 }
  const cfg = join(dir, 'haproxy.cfg')
  writeFileSync(cfg, `global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen to_tslb_v1
    bind 127.0.0.1:${hapV1}
    server tslb 127.0.0.1:${tslbAccept} send-proxy
listen to_tslb_v2
    bind 127.0.0.1:${hapV2}
    server tslb 127.0.0.1:${tslbAccept} send-proxy-v2
frontend from_tslb
    bind 127.0.0.1:${hapAccept} accept-proxy
    http-request return status 200 content-type text/plain lf-string "%[src]:%[src_port] %[dst]:%[dst_port]"
`)
  haproxy = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] })
  haproxy.stdout?.on('data', (b: Buffer) => { haproxyOut += b.toString() })
  haproxy.stderr?.on('data', (b: Buffer) => { haproxyOut += b.toString() })
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    option httplog
    option forwardfor
    timeout client 5s
    timeout connect 1s
    timeout server 5s
frontend pp_in
    bind 127.0.0.1:${tslbAccept} accept-proxy
    log stdout local0
    use_backend origin if { src 127.0.0.2 }
frontend out_v1
    bind 127.0.0.1:${tslbV1}
    default_backend hap_v1
frontend out_v2
    bind 127.0.0.1:${tslbV2}
    default_backend hap_v2
backend origin
    server o 127.0.0.1:${(origin.address() as AddressInfo).port}
backend hap_v1
    option httpchk GET /
    server hap 127.0.0.1:${hapAccept} send-proxy check inter 200
    server hap_plain 127.0.0.1:${hapAccept} check inter 200 backup
backend hap_v2
    option httpchk GET /
    server hap 127.0.0.1:${hapAccept} send-proxy-v2 check inter 200
`, 'pp.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  engine = new Engine(config, { logFor: () => line => { logs.push(line) } })
  engine.listen(new Map(handles.map((h, i) => [listenerKey('127.0.0.1', [tslbAccept, tslbV1, tslbV2][i] ?? 0), h])))
  await waitListening(hapAccept)
  engine.startChecks(config.global, () => {})
})

async function waitListening (port: number): Promise<void> {
  const end = Date.now() + 10_000
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true) })
      s.on('error', () => { resolve(false) })
    })
    if (ok) return
    if (Date.now() > end || haproxy?.exitCode !== null) assert.fail(`haproxy is not listening:\n${haproxyOut}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

after(() => {
  engine?.stopAccepting()
  engine?.close()
  origin?.close()
  haproxy?.kill()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

for (const [v, key] of [['v1', 'hapV1'], ['v2', 'hapV2']] as const) {
  test(`HAProxy send-proxy (${v}) → tslb accept-proxy: tslb sees HAProxy's client`, { skip }, async () => {
    const r = await request(ports[key], '127.0.0.2', `/${v}`)
    assert.match(r.reply, /^HTTP\/1\.1 200 /, haproxyOut)
    assert.match(received.at(-1) ?? '', /\r\nx-forwarded-for: 127\.0\.0\.2\r\n/i)
    await waitFor('tslb log line', () => logs.some(l => l.includes(`"GET /${v} HTTP/1.1"`)))
    const line = logs.find(l => l.includes(`"GET /${v} HTTP/1.1"`)) ?? ''
    assert.match(line, new RegExp(`^127\\.0\\.0\\.2:${r.localPort} \\[.+\\] pp_in origin/o `))
  })
}

for (const [v, key] of [['v1', 'tslbV1'], ['v2', 'tslbV2']] as const) {
  test(`tslb send-proxy (${v}) → HAProxy accept-proxy: HAProxy sees tslb's client`, { skip }, async () => {
    const r = await request(ports[key], '127.0.0.3', '/')
    assert.match(r.reply, /^HTTP\/1\.1 200 /, haproxyOut)
    assert.equal(r.reply.slice(r.reply.indexOf('\r\n\r\n') + 4), `127.0.0.3:${r.localPort} 127.0.0.1:${ports[key]}`)
  })
}

test('tslb health checks with a PROXY header pass HAProxy accept-proxy, checks without fail', { skip }, async () => {
  const v1 = engine?.backends.get('hap_v1')
  const v2 = engine?.backends.get('hap_v2')
  assert.ok(v1 !== undefined && v2 !== undefined)
  const plain = v1.serverByName('hap_plain')
  await waitFor('the server without send-proxy to go DOWN', () => plain?.healthy === false)
  await new Promise(resolve => setTimeout(resolve, 600))
  assert.equal(v1.serverByName('hap')?.healthy, true)
  assert.equal(v2.serverByName('hap')?.healthy, true)
  // HAProxy logged the refused checks as it logs any connection without a header.
  await waitFor('haproxy refusal log', () => /from_tslb\/1: Received something which does not look like a PROXY/
    .test(haproxyOut))
})
