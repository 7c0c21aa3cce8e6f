/**
 * `tslb reload` under load in the lab: keep-alive clients and connection-per-request clients
 * (wrk), and slow requests of 2 s that span the reloads, see no failed request while the
 * configuration is reloaded ten times, alternating two backend sets; a broken configuration is
 * refused and changes nothing.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { useLab } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'
import { tslb as cli } from '../helpers/cli.ts'
import { startSlowServer } from '../helpers/http-get.ts'

const lab = useLab()
let node: RunningTslb
let slowServer: ChildProcess | undefined
const SLOW_MS = 2000

function config (net: string, webs: number[]): string {
  return `defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout http-keep-alive 5s
frontend www
    bind *:80
    default_backend app
listen slow
    bind *:8080
    server slow ${net}.21:9000
backend app
    balance roundrobin
${webs.map(n => `    server web${n} ${net}.2${n}:80`).join('\n')}
`
}

interface WrkResult { requests: number, errors: number, non2xx: number, raw: string }

function parseWrk (out: string): WrkResult {
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN)
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const errors = sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0)
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
  return { requests, errors, non2xx, raw: out }
}

async function servedBy (n: number): Promise<Set<string>> {
  const r = await lab.exec('client', ['sh', '-c', `for i in $(seq ${n}); do curl -s --max-time 2 http://${lab.addr('lb1')}/; done`])
  return new Set(r.stdout.split('\n').filter(l => l !== ''))
}

describe('reload under load', () => {
  before(async () => {
    slowServer = await startSlowServer(lab, 'web1', 9000, SLOW_MS, 'slow')
    node = await runTslbOn(lab, 'lb1', config(lab.net, [1, 2]))
  })
  after(async () => {
    await node?.stop()
    slowServer?.kill()
  })

  test('ten reloads while wrk runs keep-alive and new-connection streams and 2 s requests span the reloads: no failed request', async () => {
    const url = `http://${lab.addr('lb1')}/`
    const keepAlive = lab.exec('client', ['wrk', '-t1', '-c8', '-d8s', url], { timeoutMs: 30_000 })
    const perRequest = lab.exec('client', ['wrk', '-t1', '-c8', '-d8s', '-H', 'Connection: close', url], { timeoutMs: 30_000 })
    // Four clients each send 2 s requests back to back for the whole run: every reload has some in flight.
    const slowLoop = `for i in 1 2 3 4; do curl -s -o /dev/null -w '%{http_code}\\n' --max-time 10 http://${lab.addr('lb1')}:8080/; done`
    const slowStreams = Array.from({ length: 4 }, async () => await lab.exec('client', ['sh', '-c', slowLoop], { timeoutMs: 60_000 }))
    await new Promise(resolve => setTimeout(resolve, 500))
    for (let i = 0; i < 10; i++) {
      writeFileSync(node.configFile, config(lab.net, i % 2 === 0 ? [3, 4] : [1, 2]))
      const r = await cli(['reload', '-S', node.socket])
      assert.equal(r.code, 0, `reload ${i} failed: ${r.stdout}${r.stderr}`)
      await new Promise(resolve => setTimeout(resolve, 600))
    }
    const [ka, pr] = [parseWrk((await keepAlive).stdout), parseWrk((await perRequest).stdout)]
    assert.ok(ka.requests > 100 && pr.requests > 100, `too little load: ${ka.raw}\n${pr.raw}`)
    assert.equal(ka.errors + ka.non2xx, 0, `keep-alive stream:\n${ka.raw}`)
    assert.equal(pr.errors + pr.non2xx, 0, `connection-per-request stream:\n${pr.raw}`)
    const slowStatuses = (await Promise.all(slowStreams)).flatMap(r => r.stdout.split('\n').filter(l => l !== ''))
    assert.deepEqual(slowStatuses, Array.from({ length: 16 }, () => '200'), 'slow requests spanning the reloads')
    // The last reload installed web1+web2: the new configuration is what answers.
    assert.deepEqual(await servedBy(6), new Set(['web1', 'web2']))
  })

  test('a broken configuration is refused and the running one keeps serving', async () => {
    writeFileSync(node.configFile, `${config(lab.net, [3])}    balanc roundrobin\n`)
    const r = await cli(['reload', '-S', node.socket])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /unknown keyword 'balanc'/)
    assert.deepEqual(await servedBy(4), new Set(['web1', 'web2']))
  })

  test('reloads asked for at once (control socket, SIGHUP, control socket) run one after the other', async () => {
    writeFileSync(node.configFile, config(lab.net, [3, 4]))
    const from = node.output().length
    const pid = node.child.pid
    assert.ok(pid !== undefined)
    const events = (): string[] => node.output().slice(from).split('\n')
      .filter(l => l.includes('"starting proxy worker"') || l.includes('"configuration reloaded"'))
      .map(l => l.includes('"starting proxy worker"') ? 'start' : 'done')
    const first = cli(['reload', '-S', node.socket])
    // The other two are asked for while the first one is starting its worker generation.
    while (events().length === 0) await new Promise(resolve => setTimeout(resolve, 5))
    process.kill(pid, 'SIGHUP')
    const third = cli(['reload', '-S', node.socket])
    assert.equal((await first).code, 0)
    assert.equal((await third).code, 0)
    while (events().length < 6) await new Promise(resolve => setTimeout(resolve, 50))
    assert.deepEqual(events(), ['start', 'done', 'start', 'done', 'start', 'done'])
    assert.deepEqual(await servedBy(6), new Set(['web3', 'web4']))
  })
})
