/**
 * Admission in the lab, replaying seed 004 §7: maxconn 4 per server under 200 concurrent
 * clients (never more than 4 at once on a server, the queue drains, nobody fails), and
 * abortonclose (clients that give up leave the queue and never reach a server).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { useLab, type LabNode } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'
import { get, slowServerStats, startSlowServers } from '../helpers/http-get.ts'

const lab = useLab()
let tslb: RunningTslb
const slow: ChildProcess[] = []

function config (net: string): string {
  return `global
    log stdout local0
defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 20s
    timeout server 20s
    timeout queue 15s
listen appfarm
    bind *:80
    maxconn 10000
    balance roundrobin
    option abortonclose
    server app1 ${net}.21:8000 maxconn 4
    server app2 ${net}.22:8000 maxconn 4
listen dynamic
    bind *:81
    balance roundrobin
    fullconn 100
    server app1 ${net}.21:8000 minconn 2 maxconn 8
`
}

async function stats (node: LabNode): Promise<{ max: number, total: number, current: number }> {
  return await slowServerStats(lab.addr(node))
}

describe('maxconn, queue, abortonclose (seed 004 §7)', () => {
  before(async () => {
    slow.push(...await startSlowServers(lab, ['web1', 'web2'], 50))
    tslb = await runTslbOn(lab, 'lb1', config(lab.net))
  })
  after(async () => {
    await tslb?.stop()
    for (const c of slow) c.kill()
  })

  test('200 concurrent clients: every one served, never more than 4 at once on a server', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, async () => await get(lab.addr('lb1'), 80, '/')))
    assert.deepEqual([...new Set(results.map(r => r.status))], [200])
    const [s1, s2] = [await stats('web1'), await stats('web2')]
    assert.ok(s1.max <= 4 && s2.max <= 4, `max concurrency web1=${s1.max} web2=${s2.max}`)
    assert.equal(s1.max, 4)
    assert.equal(s1.total + s2.total, 200)
    const queued = tslb.output().split('\n').filter(l => l.includes('appfarm app')).map(l => (JSON.parse(l) as { msg: string }).msg)
    assert.ok(queued.some(m => / \d+\/[1-9]\d*\/\d+\/\d+\/\d+ 200 /.test(m)), 'no request logged a queue wait (Tw > 0)')
  })

  test('abortonclose: clients that give up leave the queue and never reach a server', async () => {
    await get(lab.addr('web1'), 8000, '/reset')
    await get(lab.addr('web2'), 8000, '/reset')
    // 8 requests fill both servers for ~50 ms; 40 more queue and give up after 10 ms.
    const busy = Array.from({ length: 8 }, async () => await get(lab.addr('lb1'), 80, '/'))
    await new Promise(resolve => setTimeout(resolve, 5))
    const quitters = await Promise.allSettled(Array.from({ length: 40 }, async () => await get(lab.addr('lb1'), 80, '/', 10)))
    assert.ok(quitters.every(q => q.status === 'rejected'))
    await Promise.all(busy)
    await new Promise(resolve => setTimeout(resolve, 300))
    const total = (await stats('web1')).total + (await stats('web2')).total
    assert.ok(total < 20, `${total} requests reached the servers although 40 of 48 clients left the queue`)
    assert.match(tslb.output(), / CQ-- /)
  })

  test('minconn/fullconn: a lightly loaded backend limits its server to minconn', async () => {
    await get(lab.addr('web1'), 8000, '/reset')
    const results = await Promise.all(Array.from({ length: 20 }, async () => await get(lab.addr('lb1'), 81, '/')))
    assert.deepEqual([...new Set(results.map(r => r.status))], [200])
    const s = await stats('web1')
    // 20 clients against fullconn 100: the dynamic limit is max(minconn 2, 20 * 8 / 100) = 2 at most.
    assert.ok(s.max <= 2, `max concurrency ${s.max} above the dynamic limit`)
  })
})
