import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listenMasterCli, parseMasterCliLine } from '../../../src/cli/master-cli.ts'
import type { Supervisor } from '../../../src/supervisor/supervisor.ts'

test('master CLI prefixes: @N, @!PID, @master, none; a bad prefix is refused', () => {
  assert.deepEqual(parseMasterCliLine('@1 show info'), { target: { kind: 'worker', relative: 1 }, command: 'show info' })
  assert.deepEqual(parseMasterCliLine('@!4242 show stat'), { target: { kind: 'pid', pid: 4242 }, command: 'show stat' })
  assert.deepEqual(parseMasterCliLine('@master show proc'), { target: { kind: 'master' }, command: 'show proc' })
  assert.deepEqual(parseMasterCliLine('@2'), { target: { kind: 'worker', relative: 2 }, command: '' })
  assert.deepEqual(parseMasterCliLine(' show proc '), { target: undefined, command: 'show proc' })
  assert.deepEqual(parseMasterCliLine('@0 show info'), { error: "Can't find the target CLI!\n" })
  assert.deepEqual(parseMasterCliLine('@x show info'), { error: "Can't find the target CLI!\n" })
})

test('master CLI: a line over tune.bufsize closes the connection; pipelined commands are all answered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-mcli-'))
  const supervisor = {
    workerCommand: async (cmd: string) => {
      await new Promise(resolve => setTimeout(resolve, 1))
      return `${cmd}\n`
    }
  } as unknown as Supervisor
  const cli = await listenMasterCli(join(dir, 'm.sock'), supervisor)
  try {
    const talk = async (data: string): Promise<{ out: string, rest: number }> => await new Promise(resolve => {
      const c = connect(join(dir, 'm.sock'))
      let out = ''
      c.setEncoding('utf8')
      c.on('data', (d: string) => { out += d })
      c.on('error', () => {})
      c.on('close', () => { resolve({ out, rest: c.writableLength }) })
      c.on('connect', () => { c.end(data) })
    })
    assert.equal((await talk(`@1 ${'x'.repeat(20_000)}`)).out, '')
    const { out } = await talk('@1 show info\n'.repeat(200))
    assert.equal(out.split('show info\n').length - 1, 200)
  } finally {
    await cli.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
