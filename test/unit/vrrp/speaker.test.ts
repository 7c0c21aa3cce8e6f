/**
 * The speaker with its I/O replaced by fakes: two nodes on an in-memory link (adverts delivered
 * to every other socket), addresses in a map, frames and reaper calls recorded. Real timers,
 * VRRPv3 with 50 ms adverts so elections take a fraction of a second.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { pino } from 'pino'
import { parseConfig } from '../../../src/config/parser.ts'
import type { Config } from '../../../src/config/model.ts'
import { VrrpSpeaker } from '../../../src/vrrp/speaker.ts'
import { formatShowVrrp, formatVrrpStatusLine } from '../../../src/vrrp/show-vrrp.ts'
import type { FrameSink, PacketSocket, Reaper, RtnlLike, SpeakerIo } from '../../../src/vrrp/speaker-io.ts'
import type { AddressSpec, InterfaceAddress, LinkInfo } from '../../../src/net/rtnl.ts'
import type { CommandResult } from '../../../src/vrrp/exec.ts'
import type { VrrpSocketOptions } from '../../../src/net/vrrp-socket.ts'
import { decodeIpv4Header } from '../../../src/vrrp/codec.ts'

const log = pino({ level: 'silent' })
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

class Wire {
  readonly sockets = new Set<FakeSocket>()
  /** Every packet put on the wire: time, sender address, VRRP priority. */
  readonly log: Array<{ t: number, src: string, priority: number }> = []
}

class FakeSocket extends EventEmitter implements PacketSocket {
  readonly wire: Wire
  readonly node: Node
  constructor (wire: Wire, node: Node) {
    super()
    this.wire = wire
    this.node = node
    wire.sockets.add(this)
  }

  send (packet: Uint8Array, dst: string): Promise<void> {
    const ip = decodeIpv4Header(packet)
    assert.ok(ip.ok)
    assert.equal(ip.value.dst, dst)
    this.wire.log.push({ t: performance.now(), src: ip.value.src, priority: packet[ip.value.headerLength + 2] as number })
    this.node.ops.push(`advert ${packet[ip.value.headerLength + 2] as number}`)
    const copy = Buffer.from(packet)
    for (const s of this.wire.sockets) {
      if (s !== this && s.node.alive) setImmediate(() => { s.emit('message', copy, ip.value.src) })
    }
    return Promise.resolve()
  }

  close (): void { this.wire.sockets.delete(this) }
}

class Node implements SpeakerIo, RtnlLike {
  readonly name: string
  readonly address: string
  readonly wire: Wire
  readonly addrs = new Map<string, InterfaceAddress>()
  readonly ops: string[] = []
  readonly frames: Uint8Array[] = []
  readonly reaperCalls: string[] = []
  alive = true
  linksUp = true

  constructor (wire: Wire, name: string, address: string) {
    this.wire = wire
    this.name = name
    this.address = address
    this.addrs.set(address, { family: 4, address, prefixLength: 24, index: 2, secondary: false, label: 'eth0', scope: 0 })
  }

  vips (): string[] { return [...this.addrs.values()].filter(a => a.address !== this.address).map(a => a.address) }

  // SpeakerIo
  openRtnl = (): Promise<RtnlLike> => Promise.resolve(this)
  openSocket = (opts: VrrpSocketOptions): PacketSocket => {
    assert.equal(opts.ifname, 'eth0')
    assert.equal(opts.ifindex, 2)
    return new FakeSocket(this.wire, this)
  }

  frameSink = (): FrameSink => ({ send: f => { this.frames.push(f); this.ops.push('garp') }, close: () => {} })
  reaper = (): Reaper => ({
    start: () => true,
    hold: a => { this.reaperCalls.push(`hold ${a.map(x => x.address).join(',')}`); return true },
    release: a => { this.reaperCalls.push(`release ${a.map(x => x.address).join(',')}`) },
    onDeath: () => {},
    close: () => { this.reaperCalls.push('close') }
  })

