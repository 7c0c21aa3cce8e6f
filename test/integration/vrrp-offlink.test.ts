/**
 * keepalived's protections against off-link and unlisted routers, in the lab: tslb on lb1 runs
 * a unicast VRRPv3 instance (check_unicast_src, unicast_peer lb2 min_ttl 255) and an IPv6
 * multicast one, both MASTER alone at priority 100. lb3 (not a peer) and lb2 with a decremented
 * TTL send priority-200 adverts: each is dropped with its reason and lb1 stays MASTER. The same
 * adverts with the right source and TTL / hop limit 255 do take the mastership, so the
 * injection itself is sound (after the interface went down and up: the IPv6 capture was
 * reopened).
 */
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { useLab, type LabNode } from '../helpers/lab.ts'
import { startTslb, type LogRecord, type RunningTslb } from '../helpers/vrrp-lab.ts'

const lab = useLab()
const INJECT = fileURLToPath(new URL('../helpers/vrrp-inject.ts', import.meta.url))
const VIP6 = '2001:db8:62::100'
let lb1: RunningTslb

function config (): string {
  return `
vrrp_instance VI_U
    interface eth0
    virtual_router_id 61
    priority 100
    version 3
    advert_int 0.1
    unicast_src_ip ${lab.addr('lb1')}
    unicast_peer ${lab.addr('lb2')} min_ttl 255
    virtual_ipaddress ${lab.vips[0]}/24 dev eth0

vrrp_instance VI_6
    interface eth0
    virtual_router_id 62
    priority 100
    version 3
    advert_int 0.1
    virtual_ipaddress ${VIP6}/64 dev eth0
`
}

async function inject (from: LabNode, spec: { vrid: number, vips: readonly string[], dst: string, ttl: number }): Promise<void> {
  const r = await lab.exec(from, [process.execPath, INJECT, JSON.stringify({ ifname: 'eth0', priority: 200, count: 10, intervalMs: 100, ...spec })], { timeoutMs: 20_000 })
  assert.equal(r.code, 0, `injector on ${from}: ${r.stderr}`)
}

const of = (instance: string, match: (r: LogRecord) => boolean) => (r: LogRecord) => r.vrrp === instance && match(r)
const entered = (instance: string, state: string, since: number): boolean =>
  lb1.logs().some(r => r.time >= since && r.vrrp === instance && r.msg === `Entering ${state} STATE`)

describe('VRRP: adverts from off-link or unlisted routers are ignored', () => {
  before(async () => {
    lb1 = await startTslb(lab, 'lb1', config())
    await lb1.waitLog(of('VI_U', r => r.msg === 'Entering MASTER STATE'), 10_000)
    await lb1.waitLog(of('VI_6', r => r.msg === 'Entering MASTER STATE'), 10_000)
  })
  after(async () => { await lb1?.kill('SIGTERM') })

  test('unicast: a source that is not a unicast_peer (check_unicast_src)', async () => {
    const since = Date.now()
    await inject('lb3', { vrid: 61, vips: [lab.vips[0]], dst: lab.addr('lb1'), ttl: 255 })
    const drop = await lb1.waitLog(of('VI_U', r => r.reason === 'unicast-src-not-peer'), 5_000, since)
    assert.equal(drop.src, lab.addr('lb3'))
    assert.equal(entered('VI_U', 'BACKUP', since), false, 'lb1 stayed MASTER')
  })

  test('unicast: a listed peer whose TTL is below its min_ttl (one router hop away)', async () => {
    const since = Date.now()
    await inject('lb2', { vrid: 61, vips: [lab.vips[0]], dst: lab.addr('lb1'), ttl: 254 })
    await lb1.waitLog(of('VI_U', r => r.reason === 'ttl-out-of-range'), 5_000, since)
    assert.equal(entered('VI_U', 'BACKUP', since), false, 'lb1 stayed MASTER')
  })

  test('IPv6 multicast: a hop limit below 255', async () => {
    const since = Date.now()
    await inject('lb3', { vrid: 62, vips: [VIP6], dst: 'ff02::12', ttl: 64 })
    await lb1.waitLog(of('VI_6', r => r.reason === 'bad-ttl'), 5_000, since)
    assert.equal(entered('VI_6', 'BACKUP', since), false, 'lb1 stayed MASTER')
  })

  test('the VRRP interface going down and up: the node keeps running (FAULT), then captures and sends again', async () => {
    // libpcap's handles (the IPv6 capture, the GARP/NA sender) see POLLERR when the link goes
    // down; cap asserted on it and the supervisor aborted (patches/cap+0.2.1.patch).
    const since = Date.now()
    assert.equal((await lab.exec('lb1', ['ip', 'link', 'set', 'eth0', 'down'])).code, 0)
    await lb1.waitLog(of('VI_6', r => r.msg === 'Entering FAULT STATE'), 5_000, since)
    await lb1.waitLog(of('VI_U', r => r.msg === 'Entering FAULT STATE'), 5_000, since)
    await new Promise(resolve => setTimeout(resolve, 1_500))
    assert.equal(lb1.child.exitCode, null, `tslb exited:\n${lb1.output().slice(-3000)}`)
    assert.equal(lb1.child.signalCode, null, `tslb was killed:\n${lb1.output().slice(-3000)}`)
    const up = Date.now()
    assert.equal((await lab.exec('lb1', ['ip', 'link', 'set', 'eth0', 'up'])).code, 0)
    await lb1.waitLog(of('VI_U', r => r.msg === 'Entering MASTER STATE'), 10_000, up)
    await lb1.waitLog(of('VI_6', r => r.msg === 'Entering MASTER STATE'), 10_000, up)
    const sent = await lb1.waitLog(r => r.msg === 'gratuitous ARPs sent' && (r.count as number) > 0, 10_000, up)
    assert.ok(sent.count)
  })

  test('the same adverts from the listed peer with TTL / hop limit 255 take the mastership', async () => {
    const since = Date.now()
    await inject('lb2', { vrid: 61, vips: [lab.vips[0]], dst: lab.addr('lb1'), ttl: 255 })
    await lb1.waitLog(of('VI_U', r => r.msg === 'Entering BACKUP STATE'), 5_000, since)
    await inject('lb3', { vrid: 62, vips: [VIP6], dst: 'ff02::12', ttl: 255 })
    await lb1.waitLog(of('VI_6', r => r.msg === 'Entering BACKUP STATE'), 5_000, since)
  })
})
