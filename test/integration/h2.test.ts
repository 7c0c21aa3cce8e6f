/**
 * HTTP/2 from clients on loopback (`bind … proto h2`, h2c with prior knowledge): curl and h2load through tslb to a
 * Node HTTP/1.1 backend, per-stream routing, persistence and logs, the stream limit, requests that would smuggle on the
 * HTTP/1.1 side (raw frames), the rapid-reset guard (CVE-2023-44487) and GOAWAY on drain. See docs/security.md.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as createTlsServer } from 'node:tls'
import { promisify } from 'node:util'
import { connect as h2connect, constants } from 'node:http2'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { connect as tcpConnect, type AddressInfo } from 'node:net'
import { parseConfig } from '../../src/config/index.ts'
import { listenerKey } from '../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../src/net/listen-handle.ts'
import { Engine } from '../../src/proxy/engine.ts'
import { serveH2 } from '../../src/proxy/h2/connection.ts'
import { data, frame, FRAME, headers, rawH2, rawH2Behind } from '../helpers/h2-raw.ts'
import { PROBES } from '../helpers/h2-probes.ts'

const run = promisify(execFile)
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

interface Seen { method: string, url: string, version: string, headers: Record<string, string | string[] | undefined>,
  body: string }
let web: HttpServer
let webPort = 0
const seen: Seen[] = []

before(async () => {
  web = createHttpServer((req, res) => {
    let body = ''
    req.setEncoding('latin1')
    req.on('data', (d: string) => { body += d })
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', version: req.httpVersion, headers: req.headers, body })
      const delay = req.url?.startsWith('/slow') === true ? 400 : 0
      setTimeout(() => {
        if (req.url?.startsWith('/chunked-bytes/') === true) {
          let left = Number(req.url.slice(15))
          const piece = (): void => {
            while (left > 0) {
              const n = Math.min(left, 65536)
              left -= n
              if (!res.write(Buffer.alloc(n, 'z'))) {
                res.once('drain', piece)
                return
              }
            }
            res.end()
          }
          piece()
          return
        }
        if (req.url?.startsWith('/bytes/') === true) {
          res.end(Buffer.alloc(Number(req.url.slice(7)), 'x'))
          return
        }
        if (req.url === '/chunked') {
          res.write('part1-')
          res.end('part2')
          return
        }
        res.setHeader('x-backend', 'node')
        res.end(`answer ${req.url ?? ''} body=${body.length}`)
      }, delay)
    })
  })
  await new Promise<void>(resolve => { web.listen(0, '127.0.0.1', resolve) })
  webPort = (web.address() as AddressInfo).port
})
after(async () => {
  web.closeAllConnections()
  await new Promise(resolve => { web.close(resolve) })
})

interface Proxy { engine: Engine, port: number, logs: string[], stop: () => void }

function startProxy (global = '', frontend = '', backend = '', extra = ''): Proxy {
  const handle = bindTcp('127.0.0.1', 0, 4)
  const { port } = handleAddress(handle)
  const { config, diagnostics } = parseConfig(`global
${global}
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port} proto h2
    option httplog
${frontend}
    default_backend be
backend be
${backend}
    server s1 127.0.0.1:${webPort}
${extra}
`, 'h2.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const logs: string[] = []
  const engine = new Engine(config, { logFor: () => line => { logs.push(line) } })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  return { engine, port, logs, stop: () => { engine.stopAccepting(); engine.close() } }
}

async function curl (args: string[]): Promise<string> {
  const r = await run('curl', ['-s', '--http2-prior-knowledge', '--max-time', '5', ...args])
  return r.stdout
}

describe('HTTP/2 with prior knowledge (proto h2)', () => {
  test('curl: GET and POST reach the server as HTTP/1.1 with Host from :authority; logged as HTTP/2.0', async () => {
    const p = startProxy()
    try {
      seen.length = 0
      const out = await curl(['-i', `http://127.0.0.1:${p.port}/hello?x=1`])
      assert.match(out, /^HTTP\/2 200 \r\n/)
      assert.match(out, /x-backend: node/)
      assert.match(out, /answer \/hello\?x=1 body=0$/)
      assert.doesNotMatch(out, /^connection:/im)
      const post = await curl(['-d', 'abcdef', `http://127.0.0.1:${p.port}/post`])
      assert.equal(post, 'answer /post body=6')
      const chunked = await curl([`http://127.0.0.1:${p.port}/chunked`])
      assert.equal(chunked, 'part1-part2')
      assert.equal(seen[0]?.version, '1.1')
      assert.equal(seen[0]?.headers.host, `127.0.0.1:${p.port}`)
      assert.equal(seen[1]?.headers['content-length'], '6')
      await p.engine.idle()
      assert.match(p.logs.find(l => l.includes('/hello')) ?? '', / fe be\/s1 .* 200 .* ---- .*"GET \/hello\?x=1 HTTP\/2\.0"$/)
    } finally {
      p.stop()
    }
  })

  test('answers of the proxy itself: monitor-uri, a 503 when no server is up, a 504 on timeout server', async () => {
    const p = startProxy('', '    monitor-uri /alive\n    use_backend none if { path_beg /none }',
      '    timeout server 200ms', 'backend none\n    server down 127.0.0.1:1 disabled')
    try {
      const status = async (path: string): Promise<string> =>
        await curl(['-o', '/dev/null', '-w', '%{http_code} %{http_version}', `http://127.0.0.1:${p.port}${path}`])
      assert.equal(await status('/alive'), '200 2')
      assert.equal(await status('/none'), '503 2')
      assert.equal(await status('/slow/too-slow'), '504 2')
      // A client that closes its side (curl: GOAWAY, then FIN) leaves no connection behind.
      await Promise.race([p.engine.idle(), sleep(1000)])
      assert.equal(p.engine.activeConnections, 0)
      assert.ok(p.logs.some(l => / 503 .*"GET \/none HTTP\/2\.0"$/.test(l)), p.logs.join('\n'))
      assert.ok(p.logs.some(l => / 504 .* sH-- .*"GET \/slow\/too-slow HTTP\/2\.0"$/.test(l)), p.logs.join('\n'))
    } finally {
      p.stop()
    }
  })

  test('http-request / http-response rules apply to each stream', async () => {
    const p = startProxy('', ['    http-request deny if { path_beg /denied }',
      '    http-request set-header x-added %[req.hdr(x-in)]-ok',
      '    http-request set-header x-version %[req.ver]',
      '    http-request set-header x-h2 yes if HTTP_2.0',
      '    http-request set-header x-h11 yes if HTTP_1.1',
      '    http-request set-header x-seen-before %[var(sess.first)] if { var(sess.first) -m found }',
      '    http-request set-var(sess.first) path',
      '    http-response set-header strict-transport-security max-age=600'].join('\n'))
    try {
      seen.length = 0
      const denied = await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${p.port}/denied`])
      assert.equal(denied, '403')
      const out = await curl(['-i', '-H', 'x-in: v', `http://127.0.0.1:${p.port}/allowed`])
      assert.match(out, /^strict-transport-security: max-age=600\r$/m)
      // sess. variables belong to the connection: the second stream sees what the first set.
      const client = h2connect(`http://127.0.0.1:${p.port}`)
      for (const path of ['/one', '/two']) {
        await new Promise(resolve => { client.request({ ':path': path }).on('end', resolve).resume() })
      }
      client.close()
      assert.deepEqual(seen.filter(s => s.url === '/one' || s.url === '/two').map(s => [s.url, s.headers['x-seen-before']]),
        [['/one', undefined], ['/two', '/one']])
      seen.splice(1)
      // req.ver is the client's version, as in HAProxy: 2.0 (the server gets HTTP/1.1).
      assert.deepEqual(seen.map(s => [s.url, s.headers['x-added'], s.headers['x-version'], s.version,
        s.headers['x-h2'], s.headers['x-h11']]), [['/allowed', 'v-ok', '2.0', '1.1', 'yes', undefined]])
    } finally {
      p.stop()
    }
  })

  test('server maxconn queues the streams of one connection, each served in turn', async () => {
    const p = startProxy('', '', '    default-server maxconn 1')
    const client = h2connect(`http://127.0.0.1:${p.port}`)
    try {
      const t0 = Date.now()
      const statuses = await Promise.all([0, 1, 2].map(async i => await new Promise<unknown>((resolve, reject) => {
        const r = client.request({ ':path': `/slow/queued${i}` })
        r.on('response', h => { resolve(h[':status']) })
        r.on('error', reject)
        r.resume()
      })))
      assert.deepEqual(statuses, [200, 200, 200])
      assert.ok(Date.now() - t0 >= 1100, `three 400 ms answers one at a time took ${Date.now() - t0} ms`)
      await sleep(50)
      const waited = p.logs.filter(l => /"GET \/slow\/queued\d HTTP\/2\.0"$/.test(l)).map(l =>
        Number(/ \d+\/(\d+)\/\d+\/\d+\/\d+ 200 /.exec(l)?.[1]))
      assert.equal(waited.filter(w => w >= 300).length, 2, p.logs.join('\n'))
    } finally {
      client.close()
      p.stop()
    }
  })

  test('Expect: 100-continue: the server\'s 100 reaches the client as an interim HEADERS frame', async () => {
    const p = startProxy()
    try {
      const t0 = Date.now()
      const out = await curl(['-H', 'Expect: 100-continue', '--expect100-timeout', '3', '-d', 'abcdef',
        `http://127.0.0.1:${p.port}/expect`])
      assert.equal(out, 'answer /expect body=6')
      assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms: the 100 did not arrive`)
    } finally {
      p.stop()
    }
  })

  test('a body without content-length is forwarded chunked and arrives whole', async () => {
    const p = startProxy()
    const client = h2connect(`http://127.0.0.1:${p.port}`)
    try {
      seen.length = 0
      const req = client.request({ ':method': 'POST', ':path': '/stream' })
      req.write('abc')
      await sleep(50)
      req.end('defgh')
      let text = ''
      req.setEncoding('latin1')
      req.on('data', (d: string) => { text += d })
      await new Promise(resolve => req.on('end', resolve))
      assert.equal(text, 'answer /stream body=8')
      assert.equal(seen[0]?.headers['transfer-encoding'], 'chunked')
    } finally {
      client.close()
      p.stop()
    }
  })

  test('h2load: 400 requests on 4 connections, 10 streams each at once, all answered; connections all closed after', async () => {
    const p = startProxy('    tune.h2.max-concurrent-streams 10')
    try {
      const r = await run('h2load', ['-n', '400', '-c', '4', '-m', '10', `http://127.0.0.1:${p.port}/load`])
      assert.match(r.stdout, /requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed/)
      assert.match(r.stdout, /status codes: 400 2xx/)
      await Promise.race([p.engine.idle(), sleep(3000)])
      assert.equal(p.engine.activeConnections, 0)
      assert.equal(p.logs.filter(l => l.includes('"GET /load HTTP/2.0"')).length, 400)
    } finally {
      p.stop()
    }
  })

  test('tune.h2.max-concurrent-streams and initial-window-size are what the client is told', async () => {
    const p = startProxy('    tune.h2.max-concurrent-streams 7\n    tune.h2.initial-window-size 1000')
    const client = h2connect(`http://127.0.0.1:${p.port}`)
    try {
      await new Promise(resolve => client.once('remoteSettings', resolve))
      assert.equal(client.remoteSettings.maxConcurrentStreams, 7)
      assert.equal(client.remoteSettings.initialWindowSize, 1000)
    } finally {
      client.close()
    }
    // An 8th stream while 7 are in progress breaks the limit the client acknowledged: nghttp2 answers GOAWAY
    // PROTOCOL_ERROR (naming stream 13 as the last one processed) and closes the connection.
    const raw = await rawH2(p.port)
    try {
      await raw.waitFor(f => f.type === FRAME.SETTINGS && (f.flags & 1) === 1)
      for (let i = 0; i < 8; i++) {
        raw.sock.write(headers(1 + 2 * i, [[':method', 'GET'], [':scheme', 'http'], [':path', '/slow'],
          [':authority', 'x']], true))
      }
      const goaway = await raw.waitFor(f => f.type === FRAME.GOAWAY)
      assert.equal(goaway?.payload.readUInt32BE(0), 13)
      assert.equal(goaway?.payload.readUInt32BE(4), constants.NGHTTP2_PROTOCOL_ERROR)
      await Promise.race([p.engine.idle(), sleep(3000)])
      assert.equal(p.engine.activeConnections, 0)
    } finally {
      raw.close()
      p.stop()
    }
  })

  test('header list bound: above tune.bufsize or above 100 fields the request gets 431 and is not forwarded', async () => {
    const p = startProxy()
    try {
      seen.length = 0
      const status = async (args: string[]): Promise<string> =>
        await curl(['-o', '/dev/null', '-w', '%{http_code}', ...args, `http://127.0.0.1:${p.port}/big`])
      assert.equal(await status(['-H', `x-big: ${'a'.repeat(20_000)}`]), '431')
      assert.equal(await status(Array.from({ length: 110 }, (_, i) => ['-H', `x-h${i}: v`]).flat()), '431')
      assert.equal(seen.length, 0)
      assert.equal(await status(['-H', `x-big: ${'a'.repeat(15_000)}`]), '200')
    } finally {
      p.stop()
    }
  })

  test('large bodies both ways under flow control: 8 MB down (content-length and chunked) and 8 MB up', async () => {
    const p = startProxy('    tune.h2.initial-window-size 16384')
    const client = h2connect(`http://127.0.0.1:${p.port}`)
    try {
      const fetch = async (path: string, body?: Buffer): Promise<number> => await new Promise((resolve, reject) => {
        const r = client.request({ ':method': body === undefined ? 'GET' : 'POST', ':path': path },
          { endStream: body === undefined })
        let n = 0
        r.on('data', (d: Buffer) => { n += d.length })
        r.on('end', () => { resolve(n) })
        r.on('error', reject)
        if (body !== undefined) r.end(body)
      })
      const size = 8 * 1024 * 1024
      assert.equal(await fetch(`/bytes/${size}`), size)
      assert.equal(await fetch(`/chunked-bytes/${size}`), size)
      seen.length = 0
      const answer = await fetch('/upload', Buffer.alloc(size, 'y'))
      assert.equal(answer, `answer /upload body=${size}`.length)
      assert.equal(seen[0]?.body.length, size)
      assert.equal(seen[0]?.headers['transfer-encoding'], 'chunked')
    } finally {
      client.close()
      p.stop()
    }
  })

  test('accept-proxy with proto h2: the PROXY header first, then HTTP/2; its address is the client\'s', async () => {
    const handle = bindTcp('127.0.0.1', 0, 4)
    const { port } = handleAddress(handle)
    const { config } = parseConfig(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port} proto h2 accept-proxy
    option httplog
    option forwardfor
    default_backend be
backend be
    server s1 127.0.0.1:${webPort}
`, 'h2.cfg', { env: {} })
    const logs: string[] = []
    const engine = new Engine(config, { logFor: () => line => { logs.push(line) } })
    engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
    const raw = await rawH2Behind(port, 'PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\r\n')
    try {
      seen.length = 0
      await raw.waitFor(f => f.type === FRAME.SETTINGS && (f.flags & 1) === 1)
      raw.sock.write(headers(1, [[':method', 'GET'], [':scheme', 'http'], [':path', '/proxied'], [':authority', 'x']],
        true))
      const answer = await raw.waitFor(f => f.type === FRAME.HEADERS && f.stream === 1)
      assert.ok(answer !== undefined)
      await sleep(50)
      assert.equal(seen[0]?.headers['x-forwarded-for'], '203.0.113.7')
      assert.ok(logs.some(l => l.startsWith('203.0.113.7:40000 ') && l.includes('"GET /proxied HTTP/2.0"')),
        logs.join('\n'))
    } finally {
      raw.close()
      engine.stopAccepting()
      engine.close()
    }
  })

  test('the same entry point serves a TLS socket whose ALPN chose h2 (how bind … ssl alpn h2 plugs in)', async () => {
    const p = startProxy()
    const dir = mkdtempSync(join(tmpdir(), 'tslb-h2-tls-'))
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=h2.test'])
    const fe = p.engine.frontends[0]
    assert.ok(fe !== undefined)
    const tls = createTlsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')),
      ALPNProtocols: ['h2'] }, socket => { serveH2(socket, fe) })
    await new Promise<void>(resolve => { tls.listen(0, '127.0.0.1', resolve) })
    try {
      const port = (tls.address() as AddressInfo).port
      const out = await run('curl', ['-sk', '--http2', '-w', ' %{http_version}', `https://127.0.0.1:${port}/over-tls`])
      assert.equal(out.stdout, 'answer /over-tls body=0 2')
      await sleep(50)
      assert.ok(p.logs.some(l => l.includes('"GET /over-tls HTTP/2.0"')), p.logs.join('\n'))
    } finally {
      tls.close()
      p.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('routing, persistence cookie and per-stream logs apply to each stream of one connection', async () => {
    const handle = bindTcp('127.0.0.1', 0, 4)
    const { port } = handleAddress(handle)
    const { config } = parseConfig(`defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port} proto h2
    option httplog
    use_backend other if { path_beg /other }
    default_backend be
backend be
    cookie SRV insert indirect nocache
    server s1 127.0.0.1:${webPort} cookie one
backend other
    server o1 127.0.0.1:${webPort}
`, 'h2.cfg', { env: {} })
    const logs: string[] = []
    const engine = new Engine(config, { logFor: () => line => { logs.push(line) } })
    engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
    const client = h2connect(`http://127.0.0.1:${port}`)
    try {
      const get = async (path: string, h: Record<string, string> = {}): Promise<Record<string, unknown>> =>
        await new Promise((resolve, reject) => {
          const r = client.request({ ':path': path, ...h })
          r.on('response', resolve)
          r.on('error', reject)
          r.resume()
        })
      const [a, b] = await Promise.all([get('/a'), get('/other/b')])
      assert.match(String(a?.['set-cookie']), /^SRV=one; path=\//)
      assert.equal(b?.['set-cookie'], undefined)
      const c = await get('/c', { cookie: 'SRV=one' })
      assert.equal(c?.['set-cookie'], undefined)
      await sleep(50)
      assert.ok(logs.some(l => / fe be\/s1 .* --NI .*"GET \/a HTTP\/2\.0"$/.test(l)), logs.join('\n'))
      assert.ok(logs.some(l => / fe other\/o1 .*"GET \/other\/b HTTP\/2\.0"$/.test(l)), logs.join('\n'))
      assert.ok(logs.some(l => / fe be\/s1 .* --VN .*"GET \/c HTTP\/2\.0"$/.test(l)), logs.join('\n'))
    } finally {
      client.close()
      engine.stopAccepting()
      engine.close()
    }
  })
})

describe('HTTP/2 requests that would smuggle on the HTTP/1.1 side', () => {
  let p: Proxy
  before(() => { p = startProxy() })
  after(() => { p.stop() })

  for (const probe of PROBES) {
    test(`${probe.name}: ${probe.outcome}`, async () => {
      seen.length = 0
      const raw = await rawH2(p.port)
      try {
        await raw.waitFor(f => f.type === FRAME.SETTINGS && (f.flags & 1) === 1)
        raw.sock.write(headers(1, probe.fields, probe.body === undefined))
        probe.body?.forEach((b, i) => raw.sock.write(data(1, b, i === (probe.body?.length ?? 0) - 1)))
        const answer = await raw.waitFor(f => f.stream <= 1 && (f.type === FRAME.RST_STREAM ||
          f.type === FRAME.GOAWAY || f.type === FRAME.HEADERS))
        await sleep(100)
        if (probe.outcome === 'refused') {
          assert.ok(answer !== undefined && answer.type !== FRAME.HEADERS, `answered: ${String(answer?.type)}`)
          const code = answer.payload.readUInt32BE(answer.type === FRAME.GOAWAY ? 4 : 0)
          assert.ok(code === constants.NGHTTP2_PROTOCOL_ERROR || code === constants.NGHTTP2_INTERNAL_ERROR,
            `error code ${code}`)
          assert.equal(seen.length, 0, 'the server got a whole request')
        } else if (probe.outcome === 'answered') {
          assert.equal(answer?.type, FRAME.HEADERS)
          assert.equal(seen.length, 0)
        } else {
          assert.equal(answer?.type, FRAME.HEADERS)
          assert.equal(seen.length, 1)
          assert.deepEqual(Object.keys(seen[0]?.headers ?? {}), ['host'])
        }
        assert.equal(seen.some(s => s.url === '/smuggled'), false)
      } finally {
        raw.close()
      }
    })
  }
})

describe('HTTP/2 connection protections and drain', () => {
  test('rapid reset (CVE-2023-44487): a client resetting streams faster than the bound gets GOAWAY ENHANCE_YOUR_CALM',
    async () => {
      const p = startProxy()
      const client = h2connect(`http://127.0.0.1:${p.port}`)
      client.on('error', () => {})
      try {
        await new Promise(resolve => client.once('remoteSettings', resolve))
        const goaway = new Promise<number>(resolve => client.once('goaway', (code: number) => { resolve(code) }))
        let sent = 0
        const loop = async (): Promise<void> => {
          while (!client.destroyed && !client.closed && sent < 2000) {
            const r = client.request({ ':path': '/slow/reset' })
            r.on('error', () => {})
            r.close(constants.NGHTTP2_CANCEL)
            sent++
            if (sent % 20 === 0) await sleep(1)
          }
        }
        void loop()
        const code = await Promise.race([goaway, sleep(5000).then(() => -1)])
        assert.equal(code, constants.NGHTTP2_ENHANCE_YOUR_CALM, `after ${sent} resets`)
        assert.ok(sent < 1000, `GOAWAY after ${sent} resets (nghttp2's own bound is 1000)`)
        assert.ok(p.logs.some(l => l.includes('too many streams reset by the client')), p.logs.join('\n'))
        await Promise.race([p.engine.idle(), sleep(3000)])
        assert.equal(p.engine.activeConnections, 0)
      } finally {
        client.destroy()
        p.stop()
      }
    })

  test('CONTINUATION flood (CVE-2024-27316 class): a header block that never ends gets GOAWAY', async () => {
    const p = startProxy()
    seen.length = 0
    const raw = await rawH2(p.port)
    try {
      await raw.waitFor(f => f.type === FRAME.SETTINGS && (f.flags & 1) === 1)
      const first = headers(1, [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'x']], true)
      first[4] = 0x1 // END_STREAM without END_HEADERS: CONTINUATION frames follow
      raw.sock.write(first)
      const block = headers(1, [['x-a', 'b']], false).subarray(9)
      for (let i = 0; i < 1000 && !raw.sock.destroyed; i++) raw.sock.write(frame(9, 0, 1, block))
      const goaway = await raw.waitFor(f => f.type === FRAME.GOAWAY)
      assert.ok(goaway !== undefined)
      assert.notEqual(goaway.payload.readUInt32BE(4), constants.NGHTTP2_NO_ERROR)
      assert.equal(seen.some(s => s.url === '/'), false)
    } finally {
      raw.close()
      p.stop()
    }
  })

  test('PING flood from a client that does not read (CVE-2019-9512 class): the connection is closed', async () => {
    const p = startProxy()
    const sock = tcpConnect({ host: '127.0.0.1', port: p.port })
    try {
      await new Promise(resolve => sock.once('connect', resolve))
      sock.on('error', () => {})
      const closed = new Promise(resolve => sock.once('close', resolve))
      sock.pause()
      sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(FRAME.SETTINGS, 0, 0)]))
      const batch = Buffer.concat(Array.from({ length: 1000 }, () => frame(FRAME.PING, 0, 0, Buffer.alloc(8))))
      let sent = 0
      for (; sent < 200_000 && !sock.destroyed && sock.writable; sent += 1000) {
        sock.write(batch)
        await new Promise(resolve => setImmediate(resolve))
        if (await Promise.race([closed.then(() => true), Promise.resolve(false)])) break
      }
      await Promise.race([closed, sleep(3000)])
      assert.equal(sock.destroyed || sock.readableEnded, true, `still open after ${sent} PINGs`)
      await Promise.race([p.engine.idle(), sleep(2000)])
      assert.equal(p.engine.activeConnections, 0)
    } finally {
      sock.destroy()
      p.stop()
    }
  })

  test('a browser cancelling a few streams is not cut off', async () => {
    const p = startProxy()
    const client = h2connect(`http://127.0.0.1:${p.port}`)
    try {
      for (let i = 0; i < 50; i++) {
        const r = client.request({ ':path': '/slow/cancelled' })
        r.on('error', () => {})
        r.close(constants.NGHTTP2_CANCEL)
      }
      const r = client.request({ ':path': '/after' })
      let text = ''
      r.setEncoding('latin1')
      r.on('data', (d: string) => { text += d })
      await new Promise(resolve => r.on('end', resolve))
      assert.equal(text, 'answer /after body=0')
    } finally {
      client.close()
      p.stop()
    }
  })

  test('an idle connection is closed with GOAWAY after timeout http-keep-alive; a busy one is not', async () => {
    const p = startProxy('', '    timeout http-keep-alive 300ms')
    const client = h2connect(`http://127.0.0.1:${p.port}`)
    client.on('error', () => {})
    try {
      const goaway = new Promise<number>(resolve => client.once('goaway', (code: number) => { resolve(code) }))
      const closed = new Promise(resolve => client.once('close', resolve))
      // /slow takes 400 ms, longer than the idle timeout: the stream in progress keeps the connection.
      const r = client.request({ ':path': '/slow/busy' })
      let text = ''
      r.setEncoding('latin1')
      r.on('data', (d: string) => { text += d })
      await new Promise(resolve => r.on('end', resolve))
      assert.equal(text, 'answer /slow/busy body=0')
      const t0 = Date.now()
      assert.equal(await goaway, constants.NGHTTP2_NO_ERROR)
      await closed
      const idle = Date.now() - t0
      assert.ok(idle >= 200 && idle < 1500, `closed ${idle} ms after the last stream`)
    } finally {
      client.destroy()
      p.stop()
    }
  })

  test('a client that vanishes with streams in progress: each logged CH--, nothing left open', async () => {
    const p = startProxy()
    const client = h2connect(`http://127.0.0.1:${p.port}`)
    client.on('error', () => {})
    try {
      const streams = Array.from({ length: 3 }, (_, i) => client.request({ ':path': `/slow/vanish${i}` }))
      for (const r of streams) r.on('error', () => {})
      await sleep(150)
      client.socket.destroy()
      await Promise.race([p.engine.idle(), sleep(2000)])
      assert.equal(p.engine.activeConnections, 0)
      await sleep(50)
      for (let i = 0; i < 3; i++) {
        assert.ok(p.logs.some(l => new RegExp(` CH-- .*"GET /slow/vanish${i} HTTP/2\\.0"$`).test(l)), p.logs.join('\n'))
      }
    } finally {
      client.destroy()
      p.stop()
    }
  })

  test('drain (reload): GOAWAY, the stream in progress finishes, no new stream, then the connection closes', async () => {
    const p = startProxy()
    const client = h2connect(`http://127.0.0.1:${p.port}`)
    client.on('error', () => {})
    try {
      const goaway = new Promise<number>(resolve => client.once('goaway', (code: number) => { resolve(code) }))
      const r = client.request({ ':path': '/slow/inflight' })
      let text = ''
      r.setEncoding('latin1')
      r.on('data', (d: string) => { text += d })
      const ended = new Promise(resolve => r.on('end', resolve))
      await sleep(100)
      p.engine.stopAccepting()
      assert.equal(await goaway, constants.NGHTTP2_NO_ERROR)
      await ended
      assert.equal(text, 'answer /slow/inflight body=0')
      const late = client.request({ ':path': '/late' })
      const lateError = await new Promise<unknown>(resolve => {
        late.on('error', resolve)
        late.on('response', () => { resolve(undefined) })
      })
      assert.ok(lateError instanceof Error)
      assert.equal(seen.some(s => s.url === '/late'), false)
      await Promise.race([p.engine.idle(), sleep(3000)])
      assert.equal(p.engine.activeConnections, 0)
    } finally {
      client.destroy()
      p.stop()
    }
  })
})
