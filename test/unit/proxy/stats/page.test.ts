// The stats page over real HTTP: requests parsed by tslb's own head parser, answered with
// handleStatsRequest, read by node's HTTP client; compared with what HAProxy 2.6 served for the
// fixture configuration's `listen stats` (stats uri /stats, refresh 10s, auth admin:secret).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { createServer, type Server } from 'node:net'
import type { Proxy } from '../../../../src/config/model.ts'
import { parseRequestHead } from '../../../../src/proxy/http/head.ts'
import { authorized, createStatsHandler, handleStatsRequest, humanDuration, parseStatsOptions, renderStatsPage } from '../../../../src/proxy/stats/page.ts'
import { csvHeader, fixture, fixtureLab, type Lab } from './helpers.ts'

interface Reply { status: number, headers: Record<string, string | string[] | undefined>, body: string }

function statsProxy (lab: Lab): Proxy {
  const p = lab.config.proxies.find(x => x.name === 'stats')
  assert.ok(p !== undefined)
  return p
}

describe('stats page over HTTP', () => {
  let lab: Lab
  let server: Server
  let port = 0

  before(async () => {
    lab = fixtureLab()
    const handle = createStatsHandler(lab.engine, lab.providers)
    const proxy = statsProxy(lab)
    server = createServer(sock => {
      let buf = Buffer.alloc(0)
      sock.on('data', (b: Buffer) => {
        buf = Buffer.concat([buf, b])
        const head = parseRequestHead(buf, 16384)
        if (head === null) return
        sock.end(handle(head, proxy) ?? 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n')
      })
      sock.on('error', () => {})
    })
    await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
    const a = server.address()
    port = typeof a === 'object' && a !== null ? a.port : 0
  })
  after(() => { server.close() })

  async function get (path: string, opts: { auth?: string, method?: string } = {}): Promise<Reply> {
    return await new Promise<Reply>((resolve, reject) => {
      const headers: Record<string, string> = {}
      if (opts.auth !== undefined) headers.authorization = 'Basic ' + Buffer.from(opts.auth).toString('base64')
      const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, agent: false }, res => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => { body += c })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
      })
      req.on('error', reject)
      req.end()
    })
  }

  test('without credentials: 401 with HAProxy headers and body', async () => {
    const ref = fixture('stats-page-401.txt').split('\r\n\r\n')
    const r = await get('/stats')
    assert.equal(r.status, 401)
    assert.equal(r.headers['www-authenticate'], 'Basic realm="HAProxy Statistics"')
    assert.equal(r.headers['cache-control'], 'no-cache')
    assert.equal(r.headers['content-type'], 'text/html')
    assert.equal(r.body, ref[1])
    assert.equal((await get('/stats', { auth: 'admin:wrong' })).status, 401)
    assert.equal((await get('/stats', { auth: 'admin' })).status, 401)
  })

  test('with credentials: the HTML report, refresh header as configured', async () => {
    const r = await get('/stats', { auth: 'admin:secret' })
    assert.equal(r.status, 200)
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(r.headers.refresh, '10')
    assert.match(r.body, /^<!DOCTYPE html>/)
    assert.match(r.body, /<meta http-equiv="refresh" content="10">/)
    assert.match(r.body, /tslb version \d+\.\d+\.\d+/)
    for (const name of ['fe_main', 'be_app', 'be_static', 'be_check', 'fe_tcp', 'be_tcp', 'stats', 'be_stick']) assert.ok(r.body.includes(`name="${name}"`), name)
    assert.match(r.body, /<tr class="active_up"><td class="name"><a name="be_check\/up1"/)
    assert.match(r.body, /<tr class="active_down"><td class="name"><a name="be_check\/down1"/)
    assert.match(r.body, /<tr class="active_no_check"><td class="name"><a name="be_app\/s1"/)
    assert.match(r.body, /<tr class="backup_no_check"><td class="name"><a name="be_static\/b"/)
    assert.match(r.body, /L7OK\/200 in 7ms/)
  })

  test(';norefresh drops the refresh, ;up hides DOWN servers, scope= selects proxies', async () => {
    const plain = await get('/stats;norefresh', { auth: 'admin:secret' })
    assert.equal(plain.headers.refresh, undefined)
    assert.ok(!plain.body.includes('http-equiv="refresh"'))
    const up = await get('/stats;up', { auth: 'admin:secret' })
    assert.ok(!up.body.includes('be_check/down1'))
    assert.ok(up.body.includes('be_check/up1'))
    const scoped = await get('/stats?scope=be_ap', { auth: 'admin:secret' })
    assert.ok(scoped.body.includes('name="be_app"'))
    assert.ok(!scoped.body.includes('name="be_check"'))
  })

  test(';csv is the show stat CSV (HAProxy header, no legends), ;json and ;typed too', async () => {
    const csv = await get('/stats;csv', { auth: 'admin:secret' })
    assert.equal(csv.status, 200)
    assert.equal(csv.headers['content-type'], 'text/plain')
    assert.equal(csv.body.split('\n')[0], fixture('show-stat.txt').split('\n')[0])
    const addr = csvHeader(csv.body).indexOf('addr')
    for (const line of csv.body.split('\n').slice(1, -1)) assert.equal(line.split(',')[addr], '', line)
    const json = await get('/stats;json', { auth: 'admin:secret' })
    assert.equal(json.headers['content-type'], 'application/json')
    assert.ok(Array.isArray(JSON.parse(json.body)))
    const typed = await get('/stats;typed', { auth: 'admin:secret' })
    assert.match(typed.body, /^F\.2\.0\.0\.pxname\.1:KNS:str:fe_main\n/)
  })

  test('HEAD: headers only; other paths are not the stats page', async () => {
    const r = await get('/stats', { auth: 'admin:secret', method: 'HEAD' })
    assert.equal(r.status, 200)
    assert.equal(r.body, '')
    assert.ok(Number(r.headers['content-length']) > 1000)
    assert.equal((await get('/other', { auth: 'admin:secret' })).status, 404)
    assert.equal((await get('/stat', { auth: 'admin:secret' })).status, 404)
  })
})

