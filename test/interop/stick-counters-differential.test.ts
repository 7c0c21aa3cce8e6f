/**
 * Stick counters against HAProxy 2.6 (/usr/sbin/haproxy): one configuration run by both on
 * loopback — the classic rate limit (`track-sc0 src` + `deny 429 if { sc_http_req_rate(0) gt 5 }`),
 * gpc0 abuse flagging, a `tcp-request connection` limit on `sc_conn_cur`, keep-alive requests —
 * the same clients sent to both (each scenario from its own 127.0.0.x source), the answers compared
 * (statuses and the counters the rules print), then `show table` on both stats sockets.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startTslb } from '../helpers/cli.ts'
import { HAPROXY, haproxy26Skip } from '../helpers/haproxy.ts'
import { freePorts } from '../helpers/ports.ts'

const skip = haproxy26Skip()

/** A client connection from `source` that sends requests one at a time and reads each answer. */
class Client {
  private buf = Buffer.alloc(0)
  private closed = false
  private wake: (() => void) | undefined
  readonly socket: net.Socket

  constructor (port: number, source: string) {
    this.socket = net.connect({ port, host: '127.0.0.1', localAddress: source })
    this.socket.on('data', (b: Buffer) => { this.buf = Buffer.concat([this.buf, b]); this.wake?.() })
    this.socket.on('close', () => { this.closed = true; this.wake?.() })
    this.socket.on('error', () => {})
  }

  async connected (): Promise<void> {
    if (this.socket.readyState === 'open') return
    await new Promise<void>((resolve, reject) => { this.socket.once('connect', resolve); this.socket.once('close', () => { reject(new Error('closed')) }) })
  }

  /** `status body`, or `closed` when the proxy closed without an answer. */
  async get (path: string, fields = ''): Promise<string> {
    if (!this.closed) this.socket.write(`GET ${path} HTTP/1.1\r\nHost: h\r\n${fields}\r\n`)
    const end = Date.now() + 5000
    for (;;) {
      const head = this.buf.indexOf('\r\n\r\n')
      if (head >= 0) {
        const text = this.buf.subarray(0, head).toString('latin1')
        const len = Number(/content-length:\s*(\d+)/i.exec(text)?.[1] ?? 0)
        if (this.buf.length >= head + 4 + len) {
          const body = this.buf.subarray(head + 4, head + 4 + len).toString('latin1')
          this.buf = this.buf.subarray(head + 4 + len)
          const status = /^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? '?'
          return status === '200' ? `${status} ${body}` : status
        }
      }
      if (this.closed) return 'closed'
      if (Date.now() > end) return 'timeout'
      await new Promise<void>(resolve => { this.wake = resolve; setTimeout(resolve, 100) })
    }
  }

  close (): void {
    this.socket.destroy()
  }
}

function config (ports: readonly number[], sock: string, server: number): string {
  return `global
  log stdout format raw local0 emerg
  stats socket ${sock} level admin
defaults
  mode http
  timeout client 5s
  timeout server 5s
  timeout connect 5s
frontend rate
  bind 127.0.0.1:${ports[0] as number}
  stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur,gpc0,http_req_cnt,http_err_cnt,conn_cnt
  http-request track-sc0 src
  http-request sc-inc-gpc0(0) if { path_beg /admin }
  http-request deny deny_status 403 if { sc0_get_gpc0 gt 2 }
  http-request deny deny_status 429 if { sc_http_req_rate(0) gt 5 }
  http-request return status 200 content-type text/plain lf-string "rate=%[sc_http_req_rate(0)] cur=%[sc0_conn_cur] gpc0=%[sc0_get_gpc0] req=%[src_http_req_cnt] err=%[sc0_http_err_cnt] cnt=%[sc0_conn_cnt] t=%[sc0_trackers] sc1=%[sc1_tracked] in=%[src,in_table(rate)] tt=%[src,table_trackers(rate)]"
frontend conn
  bind 127.0.0.1:${ports[1] as number}
  stick-table type ip size 1k expire 30s store conn_cur,conn_cnt,conn_rate(10s),sess_cnt,http_req_cnt
  tcp-request connection track-sc0 src
  tcp-request connection reject if { sc_conn_cur(0) gt 2 }
  http-request return status 200 content-type text/plain lf-string "cur=%[sc0_conn_cur] cnt=%[sc0_conn_cnt] rate=%[sc0_conn_rate] sess=%[sc0_sess_cnt] req=%[sc0_http_req_cnt]"
frontend shared
  bind 127.0.0.1:${ports[2] as number}
  tcp-request connection track-sc1 src table mypeers/t
  http-request track-sc2 req.hdr(x-user) table mypeers/users
  http-request sc-inc-gpc0(2)
  http-request return status 200 content-type text/plain lf-string "cur=%[sc1_conn_cur] req=%[sc1_http_req_cnt] user=%[sc2_get_gpc0] t=%[src_conn_cnt(mypeers/t)]"
frontend errs
  bind 127.0.0.1:${ports[4] as number}
  stick-table type ip size 1k expire 30s store http_req_cnt,http_err_cnt,http_err_rate(10s),http_fail_cnt,gpc1,gpt0
  http-request track-sc0 src
  http-request sc-inc-gpc1 if { path /count }
  http-request sc-set-gpt0 42 if { path /count }
  http-request deny if { path /deny }
  http-request auth realm r if { path /auth } !{ http_auth(ul) }
  http-request return status 200 content-type text/plain lf-string "req=%[sc0_http_req_cnt] err=%[sc0_http_err_cnt] errate=%[sc0_http_err_rate] fail=%[sc0_http_fail_cnt] gpc1=%[sc0_get_gpc1] gpt0=%[sc0_get_gpt0]" if { path /stats }
  default_backend echo
backend echo
  server s1 127.0.0.1:${server}
frontend content
  bind 127.0.0.1:${ports[5] as number}
  stick-table type string len 32 size 1k expire 30s store http_req_cnt,conn_cnt,conn_cur
  tcp-request content reject if { path_beg /blocked }
  tcp-request content track-sc0 req.hdr(x-user)
  http-request return status 200 content-type text/plain lf-string "req=%[sc0_http_req_cnt] cnt=%[sc0_conn_cnt] cur=%[sc0_conn_cur] t=%[sc0_tracked]"
userlist ul
  user u insecure-password p
peers mypeers
  peer local 127.0.0.1:${ports[3] as number}
  table t type ip size 1k expire 30s store conn_cur,conn_cnt,http_req_cnt
  table users type string len 32 size 1k expire 30s store gpc0
`
}

