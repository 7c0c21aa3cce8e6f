/**
 * The stats page rendered by a real browser: Debian's chromium, headless, inside the lab's
 * client namespace, against tslb on lb1. The rendered DOM must show the frontend, the backends
 * and their servers in every state (UP, NOLB, DOWN, MAINT) with their session and queue
 * counters; without credentials the page is refused (401). A screenshot is taken into a
 * temporary directory outside the checkout.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { useLab } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'
import { startSlowServer } from '../helpers/http-get.ts'

const lab = useLab()
let tslb: RunningTslb
let slow: ChildProcess | undefined
const tmp = mkdtempSync(join(tmpdir(), 'tslb-stats-browser-'))
const runningFile = (node: string): string => `/run/tslb-lab/${lab.prefix}/${node}/www/running`

function config (net: string): string {
  return `global
    log stdout local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 20s
    timeout server 20s
    timeout queue 20s
    # Chromium loads the 2 CPUs: a check must not time out (fall 1 would take a server DOWN).
    timeout check 5s
frontend www
    bind *:80
    stats enable
    stats uri /stats
    stats realm tslb-lab
    stats auth admin:s3cret
    stats refresh 30s
    acl is_slow path_beg /slow
    use_backend slow if is_slow
    default_backend app
backend app
    balance roundrobin
    option httpchk HEAD /running HTTP/1.0
    http-check disable-on-404
    server up1 ${net}.22:80 check inter 200 rise 1 fall 2
    server nolb1 ${net}.21:80 check inter 200 rise 1 fall 2
    server down1 ${net}.23:9 check inter 200 rise 1 fall 1
    server maint1 ${net}.24:80 check disabled
backend slow
    server slow1 ${net}.22:8000 maxconn 1
`
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function curl (...args: string[]): Promise<string> {
  const r = await lab.exec('client', ['curl', '-s', '--max-time', '20', ...args])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout
}

/** Runs headless chromium in the client namespace; returns its stdout (the DOM with --dump-dom). */
async function chromium (url: string, ...flags: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmp, 'profile-'))
  const r = await lab.exec('client', ['chromium', '--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${profile}`, ...flags, url], { timeoutMs: 120_000 })
  assert.equal(r.code, 0, `chromium exited ${r.code}: ${r.stderr.slice(-2000)}`)
  return r.stdout
}

const text = (html: string): string => html.replace(/<[^>]*>/g, '').replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&').trim()

interface Row { readonly cls: string, readonly cells: readonly string[] }

/** The rendered proxies: name → rows (class and cell texts) under the two header rows. */
function proxies (dom: string): Map<string, Map<string, Row>> {
  const out = new Map<string, Map<string, Row>>()
  for (const table of dom.split('<table class="px">').slice(1)) {
    const name = text(/<th class="pxname"[^>]*>([\s\S]*?)<\/th>/.exec(table)?.[1] ?? '')
    const rows = new Map<string, Row>()
    for (const m of table.matchAll(/<tr class="([^"]+)">([\s\S]*?)<\/tr>/g)) {
      const cells = [...(m[2] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map(c => text(c[1] ?? ''))
      rows.set(cells[0] ?? '', { cls: m[1] ?? '', cells })
    }
    out.set(name, rows)
  }
  return out
}

/** Column indexes of a proxy row (page.ts TABLE_HEAD: name, then Queue, Session rate, Sessions, ...). */
const COL = { qcur: 1, qmax: 2, qlimit: 3, scur: 7, smax: 8, slim: 9, stot: 10, status: 22 } as const

describe('stats page in headless chromium', () => {
  before(async () => {
    slow = await startSlowServer(lab, 'web2', 8000, 1500, 'slow')
    tslb = await runTslbOn(lab, 'lb1', config(lab.net))
  })
  after(async () => {
    await tslb?.stop()
    slow?.kill()
    if (existsSync(`${runningFile('web1')}.off`)) renameSync(`${runningFile('web1')}.off`, runningFile('web1'))
    rmSync(tmp, { recursive: true, force: true })
  })

  test('without credentials: 401 with the realm, and chromium renders no report', async () => {
    const head = await curl('-i', `http://${lab.addr('lb1')}/stats`)
    assert.match(head, /^HTTP\/1\.1 401 /)
    assert.match(head, /www-authenticate: Basic realm="tslb-lab"/i)
    const dom = await chromium(`http://${lab.addr('lb1')}/stats`, '--dump-dom')
    assert.ok(!dom.includes('Statistics Report'), dom)
  })

  test('with credentials: frontends, backends, servers UP/NOLB/DOWN/MAINT, sessions and queues, and a screenshot', async () => {
    const lb = lab.addr('lb1')
    // down1's first check (port 9 refuses) takes it out of the rotation: up1 and nolb1 share what follows.
    const down = Date.now() + 10_000
    while (!tslb.output().includes('Server app/down1 is DOWN')) {
      if (Date.now() > down) assert.fail(`down1 never went DOWN:\n${tslb.output().slice(-3000)}`)
      await sleep(50)
    }
    for (let i = 0; i < 6; i++) await curl(`http://${lb}/`)
    // Three at once on a maxconn-1 server: two wait in the queue.
    await Promise.all([1, 2, 3].map(async i => await curl(`http://${lb}/slow/${i}`)))
    renameSync(runningFile('web1'), `${runningFile('web1')}.off`)
    const until = Date.now() + 10_000
    while (!(tslb.output().includes('Server app/nolb1 is stopping') && tslb.output().includes('Server app/down1 is DOWN'))) {
      if (Date.now() > until) assert.fail(`servers did not reach NOLB and DOWN:\n${tslb.output().slice(-3000)}`)
      await sleep(100)
    }

    const url = `http://admin:s3cret@${lb}/stats`
    const dom = await chromium(url, '--dump-dom')
    assert.match(dom, /<title>Statistics Report for tslb/)
    assert.match(dom, /<meta http-equiv="refresh" content="30">/)
    assert.match(dom, /Note: "NOLB"\/"DRAIN" = UP with load-balancing disabled\./)
    const px = proxies(dom)
    assert.deepEqual([...px.keys()], ['www', 'app', 'slow'])

    const fe = px.get('www')?.get('Frontend')
    assert.equal(fe?.cls, 'frontend')
    assert.equal(fe?.cells[COL.status], 'OPEN')
    assert.ok(Number(fe?.cells[COL.stot]) >= 9, `frontend sessions total: ${fe?.cells[COL.stot]}`)
    assert.equal(fe?.cells[COL.slim], '2,000', 'the default frontend maxconn, as the page formats numbers')

    const app = px.get('app')
    assert.ok(app !== undefined)
    const state = (name: string): [string, string] => {
      const r = app.get(name)
      return [r?.cls ?? '', (r?.cells[COL.status] ?? '').replace(/^\S+ /, '')]
    }
    assert.deepEqual(state('up1'), ['active_up', 'UP'])
    assert.deepEqual(state('nolb1'), ['active_nolb', 'NOLB'])
    assert.deepEqual(state('down1'), ['active_down', 'DOWN'])
    assert.deepEqual(state('maint1'), ['maintain', 'MAINT'])
    assert.equal(app.get('Backend')?.cls, 'backend')
    assert.equal(state('Backend')[1], 'UP')
    assert.ok(Number(app.get('up1')?.cells[COL.stot]) >= 3,
      `roundrobin sent up1 its share: ${JSON.stringify([...app].map(([n, r]) => [n, r.cells[COL.stot]]))}`)
    assert.equal(app.get('Backend')?.cells[COL.stot], '6')

    const slowPx = px.get('slow')
    const srv = slowPx?.get('slow1')
    // Balanced requests wait in the backend's queue (HAProxy's proxy queue), not the server's.
    assert.equal(srv?.cells[COL.qmax], '0')
    assert.equal(srv?.cells[COL.qcur], '0')
    assert.equal(srv?.cells[COL.slim], '1')
    assert.equal(srv?.cells[COL.smax], '1')
    assert.equal(srv?.cells[COL.stot], '3')
    assert.equal(slowPx?.get('Backend')?.cells[COL.qmax], '2', 'two requests waited in the queue')
    assert.equal(slowPx?.get('Backend')?.cells[COL.qcur], '0')

    const shot = join(tmp, 'stats.png')
    await chromium(url, `--screenshot=${shot}`, '--window-size=1400,1000')
    assert.ok(statSync(shot).size > 1000, 'screenshot is not empty')
    assert.deepEqual([...readFileSync(shot).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature')
  })
})
