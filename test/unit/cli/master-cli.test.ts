import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseMasterCliLine } from '../../../src/cli/master-cli.ts'

test('master CLI prefixes: @N, @!PID, @master, none; a bad prefix is refused', () => {
  assert.deepEqual(parseMasterCliLine('@1 show info'), { target: { kind: 'worker', relative: 1 }, command: 'show info' })
  assert.deepEqual(parseMasterCliLine('@!4242 show stat'), { target: { kind: 'pid', pid: 4242 }, command: 'show stat' })
  assert.deepEqual(parseMasterCliLine('@master show proc'), { target: { kind: 'master' }, command: 'show proc' })
  assert.deepEqual(parseMasterCliLine('@2'), { target: { kind: 'worker', relative: 2 }, command: '' })
  assert.deepEqual(parseMasterCliLine(' show proc '), { target: undefined, command: 'show proc' })
  assert.deepEqual(parseMasterCliLine('@0 show info'), { error: "Can't find the target CLI!\n" })
  assert.deepEqual(parseMasterCliLine('@x show info'), { error: "Can't find the target CLI!\n" })
})
