/**
 * `tslb check -L` and `tslb status` read the real host (systeminformation) inside a lab node:
 * a missing, a down interface and a VIP outside the interface's subnet are warned about; status
 * shows the VRRP interface with its state and MAC address.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { useLab } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'
import { TSLB } from '../helpers/cli.ts'

const lab = useLab()
const dir = mkdtempSync(join(tmpdir(), 'tslb-cli-host-'))

function instance (name: string, vrid: number, iface: string, vip: string): string {
  return `vrrp_instance ${name}\n  interface ${iface}\n  virtual_router_id ${vrid}\n  priority 100\n  version 3\n  advert_int 0.1\n  virtual_ipaddress ${vip}\n`
}

describe('host facts', () => {
  let node: RunningTslb | undefined
  before(async () => {
    const r = await lab.exec('lb1', ['ip', 'link', 'add', 'spare0', 'type', 'veth', 'peer', 'name', 'spare1'])
    assert.equal(r.code, 0, r.stderr)
  })
  after(async () => { await node?.stop() })

  test('check -L on the node warns about a missing interface, a down one and a VIP outside every subnet; without -L it does not look', async () => {
    const cfg = join(dir, 'check.cfg')
    writeFileSync(cfg, [
      instance('VI_OK', 51, 'eth0', `${lab.vips[0]}/24`),
      instance('VI_DOWN', 52, 'spare0', '198.19.250.1/24'),
      instance('VI_MISSING', 53, 'eth7', '198.19.251.1/24'),
      instance('VI_OUTSIDE', 54, 'eth0', '203.0.113.10/32')
    ].join(''))
    const onNode = await lab.exec('lb1', [TSLB, 'check', '-L', 'lb1', '-f', cfg])
    assert.equal(onNode.code, 0, onNode.stderr)
    assert.deepEqual(onNode.stderr.trim().split('\n'), [
      `${cfg}:8: warning: vrrp_instance 'VI_DOWN': interface 'spare0' is down`,
      `${cfg}:15: warning: vrrp_instance 'VI_MISSING': interface 'eth7' does not exist on this host (it has lo, eth0, spare1, spare0)`,
      `${cfg}:28: warning: VIP 203.0.113.10 is outside every subnet of interface 'eth0' (${lab.addr('lb1')}/24): neighbours will not reach it without a route`
    ])
    const offline = await lab.exec('lb1', [TSLB, 'check', '-f', cfg])
    assert.equal(offline.code, 0)
    assert.equal(offline.stderr, '')
  })

  test('status shows this host and each VRRP interface with its state and MAC address', async () => {
    node = await runTslbOn(lab, 'lb1', `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind *:80
    default_backend app
backend app
    server web1 ${lab.net}.21:80
${instance('VI_1', 61, 'eth0', `${lab.vips[0]}/24`)}`)
    const mac = /link\/ether ([0-9a-f:]+)/.exec((await lab.exec('lb1', ['ip', 'link', 'show', 'eth0'])).stdout)?.[1]
    assert.ok(mac !== undefined)
    const text = await lab.exec('lb1', [TSLB, 'status', '-S', node.socket])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /\nhost: \d+ CPUs, load [\d.]+ [\d.]+ [\d.]+, memory \d+ MiB available of \d+ MiB\n/)
    assert.match(text.stdout, new RegExp(`\n  interface eth0: up, MAC ${mac}, ${lab.addr('lb1')}/24`))
    const json = JSON.parse((await lab.exec('lb1', [TSLB, 'status', '--json', '-S', node.socket])).stdout) as { host: { interfaces: { name: string, state: string, mac: string }[] } }
    assert.deepEqual(json.host.interfaces.map(i => [i.name, i.state, i.mac]), [['eth0', 'up', mac]])
  })
})
