import { test } from 'node:test'
import assert from 'node:assert/strict'
import { VrrpStateMachine, advertEvent, machineOptionsFromInstance, resolveMachineOptions, type VrrpAction } from '../../../src/vrrp/state-machine.ts'
import { masterDownIntervalMs, normalizeAdvertInterval, skewTimeMs } from '../../../src/vrrp/timers.ts'
import { computeEffectivePriority, trackerContribution } from '../../../src/vrrp/priority.ts'
import { newVrrpInstance } from '../../../src/config/keywords/vrrp.ts'
import { SimNet } from './harness.ts'

const types = (actions: readonly VrrpAction[]): string[] => actions.map(a => a.type === 'send-advert' ? `send-advert:${a.priority}` : a.type === 'state-change' ? `state:${a.from}>${a.to}:${a.reason}` : a.type === 'send-garp' ? `garp:${a.count}:${a.reason}` : a.type)
const V2 = { version: 2 as const, advertIntervalMs: 1000 }
const V3FAST = { version: 3 as const, advertIntervalMs: 100 }

test('timer arithmetic is keepalived\'s (µs integers)', () => {
  assert.equal(skewTimeMs(2, 100, 1000), 609.375)
  assert.equal(masterDownIntervalMs(2, 100, 1000), 3609.375, 'reference: 3.609 s, [LAB] 3.610 s')
  assert.equal(masterDownIntervalMs(2, 150, 1000), 3414.062, '[LAB] about 3.4 s at priority 150')
  assert.equal(masterDownIntervalMs(2, 128, 1000), 3500, 'keepalived.conf(5) preempt_delay text: 3.5 s')
  assert.equal(skewTimeMs(2, 100, 2000), 609.375, 'v2 skew does not scale with the interval (RFC 3768)')
  assert.equal(skewTimeMs(3, 100, 100), 60.937, 'v3 skew scales with the master interval (RFC 5798)')
  assert.equal(masterDownIntervalMs(3, 100, 100), 360.937, '[LAB] 0.3615 s')
  assert.equal(skewTimeMs(3, 255, 1000), 3.906)
  assert.deepEqual(normalizeAdvertInterval(2, 1000), { ms: 1000 })
  assert.equal(normalizeAdvertInterval(2, 1400).ms, 1000)
  assert.equal(normalizeAdvertInterval(2, 100).ms, 1000, 'v2 minimum 1 s')
  assert.equal(normalizeAdvertInterval(3, 100).ms, 100)
  assert.equal(normalizeAdvertInterval(3, 125).ms, 130)
  assert.equal(normalizeAdvertInterval(3, 50_000).ms, 40_950)
  assert.ok(normalizeAdvertInterval(3, 125).warning)
})

test('effective priority: weights, clamping, owner, weight 0 means fault', () => {
  assert.equal(computeEffectivePriority(100, [20, -50]), 70)
  assert.equal(computeEffectivePriority(100, [-200]), 1)
  assert.equal(computeEffectivePriority(250, [20]), 254)
  assert.equal(computeEffectivePriority(255, [-100]), 255)
  assert.equal(trackerContribution(2, true), 2)
  assert.equal(trackerContribution(2, false), 0)
  assert.equal(trackerContribution(-20, true), 0)
  assert.equal(trackerContribution(-20, false), -20)
  assert.equal(trackerContribution(undefined, true), 0)
  assert.equal(trackerContribution(0, false), 'fault')
  assert.equal(trackerContribution(0, true, true), 'fault')
  assert.equal(trackerContribution(10, true, true), -10)
  assert.equal(trackerContribution(-10, false, true), 10)
})

