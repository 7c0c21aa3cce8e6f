/**
 * `tslb status --cluster` on a three-node lab: from any node, the master of the instance and
 * its VIPs, this node's own state, the other peers' sessions; after the master dies, every
 * remaining node names the new one.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { useLab, type LabNode } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'
import { tslb } from '../helpers/cli.ts'
import type { ClusterView } from '../../src/cli/cluster.ts'

const lab = useLab()
const LBS = ['lb1', 'lb2', 'lb3'] as const
const PRIORITY: Record<string, number> = { lb1: 150, lb2: 100, lb3: 50 }
const nodes = new Map<string, RunningTslb>()

function config (node: LabNode): string {
  return `peers cluster
    peer lb1 ${lab.net}.11:10000
    peer lb2 ${lab.net}.12:10000
    peer lb3 ${lab.net}.13:10000
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend www
    bind *:80
    default_backend app
backend app
    stick-table type ip size 1k expire 10m peers cluster
    stick on src
    server web1 ${lab.net}.21:80
vrrp_instance VI_1
    interface eth0
    virtual_router_id 71
    priority ${PRIORITY[node] ?? 1}
    version 3
    advert_int 0.1
    virtual_ipaddress ${lab.vips[0]}/24 dev eth0
`
}

async function cluster (node: string): Promise<{ view: ClusterView, text: string }> {
  const socket = nodes.get(node)?.socket ?? ''
  const [j, t] = await Promise.all([tslb(['status', '--cluster', '--json', '-S', socket]), tslb(['status', '--cluster', '-S', socket])])
  assert.equal(j.code, 0, j.stderr)
  assert.equal(t.code, 0, t.stderr)
  return { view: JSON.parse(j.stdout) as ClusterView, text: t.stdout }
}

async function until (what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

function states (v: ClusterView): Record<string, string> {
  return Object.fromEntries((v.instances[0]?.states ?? []).map(s => [s.node, s.state]))
}

describe('tslb status --cluster', () => {
  before(async () => {
    for (const n of LBS) nodes.set(n, await runTslbOn(lab, n, config(n)))
  })
  after(async () => { for (const n of nodes.values()) await n.stop() })

  test('from each node: lb1 holds the VIP, each node knows its own state, the peers sessions are up', async () => {
    await until('lb1 master and both peers established everywhere', async () => {
      for (const n of LBS) {
        const { view } = await cluster(n)
        if (view.instances[0]?.holder !== 'lb1' || view.peers.length !== 2 || view.peers.some(p => p.state !== 'established')) return false
      }
      return true
    })
    for (const n of LBS) {
      const { view, text } = await cluster(n)
      assert.equal(view.from, n)
      assert.deepEqual(view.nodes.map(x => x.name).sort(), [...LBS])
      const i = view.instances[0]
      assert.equal(i?.name, 'VI_1')
      assert.deepEqual(i?.vips, [`${lab.vips[0]}/24`])
      assert.equal(i?.masterPriority, 150)
      const expected: Record<string, string> = { lb1: 'MASTER', lb2: 'not master', lb3: 'not master' }
      expected[n] = n === 'lb1' ? 'MASTER' : 'BACKUP'
      assert.deepEqual(states(view), expected, n)
      assert.deepEqual(view.peers.map(p => `${p.node} ${p.state}`).sort(), LBS.filter(x => x !== n).map(x => `${x} established`))
      assert.ok(view.servingGeneration !== undefined && view.servingGeneration >= 1)
      assert.match(text, new RegExp(`^vrrp_instance VI_1 \\(vrid 71\\): VIPs ${lab.vips[0].replace(/\./g, '\\.')}/24 held by lb1, master priority 150$`, 'm'))
      assert.match(text, new RegExp(`^  ${n}: ${n === 'lb1' ? 'MASTER' : 'BACKUP'}$`, 'm'))
    }
  })

  test('after lb1 dies, lb2 and lb3 both name lb2 as the holder', async () => {
    await nodes.get('lb1')?.stop()
    await until('lb2 holds the VIP as seen from lb2 and lb3', async () =>
      (await cluster('lb2')).view.instances[0]?.holder === 'lb2' && (await cluster('lb3')).view.instances[0]?.holder === 'lb2')
    const { view } = await cluster('lb3')
    assert.deepEqual(states(view), { lb1: 'not master', lb2: 'MASTER', lb3: 'BACKUP' })
    assert.notEqual(view.peers.find(p => p.node === 'lb1')?.state, 'established')
  })
})
