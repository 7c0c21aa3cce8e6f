/**
 * Frontend and global `maxconn` in the lab: connections over the limit wait for a free slot
 * instead of being dropped (HAProxy leaves them in the accept queue); nobody is refused.
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
const DELAY_MS = 300

function config (net: string): string {
  return `global
    log stdout local0
    maxconn 3
defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 20s
    timeout server 20s
listen fe-maxconn
    bind *:80
    maxconn 2
    server app1 ${net}.21:8000
listen a
    bind *:81
    server app2 ${net}.22:8000
listen b
    bind *:82
    server app2 ${net}.22:8000
`
}

async function stats (node: LabNode): Promise<{ max: number, total: number, current: number }> {
  return await slowServerStats(lab.addr(node))
}

describe('frontend and global maxconn', () => {
  before(async () => {
    slow.push(...await startSlowServers(lab, ['web1', 'web2'], DELAY_MS))
    tslb = await runTslbOn(lab, 'lb1', config(lab.net))
  })
  after(async () => {
    await tslb?.stop()
    for (const c of slow) c.kill()
  })

  test('frontend maxconn 2, 6 concurrent slow clients: never more than 2 in service, none refused, all complete', async () => {
    const started = Date.now()
    const results = await Promise.all(Array.from({ length: 6 }, async () => await get(lab.addr('lb1'), 80, '/')))
    const elapsed = Date.now() - started
    assert.deepEqual(results.map(r => r.status), [200, 200, 200, 200, 200, 200])
    const s = await stats('web1')
    assert.equal(s.total, 6)
    assert.equal(s.max, 2, `at most 2 at once on the server, saw ${s.max}`)
    // Three rounds of two: the waiting clients were held, not served at once.
    assert.ok(elapsed >= 3 * DELAY_MS - 50, `all served in ${elapsed} ms`)
  })

  test('global maxconn 3 holds across frontends: 4 + 4 concurrent clients on two frontends, at most 3 in service', async () => {
    const ports = [81, 81, 81, 81, 82, 82, 82, 82]
    const results = await Promise.all(ports.map(async port => await get(lab.addr('lb1'), port, '/')))
    assert.deepEqual([...new Set(results.map(r => r.status))], [200])
    const s = await stats('web2')
    assert.equal(s.total, 8)
    assert.equal(s.max, 3, `at most 3 at once, saw ${s.max}`)
  })
})
