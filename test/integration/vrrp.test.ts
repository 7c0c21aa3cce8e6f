/**
 * The VRRP speaker in the lab: tslb on lb1 (priority 150) and lb2 (priority 100), VRRP-only
 * configurations on eth0, the VIP NET.100/24 with a label. Elections, GARPs seen by the client,
 * hard failover (SIGKILL), clean stop (priority-0 advert), VRRPv3 at 0.1 s, and seed 001's
 * tracked-script scenario with the proxy behind the VIP. A monitor polls both namespaces every
 * 50 ms for the whole suite: the VIP is never on two nodes at once.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { useLab, type LabNode } from '../helpers/lab.ts'
import { tslb } from '../helpers/cli.ts'
import { AddressWatcher, macOf, neighbourMac, startTslb, touch, VipMonitor, waitFor, type RunningTslb } from '../helpers/vrrp-lab.ts'

const lab = useLab()
const flagDir = mkdtempSync(join(tmpdir(), 'tslb-vrrp-flags-'))
let monitor: VipMonitor
let watcher: AddressWatcher
const running = new Set<RunningTslb>()
const macs = new Map<LabNode, string>()
const notifyScript = join(flagDir, 'notify.sh')
const notifyLog = join(flagDir, 'notify.log')
writeFileSync(notifyScript, `#!/bin/sh\necho "$*" >> ${notifyLog}\n`)
chmodSync(notifyScript, 0o755)
const notifyLines = (): string[] => { try { return readFileSync(notifyLog, 'utf8').trim().split('\n') } catch { return [] } }
const notifyOpts = (node: LabNode): string => `    notify_master "${notifyScript} ${node}-master"\n    notify "${notifyScript} ${node}"\n`

interface Opts {
  readonly version?: 2 | 3
  readonly advertInt?: string
  readonly head?: string
  readonly tracks?: string
  readonly extra?: string
}

function vrrpConfig (priority: number, o: Opts = {}): string {
  return `${o.head ?? ''}
vrrp_instance VI_1
    interface eth0
    virtual_router_id 51
    priority ${priority}
    version ${o.version ?? 2}
    advert_int ${o.advertInt ?? '1'}
    virtual_ipaddress ${lab.vips[0]}/24 dev eth0 label eth0:ha
${o.tracks ?? ''}${o.extra ?? ''}`
}

async function start (node: LabNode, config: string): Promise<RunningTslb> {
  const r = await startTslb(lab, node, config)
  running.add(r)
  void r.exited.then(() => { running.delete(r) })
  return r
}

const stateLog = (state: string) => (r: { msg: string }) => r.msg === `Entering ${state} STATE`

async function neighbourIs (node: LabNode, timeoutMs: number): Promise<void> {
  const want = macs.get(node)
  await waitFor(`client neighbour entry for the VIP = ${node} (${want ?? '?'})`, async () => await neighbourMac(lab, 'client', lab.vips[0]) === want, timeoutMs)
}

describe('VRRP speaker in the lab (lb1 150, lb2 100)', () => {
  before(async () => {
    for (const n of ['lb1', 'lb2'] as const) macs.set(n, await macOf(lab, n))
    watcher = await AddressWatcher.start(lab, lab.vips[0], ['lb1', 'lb2', 'lb3'])
    monitor = new VipMonitor(lab, lab.vips[0], ['lb1', 'lb2', 'lb3'])
  })
  after(async () => {
    await monitor?.stop()
    watcher?.stop()
    await Promise.all([...running].map(async r => { await r.kill('SIGTERM') }))
    rmSync(flagDir, { recursive: true, force: true })
  })

  let lb1: RunningTslb
  let lb2: RunningTslb

  test('election: lb1 MASTER with the labelled VIP, lb2 BACKUP without it; the client resolves the VIP to lb1', async (t) => {
    // lb1 starts first: with both master-down timers within 200 ms of each other (3414 vs 3609 ms),
    // a parallel start on a loaded machine could let lb2 time out first and be preempted.
    lb1 = await start('lb1', vrrpConfig(150, { extra: notifyOpts('lb1') }))
    lb2 = await start('lb2', vrrpConfig(100, { extra: notifyOpts('lb2') }))
    await monitor.waitHolder('lb1', 8000)
    await lb2.waitLog(stateLog('BACKUP'), 1000)
    await waitFor('notify scripts', async () => await Promise.resolve(notifyLines().includes('lb1 INSTANCE VI_1 MASTER 150')), 2000)
    const lines = notifyLines()
    for (const l of ['lb1 INSTANCE VI_1 BACKUP 150', 'lb2 INSTANCE VI_1 BACKUP 100', 'lb1-master', 'lb1 INSTANCE VI_1 MASTER 150']) assert.ok(lines.includes(l), `notify line '${l}' in ${JSON.stringify(lines)}`)
    assert.ok(!lines.includes('lb2-master'))
    const addr = await lab.exec('lb1', ['ip', '-4', 'addr', 'show', 'dev', 'eth0'])
    assert.match(addr.stdout, new RegExp(`inet ${lab.vips[0].replaceAll('.', '\\.')}/24 .*eth0:ha`))
    await touch(lab, 'client', lab.vips[0])
    await neighbourIs('lb1', 2000)
    const st = await tslb(['status', '-S', lb1.socket])
    assert.equal(st.code, 0, st.stderr)
    assert.match(st.stdout, /VI_1: MASTER, vrid 51 on eth0 v2, priority 150\/150, master this node, VIPs held; adverts tx \d+/)
    const st2 = await tslb(['status', '-S', lb2.socket, '--json'])
    const json = JSON.parse(st2.stdout) as { vrrpInstances: Array<{ runtime: { state: string, masterAddress: string, counters: { advertsReceived: number } } }> }
    assert.equal(json.vrrpInstances[0]?.runtime.state, 'BACKUP')
    assert.equal(json.vrrpInstances[0]?.runtime.masterAddress, lab.addr('lb1'))
    assert.ok((json.vrrpInstances[0]?.runtime.counters.advertsReceived ?? 0) > 0)
    t.diagnostic(`lb1 MASTER ${(lb1.logs().find(stateLog('MASTER'))?.time ?? 0) - (lb1.logs().find(stateLog('BACKUP'))?.time ?? 0)} ms after start`)
  })

  test('reload: an unchanged instance keeps its state (no flap); a changed one is restarted', async (t) => {
    const file = join(lb1.dir, 'tslb.cfg')
    const reloadAt = Date.now()
    writeFileSync(file, `# edited: lines move, nothing VRRP changes\n${vrrpConfig(150, { extra: notifyOpts('lb1') })}`)
    const r = await tslb(['reload', '-S', lb1.socket])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    await new Promise(resolve => setTimeout(resolve, 1500))
    assert.equal(watcher.lastEvent('lb1', false, reloadAt), undefined, 'the VIP never left lb1')
    assert.equal(lb1.logs().filter(x => x.time >= reloadAt && /^Entering/.test(x.msg)).length, 0, 'no state change on lb1')
    assert.equal(lb2.logs().filter(x => x.time >= reloadAt && /^Entering/.test(x.msg)).length, 0, 'no state change on lb2')
    assert.match((await tslb(['status', '-S', lb1.socket])).stdout, /VI_1: MASTER, .*master 1x/)

    const changeAt = Date.now()
    writeFileSync(file, vrrpConfig(160, { extra: notifyOpts('lb1') }))
    assert.equal((await tslb(['reload', '-S', lb1.socket])).code, 0)
    await lb2.waitLog(r2 => stateLog('MASTER')(r2) && r2.reason === 'master-stopped', 2000, changeAt)
    await monitor.waitHolder('lb1', 8000)
    const back = await lb1.waitLog(stateLog('MASTER'), 1000, changeAt)
    t.diagnostic(`changed instance: lb2 MASTER during the restart, lb1 (160) back ${back.time - changeAt} ms after the reload`)
    assert.match((await tslb(['status', '-S', lb1.socket])).stdout, /priority 160\/160/)
  })

  test('hard failover: SIGKILL on lb1 → its VIP is reaped at once, lb2 MASTER within 4 s, the client follows the GARP', async (t) => {
    const killedAt = Date.now()
    await lb1.kill('SIGKILL')
    await monitor.waitHolder(undefined, 1000)
    const reaped = watcher.lastEvent('lb1', false, killedAt)
    assert.ok(reaped !== undefined)
    t.diagnostic(`VIP removed from lb1 ${(reaped - killedAt).toFixed(1)} ms after the SIGKILL (VIP reaper)`)
    const master = await lb2.waitLog(stateLog('MASTER'), 6000, killedAt)
    const gap = master.time - killedAt
    t.diagnostic(`SIGKILL → lb2 MASTER: ${gap} ms`)
    assert.ok(gap < 4000, `takeover after ${gap} ms`)
    await monitor.waitHolder('lb2', 1000)
    assert.ok((watcher.lastEvent('lb2', true, killedAt) ?? 0) > reaped)
    await neighbourIs('lb2', 3000)
    const garps = (await tslb(['status', '-S', lb2.socket, '--json'])).stdout
    assert.match(garps, /"garpsSent": [1-9]/)
  })

  test('lb1 restarted → preempts back after its master-down interval', async (t) => {
    const startedAt = Date.now()
    lb1 = await start('lb1', vrrpConfig(150))
    await monitor.waitHolder('lb1', 8000)
    const master = await lb1.waitLog(stateLog('MASTER'), 1000)
    assert.equal(master.reason, 'preempted')
    t.diagnostic(`lb1 MASTER ${master.time - startedAt} ms after its start`)
    const demoted = await lb2.waitLog(r => stateLog('BACKUP')(r) && r.reason === 'higher-priority', 1000, startedAt)
    const added = await lb1.waitLog(r => r.msg === 'VIPs added', 1000, startedAt)
    const removed = await lb2.waitLog(r => r.msg === 'VIPs removed', 1000, startedAt)
    t.diagnostic(`hand-over from the logs: lb1 MASTER +0, lb1 VIP added +${added.time - master.time} ms, lb2 BACKUP +${demoted.time - master.time} ms, lb2 VIP removed +${removed.time - master.time} ms`)
    await neighbourIs('lb1', 3000)
  })

  test('clean stop: SIGTERM on the master → priority-0 advert, lb2 MASTER in < 1 s, nothing left on lb1', async (t) => {
    const stoppedAt = Date.now()
    await lb1.kill('SIGTERM')
    const stopping = lb1.logs().find(r => r.msg === 'stopping')
    assert.ok(stopping !== undefined)
    assert.ok(lb1.logs().some(r => r.msg === 'VIPs removed'))
    const master = await lb2.waitLog(stateLog('MASTER'), 3000, stoppedAt)
    assert.equal(master.reason, 'master-stopped')
    const gap = master.time - stopping.time
    t.diagnostic(`SIGTERM → lb2 MASTER: ${gap} ms (skew at priority 100: 609 ms)`)
    assert.ok(gap < 1000, `takeover after ${gap} ms`)
    assert.equal(lb1.child.exitCode, 0)
    await monitor.waitHolder('lb2', 1000)
    const removed = watcher.lastEvent('lb1', false, stoppedAt)
    const added = watcher.lastEvent('lb2', true, stoppedAt)
    assert.ok(removed !== undefined && added !== undefined && added - removed > 500, `removed from lb1 at ${removed}, added on lb2 at ${added}`)
    await neighbourIs('lb2', 3000)
    await lb2.kill('SIGTERM')
    await monitor.waitHolder(undefined, 1000)
  })

  test('VRRPv3, advert_int 0.1: SIGKILL takeover in < 0.5 s', async (t) => {
    const v3 = { version: 3 as const, advertInt: '0.1' }
    lb1 = await start('lb1', vrrpConfig(150, v3))
    lb2 = await start('lb2', vrrpConfig(100, v3))
    await monitor.waitHolder('lb1', 3000)
    await lb2.waitLog(stateLog('BACKUP'), 1000)
    await new Promise(resolve => setTimeout(resolve, 300))
    const killedAt = Date.now()
    await lb1.kill('SIGKILL')
    const master = await lb2.waitLog(stateLog('MASTER'), 3000, killedAt)
    const gap = master.time - killedAt
    t.diagnostic(`v3 0.1 s: SIGKILL → lb2 MASTER: ${gap} ms (master-down interval 361 ms)`)
    assert.ok(gap < 500, `takeover after ${gap} ms`)
    await monitor.waitHolder('lb2', 1000)
    await lb2.kill('SIGTERM')
    await monitor.waitHolder(undefined, 1000)
  })

  test('seed 001: tracked script (weight -60) fails on lb1 → lb2 takes over with GARPs while the proxy keeps serving; restored → lb1 preempts back; its proxy worker SIGKILLed → restarted, the VIP stays on lb1', async (t) => {
    const flag = join(flagDir, 'flag-lb1')
    writeFileSync(flag, '')
    const proxy = `
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

listen web
    bind ${lab.vips[0]}:80
    balance roundrobin
    server web1 ${lab.addr('web1')}:80
    server web2 ${lab.addr('web2')}:80

vrrp_script chk_proxy
    script builtin proxy
    interval 0.5
    weight 2

vrrp_script chk_flag
    script "test -f ${flag}"
    interval 0.2
    weight -60
`
    const seed = { head: proxy, extra: '    authentication PASS 1111\n' }
    lb1 = await start('lb1', vrrpConfig(150, { ...seed, tracks: '    track_script chk_proxy\n    track_script chk_flag\n' }))
    lb2 = await start('lb2', vrrpConfig(100, { ...seed, tracks: '    track_script chk_proxy\n' }))
    await monitor.waitHolder('lb1', 8000)
    const curl = async (): Promise<string> => (await lab.exec('client', ['curl', '-s', '-m', '3', `http://${lab.vips[0]}/`])).stdout.trim()
    assert.match(await curl(), /^web[12]$/)
    await neighbourIs('lb1', 3000)
    const st = await tslb(['status', '-S', lb1.socket])
    assert.match(st.stdout, /priority 152\/150/, 'builtin proxy OK: +2')

    rmSync(flag)
    const failedAt = Date.now()
    await lb1.waitLog(r => /Changing effective priority from 152 to 92/.test(r.msg), 3000, failedAt)
    await monitor.waitHolder('lb2', 6000)
    const master = await lb2.waitLog(stateLog('MASTER'), 1000, failedAt)
    t.diagnostic(`script failed → lb2 MASTER: ${master.time - failedAt} ms`)
    await neighbourIs('lb2', 3000)
    assert.match(await curl(), /^web[12]$/, 'the proxy on lb2 serves the VIP')
    const show = (await tslb(['status', '-S', lb1.socket])).stdout
    assert.match(show, /VI_1: BACKUP, .*priority 92\/150, master 198\.\d+\.\d+\.12/)

    writeFileSync(flag, '')
    const restoredAt = Date.now()
    await monitor.waitHolder('lb1', 8000)
    const back = await lb1.waitLog(stateLog('MASTER'), 1000, restoredAt)
    assert.equal(back.reason, 'preempted')
    t.diagnostic(`script restored → lb1 MASTER: ${back.time - restoredAt} ms`)
    await neighbourIs('lb1', 3000)
    assert.match(await curl(), /^web[12]$/)

    // The proxy worker SIGKILLed on the master: the supervisor restarts it, the VIP stays put.
    const workers = (JSON.parse((await tslb(['status', '-S', lb1.socket, '--json'])).stdout) as { workers: { pid: number, state: string }[] }).workers
    const worker = workers.find(w => w.state === 'serving')
    assert.ok(worker !== undefined)
    const firstSample = monitor.samples.length
    const killedAt = Date.now()
    process.kill(worker.pid, 'SIGKILL')
    while (Date.now() - killedAt < 3000) await new Promise(resolve => setTimeout(resolve, 100))
    const during = monitor.samples.slice(firstSample)
    assert.ok(during.length > 10, 'too few VIP samples')
    assert.deepEqual(during.filter(x => (x.holders[lab.vips[0]] ?? []).join() !== 'lb1'), [], 'the VIP left lb1 while its worker restarted')
    assert.equal(lb1.logs().filter(x => x.time >= killedAt && /^Entering/.test(x.msg)).length, 0, 'a VRRP state change on lb1')
    assert.match(await curl(), /^web[12]$/, 'a new worker serves the VIP')
  })

  test('track_interface: the tracked link loses carrier → priority -60 → lb2 takes over; carrier back → lb1 preempts (rtnetlink link events)', async (t) => {
    await Promise.all([lb1.kill('SIGTERM'), lb2.kill('SIGTERM')])
    await lab.exec('lb1', ['ip', 'link', 'add', 'tr0', 'type', 'veth', 'peer', 'name', 'tr1'])
    await lab.exec('lb1', ['ip', 'link', 'set', 'tr0', 'up'])
    await lab.exec('lb1', ['ip', 'link', 'set', 'tr1', 'up'])
    try {
      lb1 = await start('lb1', vrrpConfig(150, { tracks: '    track_interface tr0 weight -60\n' }))
      lb2 = await start('lb2', vrrpConfig(100))
      await monitor.waitHolder('lb1', 8000)
      const downAt = Date.now()
      await lab.exec('lb1', ['ip', 'link', 'set', 'tr1', 'down'])
      await lb1.waitLog(r => /Changing effective priority from 150 to 90/.test(r.msg), 2000, downAt)
      t.diagnostic(`link down seen ${(lb1.logs().find(r => r.time >= downAt && /Changing effective priority/.test(r.msg))?.time ?? 0) - downAt} ms after 'ip link set down'`)
      await monitor.waitHolder('lb2', 6000)
      await lab.exec('lb1', ['ip', 'link', 'set', 'tr1', 'up'])
      await monitor.waitHolder('lb1', 6000)
      assert.match((await tslb(['status', '-S', lb1.socket])).stdout, /VI_1: MASTER, .*priority 150\/150/)
    } finally {
      await lab.exec('lb1', ['ip', 'link', 'del', 'tr0'])
    }
  })

  test('the VIP was never on two nodes at once: 50 ms polling of lb1, lb2, lb3 through the whole suite, and the exact address events', (t) => {
    assert.ok(monitor.samples.length > 100, `${monitor.samples.length} samples`)
    assert.deepEqual(monitor.confirmedDual, [], 'two holders in a sample and in its immediate re-check')
    // A preemption is the one place two nodes may hold the VIP together, for the time the old
    // master takes to hear the new master's advert and drop it (keepalived's order: advert, then
    // VIP): a millisecond or so, never a failover.
    const overlaps = watcher.overlaps()
    t.diagnostic(`hand-over overlaps (preemptions): ${overlaps.map(o => `${o.nodes.join('+')} ${o.ms.toFixed(2)} ms`).join(', ') || 'none'}; polls that caught one in flight: ${monitor.unconfirmedDual.length}`)
    for (const o of overlaps) assert.ok(o.ms < 250, `VIP on ${o.nodes.join(' and ')} for ${o.ms.toFixed(1)} ms`)
  })
})
