/**
 * Stick counters on real sockets, in one engine: `mode tcp` (tcp-request content track-sc, bytes both ways), HTTP/2
 * (a session counter seen by every stream, each stream's own counter released at its end), the classic rate limit
 * over keep-alive, and `show table` through the runtime API's table command after the traffic.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect as h2connect } from 'node:http2'
import { connect as tcpConnect, createServer, type AddressInfo, type Server } from 'node:net'
import { request as httpsRequest } from 'node:https'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, parseConfig } from '../../src/config/index.ts'
import { makeCertDir } from '../helpers/certs.ts'
import { listenerKey } from '../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../src/net/listen-handle.ts'
import { Engine } from '../../src/proxy/engine.ts'
import { runTableCommand } from '../../src/stick/index.ts'
import { setStickTables, trackerCount } from '../../src/proxy/stick-counters.ts'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('stick counters on real sockets', () => {
  let echo: Server
  let engine: Engine
  const ports: number[] = []

  before(async () => {
    echo = createServer(s => { s.pipe(s) })
    await new Promise<void>(resolve => { echo.listen(0, '127.0.0.1', resolve) })
    const echoPort = (echo.address() as AddressInfo).port
    const handles = [0, 1, 2, 3, 4].map(() => bindTcp('127.0.0.1', 0, 4))
    for (const h of handles) ports.push(handleAddress(h).port)
    const { config, diagnostics } = parseConfig(`defaults
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend tcpfe
  mode tcp
  bind 127.0.0.1:${ports[0] as number}
  stick-table type ip size 1k expire 30s store conn_cur,conn_cnt,sess_cnt,bytes_in_cnt,bytes_out_cnt,bytes_in_rate(10s)
  tcp-request content track-sc0 src
  default_backend echo
backend echo
  mode tcp
  server s1 127.0.0.1:${echoPort}
frontend h2fe
  mode http
  bind 127.0.0.1:${ports[1] as number} proto h2
  stick-table type ip size 1k expire 30s store http_req_cnt,conn_cur,conn_cnt,sess_cnt
  tcp-request connection track-sc1 src table sessions
  http-request track-sc0 src
  http-request return status 200 content-type text/plain lf-string "cur=%[sc0_conn_cur] req=%[sc1_http_req_cnt] sess=%[sc1_sess_cnt]"
backend sessions
  stick-table type ip size 1k expire 30s store http_req_cnt,sess_cnt,conn_cur
frontend tcpurl
  bind 127.0.0.1:${ports[3] as number}
  stick-table type string len 32 size 1k store gpc0,conn_cnt,conn_cur
  tcp-request inspect-delay 1s
  tcp-request content track-sc0 url
  tcp-request content sc-inc-gpc0(0)
  default_backend echo
frontend idle
  mode tcp
  bind 127.0.0.1:${ports[4] as number}
  stick-table type ip size 1k expire 1s store conn_cur,conn_cnt
  tcp-request connection track-sc0 src
  tcp-request connection reject if { sc_conn_cur(0) gt 1 }
  default_backend echo
frontend rate
  mode http
  bind 127.0.0.1:${ports[2] as number}
  stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur,gpc0
  http-request track-sc0 src
  http-request deny deny_status 429 if { sc_http_req_rate(0) gt 5 }
  http-request return status 200 content-type text/plain lf-string "rate=%[sc_http_req_rate(0)]"
`, 'counters.cfg', { env: {} })
    assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
    engine = new Engine(config, { logFor: () => () => {} })
    engine.listen(new Map(handles.map((h, i) => [listenerKey('127.0.0.1', ports[i] as number), h])))
  })

  after(() => {
    engine.stopAccepting()
    engine.close()
    echo.close()
  })

  const show = (table: string): string => runTableCommand('show', [table], { tables: [...engine.tables.values()],
    level: 'admin', now: Date.now(), uses: (t, e) => trackerCount(t, e.key) }).replace(/^0x[0-9a-f]+:/gm, 'PTR:').replace(/exp=\d+/g, 'exp=N')

  test('mode tcp: tcp-request content track-sc0 counts the connection and the bytes each way; conn_cur goes back to 0',
    async () => {
      const s = tcpConnect(ports[0] as number, '127.0.0.1')
      let got = 0
      await new Promise<void>(resolve => {
        s.on('connect', () => { s.write(Buffer.alloc(3000, 'a')) })
        s.on('data', (b: Buffer) => { got += b.length; if (got >= 3000) resolve() })
      })
      // While the connection lasts, one tracker holds the entry (HAProxy's use=).
      assert.match(show('tcpfe'), /key=127\.0\.0\.1 use=1 exp=N conn_cnt=1 conn_cur=1 sess_cnt=0 /)
      s.destroy()
      await sleep(200)
      assert.match(show('tcpfe'), /conn_cnt=1 conn_cur=0 sess_cnt=0 bytes_in_cnt=3000 bytes_in_rate\(10000\)=3000 bytes_out_cnt=3000\n/)
    })

  test('mode tcp with inspect-delay: tcp-request content track-sc0 url waits for the request head and tracks its URL',
    async () => {
      const s = tcpConnect(ports[3] as number, '127.0.0.1')
      const request = 'GET /first?x=1 HTTP/1.1\r\nHost: h\r\n\r\n'
      let got = ''
      await new Promise<void>(resolve => {
        // The head in two pieces: the rules wait for the whole of it.
        s.on('connect', () => { s.write(request.slice(0, 10)); setTimeout(() => { s.write(request.slice(10)) }, 50) })
        s.setEncoding('latin1')
        s.on('data', (d: string) => { got += d; if (got.length >= request.length) resolve() })
      })
      s.destroy()
      await sleep(200)
      assert.equal(got, request)
      assert.match(show('tcpurl'), /key=\/first\?x\\=1 use=0 exp=N gpc0=1 conn_cnt=1 conn_cur=0\n/)
    })

  test('HTTP/2: the connection\'s counter is seen by every stream; each stream tracks its own and gives it back', async () => {
    const client = h2connect(`http://127.0.0.1:${ports[1] as number}`)
    const get = async (): Promise<string> => await new Promise((resolve, reject) => {
      const req = client.request({ ':path': '/' })
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (d: string) => { body += d })
      req.on('end', () => { resolve(body) })
      req.on('error', reject)
      req.end()
    })
    const first = await get()
    const second = await get()
    client.close()
    assert.equal(first, 'cur=1 req=1 sess=1')
    assert.equal(second, 'cur=1 req=2 sess=1')
    await sleep(200)
    assert.match(show('h2fe'), /key=127\.0\.0\.1 use=0 exp=N conn_cnt=2 conn_cur=0 sess_cnt=0 http_req_cnt=2\n/)
    assert.match(show('sessions'), /key=127\.0\.0\.1 use=0 exp=N conn_cur=0 sess_cnt=1 http_req_cnt=2\n/)
  })

  test('TLS: the counters of tcp-request connection rules reach the requests of the connection after its handshake',
    async () => {
      const certs = makeCertDir('tslb-counters-')
      const pem = certs.leaf('site', ['localhost'])
      const handle = bindTcp('127.0.0.1', 0, 4)
      const port = handleAddress(handle).port
      const file = join(certs.dir, 'tls.cfg')
      writeFileSync(file, `defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend tlsfe
  bind 127.0.0.1:${port} ssl crt ${pem}
  stick-table type ip size 1k expire 30s store conn_cur,sess_cnt
  tcp-request connection track-sc0 src
  http-request return status 200 content-type text/plain lf-string "cur=%[sc0_conn_cur] sess=%[sc0_sess_cnt]"
`)
      const { config, diagnostics } = await loadConfig(file, { env: {} })
      assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
      const tls = new Engine(config, { logFor: () => () => {} })
      tls.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
      try {
        const body = await new Promise<string>((resolve, reject) => {
          const req = httpsRequest({ host: '127.0.0.1', port, path: '/', ca: readFileSync(certs.ca), servername: 'localhost' },
            res => {
              let b = ''
              res.setEncoding('utf8')
              res.on('data', (d: string) => { b += d })
              res.on('end', () => { resolve(b) })
            })
          req.on('error', reject)
          req.end()
        })
        assert.equal(body, 'cur=1 sess=1')
      } finally {
        tls.stopAccepting()
        tls.close()
        certs.remove()
        // The tables are the process's (one engine per worker): the first engine's again.
        setStickTables(engine.tables)
      }
    })

  test('an entry a connection tracks does not expire while the connection is idle: the conn_cur limit holds', async () => {
    const idle = tcpConnect(ports[4] as number, '127.0.0.1')
    await new Promise<void>(resolve => { idle.on('connect', () => { resolve() }) })
    await sleep(2600)
    assert.match(show('idle'), /key=127\.0\.0\.1 use=1 exp=N conn_cnt=1 conn_cur=1\n/)
    // A second connection is over the limit (conn_cur 2 > 1): refused.
    const second = tcpConnect(ports[4] as number, '127.0.0.1')
    const closed = await new Promise<boolean>(resolve => {
      second.on('close', () => { resolve(true) })
      second.on('error', () => {})
      setTimeout(() => { resolve(false) }, 1000)
    })
    assert.equal(closed, true)
    idle.destroy()
    await sleep(2600)
    assert.doesNotMatch(show('idle'), /key=/, 'released, it expires')
  })

  test('keep-alive rate limit: the sixth request in 10 s is the first answered 429', async () => {
    const s = tcpConnect(ports[2] as number, '127.0.0.1')
    let buf = ''
    s.setEncoding('latin1')
    s.on('data', (d: string) => { buf += d })
    const statuses: string[] = []
    for (let i = 0; i < 7; i++) {
      const before = buf.length
      s.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n')
      for (let t = 0; t < 50 && !/\r\n\r\n[^]*$/.test(buf.slice(before)); t++) await sleep(20)
      await sleep(20)
      statuses.push(/HTTP\/1\.1 (\d+)/.exec(buf.slice(before))?.[1] ?? '?')
    }
    s.destroy()
    assert.deepEqual(statuses, ['200', '200', '200', '200', '200', '429', '429'])
  })
})
