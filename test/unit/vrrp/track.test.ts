import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { RiseFall, ScriptTracker, trackedItems, trackingOutcome, type TrackState } from '../../../src/vrrp/track.ts'
import { runCommand, scriptPolicy, type CommandResult, type RunOptions, type ScriptPolicy } from '../../../src/vrrp/exec.ts'
import { splitCommand } from '../../../src/util/command-words.ts'
import { Notifier, notifyCommands } from '../../../src/vrrp/notify.ts'
import { parseConfig } from '../../../src/config/parser.ts'
import { newVrrpInstance, newVrrpScript } from '../../../src/config/keywords/vrrp.ts'
import type { VrrpScript } from '../../../src/config/model.ts'

const log = pino({ level: 'silent' })
const loc = { file: 't.cfg', line: 1 }

test('rise/fall: the first result decides, then rise successes / fall failures in a row flip the state', () => {
  const rf = new RiseFall(2, 3)
  assert.equal(rf.state, 'init')
  assert.equal(rf.record(true), true)
  assert.equal(rf.state, 'ok')
  assert.equal(rf.record(false), false)
  assert.equal(rf.record(false), false)
  assert.equal(rf.record(true), false, 'a success resets the failure count')
  assert.equal(rf.record(false), false)
  assert.equal(rf.record(false), false)
  assert.equal(rf.record(false), true, 'third failure in a row')
  assert.equal(rf.state, 'fail')
  assert.equal(rf.record(true), false)
  assert.equal(rf.record(false), false, 'a failure resets the success count')
  assert.equal(rf.record(true), false)
  assert.equal(rf.record(true), true, 'second success in a row')
  assert.equal(rf.state, 'ok')
  const first = new RiseFall(5, 5)
  first.record(false)
  assert.equal(first.state, 'fail', 'a failing first result fails at once, whatever fall is')
})

test('tracking outcome: weights move the effective priority, weight 0 failing means FAULT', () => {
  assert.deepEqual(trackingOutcome(150, []), { fault: false, effectivePriority: 150, faultReasons: [] })
  const items = (a: TrackState, b: TrackState): Parameters<typeof trackingOutcome>[1] => [
    { kind: 'script', name: 'chk_proxy', weight: -60, state: a },
    { kind: 'script', name: 'chk_plus', weight: 10, state: b }
  ]
  assert.equal(trackingOutcome(150, items('ok', 'ok')).effectivePriority, 160)
  assert.equal(trackingOutcome(150, items('fail', 'ok')).effectivePriority, 100)
  assert.equal(trackingOutcome(150, items('fail', 'fail')).effectivePriority, 90)
  assert.equal(trackingOutcome(150, items('init', 'init')).effectivePriority, 160, "'init' counts as OK")
  assert.equal(trackingOutcome(250, items('ok', 'ok')).effectivePriority, 254, 'clamped to 254')
  assert.equal(trackingOutcome(255, items('fail', 'fail')).effectivePriority, 255, 'the owner is never adjusted')
  const f = trackingOutcome(100, [{ kind: 'interface', name: 'eth1', weight: undefined, state: 'fail' }, { kind: 'script', name: 'chk', weight: 0, state: 'fail' }])
  assert.deepEqual(f.faultReasons, ['interface eth1', 'script chk'])
  assert.equal(f.fault, true)
})

test('tracked items: instance weight overrides the script weight; the instance interface is tracked unless dont_track_primary', () => {
  const inst = newVrrpInstance('VI_1', loc)
  inst.interface = 'eth0'
  inst.trackScripts.push({ name: 'a', weight: -5 }, { name: 'b' }, { name: 'missing' })
  inst.trackInterfaces.push({ name: 'eth1', weight: -20 })
  const a = { ...newVrrpScript('a', loc), weight: 30 }
  const b = { ...newVrrpScript('b', loc), weight: 7 }
  const scripts = new Map<string, { spec: VrrpScript, state: TrackState }>([['a', { spec: a, state: 'fail' }], ['b', { spec: b, state: 'ok' }]])
  const links: Record<string, boolean> = { eth0: true, eth1: false }
  const items = trackedItems(inst, scripts, n => links[n])
  assert.deepEqual(items.map(i => `${i.kind} ${i.name} ${String(i.weight)} ${i.state}`), [
    'script a -5 fail', 'script b 7 ok', 'script missing 0 init', 'interface eth1 -20 fail', 'interface eth0 undefined ok'
  ])
  assert.equal(trackingOutcome(100, items).effectivePriority, 100 - 5 + 7 - 20)
  links['eth0'] = false
  assert.deepEqual(trackingOutcome(100, trackedItems(inst, scripts, n => links[n])).faultReasons, ['interface eth0'])
  inst.dontTrackPrimary = true
  assert.equal(trackingOutcome(100, trackedItems(inst, scripts, n => links[n])).fault, false)
  assert.equal(trackedItems(inst, scripts, () => undefined).find(i => i.name === 'eth1')?.state, 'fail', 'a missing interface is down')
})

