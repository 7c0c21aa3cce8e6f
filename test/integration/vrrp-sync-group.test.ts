/**
 * vrrp_sync_group in the lab, over real VRRP: lb1 runs VI_1 and VI_2 (priority 150 each) in a
 * group, lb2 runs them at 200 and 100 without one. lb1 loses VI_1 to lb2, so it keeps neither
 * VIP although it has the higher priority for VI_2; when lb2 dies, lb1 takes both together and
 * runs the group's notify script.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { useLab, type LabNode } from '../helpers/lab.ts'
import { startTslb, waitFor, type RunningTslb } from '../helpers/vrrp-lab.ts'

const lab = useLab()
const dir = mkdtempSync(join(tmpdir(), 'tslb-sync-'))
const notifyLog = join(dir, 'group.log')
const notifyScript = join(dir, 'group.sh')
writeFileSync(notifyScript, `#!/bin/sh\necho "$*" >> ${notifyLog}\n`)
chmodSync(notifyScript, 0o755)
const running: RunningTslb[] = []

function config (p1: number, p2: number, group: boolean): string {
  const inst = (name: string, vrid: number, priority: number, vip: string): string => `
vrrp_instance ${name}
    interface eth0
    virtual_router_id ${vrid}
    priority ${priority}
    version 3
    advert_int 0.1
    virtual_ipaddress ${vip}/24 dev eth0
`
  return inst('VI_1', 71, p1, lab.vips[0]) + inst('VI_2', 72, p2, lab.vips[1]) +
    (group ? `\nvrrp_sync_group G\n    group VI_1 VI_2\n    notify "${notifyScript}"\n` : '')
}

async function vipsOn (node: LabNode): Promise<string[]> {
  const out = (await lab.exec(node, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout
  return lab.vips.filter(v => out.includes(` ${v}/`))
}

describe('vrrp_sync_group: the members change state together', () => {
  after(async () => {
    await Promise.all(running.map(async r => { await r.kill('SIGTERM') }))
    rmSync(dir, { recursive: true, force: true })
  })

  test('lb1 loses VI_1, so it holds neither VIP; lb2 dies, lb1 takes both and its group notify runs', async () => {
    const lb2 = await startTslb(lab, 'lb2', config(200, 100, false))
    running.push(lb2)
    const lb1 = await startTslb(lab, 'lb1', config(150, 150, true))
    running.push(lb1)
    await waitFor('lb2 holds both VIPs', async () => (await vipsOn('lb2')).length === 2, 10_000)
    await new Promise(resolve => setTimeout(resolve, 1500))
    assert.deepEqual(await vipsOn('lb1'), [], 'VI_2 (150 > 100) stays BACKUP with VI_1')
    assert.deepEqual(await vipsOn('lb2'), [...lab.vips])
    const since = Date.now()
    await lb2.kill('SIGKILL')
    await waitFor('lb1 holds both VIPs', async () => (await vipsOn('lb1')).length === 2, 5_000)
    const masters = lb1.logs().filter(r => r.time >= since && r.msg === 'Entering MASTER STATE').map(r => r.vrrp)
    assert.deepEqual([...masters].sort(), ['VI_1', 'VI_2'])
    const notified = (): boolean => { try { return readFileSync(notifyLog, 'utf8').includes('GROUP G MASTER 0') } catch { return false } }
    await waitFor('group notify', async () => await Promise.resolve(notified()), 5_000)
  })
})
