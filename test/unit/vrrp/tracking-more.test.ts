/**
 * keepalived 2.2's track_file and vrrp_track_process semantics, the sync-group hooks of the
 * state machine, and the configuration of the three sections.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { FileTracker, parseTrackFileValue, trackFileContribution } from '../../../src/vrrp/track-file.ts'
import { parseStat, processMatches, ProcessTracker, Quorum, readProcs, type ProcEntry } from '../../../src/vrrp/track-process.ts'
import { trackedItems, trackingOutcome } from '../../../src/vrrp/track.ts'
import { VrrpStateMachine } from '../../../src/vrrp/state-machine.ts'
import { newVrrpTrackProcess } from '../../../src/config/keywords/vrrp-tracking.ts'
import { parseConfig } from '../../../src/config/parser.ts'

const log = pino({ level: 'silent' })
const loc = { file: 't.cfg', line: 1 }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

test('track file values as keepalived reads them (strtol base 0), and what they contribute', () => {
  assert.equal(parseTrackFileValue('12\n'), 12)
  assert.equal(parseTrackFileValue('  -3 trailing'), -3)
  assert.equal(parseTrackFileValue('0x10'), 16)
  assert.equal(parseTrackFileValue('010'), 8)
  assert.equal(parseTrackFileValue(''), 0)
  assert.equal(parseTrackFileValue('abc'), 0)
  assert.equal(parseTrackFileValue('99999999999'), undefined, 'outside int32: ignored')
  assert.equal(trackFileContribution(0, 0, false), 0)
  assert.equal(trackFileContribution(5, 0, false), 'fault', 'weight 0: non-zero is FAULT')
  assert.equal(trackFileContribution(0, 0, true), 'fault', 'reverse: zero is FAULT')
  assert.equal(trackFileContribution(5, 0, true), 0)
  assert.equal(trackFileContribution(5, 10, false), 50)
  assert.equal(trackFileContribution(5, 10, true), -50)
  assert.equal(trackFileContribution(-30, 10, false), 'fault', '≤ -254 is FAULT')
  assert.equal(trackFileContribution(300, 1, false), 253, 'at most 253')
})

test('a track file is re-read when written, moved in or removed; init_file writes a missing one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-trackfile-'))
  try {
    const file = join(dir, 'prio')
    const t = new FileTracker({ name: 'f', loc, file, weight: 1, reverse: false, init: { value: 7, overwrite: false } }, log)
    const seen: number[] = []
    t.on('change', v => { seen.push(v) })
    t.start()
    assert.equal(readFileSync(file, 'utf8'), '7\n')
    assert.equal(t.value, 7)
    writeFileSync(file, '-20\n')
    const until = async (v: number): Promise<void> => { for (let i = 0; i < 100 && t.value !== v; i++) await sleep(10) }
    await until(-20)
    assert.equal(t.value, -20)
    unlinkSync(file)
    await until(0)
    assert.equal(t.value, 0, 'removed: 0')
    t.stop()
    assert.deepEqual(seen, [-20, 0])
    const inst = parseConfig('vrrp_track_file f\n    file /x\n    weight 2 reverse\nvrrp_instance V\n    interface eth0\n    virtual_router_id 5\n    virtual_ipaddress 198.18.0.100\n    track_file f\n', 't.cfg').config
    const items = trackedItems(inst.vrrpInstances[0] as never, new Map(), () => true, { files: new Map([['f', { spec: inst.vrrpTrackFiles[0] as never, value: 10 }]]) })
    assert.equal(trackingOutcome(100, items).effectivePriority, 80, 'value 10 × weight 2, reversed')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('process matching as keepalived: comm, or argv[0] and parameters (exact, partial, initial); zombies never', () => {
  const p = (comm: string, argv?: string[], state = 'S'): ProcEntry => ({ comm, state, argv })
  const spec = { ...newVrrpTrackProcess('t', loc), process: 'haproxy' }
  assert.equal(processMatches(spec, p('haproxy')), true)
  assert.equal(processMatches(spec, p('haproxy-x')), false, 'exact, not a pattern (pgrep "^name$")')
  assert.equal(processMatches(spec, p('haproxy', [], 'Z')), false)
  const full = { ...spec, process: '/usr/sbin/haproxy', fullCommand: true }
  assert.equal(processMatches(full, p('haproxy', ['/usr/sbin/haproxy', '-f', 'x'])), true)
  const exact = { ...full, params: ['-f', '/etc/h.cfg'], paramMatch: 'exact' as const }
  assert.equal(processMatches(exact, p('h', ['/usr/sbin/haproxy', '-f', '/etc/h.cfg'])), true)
  assert.equal(processMatches(exact, p('h', ['/usr/sbin/haproxy', '-f', '/etc/h.cfg', '-D'])), false)
  assert.equal(processMatches({ ...exact, paramMatch: 'partial' }, p('h', ['/usr/sbin/haproxy', '-f', '/etc/h.cfg', '-D'])), true)
  assert.equal(processMatches({ ...exact, params: ['-f', '/etc/h'], paramMatch: 'initial' }, p('h', ['/usr/sbin/haproxy', '-f', '/etc/h.cfg'])), true)
  assert.equal(processMatches({ ...exact, params: ['-f', '/etc/h'], paramMatch: 'partial' }, p('h', ['/usr/sbin/haproxy', '-f', '/etc/h.cfg'])), false)
  assert.deepEqual(parseStat('42 (my (odd) name) S 1 2'), { comm: 'my (odd) name', state: 'S' })
  const own = readProcs(true).filter(x => x.argv?.[0] === process.argv0 || x.argv?.[0] === process.execPath)
  assert.ok(own.length >= 1, 'this test process is found in /proc')
})

test('quorum with fork_delay / terminate_delay; a tracker counts matching processes', async () => {
  const q = new Quorum({ quorum: 2, quorumMax: 3, forkDelay: 100, terminateDelay: 50 })
  assert.equal(q.update(0, 1), true)
  assert.equal(q.state, 'fail', 'first reading decides at once')
  assert.equal(q.update(10, 2), false)
  assert.equal(q.update(60, 2), false, 'fork_delay not over')
  assert.equal(q.update(110, 2), true)
  assert.equal(q.state, 'ok')
  assert.equal(q.update(120, 4), false, 'above quorum_max')
  assert.equal(q.update(150, 3), false, 'back within: the pending change is dropped')
  assert.equal(q.update(300, 3), false)
  assert.equal(q.update(310, 0), false)
  assert.equal(q.update(360, 0), true)
  assert.equal(q.state, 'fail')
  const zero = new Quorum({ quorum: 0, quorumMax: 0, forkDelay: 0, terminateDelay: 0 })
  zero.update(0, 0)
  assert.equal(zero.state, 'ok', 'quorum_max 0: OK while none runs')
  let procs: ProcEntry[] = [{ comm: 'web', state: 'S' }]
  const t = new ProcessTracker({ ...newVrrpTrackProcess('w', loc), process: 'web', interval: 20 }, log, { procs: () => procs })
  const seen: string[] = []
  t.on('change', s => { seen.push(s) })
  t.start()
  procs = []
  await sleep(80)
  t.stop()
  assert.deepEqual(seen, ['ok', 'fail'])
  assert.equal(t.status().count, 0)
})

test('state machine: the sync group gate holds a BACKUP whose timer expired; syncMaster / syncBackup follow the group', () => {
  let open = false
  const m = new VrrpStateMachine({ name: 'VI_1', version: 3, priority: 100, advertIntervalMs: 100, masterGate: () => open })
  m.start(0)
  const down = m.nextDeadline() as number
  assert.deepEqual(m.timerFired(down), [])
  assert.equal(m.state, 'BACKUP')
  assert.equal(m.wantsMaster, true)
  open = true
  const next = m.nextDeadline() as number
  assert.ok(next > down, 'another master-down interval')
  assert.equal(m.timerFired(next).some(a => a.type === 'state-change' && a.to === 'MASTER'), true)
  const back = m.syncBackup(next + 1)
  assert.deepEqual(back.map(a => a.type), ['remove-vips', 'state-change'], 'no priority-0 advert')
  assert.equal(m.state, 'BACKUP')
  assert.equal(m.wantsMaster, false)
  const up = m.syncMaster(next + 2)
  assert.equal(up.some(a => a.type === 'state-change' && a.to === 'MASTER' && a.reason === 'sync-group'), true)
  assert.deepEqual(m.syncMaster(next + 3), [], 'already MASTER')
})

test('config: vrrp_sync_group, vrrp_track_file, vrrp_track_process and their checks', () => {
  const base = 'vrrp_instance A\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress 198.18.0.100\n'
  const b2 = 'vrrp_instance B\n    interface eth0\n    virtual_router_id 2\n    virtual_ipaddress 198.18.0.101\n'
  const diags = (text: string): string[] => parseConfig(text, 't.cfg', { env: {} }).diagnostics.map(d => `${d.severity}: ${d.message}`)
  const ok = parseConfig(`vrrp_track_file f\n    file /run/prio\n    weight -5 reverse\n    init_file 3 overwrite\nvrrp_track_process p\n    process /usr/sbin/haproxy -f /etc/h.cfg\n    param_match partial\n    weight 10\n    quorum 2\n    quorum_max 4\n    delay 0.5\n    interval 0.2\n${base}    track_file f weight 3 noreverse\n    track_process p\n${b2}vrrp_sync_group G\n    group A\n    group B\n    notify_master "/bin/m x"\n    sync_group_tracking_weight\n`, 't.cfg', { env: {} })
  assert.deepEqual(ok.diagnostics, [])
  const c = ok.config
  assert.deepEqual(c.vrrpTrackFiles[0], { name: 'f', loc: { file: 't.cfg', line: 1 }, file: '/run/prio', weight: -5, reverse: true, init: { value: 3, overwrite: true } })
  const p = c.vrrpTrackProcesses[0]
  assert.deepEqual([p?.process, p?.params, p?.paramMatch, p?.fullCommand, p?.weight, p?.quorum, p?.quorumMax, p?.forkDelay, p?.terminateDelay, p?.interval], ['/usr/sbin/haproxy', ['-f', '/etc/h.cfg'], 'partial', true, 10, 2, 4, 500, 500, 200])
  assert.deepEqual(c.vrrpInstances[0]?.trackFiles, [{ name: 'f', weight: 3, reverse: false }])
  assert.deepEqual(c.vrrpInstances[0]?.trackProcesses, [{ name: 'p' }])
  assert.deepEqual(c.vrrpSyncGroups[0]?.members, ['A', 'B'])
  assert.deepEqual(c.vrrpSyncGroups[0]?.notify.master, { command: '/bin/m x' })
  assert.equal(c.vrrpSyncGroups[0]?.trackingWeight, true)
  assert.ok(diags(`${base}vrrp_sync_group G\n    group A C\n`).includes("error: vrrp_sync_group 'G': vrrp_instance 'C' does not exist"))
  assert.ok(diags(`${base}vrrp_sync_group G\n    group A\n`).some(d => /warning: .*only 1 vrrp_instance/.test(d)))
  assert.ok(diags(`${base}${b2}vrrp_sync_group G\n    group A B\nvrrp_sync_group H\n    group A\n`).some(d => /error: vrrp_instance 'A' is in vrrp_sync_group 'G' and 'H'/.test(d)))
  assert.ok(diags(`vrrp_script s\n    script /bin/true\n    weight 10\n${base}    track_script s\n${b2}vrrp_sync_group G\n    group A B\n`).some(d => /warning: .*weights of track_script s are ignored/.test(d)))
  assert.ok(diags(`${base}    track_file nope\n`).includes("error: vrrp_instance 'A' tracks vrrp_track_file 'nope', which does not exist"))
  assert.ok(diags('vrrp_track_file f\n    weight 2\n').some(d => /has no 'file' line/.test(d)))
  assert.ok(diags('vrrp_track_process p\n    process x\n    quorum 3\n    quorum_max 2\n').some(d => /quorum_max 2 is less than quorum 3/.test(d)))
  assert.ok(diags(`${base}    track_process p weight 300\n`).some(d => /weight/.test(d)))
})