interface Instance { readonly ports: number[], readonly sock: string }

async function cli (sock: string, command: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = net.connect(sock)
    let out = ''
    s.on('data', (b: Buffer) => { out += b.toString() })
    s.on('end', () => { resolve(out) })
    s.on('error', reject)
    s.write(`${command}\n`)
  })
}

/** `show table` without what differs by nature: entry addresses and the ms left before expiry. */
function normalized (table: string): string {
  return table.replace(/^0x[0-9a-f]+:/gm, 'PTR:').replace(/exp=\d+/g, 'exp=N')
}

describe('stick counters against HAProxy 2.6', { skip }, () => {
  let dir = ''
  let haproxy: ChildProcess | undefined
  let tslbChild: ChildProcess | undefined
  let hap: Instance
  let ts: Instance
  let server: http.Server

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'counters-diff-'))
    const ports = await freePorts(12)
    hap = { ports: ports.slice(0, 6), sock: join(dir, 'haproxy.sock') }
    ts = { ports: ports.slice(6), sock: join(dir, 'tslb.sock') }
    // The server answers the status its path names (`/404`), 200 otherwise.
    server = http.createServer((req, res) => {
      if (req.url === '/close') { req.socket.destroy(); return }
      const status = Number(/^\/(\d{3})$/.exec(req.url ?? '')?.[1] ?? 200)
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': '1' })
      res.end('x')
    })
    await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
    const serverPort = (server.address() as net.AddressInfo).port
    writeFileSync(join(dir, 'haproxy.cfg'), config(hap.ports, hap.sock, serverPort))
    writeFileSync(join(dir, 'tslb.cfg'), config(ts.ports, ts.sock, serverPort))
    let out = ''
    haproxy = spawn(HAPROXY, ['-db', '-L', 'local', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] })
    haproxy.stderr?.on('data', (b: Buffer) => { out += b.toString() })
    const t = await startTslb(['run', '-L', 'local', '-f', join(dir, 'tslb.cfg'), '-S', join(dir, 'ctl.sock'), '-p', join(dir, 'pid')],
      /worker serving/)
    tslbChild = t.child
    const end = Date.now() + 10_000
    for (;;) {
      try {
        await cli(hap.sock, 'show info')
        break
      } catch (err) {
        if (Date.now() > end) throw new Error(`haproxy did not start: ${out}`, { cause: err })
        await sleep(100)
      }
    }
  })

  after(async () => {
    haproxy?.kill('SIGTERM')
    tslbChild?.kill('SIGTERM')
    server.close()
    await sleep(300)
    rmSync(dir, { recursive: true, force: true })
  })

  /** Runs `scenario` against both and returns their transcripts. */
  async function both (scenario: (i: Instance) => Promise<string[]>): Promise<{ haproxy: string[], tslb: string[] }> {
    const r = { haproxy: await scenario(hap), tslb: await scenario(ts) }
    if (process.env.COUNTERS_DIFF_PRINT !== undefined) console.log(JSON.stringify(r, null, 1))
    return r
  }

  test('rate limit: the request at which deny 429 first fires, and the counters each request sees', async () => {
    const r = await both(async i => {
      const out: string[] = []
      for (let n = 0; n < 8; n++) {
        const c = new Client(i.ports[0] as number, '127.0.0.2')
        out.push(await c.get('/'))
        c.close()
        await sleep(20)
      }
      return out
    })
    assert.deepEqual(r.tslb, r.haproxy)
    assert.equal(r.haproxy.indexOf('429'), 5)
  })

  test('gpc0 abuse flagging: sc-inc-gpc0(0) on /admin, denied once the counter passes 2', async () => {
    const r = await both(async i => {
      const out: string[] = []
      for (const path of ['/', '/admin', '/admin', '/', '/admin', '/']) {
        const c = new Client(i.ports[0] as number, '127.0.0.3')
        out.push(await c.get(path))
        c.close()
        await sleep(20)
      }
      return out
    })
    assert.deepEqual(r.tslb, r.haproxy)
  })

  test('keep-alive: each request tracks anew (conn_cnt counts requests), conn_cur is the request in progress', async () => {
    const r = await both(async i => {
      const c = new Client(i.ports[0] as number, '127.0.0.4')
      const out = [await c.get('/'), await c.get('/'), await c.get('/')]
      c.close()
      return out
    })
    assert.deepEqual(r.tslb, r.haproxy)
  })

  test('tcp-request connection reject if { sc_conn_cur(0) gt 2 }: the third connection at once is refused', async () => {
    const r = await both(async i => {
      const port = i.ports[1] as number
      const a = new Client(port, '127.0.0.5')
      const b = new Client(port, '127.0.0.5')
      await a.connected()
      await b.connected()
      const out = [await a.get('/'), await b.get('/')]
      // Two sessions hold the entry: use=2, and it cannot be cleared.
      out.push(normalized(await cli(i.sock, 'show table conn')))
      out.push(await cli(i.sock, 'clear table conn key 127.0.0.5'), await cli(i.sock, 'clear table conn'))
      out.push(normalized(await cli(i.sock, 'show table conn')))
      const c = new Client(port, '127.0.0.5')
      out.push(await c.get('/'))
      a.close()
      await sleep(200)
      const d = new Client(port, '127.0.0.5')
      out.push(await d.get('/'), await b.get('/'))
      b.close()
      d.close()
      c.close()
      await sleep(200)
      return out
    })
    assert.deepEqual(r.tslb, r.haproxy)
    assert.equal(r.haproxy[6], 'closed')
    assert.match(r.haproxy[2] as string, /use=2 /)
    assert.match(r.haproxy[3] as string, /in use/)
  })

  test('tables of a peers section (table PEERS/TABLE): tcp-request and http-request track-sc on them', async () => {
    const r = await both(async i => {
      const out: string[] = []
      for (const user of ['ann', 'bob', 'ann']) {
        const c = new Client(i.ports[2] as number, '127.0.0.6')
        out.push(await c.get('/', `x-user: ${user}\r\n`))
        c.close()
        await sleep(50)
      }
      return out
    })
    assert.deepEqual(r.tslb, r.haproxy)
  })

  test('HTTP errors and failures: a 4xx from the server, a deny, an auth; a 5xx but 501, a 502; sc-inc-gpc1, sc-set-gpt0', async () => {
    const r = await both(async i => {
      const c = new Client(i.ports[4] as number, '127.0.0.7')
      const out: string[] = []
      for (const path of ['/', '/404', '/stats', '/403', '/500', '/501', '/stats', '/count', '/stats']) {
        out.push(await c.get(path))
      }
      c.close()
      const d = new Client(i.ports[4] as number, '127.0.0.7')
      out.push(await d.get('/deny'))
      d.close()
      const e = new Client(i.ports[4] as number, '127.0.0.7')
      out.push(await e.get('/stats'))
      e.close()
      // A server that closes without answering: 502, a failure.
      const f = new Client(i.ports[4] as number, '127.0.0.7')
      out.push(await f.get('/close'))
      f.close()
      // http-request auth answering 401 is an HTTP error too.
      const a = new Client(i.ports[4] as number, '127.0.0.7')
      out.push(await a.get('/auth'))
      a.close()
      const g = new Client(i.ports[4] as number, '127.0.0.7')
      out.push(await g.get('/stats'))
      g.close()
      return out
    })
    assert.deepEqual(r.tslb, r.haproxy)
  })

  test('mode http: tcp-request content rules run on each request, over its fields (track-sc0 req.hdr(), reject)',
    async () => {
      const r = await both(async i => {
        const c = new Client(i.ports[5] as number, '127.0.0.8')
        const out = [await c.get('/', 'x-user: ann\r\n'), await c.get('/', 'x-user: ann\r\n'), await c.get('/'),
          await c.get('/', 'x-user: bob\r\n'), await c.get('/blocked', 'x-user: ann\r\n')]
        c.close()
        return out
      })
      assert.deepEqual(r.tslb, r.haproxy)
      assert.equal(r.haproxy[4], 'closed')
    })

  test('show table: the same entries and counters on both, after the traffic above', async () => {
    for (const table of ['rate', 'conn', 'mypeers/t', 'mypeers/users', 'errs', 'content']) {
      const h = normalized(await cli(hap.sock, `show table ${table}`))
      const t = normalized(await cli(ts.sock, `show table ${table}`))
      // http_req_rate read a moment apart on both still counts the same requests (10 s period).
      assert.equal(t, h, `show table ${table}`)
    }
  })
})