test('single node: BACKUP at start, MASTER after exactly the master-down interval; advert first, then VIPs, GARPs, notify', () => {
  const m = new VrrpStateMachine({ ...V2, priority: 100, localAddress: '198.18.0.11' })
  assert.equal(m.state, 'INIT')
  assert.equal(m.nextDeadline(), undefined)
  assert.deepEqual(types(m.start(1000)), ['state:INIT>BACKUP:startup'])
  assert.equal(m.nextDeadline(), 1000 + 3609.375)
  assert.deepEqual(m.timerFired(4000), [], 'early call: nothing due')
  assert.deepEqual(types(m.timerFired(4609.375)), ['send-advert:100', 'add-vips', 'garp:5:become-master', 'state:BACKUP>MASTER:master-no-response'])
  assert.equal(m.state, 'MASTER')
  // Adverts every second; the second GARP burst garp_master_delay (5 s) later.
  const seen: string[] = []
  for (let i = 0; i < 6; i++) {
    const t = m.nextDeadline()
    assert.ok(t !== undefined)
    seen.push(`${t - 4609.375}:${types(m.timerFired(t)).join(',')}`)
  }
  assert.deepEqual(seen, ['1000:send-advert:100', '2000:send-advert:100', '3000:send-advert:100', '4000:send-advert:100', '5000:garp:5:master-delay,send-advert:100', '6000:send-advert:100'])
})

test('two nodes elect the higher priority; the lower stays BACKUP; never two masters', () => {
  const net = new SimNet(1)
  net.add('a', '198.18.0.11', { ...V2, priority: 150 }, 0)
  net.add('b', '198.18.0.12', { ...V2, priority: 100 }, 0)
  net.runUntil(60_000)
  assert.equal(net.firstTime('a', 'MASTER'), 3414.062)
  assert.equal(net.firstTime('b', 'MASTER'), undefined)
  assert.equal(net.node('b').machine.state, 'BACKUP')
  assert.equal(net.node('b').machine.masterAddress, '198.18.0.11')
  assert.equal(net.lastDualMaster(), -Infinity)
  assert.ok(net.node('a').holdsVips && !net.node('b').holdsVips)
})

test('a higher-priority node joining later preempts after its own master-down interval; a single master after that', () => {
  const net = new SimNet(1)
  net.add('b', '198.18.0.12', { ...V2, priority: 100 }, 0)
  net.add('a', '198.18.0.11', { ...V2, priority: 150 }, 10_000)
  net.runUntil(60_000)
  assert.equal(net.firstTime('b', 'MASTER'), 3609.375)
  // a discards b's lower-priority adverts without resetting its timer: preemption when it expires.
  assert.equal(net.firstTime('a', 'MASTER'), 10_000 + 3414.062)
  assert.equal(net.firstTime('b', 'BACKUP', 5000), 10_000 + 3414.062 + 1, 'b yields one network delay later')
  assert.ok(net.lastDualMaster() <= 10_000 + 3414.062 + 1)
  assert.equal(net.node('a').machine.state, 'MASTER')
  assert.equal(net.node('b').machine.state, 'BACKUP')
})

test('master stops cleanly (priority 0): the backup takes over after Skew_Time only', () => {
  const net = new SimNet(1)
  net.add('a', '198.18.0.11', { ...V2, priority: 150 }, 0)
  net.add('b', '198.18.0.12', { ...V2, priority: 100 }, 0)
  net.call(20_000.5, 'a', (m, now) => {
    const actions = m.stop(now)
    assert.deepEqual(types(actions), ['send-advert:0', 'remove-vips', 'state:MASTER>STOP:stop'])
    return actions
  })
  net.runUntil(30_000)
  const takeover = net.firstTime('b', 'MASTER')
  assert.ok(takeover !== undefined)
  assert.equal(takeover - 20_000.5, 1 + 609.375, 'delay + skew (reference [LAB]: 0.612 s)')
  assert.equal(net.node('a').machine.state, 'STOP')
  assert.equal(net.node('a').machine.nextDeadline(), undefined)
  const st = net.node('b').actions.find(x => x.action.type === 'state-change' && x.action.to === 'MASTER')?.action
  assert.ok(st?.type === 'state-change' && st.reason === 'master-stopped')
})

