// Server status words as HAProxy 2.6's stats_fill_sv_stats_computestate() prints them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ServerState } from '../../../../src/proxy/server-state.ts'
import { checkReportFrom, type CheckReport } from '../../../../src/proxy/stats/providers.ts'
import { serverStatus } from '../../../../src/proxy/stats/status.ts'

function server (backup = false): ServerState {
  return new ServerState(1, { name: 's', address: { host: '127.0.0.1', family: 4, port: 80, portEnd: 80 }, loc: { file: 'x', line: 1 }, backup })
}

const check = (health: number, extra: Partial<CheckReport> = {}): CheckReport => ({ status: 'L7OK', health, rise: 2, fall: 3, ...extra })

test('UP, going down, DOWN, going up, no check', () => {
  const s = server()
  assert.deepEqual([serverStatus(s, undefined).text, serverStatus(s, undefined).css], ['no check', 'active_no_check'])
  assert.equal(serverStatus(s, check(4)).text, 'UP')
  assert.deepEqual([serverStatus(s, check(3)).text, serverStatus(s, check(3)).css], ['UP 2/3', 'active_going_down'])
  s.healthy = false
  assert.deepEqual([serverStatus(s, check(0)).text, serverStatus(s, check(0)).state], ['DOWN', 'DOWN'])
  assert.deepEqual([serverStatus(s, check(1)).text, serverStatus(s, check(1)).css], ['DOWN 1/2', 'active_going_up'])
  assert.equal(serverStatus(s, undefined).text, 'DOWN')
  assert.equal(serverStatus(server(true), undefined).css, 'backup_no_check')
})

test('admin states: MAINT (config: admin 5), DRAIN, NOLB', () => {
  const s = server()
  s.admin = 'maint'
  assert.deepEqual(serverStatus(s, check(4)), { text: 'MAINT', state: 'MAINT', css: 'maintain', opState: 0, adminState: 1 })
  assert.equal(serverStatus(s, check(4), true).adminState, 5)
  s.admin = 'drain'
  assert.deepEqual(serverStatus(s, undefined), { text: 'DRAIN', state: 'DRAIN', css: 'active_draining', opState: 2, adminState: 8 })
  assert.equal(serverStatus(s, check(3)).text, 'DRAIN 2/3')
  s.admin = 'ready'
  assert.deepEqual([serverStatus(s, check(4, { nolb: true })).text, serverStatus(s, check(4, { nolb: true })).opState], ['NOLB', 3])
})

test('the health-check module status adapts to a CheckReport', () => {
  const st = {
    checked: true, nolb: false, lastCheck: 'L7STS' as const, lastCheckDesc: 'Service Unavailable', checkCode: 503, checkDuration: 4,
    inProgress: false, health: 1, rise: 2, fall: 3, failedChecks: 5, downTransitions: 1, lastChange: 1000, downtime: 2000
  }
  assert.deepEqual(checkReportFrom(st), {
    status: 'L7STS', inProgress: false, code: 503, durationMs: 4, desc: 'Service Unavailable', health: 1, rise: 2, fall: 3,
    failedChecks: 5, downTransitions: 1, nolb: false, lastChangeMs: 1000, downtimeMs: 2000
  })
  assert.equal(checkReportFrom({ ...st, checked: false }), undefined)
  assert.equal(checkReportFrom({ ...st, lastCheck: undefined })?.status, 'INI')
})