function result (ok: boolean, extra: Partial<CommandResult> = {}): CommandResult {
  return { ok, exitCode: ok ? 0 : 1, signal: undefined, timedOut: false, error: undefined, output: '', durationMs: 1, ...extra }
}

test('script tracker: runs every interval with the timeout, counts rise/fall, emits changes', async () => {
  const spec = { ...newVrrpScript('chk', loc), script: { kind: 'exec' as const, command: 'test -f "/tmp/a flag"' }, interval: 20, timeout: 15, rise: 2, fall: 2 }
  const outcomes = [true, false, false, true, true, true]
  const calls: Array<{ argv: readonly string[], opts: RunOptions }> = []
  const tracker = new ScriptTracker(spec, {
    log,
    proxyHealthy: () => true,
    run: (argv, opts) => { calls.push({ argv, opts }); return Promise.resolve(result(outcomes[calls.length - 1] ?? true)) }
  })
  const changes: TrackState[] = []
  tracker.on('change', s => { changes.push(s) })
  tracker.start()
  await tracker.firstResult()
  assert.equal(tracker.state, 'ok')
  await new Promise(resolve => setTimeout(resolve, 20 * 7))
  tracker.stop()
  assert.deepEqual(calls[0]?.argv, ['test', '-f', '/tmp/a flag'])
  assert.equal(calls[0]?.opts.timeoutMs, 15)
  assert.equal(calls[0]?.opts.killWithParent, true)
  assert.ok(calls.length >= 5, `ran ${calls.length} times in 140 ms at a 20 ms interval`)
  assert.deepEqual(changes.slice(0, 3), ['ok', 'fail', 'ok'])
  const st = tracker.status()
  assert.equal(st.failures, 2)
  assert.equal(st.name, 'chk')
  const n = calls.length
  await new Promise(resolve => setTimeout(resolve, 60))
  assert.equal(calls.length, n, 'nothing runs after stop()')
})

test('script tracker: builtin proxy follows the supervisor callback; timeouts are failures', async () => {
  let healthy = true
  const builtin = new ScriptTracker({ ...newVrrpScript('p', loc), script: { kind: 'builtin', name: 'proxy' }, interval: 10 }, { log, proxyHealthy: () => healthy, run: () => Promise.resolve(result(true)) })
  builtin.start()
  await builtin.firstResult()
  assert.equal(builtin.state, 'ok')
  healthy = false
  await new Promise(resolve => setTimeout(resolve, 40))
  assert.equal(builtin.state, 'fail')
  builtin.stop()

  const slow = new ScriptTracker({ ...newVrrpScript('s', loc), script: { kind: 'exec', command: 'sleep 5' }, interval: 1000, timeout: 100 }, { log, proxyHealthy: () => true, run: runCommand })
  const t0 = performance.now()
  slow.start()
  await slow.firstResult()
  slow.stop()
  assert.equal(slow.state, 'fail')
  assert.match(slow.status().lastResult ?? '', /timed out after 0.1 s/)
  assert.ok(performance.now() - t0 < 2000)
})

test('runCommand: exit status, spawn failure, no shell', async () => {
  assert.equal((await runCommand(['true'], { timeoutMs: 2000, killWithParent: true })).ok, true)
  const f = await runCommand(['false'], { timeoutMs: 2000, killWithParent: true })
  assert.equal(f.ok, false)
  assert.equal(f.exitCode, 1)
  const missing = await runCommand(['/nonexistent/script'], { timeoutMs: 2000, killWithParent: true })
  assert.equal(missing.ok, false)
  assert.match(missing.error ?? '', /ENOENT/)
  const echo = await runCommand(['echo', '$HOME', '|', 'x'], { timeoutMs: 2000, killWithParent: true })
  assert.equal(echo.output, '$HOME | x', 'words are passed as they are, no shell')
})

test("command splitting is keepalived's: quotes group, backslash escapes", () => {
  assert.deepEqual(splitCommand('killall -0 haproxy'), ['killall', '-0', 'haproxy'])
  assert.deepEqual(splitCommand(`/bin/check "a b" 'c d' e\\ f  g`), ['/bin/check', 'a b', 'c d', 'e f', 'g'])
  assert.deepEqual(splitCommand('x ""'), ['x', ''])
  assert.deepEqual(splitCommand('  '), [])
})