  now = (): number => performance.now()
  ipv6Forwarding = (): boolean => false

  // RtnlLike
  links (): Promise<LinkInfo[]> {
    return Promise.resolve([{ index: 1, name: 'lo', mac: undefined, up: true }, { index: 2, name: 'eth0', mac: '02:00:c6:12:00:0b', up: this.linksUp }])
  }

  addresses (): Promise<InterfaceAddress[]> { return Promise.resolve([...this.addrs.values()]) }
  addAddress (a: AddressSpec): Promise<'added' | 'exists'> {
    this.ops.push(`add ${a.address}`)
    if (this.addrs.has(a.address)) return Promise.resolve('exists')
    this.addrs.set(a.address, { family: 4, address: a.address, prefixLength: a.prefixLength, index: a.index, secondary: true, label: a.label, scope: 0 })
    return Promise.resolve('added')
  }

  delAddress (a: AddressSpec): Promise<'removed' | 'absent'> {
    this.ops.push(`del ${a.address}`)
    return Promise.resolve(this.addrs.delete(a.address) ? 'removed' : 'absent')
  }

  #onLinks: (() => void) | undefined
  watchLinks (onChange: () => void): () => void { this.#onLinks = onChange; return () => { this.#onLinks = undefined } }
  setLink (up: boolean): void { this.linksUp = up; this.#onLinks?.() }
  close (): void {}
}

function config (priority: number, extra = '', scripts = ''): Config {
  const text = `${scripts}
vrrp_instance VI_1
    interface eth0
    virtual_router_id 51
    version 3
    advert_int 0.05
    priority ${priority}
    garp_master_delay 0
    virtual_ipaddress 198.18.0.100/24 dev eth0 label eth0:ha
${extra}`
  const { config, diagnostics } = parseConfig(text, 'vrrp.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  return config
}

async function waitFor (what: string, cond: () => boolean, ms = 2000): Promise<void> {
  const until = performance.now() + ms
  while (!cond()) {
    if (performance.now() > until) assert.fail(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

function speaker (node: Node, opts: { proxyHealthy?: () => boolean, run?: () => Promise<CommandResult> } = {}): VrrpSpeaker {
  return new VrrpSpeaker({ log, io: node, proxyHealthy: opts.proxyHealthy ?? (() => true), run: opts.run })
}

const state = (s: VrrpSpeaker): string | undefined => s.status().instances[0]?.state

test('election: the higher priority becomes MASTER, adds the VIP with its label, sends 5 GARPs, tells the reaper', async () => {
  const wire = new Wire()
  const a = new Node(wire, 'lb1', '198.18.0.11')
  const b = new Node(wire, 'lb2', '198.18.0.12')
  const sa = speaker(a)
  const sb = speaker(b)
  await Promise.all([sa.apply(config(150), { strict: true }), sb.apply(config(100), { strict: true })])
  await waitFor('a master', () => state(sa) === 'MASTER' && a.vips().length === 1)
  await sleep(100)
  assert.equal(state(sb), 'BACKUP')
  assert.deepEqual(b.vips(), [])
  assert.equal(a.addrs.get('198.18.0.100')?.label, 'eth0:ha')
  const garps = a.frames.slice(0, 5)
  assert.equal(garps.length, 5)
  for (const f of garps) {
    assert.equal(f.length, 42)
    assert.deepEqual([...f.subarray(28, 32)], [198, 18, 0, 100], 'sender IP = VIP')
    assert.deepEqual([...f.subarray(38, 42)], [198, 18, 0, 100], 'target IP = VIP')
  }
  assert.deepEqual(a.ops.slice(0, 3), ['advert 150', 'add 198.18.0.100', 'garp'], 'advert first, then the VIP, then the GARPs')
  assert.deepEqual(a.reaperCalls, ['hold 198.18.0.100'])
  const st = sb.status().instances[0]
  assert.equal(st?.masterAddress, '198.18.0.11')
  assert.equal(st?.masterPriority, 150)
  assert.ok((st?.counters.advertsReceived ?? 0) > 0)
  assert.match(formatShowVrrp(sa.status()), /state MASTER[\s\S]*master 198\.18\.0\.11 \(this node\)[\s\S]*virtual_ipaddress 198\.18\.0\.100\/24 \(held\)/)
  assert.match(formatVrrpStatusLine(st), /^VI_1: BACKUP, vrid 51 on eth0 v3, priority 100\/100, master 198\.18\.0\.11/)

  // Clean stop: one priority-0 advert, then the VIP goes; the backup takes over after Skew_Time only.
  const t0 = performance.now()
  await sa.stop()
  const i0 = a.ops.lastIndexOf('advert 0')
  assert.ok(i0 >= 0 && i0 < a.ops.lastIndexOf('del 198.18.0.100'), `priority-0 advert before the VIP removal: ${a.ops.join(', ')}`)
  assert.deepEqual(a.reaperCalls, ['hold 198.18.0.100', 'release 198.18.0.100', 'close'])
  assert.deepEqual(a.vips(), [])
  await waitFor('b master', () => state(sb) === 'MASTER')
  const gap = performance.now() - t0
  assert.ok(gap < 100, `takeover ${gap.toFixed(0)} ms after the priority-0 advert (skew ≈ 20 ms)`)
  await sb.stop()
  assert.deepEqual(b.vips(), [])
})

test('reload: an unchanged instance keeps its state machine (no flap); a changed one restarts; a removed one stops', async () => {
  const wire = new Wire()
  const a = new Node(wire, 'lb1', '198.18.0.11')
  const b = new Node(wire, 'lb2', '198.18.0.12')
  const sa = speaker(a)
  const sb = speaker(b)
  await Promise.all([sa.apply(config(150)), sb.apply(config(100))])
  await waitFor('a master', () => state(sa) === 'MASTER')
  const opsBefore = a.ops.filter(o => !o.startsWith('advert') && o !== 'garp').length
  const since = sa.status().instances[0]?.since
  await sa.apply(config(150, '', '# a comment moves every line\n'))
  await sleep(150)
  assert.equal(state(sa), 'MASTER')
  assert.equal(sa.status().instances[0]?.since, since, 'same state machine')
  assert.equal(sa.status().instances[0]?.counters.becameMaster, 1)
  assert.equal(a.ops.filter(o => !o.startsWith('advert') && o !== 'garp').length, opsBefore, 'no VIP removed or added')
  assert.equal(wire.log.filter(p => p.priority === 0).length, 0, 'no priority-0 advert')
  assert.equal(state(sb), 'BACKUP')

  // Changed priority: restarted (priority 0, VIP removed), B takes over, A comes back at 160 and preempts.
  await sa.apply(config(160))
  assert.equal(wire.log.filter(p => p.priority === 0).length, 1)
  await waitFor('b master', () => state(sb) === 'MASTER')
  await waitFor('a preempts back', () => state(sa) === 'MASTER' && state(sb) === 'BACKUP', 3000)
  assert.equal(sa.status().instances[0]?.basePriority, 160)
  assert.deepEqual(b.vips(), [])

  // Removed: stops like a shutdown.
  const empty = parseConfig('vrrp_script unused\n    script "true"\n', 'x.cfg', { env: {} }).config
  await sa.apply(empty)
  assert.equal(sa.status().instances.length, 0)
  assert.deepEqual(a.vips(), [])
  await waitFor('b master again', () => state(sb) === 'MASTER')
  await sa.stop()
  await sb.stop()
})

test('tracking: a failing weight -60 script hands over to the backup, recovery preempts back; an unweighted interface down is FAULT', async () => {
  const wire = new Wire()
  const a = new Node(wire, 'lb1', '198.18.0.11')
  const b = new Node(wire, 'lb2', '198.18.0.12')
  let flag = true
  const ok = (v: boolean): CommandResult => ({ ok: v, exitCode: v ? 0 : 1, signal: undefined, timedOut: false, error: undefined, output: '', durationMs: 1 })
  const sa = speaker(a, { run: () => Promise.resolve(ok(flag)) })
  const sb = speaker(b)
  const scripts = 'vrrp_script chk\n    script "test -f /tmp/flag-lb1"\n    interval 0.02\n    weight -60\n'
  await Promise.all([sa.apply(config(150, '    track_script chk', scripts)), sb.apply(config(100))])
  await waitFor('a master', () => state(sa) === 'MASTER')
  flag = false
  await waitFor('b takes over', () => state(sb) === 'MASTER' && state(sa) === 'BACKUP', 3000)
  assert.equal(sa.status().instances[0]?.effectivePriority, 90)
  assert.deepEqual(a.vips(), [])
  assert.deepEqual(b.vips(), ['198.18.0.100'])
  assert.ok(b.frames.length >= 5, 'the new master sent GARPs')
  assert.match(sa.showVrrp(), /script chk fail weight -60/)
  flag = true
  await waitFor('a preempts back', () => state(sa) === 'MASTER' && state(sb) === 'BACKUP', 3000)
  assert.equal(sa.status().instances[0]?.effectivePriority, 150)

  a.setLink(false)
  await waitFor('a in FAULT', () => state(sa) === 'FAULT')
  assert.deepEqual(a.vips(), [])
  assert.deepEqual(sa.status().instances[0]?.faultReasons, ['interface eth0'])
  await waitFor('b master', () => state(sb) === 'MASTER')
  a.setLink(true)
  await waitFor('a back', () => state(sa) === 'MASTER', 3000)
  await sa.stop()
  await sb.stop()
})

test('start: a VIP left on the interface by a killed run is removed; builtin proxy and a missing interface', async () => {
  const wire = new Wire()
  const a = new Node(wire, 'lb1', '198.18.0.11')
  a.addrs.set('198.18.0.100', { family: 4, address: '198.18.0.100', prefixLength: 24, index: 2, secondary: true, label: 'eth0:ha', scope: 0 })
  let healthy = false
  const sa = speaker(a, { proxyHealthy: () => healthy })
  await sa.apply(config(150, '    track_script p', 'vrrp_script p\n    script builtin proxy\n    interval 0.02\n'))
  assert.equal(a.ops[0], 'del 198.18.0.100')
  assert.equal(state(sa), 'FAULT', 'builtin proxy failing with weight 0: FAULT')
  healthy = true
  await waitFor('master once the proxy serves', () => state(sa) === 'MASTER', 3000)
  await sa.stop()

  const sb = speaker(new Node(wire, 'lb2', '198.18.0.12'))
  await sb.apply(parseConfig('vrrp_instance X\n    interface eth9\n    virtual_router_id 9\n    virtual_ipaddress 198.18.0.101\n', 'x.cfg', { env: {} }).config)
  assert.equal(state(sb), 'FAULT')
  assert.deepEqual(sb.status().instances[0]?.faultReasons, ['interface eth9 does not exist'])
  await sb.stop()
})

function groupConfig (p1: number, p2: number, opts: { group?: boolean, track?: boolean } = {}): Config {
  const inst = (name: string, vrid: number, priority: number, extra: string): string => `
vrrp_instance ${name}
    interface eth0
    virtual_router_id ${vrid}
    version 3
    advert_int 0.05
    priority ${priority}
    garp_master_delay 0
    virtual_ipaddress 198.18.0.${vrid + 49}/24 dev eth0
${extra}`
  const text = `${opts.track === true ? 'vrrp_script chk\n    script "/bin/chk"\n    interval 0.05\n' : ''}
${inst('VI_1', 51, p1, opts.track === true ? '    track_script chk\n' : '')}${inst('VI_2', 52, p2, '')}
${opts.group === false ? '' : 'vrrp_sync_group G\n    group VI_1 VI_2\n    notify "/bin/group-notify"\n    notify_fault "/bin/group-fault"\n'}`
  const { config, diagnostics } = parseConfig(text, 'vrrp.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  return config
}

const states = (s: VrrpSpeaker): string => s.status().instances.map(i => `${i.name}=${i.state}`).join(' ')

test('vrrp_sync_group: a fault of one member takes every member to FAULT and back; the group runs its notify scripts', async () => {
  const wire = new Wire()
  const a = new Node(wire, 'lb1', '198.18.0.11')
  let healthy = true
  const calls: string[][] = []
  const run = async (argv: readonly string[]): Promise<CommandResult> => {
    calls.push([...argv])
    const ok = argv[0] !== '/bin/chk' || healthy
    return await Promise.resolve({ ok, exitCode: ok ? 0 : 1, signal: undefined, timedOut: false, error: undefined, output: '', durationMs: 1 })
  }
  const sa = new VrrpSpeaker({ log, io: a, proxyHealthy: () => true, run })
  await sa.apply(groupConfig(150, 150, { track: true }))
  await waitFor('both master', () => states(sa) === 'VI_1=MASTER VI_2=MASTER')
  const groupCalls = (): string[] => calls.filter(c => c[0]?.startsWith('/bin/group')).map(c => c.join(' '))
  await waitFor('group notify MASTER', () => groupCalls().includes('/bin/group-notify GROUP G MASTER 0'))
  healthy = false
  await waitFor('both in FAULT', () => states(sa) === 'VI_1=FAULT VI_2=FAULT')
  assert.deepEqual(sa.status().instances[1]?.faultReasons, ['vrrp_sync_group G'])
  assert.deepEqual(a.vips(), [])
  await waitFor('group notify FAULT', () => groupCalls().includes('/bin/group-fault') && groupCalls().includes('/bin/group-notify GROUP G FAULT 0'))
  assert.match(formatShowVrrp(sa.status()), /vrrp_sync_group G: FAULT, VI_1 VI_2/)
  healthy = true
  await waitFor('both master again', () => states(sa) === 'VI_1=MASTER VI_2=MASTER', 3000)
  await sa.stop()
  await waitFor('group notify STOP', () => groupCalls().includes('/bin/group-notify GROUP G STOP 0'))
})

test('vrrp_sync_group: a member is MASTER only with the others; without the group each instance elects on its own', async () => {
  for (const group of [true, false]) {
    const wire = new Wire()
    const a = new Node(wire, 'lb1', '198.18.0.11')
    const b = new Node(wire, 'lb2', '198.18.0.12')
    const sa = speaker(a)
    const sb = speaker(b)
    // lb1 loses VI_1 (150 < 200) and would win VI_2 (150 > 100).
    await Promise.all([sa.apply(groupConfig(150, 150, { group })), sb.apply(groupConfig(200, 100, { group: false }))])
    await waitFor('lb2 master of VI_1', () => sb.status().instances[0]?.state === 'MASTER')
    await sleep(600)
    if (group) {
      assert.equal(states(sa), 'VI_1=BACKUP VI_2=BACKUP', 'VI_2 follows VI_1, which lost')
      assert.equal(states(sb), 'VI_1=MASTER VI_2=MASTER')
      assert.deepEqual(a.vips(), [])
      // lb2 goes away: the group's members take over together.
      await sb.stop()
      await waitFor('lb1 master of both', () => states(sa) === 'VI_1=MASTER VI_2=MASTER')
    } else {
      assert.equal(states(sa), 'VI_1=BACKUP VI_2=MASTER')
      await sb.stop()
    }
    await sa.stop()
  }
})
