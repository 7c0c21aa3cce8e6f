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
import { setStickTables } from '../../src/proxy/stick-counters.ts'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('stick counters on real sockets', () => {
  let echo: Server
  let engine: Engine
  const ports: number[] = []

  before(async () => {
    echo = createServer(s => { s.pipe(s) })
    await new Promise<void>(resolve => { echo.listen(0, '127.0.0.1', resolve) })
    const echoPort = (echo.address() as AddressInfo).port
    const handles = [0, 1, 2].map(() => bindTcp('127.0.0.1', 0, 4))
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
    level: 'admin', now: Date.now() }).replace(/^0x[0-9a-f]+:/gm, 'PTR:').replace(/exp=\d+/g, 'exp=N')

  test('mode tcp: tcp-request content track-sc0 counts the connection and the bytes each way; conn_cur goes back to 0',
    async () => {
      const s = tcpConnect(ports[0] as number, '127.0.0.1')
      let got = 0
      await new Promise<void>(resolve => {
        s.on('connect', () => { s.write(Buffer.alloc(3000, 'a')) })
        s.on('data', (b: Buffer) => { got += b.length; if (got >= 3000) resolve() })
      })
      assert.match(show('tcpfe'), /key=127\.0\.0\.1 use=0 exp=N conn_cnt=1 conn_cur=1 sess_cnt=0 /)
      s.destroy()
      await sleep(200)
      assert.match(show('tcpfe'), /conn_cnt=1 conn_cur=0 sess_cnt=0 bytes_in_cnt=3000 bytes_in_rate\(10000\)=3000 bytes_out_cnt=3000\n/)
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
