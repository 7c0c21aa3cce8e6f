import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ServerState } from '../../../src/proxy/server-state.ts'

test('usable (balanced traffic) and persistable (cookie, stick table) by state, as HAProxy', () => {
  const s = new ServerState(1, { name: 'a', address: { host: '198.18.0.21', family: 4, port: 80, portEnd: 80 }, loc: { file: 't', line: 1 } })
  const flags = (): [boolean, boolean] => { s.refreshUsable(); return [s.usable, s.persistable] }
  assert.deepEqual(flags(), [true, true], 'UP')
  s.stopping = true
  assert.deepEqual(flags(), [false, true], 'NOLB')
  s.stopping = false
  s.admin = 'drain'
  assert.deepEqual(flags(), [false, true], 'DRAIN')
  s.admin = 'maint'
  assert.deepEqual(flags(), [false, false], 'MAINT')
  s.admin = 'ready'
  s.healthy = false
  assert.deepEqual(flags(), [false, false], 'DOWN')
})
