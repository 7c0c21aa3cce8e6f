/**
 * tslb and keepalived 2.2.7 in the same virtual routers. One tslb (lb1) and one keepalived (lb2)
 * each run four instances side by side, one per mode, all driven through the same phases at once:
 *
 *   v2m  VRRPv2 multicast            VRID 61  NET.150
 *   v2a  VRRPv2 multicast, PASS auth  VRID 62  NET.151
 *   v2u  VRRPv2 unicast               VRID 63  NET.152
 *   v3m  VRRPv3 multicast             VRID 64  NET.153
 *   v6   VRRPv3 IPv6 multicast        VRID 65  2001:2::150 (link-local sources, unsolicited NAs)
 *
 * Phases: both start (tslb 150 > keepalived 100) → tslb MASTER; tslb SIGTERM → keepalived
 * MASTER; tslb back → preempts keepalived; tslb SIGKILL → keepalived MASTER; tslb back at 50
 * (keepalived higher) → stays BACKUP; keepalived SIGTERM → tslb MASTER; keepalived back →
 * preempts tslb. Throughout: no VIP on both nodes, no advert dropped by either side.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { useLab } from '../helpers/lab.ts'
import { tslb } from '../helpers/cli.ts'
import { AddressWatcher, startKeepalived, startTslb, VipMonitor, waitOutput, type Running, type RunningTslb } from '../helpers/vrrp-lab.ts'

const lab = useLab()

interface Mode {
  readonly name: string
  readonly vrid: number
  readonly octet: number
  readonly version: 2 | 3
  readonly auth?: string
  readonly unicast?: boolean
  readonly ip6?: string
}

const MODES: readonly Mode[] = [
  { name: 'v2m', vrid: 61, octet: 150, version: 2 },
  { name: 'v2a', vrid: 62, octet: 151, version: 2, auth: 's3cret' },
  { name: 'v2u', vrid: 63, octet: 152, version: 2, unicast: true },
  { name: 'v3m', vrid: 64, octet: 153, version: 3 },
  { name: 'v6', vrid: 65, octet: 0, version: 3, ip6: '2001:2::150' }
]

const vip = (m: Mode): string => m.ip6 ?? `${lab.net}.${m.octet}`
const prefix = (m: Mode): number => m.ip6 === undefined ? 24 : 64

function tslbConfig (priority: number): string {
  return MODES.map(m => `vrrp_instance ${m.name}
    interface eth0
    virtual_router_id ${m.vrid}
    priority ${priority}
    version ${m.version}
    advert_int 1
    virtual_ipaddress ${vip(m)}/${prefix(m)} dev eth0
${m.auth === undefined ? '' : `    authentication PASS ${m.auth}\n`}${m.unicast === true ? `    unicast_src_ip ${lab.addr('lb1')}\n    unicast_peer ${lab.addr('lb2')}\n` : ''}`).join('\n')
}

function keepalivedConfig (priority: number): string {
  return `global_defs {
    router_id ka_lb2
    script_user root
}
${MODES.map(m => `vrrp_instance ${m.name} {
    state BACKUP
    interface eth0
    virtual_router_id ${m.vrid}
    priority ${priority}
    version ${m.version}
    advert_int 1
${m.auth === undefined ? '' : `    authentication {\n        auth_type PASS\n        auth_pass ${m.auth}\n    }\n`}${m.unicast === true ? `    unicast_src_ip ${lab.addr('lb2')}\n    unicast_peer {\n        ${lab.addr('lb1')}\n    }\n` : ''}    virtual_ipaddress {
        ${vip(m)}/${prefix(m)} dev eth0
    }
}`).join('\n')}
`
}

/** keepalived's complaints about what it received: none may appear. */
const KEEPALIVED_RX_ERRORS = /interval mismatch|Invalid|wrong version|not present in MASTER advert|unexpected ip number count|invalid passwd|auth|checksum|too short|too long|Expected (un|mult)icast/i

