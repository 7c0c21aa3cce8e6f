/**
 * The failover drill of scripts/demo, same code (scripts/drill.d): tslb on lb1..lb3 with the
 * cluster configuration of vagrant/provision.sh (VRRPv3 0.1 s, two VIPs active-active, peers,
 * stick table, cookie prefix), client traffic to both VIPs, lb1 crashed like a power cut; then
 * the same crash of lb2, master of the other VIP.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { useLab } from '../helpers/lab.ts'
import { holders, runDrill, verdict, waitHolder } from '../../scripts/drill.d/drill.ts'
import { netnsCluster, startCluster, stopNodes, type NetnsLab } from '../../scripts/drill.d/netns.ts'

const lab = useLab()
let cluster: NetnsLab

describe('the demo\'s failover drill (namespace lab)', () => {
  before(async () => {
    cluster = { prefix: lab.prefix, net: lab.net, runDir: mkdtempSync(join(tmpdir(), 'tslb-drill-')) }
    await startCluster(cluster, () => {})
  }, { timeout: 120_000 })
  after(async () => { if (cluster !== undefined) await stopNodes(cluster) })

  test('lb1 dies: VIP 1 moves to lb2 in under a second with every sticky session, lb1 takes it back; VIP 2 stays on lb2', async (t) => {
    let out = ''
    const sink = new Writable({ write (chunk: Buffer, _enc, cb) { out += chunk.toString(); cb() } })
    const r = await runDrill(netnsCluster(cluster), { trafficSeconds: 2, tableSessions: 8, prefixSessions: 4, out: sink, restartTimeoutMs: 60_000 })
    const lines = out.trimEnd().split('\n')
    t.diagnostic(r.line)
    assert.match(lines.at(-1) ?? '', /^failover: from=lb1 to=lb2 gap_ms=\d+ requests=\d+ failed=\d+ sticky=12\/12$/, out)
    assert.equal(lines.at(-1), r.line)
    assert.deepEqual(verdict(r), [], out)
    assert.ok(r.gapMs < 1000, out)
    // active-active: the node that died was not VIP 2's master, and VIP 2 never stopped answering
    assert.deepEqual(r.vip2Holders, [['lb2'], ['lb2'], ['lb2']])
    assert.equal(r.vip2Failed, 0, out)
  })

  test('active-active the other way: lb2 dies, VIP 2 moves to lb1 and VIP 1 stays there; lb2 back takes VIP 2 again', async () => {
    const c = netnsCluster(cluster)
    const [vip1, vip2] = c.vips
    await waitHolder(c, vip2, ['lb1', 'lb2', 'lb3'], h => h.join() === 'lb2', 'lb2 to hold VIP 2', 30_000)
    await c.crash('lb2')
    const seen: string[][] = []
    await waitHolder(c, vip2, ['lb1', 'lb3'], h => { seen.push(h); return h.join() === 'lb1' }, 'lb1 to take VIP 2', 10_000)
    assert.deepEqual(await holders(c, vip1, ['lb1', 'lb3']), ['lb1'])
    assert.equal((await lab.exec('client', ['curl', '-s', '-m', '2', `http://${vip2}/`])).stdout.trim().slice(0, 3), 'web')
    await c.restart('lb2')
    await waitHolder(c, vip2, ['lb1', 'lb2', 'lb3'], h => h.join() === 'lb2', 'lb2 to take VIP 2 back', 30_000)
    assert.deepEqual(await holders(c, vip1), ['lb1'])
    // lb3 (priority 50 for both) never held either VIP
    assert.ok(seen.every(h => !h.includes('lb3')), JSON.stringify(seen))
  })
})
