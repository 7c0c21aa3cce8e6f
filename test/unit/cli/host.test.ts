import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'
import { type HostFacts, hostWarnings } from '../../../src/cli/host.ts'

const HOST: HostFacts = {
  cpus: 2,
  load: [0.5, 0.4, 0.3],
  memoryTotal: 4 << 30,
  memoryAvailable: 2 << 30,
  interfaces: [
    { name: 'lo', state: 'unknown', mac: '00:00:00:00:00:00', addresses: ['127.0.0.1/8', '::1/128'] },
    { name: 'eth0', state: 'up', mac: '02:00:00:00:00:01', addresses: ['198.18.0.11/24', '198.18.0.100/32', 'fe80::1/64'] },
    { name: 'eth1', state: 'down', mac: '02:00:00:00:00:02', addresses: ['198.19.0.11/24'] }
  ]
}

function warnings (text: string, host: HostFacts = HOST): string[] {
  const { config, diagnostics } = parseConfig(text, 't.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  return hostWarnings(config, host).map(formatDiagnostic)
}

function instance (name: string, iface: string, vip: string): string {
  return `vrrp_instance ${name}\n  interface ${iface}\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress ${vip}\n`
}

test('a VRRP interface that exists and is up, with the VIP in its subnet, is fine', () => {
  assert.deepEqual(warnings(instance('VI_1', 'eth0', '198.18.0.100/24')), [])
})

test('a missing interface, a down one, and a VIP outside every subnet are warned about at their lines', () => {
  assert.deepEqual(warnings(instance('VI_1', 'eth9', '198.18.0.100/24') + instance('VI_2', 'eth1', '198.19.0.100/24') + instance('VI_3', 'eth0', '203.0.113.10/24')), [
    "t.cfg:1: warning: vrrp_instance 'VI_1': interface 'eth9' does not exist on this host (it has lo, eth0, eth1)",
    "t.cfg:6: warning: vrrp_instance 'VI_2': interface 'eth1' is down",
    "t.cfg:15: warning: VIP 203.0.113.10 is outside every subnet of interface 'eth0' (198.18.0.11/24): neighbours will not reach it without a route"
  ])
})

test("the VIP's own /32, present while this node is master, does not count as its subnet; a dev on the address is the one checked", () => {
  const host: HostFacts = { ...HOST, interfaces: [{ name: 'eth0', state: 'up', mac: '02:00:00:00:00:01', addresses: ['198.18.0.11/24', '203.0.113.10/32'] }] }
  assert.match(warnings(instance('VI_1', 'eth0', '203.0.113.10/32'), host)[0] ?? '', /VIP 203.0.113.10 is outside every subnet of interface 'eth0' \(198.18.0.11\/24\)/)
  assert.deepEqual(warnings(instance('VI_1', 'eth0', '198.19.0.100/24 dev eth1')), ["t.cfg:1: warning: vrrp_instance 'VI_1': interface 'eth1' is down"])
})

test('nbthread above the CPU count is warned about', () => {
  const backend = 'backend app\n  server s1 198.18.0.21:80\n'
  assert.deepEqual(warnings(`global\n  nbthread 2\n${backend}`), [])
  assert.deepEqual(warnings(`global\n  nbthread 8\n${backend}`), ["t.cfg: warning: nbthread 8 is more than this host's 2 CPUs"])
})
