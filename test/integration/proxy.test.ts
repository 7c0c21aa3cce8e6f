/**
 * The proxy core in the lab: tslb on lb1, nginx on web1..web4, requests from the client node.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { createSocket } from 'node:dgram'
import { readFileSync, existsSync } from 'node:fs'
import { useLab, WEB_NODES } from '../helpers/lab.ts'
import { SMUGGLING_CORPUS } from '../unit/proxy/http/smuggling-corpus.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'

const lab = useLab()
let tslb: RunningTslb

function config (net: string, syslog: string): string {
  return `global
    maxconn 1000
    log stdout local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend www
    bind *:80
    monitor-uri /alive
    option forwardfor
    acl is_static path_beg -i /static
    use_backend static if is_static
    use_backend backup_only if { path_beg /backup }
    use_backend all_down if { path_beg /down }
    use_backend redispatch if { path_beg /redispatch }
    default_backend rr
frontend weighted
    bind *:81
    monitor-uri /alive
    monitor fail if { nbsrv(backup_only) lt 1 }
    log ${syslog} local2
    default_backend weighted
backend rr
    balance roundrobin
    server web1 ${net}.21:80
    server web2 ${net}.22:80
    server web3 ${net}.23:80
    server web4 ${net}.24:80
backend weighted
    balance roundrobin
    server web1 ${net}.21:80 weight 3
    server web2 ${net}.22:80 weight 1
backend static
    server web4 ${net}.24:80
backend backup_only
    server off ${net}.21:80 disabled
    server spare ${net}.23:80 backup
    server spare2 ${net}.24:80 backup
    retries 0
backend all_down
    server dead1 ${net}.21:9
    server dead2 ${net}.22:9
    retries 1
backend redispatch
    option redispatch
    retries 1
    balance roundrobin
    server dead ${net}.21:9
    server web2 ${net}.22:80
listen tcp
    bind *:8080
    mode tcp
    balance roundrobin
    server web1 ${net}.21:80
    server web2 ${net}.22:80
`
}

async function curl (args: string[]): Promise<string> {
  const r = await lab.exec('client', ['curl', '-s', '--max-time', '5', ...args])
  assert.equal(r.code, 0, `curl ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}

async function counts (url: string, n: number): Promise<Record<string, number>> {
  const r = await lab.exec('client', ['sh', '-c', `for i in $(seq ${n}); do curl -s --max-time 5 ${url}; echo; done`])
  const result: Record<string, number> = {}
  for (const line of r.stdout.split('\n').filter(l => l.trim() !== '')) result[line.trim()] = (result[line.trim()] ?? 0) + 1
  return result
}

describe('proxy core in the lab', () => {
  const syslog: string[] = []
  const udp = createSocket('udp4')
  before(async () => {
    await new Promise<void>(resolve => { udp.bind(0, lab.hostAddr, resolve) })
    udp.on('message', m => { syslog.push(m.toString()) })
    tslb = await runTslbOn(lab, 'lb1', config(lab.net, `${lab.hostAddr}:${udp.address().port}`))
  })
  after(async () => {
    await tslb?.stop()
    udp.close()
  })

  test('roundrobin spreads requests evenly over the four web nodes', async () => {
    assert.deepEqual(await counts(`http://${lab.addr('lb1')}/`, 40), { web1: 10, web2: 10, web3: 10, web4: 10 })
  })

  test('weights are honoured (3:1)', async () => {
    assert.deepEqual(await counts(`http://${lab.addr('lb1')}:81/`, 40), { web1: 30, web2: 10 })
  })

  test('a frontend log line adds a syslog target over UDP to the inherited log global', () => {
    const line = syslog.find(m => m.includes('weighted weighted/web'))
    assert.ok(line, `no syslog message among ${syslog.length}`)
    assert.match(line, /^<150>\w{3} [ \d]\d \d\d:\d\d:\d\d tslb\[\d+\]: \d+\.\d+\.\d+\.\d+:\d+ \[/)
    assert.equal(tslb.output().includes('weighted weighted/web'), true)
  })

  test('ACL routing: path_beg /static goes to the static backend', async () => {
    assert.deepEqual(await counts(`http://${lab.addr('lb1')}/static/x.css`, 5), { web4: 5 })
  })

  test('forwardfor: the server sees the client address in X-Forwarded-For', async () => {
    const body = await curl([`http://${lab.addr('lb1')}/echo-headers`])
    assert.match(body, new RegExp(`^xff=${lab.addr('client').replace(/\./g, '\\.')}$`, 'm'))
  })

  test('client keep-alive: several requests on one connection', async () => {
    const url = `http://${lab.addr('lb1')}/`
    const out = await curl(['-w', '%{num_connects}\\n', url, url, url, url])
    const lines = out.split('\n').filter(l => l !== '')
    // Each answer is "<node>\n" followed by curl's count of new connections for that transfer.
    const connects = lines.filter(l => /^\d+$/.test(l)).map(Number)
    assert.deepEqual(connects, [1, 0, 0, 0])
  })

  test('backup: used when no primary server is usable (disabled), first backup only', async () => {
    assert.deepEqual(await counts(`http://${lab.addr('lb1')}/backup`, 4), { web3: 4 })
  })

  test('redispatch: a dead server is skipped, no request fails', async () => {
    assert.deepEqual(await counts(`http://${lab.addr('lb1')}/redispatch`, 6), { web2: 6 })
  })

  test('no server reachable: 503 with an HTML body', async () => {
    const out = await curl(['-w', '\\n%{http_code}', `http://${lab.addr('lb1')}/down`])
    assert.match(out, /503 Service Unavailable/)
    assert.match(out, /\n503$/)
  })

  test('monitor-uri answers itself: 200 while healthy, 503 while a monitor fail condition holds', async () => {
    const ok = await curl(['-i', `http://${lab.addr('lb1')}/alive`])
    assert.match(ok, /^HTTP\/1.1 200 OK/)
    assert.match(ok, /Service ready/)
    assert.doesNotMatch(ok, /X-Served-By/)
    // backup_only has no usable primary server: nbsrv(backup_only) is 0.
    const failing = await curl(['-w', '%{http_code}', `http://${lab.addr('lb1')}:81/alive`])
    assert.match(failing, /503$/)
  })

  test('HEAD and POST with a body', async () => {
    const head = await curl(['-I', `http://${lab.addr('lb1')}/`])
    assert.match(head, /^HTTP\/1.1 200/)
    assert.match(head, /X-Served-By: web\d/)
    const post = await curl(['-w', '%{http_code}', '-X', 'POST', '--data-binary', 'x'.repeat(100_000), `http://${lab.addr('lb1')}/health`])
    assert.match(post, /(200|405)$/)
  })

  test('TCP mode forwards both ways', async () => {
    assert.deepEqual(await counts(`http://${lab.addr('lb1')}:8080/`, 4), { web1: 2, web2: 2 })
  })

  test('the smuggling corpus: every request answered with its error, none forwarded', async () => {
    const webLogs = (): string => WEB_NODES.map(n => {
      const f = `/run/tslb-lab/${lab.prefix}/${n}/access.log`
      return existsSync(f) ? readFileSync(f, 'latin1') : ''
    }).join('')
    assert.doesNotMatch(webLogs(), /\/admin/)
    for (const c of SMUGGLING_CORPUS) {
      const answer = await rawExchange(lab.addr('lb1'), 80, c.raw)
      assert.match(answer, new RegExp(`^HTTP/1\\.[01] ${c.expect} `), `${c.name}: got ${JSON.stringify(answer.slice(0, 60))}`)
    }
    assert.doesNotMatch(webLogs(), /\/admin/, 'a smuggled request reached a server')
  })

  test('traffic is logged in HAProxy httplog format', () => {
    const line = tslb.output().split('\n').find(l => l.includes('"type":"traffic"') && l.includes('GET / HTTP/1.1'))
    assert.ok(line, 'no traffic log line')
    const msg = (JSON.parse(line) as { msg: string }).msg
    assert.match(msg, /^\d+\.\d+\.\d+\.\d+:\d+ \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] www rr\/web\d \d+\/0\/\d+\/\d+\/\d+ 200 \d+ - - ---- \d+\/\d+\/\d+\/\d+\/0 0\/0 "GET \/ HTTP\/1\.1"$/)
  })
})

/** Sends `raw` (latin1) and returns what comes back until the proxy closes (or 3 s pass). */
async function rawExchange (host: string, port: number, raw: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    let answer = ''
    const timer = setTimeout(() => { socket.destroy(); resolve(answer) }, 3000)
    socket.on('connect', () => { socket.write(Buffer.from(raw, 'latin1')) })
    socket.on('data', (b: Buffer) => { answer += b.toString('latin1') })
    socket.on('error', err => { clearTimeout(timer); if (answer === '') reject(err); else resolve(answer) })
    socket.on('close', () => { clearTimeout(timer); resolve(answer) })
  })
}
