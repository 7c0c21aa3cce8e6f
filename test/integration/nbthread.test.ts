/**
 * `nbthread 2` in the lab: both proxy threads accept (the kernel spreads connections over each listener's
 * SO_REUSEPORT group), and reloads under load (to three threads and back, so the group grows and a thread serves
 * several sockets) lose nothing.
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
const SLOW_MS = 1500

function config (threads: number, webs: readonly number[]): string {
  return `global
    nbthread ${threads}
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend www
    bind *:80
    http-response set-header X-Thread %[thread]
    default_backend app
listen slow
    bind *:8080
    server slow ${lab.net}.21:9000
backend app
    balance roundrobin
${webs.map(n => `    server web${n} ${lab.net}.2${n}:80`).join('\n')}
`
}

/** The thread (0-based) that answered each of `n` new connections. */
async function threadsServing (n: number): Promise<Map<string, number>> {
  const r = await lab.exec('client', ['sh', '-c', `for i in $(seq ${n}); do curl -s -o /dev/null -D - --max-time 3 ` +
    `http://${lab.addr('lb1')}/ | grep -i '^x-thread'; done`])
  const counts = new Map<string, number>()
  for (const line of r.stdout.split('\n')) {
    const t = /^x-thread: (\d+)/i.exec(line.trim())?.[1]
    if (t !== undefined) counts.set(t, (counts.get(t) ?? 0) + 1)
  }
  return counts
}

function parseWrk (out: string): { requests: number, failed: number } {
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const errors = sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0)
  return { requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN),
    failed: errors + Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) }
}

describe('nbthread', () => {
  before(async () => {
    slowServer = await startSlowServer(lab, 'web1', 9000, SLOW_MS, 'slow')
    node = await runTslbOn(lab, 'lb1', config(2, [1, 2]))
  })
  after(async () => {
    await node?.stop()
    slowServer?.kill()
  })

  test('nbthread 2: new connections are served by both threads', async () => {
    const counts = await threadsServing(40)
    assert.deepEqual([...counts.keys()].sort(), ['0', '1'], JSON.stringify([...counts]))
    assert.equal([...counts.values()].reduce((a, b) => a + b, 0), 40)
  })

  test('reloads under load, to 3 threads and back to 2: no failed request, in-flight requests finish', async () => {
    const url = `http://${lab.addr('lb1')}/`
    const keepAlive = lab.exec('client', ['wrk', '-t1', '-c8', '-d6s', url], { timeoutMs: 30_000 })
    const perRequest = lab.exec('client', ['wrk', '-t1', '-c8', '-d6s', '-H', 'Connection: close', url],
      { timeoutMs: 30_000 })
    const slowLoop = `for i in 1 2 3; do curl -s -o /dev/null -w '%{http_code}\\n' --max-time 10 ` +
      `http://${lab.addr('lb1')}:8080/; done`
    const slow = Array.from({ length: 3 }, async () => await lab.exec('client', ['sh', '-c', slowLoop],
      { timeoutMs: 60_000 }))
    await new Promise(resolve => setTimeout(resolve, 500))
    for (const [i, threads] of [3, 2, 3, 2].entries()) {
      writeFileSync(node.configFile, config(threads, i % 2 === 0 ? [3, 4] : [1, 2]))
      const r = await cli(['reload', '-S', node.socket])
      assert.equal(r.code, 0, `reload ${i} failed: ${r.stdout}${r.stderr}`)
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    const [ka, pr] = [(await keepAlive).stdout, (await perRequest).stdout]
    for (const out of [ka, pr]) {
      const w = parseWrk(out)
      assert.ok(w.requests > 100, `too little load:\n${out}`)
      assert.equal(w.failed, 0, out)
    }
    const statuses = (await Promise.all(slow)).flatMap(r => r.stdout.split('\n').filter(l => l !== ''))
    assert.deepEqual(statuses, Array.from({ length: 9 }, () => '200'))
    // Back on 2 threads, over a group of 3 sockets: both threads still serve.
    assert.deepEqual([...(await threadsServing(30)).keys()].sort(), ['0', '1'])
  })
})