test('master dies silently: the backup takes over exactly Master_Down_Interval after the last advert it got', () => {
  const net = new SimNet(1)
  net.add('a', '198.18.0.11', { ...V2, priority: 150 }, 0)
  net.add('b', '198.18.0.12', { ...V2, priority: 100 }, 0)
  net.kill(20_000, 'a')
  net.runUntil(40_000)
  const lastAdvert = Math.max(...net.node('a').adverts.filter(x => x.t < 20_000).map(x => x.t))
  const takeover = net.firstTime('b', 'MASTER')
  assert.ok(takeover !== undefined)
  assert.equal(takeover - (lastAdvert + 1), 3 * 1000 + 609.375, '3 × adv + skew (reference [LAB]: 3.610 s)')
  const st = net.node('b').states.at(-1)
  assert.equal(st?.state, 'MASTER')
})

test('the higher-priority node comes back: it preempts; with nopreempt it does not; preempt_delay delays it', () => {
  const run = (extra: { nopreempt?: boolean, preemptDelayMs?: number }): SimNet => {
    const net = new SimNet(1)
    net.add('a', '198.18.0.11', { ...V2, priority: 150 }, 0)
    net.add('b', '198.18.0.12', { ...V2, priority: 100 }, 0)
    net.kill(10_000, 'a')
    net.add('a', '198.18.0.11', { ...V2, priority: 150, ...extra }, 30_000)
    net.runUntil(60_000)
    return net
  }
  const plain = run({})
  assert.equal(plain.firstTime('a', 'MASTER', 30_000), 30_000 + 3414.062)
  assert.equal(plain.node('a').machine.state, 'MASTER')
  assert.equal(plain.node('b').machine.state, 'BACKUP')
  assert.ok(plain.lastDualMaster() <= 30_000 + 3414.062 + 1)

  const nopreempt = run({ nopreempt: true })
  assert.equal(nopreempt.firstTime('a', 'MASTER', 30_000), undefined)
  assert.equal(nopreempt.node('b').machine.state, 'MASTER')
  assert.equal(nopreempt.lastDualMaster(), -Infinity)

  const delayed = run({ preemptDelayMs: 10_000 })
  const t = delayed.firstTime('a', 'MASTER', 30_000)
  assert.ok(t !== undefined)
  // The delay starts at the first lower-priority advert (r0 ≤ 31 s); adverts keep resetting the
  // timer until r0 + 10 s; the take-over is one master-down interval after the last one accepted.
  const r0 = delayed.node('b').adverts.map(x => x.t + 1).find(x => x > 30_000) as number
  assert.equal(t, r0 + 9000 + 3414.062)
  assert.ok(t > 30_000 + 10_000)
  assert.equal(delayed.node('a').machine.state, 'MASTER')
})

test('equal priorities: the numerically higher address wins a simultaneous election; an incumbent is never preempted', () => {
  const net = new SimNet(1)
  net.add('low', '198.18.0.9', { ...V2, priority: 100 }, 0)
  net.add('high', '198.18.0.10', { ...V2, priority: 100 }, 0)
  net.runUntil(30_000)
  assert.equal(net.node('high').machine.state, 'MASTER', '198.18.0.10 > 198.18.0.9 numerically, not as text')
  assert.equal(net.node('low').machine.state, 'BACKUP')
  const st = net.node('low').actions.find(x => x.action.type === 'state-change' && x.action.to === 'BACKUP' && x.action.from === 'MASTER')?.action
  assert.ok(st?.type === 'state-change' && st.reason === 'equal-priority-higher-address')
  assert.ok(net.lastDualMaster() <= 3609.375 + 1)

  const staggered = new SimNet(1)
  staggered.add('low', '198.18.0.9', { ...V2, priority: 100 }, 0)
  staggered.add('high', '198.18.0.10', { ...V2, priority: 100 }, 5000)
  staggered.runUntil(30_000)
  assert.equal(staggered.node('low').machine.state, 'MASTER')
  assert.equal(staggered.node('high').machine.state, 'BACKUP')
  assert.equal(staggered.lastDualMaster(), -Infinity)
})