describe('stats request handling', () => {
  const head = (target: string, headers: string[] = []): NonNullable<ReturnType<typeof parseRequestHead>> => {
    const h = parseRequestHead(Buffer.from(`GET ${target} HTTP/1.1\r\nHost: x\r\n${headers.map(x => x + '\r\n').join('')}\r\n`), 16384)
    assert.ok(h !== null)
    return h
  }

  test('no `stats enable`: never the stats page', () => {
    const lab = fixtureLab()
    const fe = lab.config.proxies.find(p => p.name === 'fe_main') as Proxy
    assert.equal(handleStatsRequest(head('/haproxy?stats'), fe, lab.engine, lab.providers), undefined)
  })

  test('default URI /haproxy?stats, absolute-form targets, hide-version', () => {
    const lab = fixtureLab()
    const fe = lab.config.proxies.find(p => p.name === 'fe_main') as Proxy
    const proxy: Proxy = { ...fe, stats: { ...fe.stats, enabled: true, hideVersion: true, auth: [] } }
    const r = handleStatsRequest(head('/haproxy?stats'), proxy, lab.engine, lab.providers)?.toString() ?? ''
    assert.match(r, /^HTTP\/1\.1 200 OK\r\n/)
    assert.ok(!r.includes('tslb version'))
    assert.match(handleStatsRequest(head('http://x/haproxy?stats;csv'), proxy, lab.engine, lab.providers)?.toString() ?? '', /\r\n\r\n# pxname,svname,/)
    assert.equal(handleStatsRequest(head('/'), proxy, lab.engine, lab.providers), undefined)
  })

  test('stats scope limits the proxies shown', () => {
    const lab = fixtureLab()
    const html = renderStatsPage(lab.engine, lab.providers, { proxyScopes: ['be_tcp', '.'], self: 'fe_main' })
    assert.ok(html.includes('name="be_tcp"'))
    assert.ok(html.includes('name="fe_main"'))
    assert.ok(!html.includes('name="be_app"'))
  })

  test('helpers: options, basic auth, durations', () => {
    assert.deepEqual(parseStatsOptions(';csv;norefresh'), { format: 'csv', hideDown: false, noMaint: false, norefresh: true, scope: undefined })
    assert.equal(parseStatsOptions('?scope=be%5Fapp;up').scope, 'be_app')
    assert.equal(authorized(undefined, []), true)
    assert.equal(authorized('Basic ' + Buffer.from('a:b').toString('base64'), ['x:y', 'a:b']), true)
    assert.equal(authorized('Bearer xyz', ['a:b']), false)
    assert.equal(authorized('Basic !!!', ['a:b']), false)
    assert.equal(humanDuration(5), '5s')
    assert.equal(humanDuration(192), '3m12s')
    assert.equal(humanDuration(7500), '2h05m')
    assert.equal(humanDuration(370000), '4d6h')
  })

  test('names are HTML-escaped', () => {
    const lab = fixtureLab()
    const s = lab.engine.backends.get('be_app')?.servers[0]
    assert.ok(s !== undefined)
    Object.defineProperty(s, 'name', { value: '<b>x</b>' })
    const html = renderStatsPage(lab.engine, lab.providers)
    assert.ok(html.includes('&lt;b&gt;x&lt;/b&gt;'))
    assert.ok(!html.includes('<b>x</b>'))
  })
})
