import { test } from 'node:test'
import assert from 'node:assert/strict'
import { clusterView, formatCluster } from '../../../src/cli/cluster.ts'
import type { SupervisorStatus } from '../../../src/supervisor/supervisor.ts'
import type { VrrpInstanceStatus } from '../../../src/vrrp/instance-runner.ts'

function runtime (state: VrrpInstanceStatus['state'], masterAddress: string | undefined, unicastPeers: string[] = []): VrrpInstanceStatus {
  return {
    name: 'VI_1', vrid: 51, interface: 'eth0', version: 3, state, since: '', basePriority: 100, effectivePriority: 100,
    masterAddress, masterPriority: masterAddress === undefined ? undefined : 150, localAddress: '198.18.0.12', advertIntervalMs: 100,
    unicastPeers, vips: ['198.18.0.100/24'], vipsHeld: state === 'MASTER', faultReasons: [], tracking: [], syncGroup: undefined,
    counters: {} as VrrpInstanceStatus['counters']
  }
}

function status (r: VrrpInstanceStatus, peers: { name: string, address: string, state: string }[]): SupervisorStatus {
  return {
    node: 'lb2', pid: 1, configFile: 'f', configFiles: ['f'], startedAt: '', reloads: 0, lastReload: undefined, proxies: [], peers: [],
    vrrpInstances: [{ name: 'VI_1', vrid: 51, interface: 'eth0', configuredState: 'BACKUP', priority: 100, runtime: r }],
    workers: [{
      generation: 3, pid: 10, state: 'serving',
      peers: {
        localPeer: 'lb2',
        sections: [{
          name: 'cluster', state: 'finished', flags: 0, localSync: undefined, listening: '198.18.0.12:10000', retired: false, tables: [],
          peers: [{ name: 'lb2', local: true, address: '198.18.0.12:10000', state: 'idle', role: undefined, lastStatus: 0, lastHandshakeAgoMs: undefined, lastError: undefined, counters: {} as never },
            ...peers.map(p => ({ ...p, local: false, role: 'connect' as const, lastStatus: 200, lastHandshakeAgoMs: 2000, lastError: undefined, counters: {} as never }))]
        }]
      }
    } as unknown as SupervisorStatus['workers'][number]]
  }
}

const PEERS = [{ name: 'lb1', address: '198.18.0.11:10000', state: 'established' }, { name: 'lb3', address: '198.18.0.13:10000', state: 'connecting' }]

test('a backup names the master by its peers address; the others send no adverts', () => {
  const v = clusterView(status(runtime('BACKUP', '198.18.0.11'), PEERS))
  assert.equal(v.instances[0]?.holder, 'lb1')
  assert.deepEqual(v.instances[0]?.states.map(s => `${s.node} ${s.state} ${s.seenFrom}`), ['lb2 BACKUP local', 'lb1 MASTER adverts', 'lb3 not master no adverts'])
  assert.deepEqual(v.peers.map(p => `${p.node} ${p.state}`), ['lb1 established', 'lb3 connecting'])
  assert.equal(v.servingGeneration, 3)
  assert.match(formatCluster(v), /^vrrp_instance VI_1 \(vrid 51\): VIPs 198\.18\.0\.100\/24 held by lb1, master priority 150\n {2}lb2: BACKUP\n {2}lb1: MASTER \(its adverts\)\n {2}lb3: not master \(sends no adverts: backup, fault or down\)$/m)
  assert.match(formatCluster(v), /^peers cluster: lb2 has the whole table$/m)
})

test('a master holds its VIPs; a unicast peer outside any peers section shows by its address', () => {
  const v = clusterView(status(runtime('MASTER', '198.18.0.12', ['198.18.0.11', '198.18.0.99']), PEERS))
  assert.equal(v.instances[0]?.holder, 'lb2')
  assert.deepEqual(v.nodes.map(n => n.name), ['lb2', 'lb1', 'lb3', '198.18.0.99'])
  assert.deepEqual(v.instances[0]?.states.map(s => s.state), ['MASTER', 'not master', 'not master', 'not master'])
})