test('a tracker weight drops the master below its peer: the peer preempts, the old master yields', () => {
  const net = new SimNet(1)
  net.add('a', '198.18.0.11', { ...V2, priority: 130 }, 0)
  net.add('b', '198.18.0.12', { ...V2, priority: 100 }, 0)
  net.call(10_000.5, 'a', (m, now) => m.priorityChanged(now, computeEffectivePriority(130, [trackerContribution(-50, false) as number])))
  net.runUntil(30_000)
  assert.equal(net.node('a').machine.effectivePriority, 80)
  const lastHigh = Math.max(...net.node('a').adverts.filter(x => x.priority === 130).map(x => x.t))
  assert.equal(net.firstTime('b', 'MASTER'), lastHigh + 1 + 3609.375)
  assert.equal(net.node('a').machine.state, 'BACKUP')
  assert.equal(net.node('b').machine.state, 'MASTER')
  assert.ok(net.lastDualMaster() <= (net.firstTime('b', 'MASTER') as number) + 1)
})

test('v3 with advert_int 0.1: take-over in under 0.5 s, and a backup adopts the master\'s interval', () => {
  const net = new SimNet(1)
  net.add('a', '198.18.0.11', { ...V3FAST, priority: 150 }, 0)
  // b is configured with 1 s but must follow the master's 0.1 s (RFC 5798 §6.4.2).
  net.add('b', '198.18.0.12', { version: 3, advertIntervalMs: 1000, priority: 100 }, 0)
  net.kill(5000, 'a')
  net.runUntil(10_000)
  assert.equal(net.firstTime('a', 'MASTER'), 300 + 41.406)
  assert.equal(net.node('b').states.filter(x => x.state === 'MASTER').length, 1, 'b became master once, after the kill')
  assert.equal(net.lastDualMaster(), -Infinity)
  const lastAdvert = Math.max(...net.node('a').adverts.filter(x => x.t < 5000).map(x => x.t))
  const takeover = net.firstTime('b', 'MASTER') as number
  assert.ok(takeover - lastAdvert < 500, `${takeover - lastAdvert} ms`)
  assert.equal(Math.round((takeover - (lastAdvert + 1)) * 1000), 360_937, '3 × 0.1 s + 156 × 10 cs / 256 ([LAB] 0.3615 s)')
  // As master, b advertises its own interval again.
  assert.equal(net.node('b').machine.masterAdvertIntervalMs, 1000)
})

test('priority 255 owner: master at once; takes over from a running master; two owners: one steps down to 254', () => {
  const m = new VrrpStateMachine({ ...V2, priority: 255, localAddress: '198.18.0.11' })
  assert.deepEqual(types(m.start(0)), ['send-advert:255', 'add-vips', 'garp:5:become-master', 'state:INIT>MASTER:address-owner'])
  assert.equal(m.priorityChanged(1, 100).length, 0, 'the owner\'s priority never changes')
  assert.equal(m.effectivePriority, 255)

  const explicitBackup = new VrrpStateMachine({ ...V2, priority: 255, initialState: 'BACKUP' })
  assert.deepEqual(types(explicitBackup.start(0)), ['state:INIT>BACKUP:startup'])
  assert.equal(explicitBackup.nextDeadline(), 3003.906)

  const net = new SimNet(1)
  net.add('b', '198.18.0.12', { ...V2, priority: 100 }, 0)
  net.add('owner', '198.18.0.11', { ...V2, priority: 255 }, 10_000)
  net.runUntil(20_000)
  assert.equal(net.firstTime('owner', 'MASTER'), 10_000)
  assert.equal(net.firstTime('b', 'BACKUP', 5000), 10_001)

  const two = new SimNet(1)
  two.add('o1', '198.18.0.11', { ...V2, priority: 255 }, 0)
  two.add('o2', '198.18.0.12', { ...V2, priority: 255 }, 0)
  two.runUntil(10_000)
  assert.equal(two.node('o1').machine.state, 'BACKUP')
  assert.equal(two.node('o1').machine.effectivePriority, 254)
  assert.equal(two.node('o2').machine.state, 'MASTER')
  assert.ok(two.node('o1').actions.some(x => x.action.type === 'log' && x.action.level === 'warn' && x.action.message.includes('address owner')))
})

