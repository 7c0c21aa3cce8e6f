/**
 * The runtime API through socat, the stats page and the Prometheus exporter, on tslb in the lab:
 * the seed's `show table` loop works unchanged; servers are disabled, enabled and reweighted live.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { useLab } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'

const lab = useLab()
let node: RunningTslb
const dir = mkdtempSync(join(tmpdir(), 'tslb-api-'))
const statsSocket = join(dir, 'admin.sock')

function config (net: string): string {
  return `global
    stats socket ${statsSocket} mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend www
    bind *:80
    stats enable
    stats uri /admin?stats
    stats auth admin:s3cret
    http-request use-service prometheus-exporter if { path /metrics }
    default_backend app
backend app
    balance roundrobin
    stick-table type ip size 1k expire 10m
    stick store-request src
    server web1 ${net}.21:80
    server web2 ${net}.22:80
`
}

async function socat (command: string): Promise<string> {
  const { stdout } = await promisify(execFile)('sh', ['-c', `echo "${command}" | socat stdio unix-connect:${statsSocket}`])
  return stdout
}

async function served (n: number): Promise<Set<string>> {
  const r = await lab.exec('client', ['sh', '-c', `for i in $(seq ${n}); do curl -s --max-time 2 -H 'Connection: close' http://${lab.addr('lb1')}/; done`])
  return new Set(r.stdout.split('\n').filter(l => l !== ''))
}

describe('runtime API, stats page, exporter', () => {
  before(async () => { node = await runTslbOn(lab, 'lb1', config(lab.net)) })
  after(async () => { await node?.stop() })

  test('the stats socket is mode 0600', () => {
    assert.equal(statSync(statsSocket).mode & 0o777, 0o600)
  })

  test('show table lists the client after a request (the seed loop: echo "show table NAME" | socat)', async () => {
    await served(1)
    const out = await socat('show table app')
    assert.match(out, /^# table: app, type: ip, size:1024, used:1\n/)
    assert.match(out, new RegExp(`key=${lab.addr('client').replace(/\./g, '\\.')} use=0 exp=\\d+ server_id=\\d server_key=web\\d`))
  })

  test('show stat is HAProxy CSV with FRONTEND, servers and BACKEND rows', async () => {
    const out = await socat('show stat')
    assert.match(out, /^# pxname,svname,qcur,qmax,scur,smax,slim,stot,/)
    for (const row of ['www,FRONTEND,', 'app,web1,', 'app,web2,', 'app,BACKEND,']) assert.ok(out.includes(row), `missing ${row}`)
  })

  test('disable server / enable server take effect at once', async () => {
    assert.equal(await socat('disable server app/web1'), '\n')
    assert.deepEqual(await served(4), new Set(['web2']))
    assert.match(await socat('show servers state app'), /app \d+ web1 \S+ \d+ 1 /)
    await socat('enable server app/web1')
    assert.deepEqual(await served(4), new Set(['web1', 'web2']))
  })

  test('set weight, get weight, and errors in HAProxy wording', async () => {
    await socat('set weight app/web2 0')
    assert.equal(await socat('get weight app/web2'), '0 (initial 1)\n\n')
    assert.deepEqual(await served(4), new Set(['web1']))
    await socat('set weight app/web2 100%')
    assert.equal(await socat('disable server nope/web1'), 'No such backend.\n\n')
    assert.match(await socat('frobnicate'), /^Unknown command/)
  })

  test('stats page needs the credentials, then shows the proxies', async () => {
    const denied = await lab.exec('client', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${lab.addr('lb1')}/admin?stats`])
    assert.equal(denied.stdout, '401')
    const page = await lab.exec('client', ['curl', '-s', '-u', 'admin:s3cret', `http://${lab.addr('lb1')}/admin?stats`])
    assert.match(page.stdout, /<html/i)
    assert.match(page.stdout, /web1/)
    const csv = await lab.exec('client', ['curl', '-s', '-u', 'admin:s3cret', `http://${lab.addr('lb1')}/admin?stats;csv`])
    assert.match(csv.stdout, /^# pxname,svname,/)
  })

  test('prometheus exporter', async () => {
    const r = await lab.exec('client', ['curl', '-s', `http://${lab.addr('lb1')}/metrics`])
    assert.match(r.stdout, /# TYPE haproxy_server_status gauge/)
    assert.match(r.stdout, /haproxy_backend_current_queue\{proxy="app"\} 0/)
  })
})