describe('interop with keepalived 2.2.7: v2 multicast, v2 PASS, v2 unicast, v3 multicast, v3 IPv6', () => {
  let monitor: VipMonitor
  let watcher: AddressWatcher
  const all: Running[] = []
  let ts: RunningTslb | undefined
  let ka: Running | undefined
  const startedAt = Date.now()

  before(async () => {
    const vips = MODES.map(vip)
    watcher = await AddressWatcher.start(lab, vips, ['lb1', 'lb2'])
    monitor = new VipMonitor(lab, vips, ['lb1', 'lb2'])
  })
  after(async () => {
    await Promise.all(all.map(async r => { await r.kill('SIGTERM') }))
    await monitor?.stop()
    watcher?.stop()
  })

  const runTslb = async (priority: number): Promise<RunningTslb> => {
    const r = await startTslb(lab, 'lb1', tslbConfig(priority))
    all.push(r)
    return r
  }
  const runKeepalived = (priority: number): Running => {
    const r = startKeepalived(lab, 'lb2', keepalivedConfig(priority))
    all.push(r)
    return r
  }

  test('both start, tslb 150 > keepalived 100: tslb is MASTER of every instance', async () => {
    ka = runKeepalived(100)
    ts = await runTslb(150)
    await monitor.waitAll('lb1', 8000)
    await waitOutput(ka, /\(v3m\) Entering BACKUP STATE/, 1000)
  })

  test('tslb SIGTERM → keepalived MASTER after Skew_Time (priority-0 advert understood)', async (t) => {
    const t0 = Date.now()
    await (ts as RunningTslb).kill('SIGTERM')
    await monitor.waitAll('lb2', 3000)
    const taken = Math.max(...MODES.map(m => watcher.lastEvent('lb2', true, t0, vip(m)) ?? Infinity))
    t.diagnostic(`tslb SIGTERM → keepalived holds every VIP: ${(taken - t0).toFixed(0)} ms`)
    assert.ok(taken - t0 < 1500)
  })

  test('tslb back at 150 → preempts keepalived', async () => {
    ts = await runTslb(150)
    await monitor.waitAll('lb1', 8000)
    for (const m of MODES) {
      const from = m.ip6 === undefined ? lab.addr('lb1').replaceAll('.', '\\.') : 'fe80::[0-9a-f:]+'
      await waitOutput(ka as Running, new RegExp(`\\(${m.name}\\) Master received advert from ${from} with higher priority 150, ours 100`), 1000)
    }
  })

  test('tslb SIGKILL → keepalived MASTER within the master-down interval', async (t) => {
    const t0 = Date.now()
    await (ts as RunningTslb).kill('SIGKILL')
    await monitor.waitAll('lb2', 6000)
    const taken = Math.max(...MODES.map(m => watcher.lastEvent('lb2', true, t0, vip(m)) ?? Infinity))
    t.diagnostic(`tslb SIGKILL → keepalived holds every VIP: ${(taken - t0).toFixed(0)} ms`)
  })

  test('keepalived higher: tslb back at 50 stays BACKUP past its master-down interval', async () => {
    ts = await runTslb(50)
    await new Promise(resolve => setTimeout(resolve, 4200))
    const st = JSON.parse((await tslb(['status', '-S', ts.socket, '--json'])).stdout) as { vrrpInstances: Array<{ name: string, runtime: { state: string, masterAddress: string, counters: { advertsReceived: number, drops: Record<string, number> } } }> }
    for (const i of st.vrrpInstances) {
      assert.equal(i.runtime.state, 'BACKUP', i.name)
      if (i.name !== 'v6') assert.equal(i.runtime.masterAddress, lab.addr('lb2'), i.name)
      else assert.match(i.runtime.masterAddress, /^fe80:/)
      assert.ok(i.runtime.counters.advertsReceived >= 3, i.name)
      assert.deepEqual(i.runtime.counters.drops, {}, `${i.name}: keepalived's adverts all accepted`)
    }
    for (const m of MODES) assert.equal((await monitor.holders())[vip(m)]?.join(), 'lb2')
  })

  test('keepalived SIGTERM → tslb MASTER after Skew_Time', async (t) => {
    const t0 = Date.now()
    await (ka as Running).kill('SIGTERM')
    await monitor.waitAll('lb1', 3000)
    const taken = Math.max(...MODES.map(m => watcher.lastEvent('lb1', true, t0, vip(m)) ?? Infinity))
    t.diagnostic(`keepalived SIGTERM → tslb holds every VIP: ${(taken - t0).toFixed(0)} ms (skew at priority 50: 804 ms)`)
    assert.ok(taken - t0 < 1500)
  })

  test('keepalived back at 100 → preempts tslb (50)', async () => {
    const from = (ts as RunningTslb).logs().length
    ka = runKeepalived(100)
    await monitor.waitAll('lb2', 8000)
    const demoted = (ts as RunningTslb).logs().slice(from).filter(r => r.msg === 'Entering BACKUP STATE' && r.reason === 'higher-priority').map(r => r.vrrp)
    assert.deepEqual(new Set(demoted), new Set(MODES.map(m => m.name)))
  })

  test('no dual master, no advert rejected by either side, under ~90 s', (t) => {
    assert.deepEqual(monitor.confirmedDual, [])
    const overlaps = watcher.overlaps()
    t.diagnostic(`hand-over overlaps (preemptions): ${overlaps.map(o => `${o.vip} ${o.ms.toFixed(1)} ms`).join(', ') || 'none'}`)
    for (const o of overlaps) assert.ok(o.ms < 250, `${o.vip} on ${o.nodes.join(' and ')} for ${o.ms.toFixed(1)} ms`)
    const kaOut = all.filter(r => r.node === 'lb2').map(r => r.output()).join('\n')
    const complaints = kaOut.split('\n').filter(l => KEEPALIVED_RX_ERRORS.test(l))
    assert.deepEqual(complaints, [])
    const drops = all.filter(r => r.node === 'lb1').flatMap(r => r.output().split('\n').filter(l => l.includes('advert dropped')))
    assert.deepEqual(drops, [])
    t.diagnostic(`suite body: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`)
  })
})