test('as master: a lower-priority advert is answered at once with an advert and GARPs (and 5 more after 5 s); priority 0 with an advert', () => {
  const m = new VrrpStateMachine({ ...V2, priority: 150, localAddress: '198.18.0.11' })
  m.start(0)
  m.timerFired(m.nextDeadline() as number)
  const t = 3500
  assert.deepEqual(types(m.advertReceived(t, { priority: 100, srcAddress: '198.18.0.12', advertIntervalMs: 1000 })), ['log', 'send-advert:150', 'garp:5:lower-priority'])
  assert.equal(m.state, 'MASTER')
  assert.equal(m.nextDeadline(), t + 1000, 'the advert timer restarts from the reply')
  const seen: string[] = []
  for (let now = t; now < t + 5001;) {
    now = m.nextDeadline() as number
    seen.push(...types(m.timerFired(now)).map(x => `${now - t}:${x}`))
  }
  assert.ok(seen.includes('5000:garp:5:lower-priority-delay'), seen.join(' '))
  assert.deepEqual(types(m.advertReceived(9000, { priority: 0, srcAddress: '198.18.0.12', advertIntervalMs: 1000 })), ['send-advert:150'])
  assert.deepEqual(types(m.advertReceived(9001, { priority: 150, srcAddress: '198.18.0.10', advertIntervalMs: 1000 })), ['log', 'send-advert:150', 'garp:5:lower-priority'], 'equal priority, lower address: we stay')
  assert.deepEqual(types(m.advertReceived(9002, { priority: 200, srcAddress: '198.18.0.10', advertIntervalMs: 1000 })), ['remove-vips', 'state:MASTER>BACKUP:higher-priority'])
  assert.equal(m.nextDeadline(), 9002 + 3000 + 414.062, 'pending GARPs are dropped; the master-down timer runs')
})

test('backup: priority 0 gives Skew_Time, an equal or higher advert resets the timer, a lower one is discarded without reset', () => {
  const m = new VrrpStateMachine({ ...V2, priority: 100, localAddress: '198.18.0.12' })
  m.start(0)
  assert.deepEqual(m.advertReceived(1000, { priority: 100, srcAddress: '198.18.0.11', advertIntervalMs: 1000 }), [])
  assert.equal(m.nextDeadline(), 1000 + 3609.375)
  assert.equal(types(m.advertReceived(2000, { priority: 50, srcAddress: '198.18.0.11', advertIntervalMs: 1000 }))[0], 'log')
  assert.equal(m.nextDeadline(), 1000 + 3609.375, 'not reset')
  m.advertReceived(2500, { priority: 0, srcAddress: '198.18.0.11', advertIntervalMs: 1000 })
  assert.equal(m.nextDeadline(), 2500 + 609.375)
  // A priority change moves the running timer by the change of Skew_Time.
  m.advertReceived(2600, { priority: 200, srcAddress: '198.18.0.11', advertIntervalMs: 1000 })
  assert.equal(m.nextDeadline(), 2600 + 3609.375)
  m.priorityChanged(2700, 156)
  assert.equal(m.nextDeadline(), 2600 + 3000 + 390.625)
})

