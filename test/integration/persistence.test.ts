/**
 * Cookie persistence in the lab, replaying the seed's flows: seed 004 §1 (insert indirect
 * nocache; a cookie naming a down server is re-dispatched and reset) and §2 (JSESSIONID prefix).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { useLab } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'

const lab = useLab()
let tslb: RunningTslb

function config (net: string): string {
  return `global
    log stdout local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
listen webfarm
    bind *:80
    balance roundrobin
    cookie SERVERID insert indirect nocache
    server webA ${net}.21:80 cookie A
    server webB ${net}.22:80 cookie B
    server webC ${net}.23:80 cookie C
    server webD ${net}.24:80 cookie D
listen webfarm-c-down
    bind *:82
    balance roundrobin
    cookie SERVERID insert indirect nocache
    server webA ${net}.21:80 cookie A
    server webC ${net}.23:80 cookie C disabled
listen sticky
    bind *:83
    balance roundrobin
    stick-table type string len 64 size 1m expire 30m
    stick on req.cook(JSESSIONID)
    stick store-response res.cook(JSESSIONID)
    server web1 ${net}.21:80
    server web2 ${net}.22:80
    server web3 ${net}.23:80
    server web4 ${net}.24:80
listen sticky-src
    bind *:84
    mode tcp
    balance roundrobin
    stick-table type ip size 1k expire 1m
    stick on src
    server web1 ${net}.21:80
    server web2 ${net}.22:80
listen jsessionid
    bind *:81
    balance roundrobin
    cookie JSESSIONID prefix
    server webA ${net}.21:80 cookie A
    server webB ${net}.22:80 cookie B
`
}

interface Reply { status: number, headers: string[], body: string }

async function get (url: string, cookie?: string): Promise<Reply> {
  const args = ['curl', '-s', '-i', '--max-time', '5', ...(cookie === undefined ? [] : ['-H', `Cookie: ${cookie}`]), url]
  const r = await lab.exec('client', args)
  assert.equal(r.code, 0, r.stderr)
  const [head = '', ...rest] = r.stdout.split('\r\n\r\n')
  const [statusLine = '', ...headers] = head.split('\r\n')
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') }
}

const header = (r: Reply, name: string): string[] =>
  r.headers.filter(h => h.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map(h => h.slice(name.length + 1).trim())

describe('cookie persistence (seed 004 §1 and §2)', () => {
  before(async () => { tslb = await runTslbOn(lab, 'lb1', config(lab.net)) })
  after(async () => { await tslb?.stop() })

  test('§1 insert: a new client gets SERVERID=<server> and Cache-Control: private', async () => {
    const r = await get(`http://${lab.addr('lb1')}/`)
    assert.equal(r.status, 200)
    const served = r.body.trim()
    const letter = { web1: 'A', web2: 'B', web3: 'C', web4: 'D' }[served]
    assert.deepEqual(header(r, 'set-cookie'), [`SERVERID=${letter ?? '?'}; path=/`])
    assert.deepEqual(header(r, 'cache-control'), ['private'])
  })

  test('§1 insert indirect: the cookie routes, is hidden from the server, and is not set again', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await get(`http://${lab.addr('lb1')}/echo-headers`, 'SERVERID=C; lang=en')
      assert.equal(header(r, 'x-served-by')[0], 'web3')
      assert.match(r.body, /^cookie=lang=en$/m)
      assert.deepEqual(header(r, 'set-cookie'), [])
    }
  })

  test('§1 server down: the client is re-dispatched and its cookie reset', async () => {
    const r = await get(`http://${lab.addr('lb1')}:82/`, 'SERVERID=C')
    assert.equal(r.body.trim(), 'web1')
    assert.deepEqual(header(r, 'set-cookie'), ['SERVERID=A; path=/'])
  })

  test('an unknown cookie value is ignored and replaced', async () => {
    const r = await get(`http://${lab.addr('lb1')}/`, 'SERVERID=Z')
    assert.equal(header(r, 'set-cookie').length, 1)
  })

  test('§2 prefix: the application cookie is prefixed on the way out and unprefixed on the way in', async () => {
    const first = await get(`http://${lab.addr('lb1')}:81/login`)
    const served = first.body.split('\n')[0]
    const letter = served === 'web1' ? 'A' : 'B'
    const [setCookie = ''] = header(first, 'set-cookie')
    const m = new RegExp(`^JSESSIONID=${letter}~(${served ?? ''}-[0-9-]+); path=/$`).exec(setCookie)
    assert.ok(m, `unexpected Set-Cookie '${setCookie}'`)
    const appValue = m[1] as string
    for (let i = 0; i < 3; i++) {
      const again = await get(`http://${lab.addr('lb1')}:81/echo-headers`, `JSESSIONID=${letter}~${appValue}`)
      assert.equal(header(again, 'x-served-by')[0], served)
      assert.match(again.body, new RegExp(`^cookie=JSESSIONID=${appValue}$`, 'm'))
    }
  })

  test('seed 000: stick on req.cook / store-response res.cook keeps each session on its server', async () => {
    const sessions: { value: string, server: string }[] = []
    for (let i = 0; i < 4; i++) {
      const r = await get(`http://${lab.addr('lb1')}:83/login`)
      const [setCookie = ''] = header(r, 'set-cookie')
      const value = /^JSESSIONID=([^;]+)/.exec(setCookie)?.[1]
      assert.ok(value !== undefined, `no JSESSIONID in '${setCookie}'`)
      sessions.push({ value, server: r.body.split('\n')[0] ?? '' })
    }
    assert.equal(new Set(sessions.map(s => s.server)).size, 4, 'roundrobin should spread the four logins')
    for (const s of sessions) {
      for (let i = 0; i < 3; i++) {
        const r = await get(`http://${lab.addr('lb1')}:83/`, `JSESSIONID=${s.value}`)
        assert.equal(r.body.trim(), s.server)
      }
    }
  })

  test('stick on src in tcp mode: one client, one server', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 6; i++) seen.add((await get(`http://${lab.addr('lb1')}:84/`)).body.trim())
    assert.equal(seen.size, 1)
  })

  test('the log shows the persistence flags (V: valid cookie, I: inserted)', () => {
    const lines = tslb.output().split('\n').filter(l => l.includes('"type":"traffic"')).map(l => (JSON.parse(l) as { msg: string }).msg)
    assert.ok(lines.some(l => / --NI /.test(l)), 'no line with --NI')
    assert.ok(lines.some(l => / --VN /.test(l)), 'no line with --VN')
    assert.ok(lines.some(l => / --DI /.test(l)), 'no line with --DI')
  })
})