test('notify: the state script, then `notify` with INSTANCE NAME STATE PRIORITY', () => {
  const inst = newVrrpInstance('VI_1', loc)
  inst.notify.master = { command: '/usr/local/bin/became-master "x y"' }
  inst.notify.any = { command: '/usr/local/bin/any' }
  const argvs = (state: Parameters<typeof notifyCommands>[1], priority: number): (readonly string[])[] =>
    notifyCommands(inst, state, priority).map(r => r.argv)
  assert.deepEqual(argvs('MASTER', 150), [['/usr/local/bin/became-master', 'x y'], ['/usr/local/bin/any', 'INSTANCE', 'VI_1', 'MASTER', '150']])
  assert.deepEqual(argvs('BACKUP', 100), [['/usr/local/bin/any', 'INSTANCE', 'VI_1', 'BACKUP', '100']])
  inst.notify.stop = { command: '/bin/stop' }
  assert.deepEqual(argvs('STOP', 0)[0], ['/bin/stop'])
  assert.deepEqual(argvs('DELETED', 100), [['/bin/stop'], ['/usr/local/bin/any', 'INSTANCE', 'VI_1', 'DELETED', '100']])
})

test('notify "COMMAND ARGS" USER GROUP: parsed as keepalived reads it; more than three words is an error', () => {
  const cfg = (line: string): string => `vrrp_instance VI_1\n    interface eth0\n    virtual_router_id 1\n    ${line}\n`
  const parsed = parseConfig(cfg('notify_master "/bin/up arg" nobody nogroup'), 't.cfg')
  assert.deepEqual(parsed.config.vrrpInstances[0]?.notify.master, { command: '/bin/up arg', user: 'nobody', group: 'nogroup' })
  assert.deepEqual(parseConfig(cfg('notify /bin/any'), 't.cfg').config.vrrpInstances[0]?.notify.any, { command: '/bin/any' })
  const tooMany = parseConfig(cfg('notify_backup /bin/down a b c'), 't.cfg')
  assert.match(tooMany.diagnostics.map(d => d.message).join('\n'), /'notify_backup' expects "COMMAND ARGS" \[USER \[GROUP\]\]/)
  const group = parseConfig(`vrrp_sync_group G\n    group VI_1\n    notify_fault "/bin/f x" nobody\n`, 't.cfg')
  assert.deepEqual(group.config.vrrpSyncGroups[0]?.notify.fault, { command: '/bin/f x', user: 'nobody' })
})

test('script_user and script_ambient_capabilities reach track and notify scripts; a vrrp_script or notify user wins', async () => {
  const calls: RunOptions[] = []
  const run = async (_argv: readonly string[], opts: RunOptions): Promise<CommandResult> => {
    calls.push(opts)
    return await Promise.resolve({ ok: true, exitCode: 0, signal: undefined, timedOut: false, error: undefined, output: '', durationMs: 1 })
  }
  const policy = (): ScriptPolicy => ({ user: 'chk', group: 'checks', keepAmbientCapabilities: true })
  const spec: VrrpScript = { ...newVrrpScript('s', loc), script: { kind: 'exec', command: '/bin/check' } }
  const t = new ScriptTracker(spec, { run, proxyHealthy: () => true, log, policy })
  t.start()
  await t.firstResult()
  t.stop()
  assert.equal(calls[0]?.user, 'chk')
  assert.equal(calls[0]?.group, 'checks')
  assert.equal(calls[0]?.keepAmbientCapabilities, true)
  const own = new ScriptTracker({ ...spec, user: 'other' }, { run, proxyHealthy: () => true, log, policy })
  own.start()
  await own.firstResult()
  own.stop()
  assert.equal(calls[1]?.user, 'other')
  assert.equal(calls[1]?.group, undefined, "the script's own user runs with that user's group")
  const inst = newVrrpInstance('VI_1', loc)
  inst.notify.master = { command: '/bin/notify' }
  new Notifier(run, log, 1000, policy).fire(inst, 'MASTER', 100)
  assert.equal(calls[2]?.user, 'chk')
  assert.equal(calls[2]?.killWithParent, false)
  inst.notify.backup = { command: '/bin/notify', user: 'own' }
  new Notifier(run, log, 1000, policy).fire(inst, 'BACKUP', 100)
  assert.equal(calls[3]?.user, 'own', "the notify line's own user wins")
  assert.equal(calls[3]?.group, undefined, "the notify line's own user runs with that user's group")
  assert.equal(calls[3]?.keepAmbientCapabilities, true)
  assert.deepEqual(scriptPolicy(parseConfig('global\n    script_user u g\n    script_ambient_capabilities\n', 't.cfg').config.global), { user: 'u', group: 'g', keepAmbientCapabilities: true })
  assert.deepEqual(scriptPolicy(parseConfig('global\n    maxconn 10\n', 't.cfg').config.global), { user: undefined, group: undefined, keepAmbientCapabilities: false })
})