test('fault: as master one priority-0 advert then the VIPs go; adverts ignored; cleared → BACKUP with a full timer', () => {
  const m = new VrrpStateMachine({ ...V2, priority: 150, localAddress: '198.18.0.11' })
  m.start(0)
  m.timerFired(m.nextDeadline() as number)
  assert.deepEqual(types(m.fault(5000)), ['send-advert:0', 'remove-vips', 'state:MASTER>FAULT:fault'])
  assert.deepEqual(m.fault(5001), [], 'a level, not a count')
  assert.equal(m.nextDeadline(), undefined, 'no adverts in FAULT')
  assert.deepEqual(m.advertReceived(5100, { priority: 200, srcAddress: '198.18.0.12', advertIntervalMs: 1000 }), [])
  assert.deepEqual(types(m.faultCleared(6000)), ['state:FAULT>BACKUP:fault-cleared'])
  assert.equal(m.nextDeadline(), 6000 + 3414.062)
  assert.deepEqual(types(m.stop(7000)), ['state:BACKUP>STOP:stop'])
  assert.deepEqual(m.start(8000), [])

  const early = new VrrpStateMachine({ ...V2, priority: 100 })
  early.fault(0)
  assert.deepEqual(types(early.start(0)), ['state:INIT>FAULT:fault'])
  assert.deepEqual(types(early.faultCleared(10)), ['state:FAULT>BACKUP:fault-cleared'])
})

test('options: nopreempt only with initial state BACKUP (keepalived warns and clears), errors for impossible values', () => {
  const r = resolveMachineOptions({ ...V2, priority: 100, initialState: 'MASTER', nopreempt: true, preemptDelayMs: 5000 })
  assert.equal(r.options.nopreempt, false)
  assert.equal(r.options.preemptDelayMs, 0)
  assert.equal(r.warnings.length, 2)
  assert.match(r.warnings[0] as string, /nopreempt will not work with initial state MASTER/)
  assert.equal(resolveMachineOptions({ ...V2, priority: 100, nopreempt: true, preemptDelayMs: 5000 }).options.preemptDelayMs, 0)
  assert.equal(resolveMachineOptions({ ...V2, priority: 255, initialState: 'BACKUP', nopreempt: true }).options.nopreempt, false)
  assert.equal(resolveMachineOptions({ ...V2, priority: 100, nopreempt: true }).warnings.length, 0)
  const m = new VrrpStateMachine({ ...V2, priority: 100, initialState: 'MASTER', nopreempt: true })
  assert.equal(m.warnings.length, 1)
  assert.equal(m.options.initialState, 'MASTER')
  assert.deepEqual(types(m.start(0)), ['state:INIT>BACKUP:startup'], 'state MASTER below 255 still starts in BACKUP')
  assert.throws(() => new VrrpStateMachine({ ...V2, priority: 0 }), { code: 'TSLB_ERR_VRRP_CONFIG' })
  assert.throws(() => new VrrpStateMachine({ ...V2, priority: 100, localAddress: 'eth0' }), { code: 'TSLB_ERR_VRRP_CONFIG' })
  assert.throws(() => new VrrpStateMachine({ version: 2, advertIntervalMs: 0, priority: 100 }), { code: 'TSLB_ERR_VRRP_CONFIG' })
})

test('options from a configured instance, advert events from validated packets', () => {
  const inst = newVrrpInstance('VI_1', { file: 't.cfg', line: 1 })
  inst.priority = 101
  inst.unicastSrcIp = '198.18.0.11'
  inst.garpMasterDelay = 0
  const o = machineOptionsFromInstance(inst, '198.18.0.99')
  assert.equal(o.localAddress, '198.18.0.11', 'unicast_src_ip wins over the interface address')
  assert.equal(o.priority, 101)
  assert.equal(o.garpMasterDelayMs, 0)
  const m = new VrrpStateMachine(o)
  m.start(0)
  const t0 = m.nextDeadline() as number
  assert.ok(m.timerFired(t0).some(a => a.type === 'state-change'))
  const later: VrrpAction[] = []
  while ((m.nextDeadline() as number) < t0 + 10_000) later.push(...m.timerFired(m.nextDeadline() as number))
  assert.ok(later.every(a => a.type === 'send-advert'), 'no delayed GARP with garp_master_delay 0')
  assert.equal(later.length, 9)
  assert.deepEqual(advertEvent({ advert: { priority: 7 }, src: '198.18.0.12', advertIntervalMs: 100 }), { priority: 7, srcAddress: '198.18.0.12', advertIntervalMs: 100 })
})
