/**
 * Differential: the same HTTP/2 requests (h2c prior knowledge, `bind … proto h2`) through HAProxy 2.6 and through
 * tslb's engine, same configuration, same Node HTTP/1.1 backend: the statuses and response fields the client gets,
 * what the backend receives, and the fate of each smuggling probe (refused, or answered and what reached the server).
 */
import { HAPROXY, haproxy26Skip } from '../helpers/haproxy.ts'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2'
import { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/index.ts'
import { listenerKey } from '../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../src/net/listen-handle.ts'
import { Engine } from '../../src/proxy/engine.ts'
import { data, FRAME, headers, rawH2 } from '../helpers/h2-raw.ts'
import { PROBES } from '../helpers/h2-probes.ts'
import { freePort } from '../helpers/ports.ts'


const skip = haproxy26Skip()
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

function config (port: number, backendPort: number): string {
  return `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port} proto h2
    default_backend be
backend be
    cookie SRV insert indirect
    server s1 127.0.0.1:${backendPort} cookie one
`
}

interface Seen { method: string, url: string, version: string, headers: IncomingHttpHeaders, body: string }
const seen: Seen[] = []
let web: HttpServer
let haproxy: ChildProcess | undefined
let engine: Engine | undefined
const ports = { haproxy: 0, tslb: 0 }
let dir = ''

interface Answer { status: number, fields: Record<string, unknown>, body: string }

async function request (port: number, fields: Record<string, string | string[]>, body?: string[]): Promise<Answer> {
  const client = h2connect(`http://127.0.0.1:${port}`)
  client.on('error', () => {})
  try {
    return await new Promise<Answer>((resolve, reject) => {
      const r = client.request(fields, { endStream: body === undefined })
      let text = ''
      let head: IncomingHttpHeaders = {}
      r.setEncoding('latin1')
      r.on('response', h => { head = h })
      r.on('data', (d: string) => { text += d })
      r.on('end', () => {
        const { ':status': status, ...rest } = head
        delete rest.date
        resolve({ status: Number(status), fields: rest, body: text })
      })
      r.on('error', reject)
      if (body !== undefined) {
        for (const b of body) r.write(b)
        r.end()
      }
    })
  } finally {
    client.close()
  }
}

/** What the backend got, as both proxies should send it (field names lower-cased, the proxy's own fields left out). */
function normalized (s: Seen | undefined): unknown {
  if (s === undefined) return undefined
  const { host, cookie, 'x-custom': custom, 'content-length': cl, 'transfer-encoding': te } = s.headers
  return { method: s.method, url: s.url, version: s.version, host: host?.replace(/:\d+$/, ':PORT'), cookie, custom, bodyFraming: cl !== undefined ? 'length'
    : te !== undefined ? 'chunked' : 'none', body: s.body }
}

describe('HTTP/2 through tslb and HAProxy 2.6 (proto h2)', { skip, timeout: 60_000 }, () => {
  before(async () => {
    web = createHttpServer((req, res) => {
      let body = ''
      req.setEncoding('latin1')
      req.on('data', (d: string) => { body += d })
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', version: req.httpVersion, headers: req.headers, body })
        if (req.url === '/404') res.statusCode = 404
        res.setHeader('x-backend', 'node')
        res.setHeader('set-cookie', ['a=1', 'b=2'])
        res.setHeader('keep-alive', 'timeout=5')
        if (req.url === '/chunked') {
          res.write('part1-')
          res.end('part2')
          return
        }
        res.end(`answer ${req.url ?? ''} body=${body.length}`)
      })
    })
    await new Promise<void>(resolve => { web.listen(0, '127.0.0.1', resolve) })
    const webPort = (web.address() as AddressInfo).port
    dir = mkdtempSync(join(tmpdir(), 'tslb-hap-h2-'))
    ports.haproxy = await freePort()
    writeFileSync(join(dir, 'haproxy.cfg'), config(ports.haproxy, webPort))
    haproxy = spawn(HAPROXY, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' })
    const handle = bindTcp('127.0.0.1', 0, 4)
    ports.tslb = handleAddress(handle).port
    const parsed = parseConfig(config(ports.tslb, webPort), 'h2.cfg', { env: {} })
    assert.deepEqual(parsed.diagnostics.filter(d => d.severity === 'error'), [])
    engine = new Engine(parsed.config, { logFor: () => () => {} })
    engine.listen(new Map([[listenerKey('127.0.0.1', ports.tslb), handle]]))
    for (let i = 0; i < 100; i++) {
      try {
        await request(ports.haproxy, { ':path': '/ready' })
        break
      } catch {
        await sleep(50)
      }
    }
  })
  after(() => {
    haproxy?.kill()
    engine?.stopAccepting()
    engine?.close()
    web.closeAllConnections()
    web.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const cases: { name: string, fields: Record<string, string | string[]>, body?: string[] }[] = [
    { name: 'GET with a query, a custom field and cookie crumbs', fields: { ':path': '/a?b=1', 'x-custom': 'v',
      cookie: ['c1=1', 'c2=2'] } },
    { name: 'GET with the persistence cookie', fields: { ':path': '/persist', cookie: 'SRV=one' } },
    { name: 'POST with content-length', fields: { ':method': 'POST', ':path': '/post', 'content-length': '6' },
      body: ['abcdef'] },
    { name: 'POST without content-length, two DATA frames', fields: { ':method': 'POST', ':path': '/post2' },
      body: ['abc', 'defgh'] },
    { name: 'a chunked response', fields: { ':path': '/chunked' } },
    { name: 'a 404 from the server', fields: { ':path': '/404' } },
    { name: 'HEAD', fields: { ':method': 'HEAD', ':path': '/head' } }
  ]
  for (const c of cases) {
    test(c.name, async () => {
      seen.length = 0
      const viaHaproxy = await request(ports.haproxy, c.fields, c.body)
      const gotHaproxy = normalized(seen[0])
      seen.length = 0
      const viaTslb = await request(ports.tslb, c.fields, c.body)
      const gotTslb = normalized(seen[0])
      assert.deepEqual(viaTslb, viaHaproxy)
      assert.deepEqual(gotTslb, gotHaproxy)
    })
  }

  for (const probe of PROBES) {
    test(`probe: ${probe.name}`, async () => {
      const outcome = async (port: number): Promise<string> => {
        seen.length = 0
        const raw = await rawH2(port)
        try {
          await raw.waitFor(f => f.type === FRAME.SETTINGS && (f.flags & 1) === 1)
          raw.sock.write(headers(1, probe.fields, probe.body === undefined))
          probe.body?.forEach((b, i) => raw.sock.write(data(1, b, i === (probe.body?.length ?? 0) - 1)))
          const f = await raw.waitFor(x => x.stream <= 1 && (x.type === FRAME.RST_STREAM || x.type === FRAME.GOAWAY ||
            x.type === FRAME.HEADERS))
          await sleep(100)
          const answer = f === undefined ? 'nothing' : f.type === FRAME.HEADERS ? 'answered' : 'refused'
          return `${answer}; server got ${JSON.stringify(seen.map(s => normalized(s)))}`
        } finally {
          raw.close()
        }
      }
      const h = await outcome(ports.haproxy)
      const t = await outcome(ports.tslb)
      if (probe.haproxy !== undefined) {
        // A known difference (docs/security.md): nghttp2 resets the stream before tslb sees it.
        assert.ok(h.startsWith(probe.haproxy), h)
        assert.equal(t, 'refused; server got []')
      } else if (probe.outcome !== 'dropped') assert.equal(t, h)
      else {
        // Known difference (docs/security.md): HAProxy resets the stream (or trims the value), nghttp2 drops the
        // malformed field; either way it does not reach the server as sent.
        assert.match(h, /^(refused; server got \[\]|answered; server got \[\{"method":"POST","url":"\/probe")/)
        assert.match(t, /^answered; server got \[\{"method":"POST","url":"\/probe","version":"1.1","host":"x",/)
      }
    })
  }
})
