/**
 * Scripts run with COMMAND_ENV only, as their configured user with only that user's group, and
 * without tslb's ambient capabilities unless asked (checked with a real process holding one).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMMAND_ENV, SETPRIV, heldCapabilities, lookupGroup, lookupUser, scriptArgv } from '../../../src/util/script-env.ts'
import { runCommand } from '../../../src/vrrp/exec.ts'

const EXEC = fileURLToPath(new URL('../../../src/vrrp/exec.ts', import.meta.url))

test('capability masks from /proc/PID/status, and when scripts are wrapped in setpriv', () => {
  const caps = heldCapabilities('Name:\tnode\nCapInh:\t0000000000003000\nCapPrm:\t0000000000003000\nCapAmb:\t0000000000002000\n')
  assert.deepEqual(caps, { inheritable: 0x3000n, ambient: 0x2000n })
  assert.deepEqual(scriptArgv(['/bin/check', 'a'], caps, false), [SETPRIV, '--ambient-caps=-all', '--inh-caps=-all', '--', '/bin/check', 'a'])
  assert.deepEqual(scriptArgv(['/bin/check', 'a'], caps, true), ['/bin/check', 'a'], 'script_ambient_capabilities keeps them')
  assert.deepEqual(scriptArgv(['/bin/check'], { inheritable: 0n, ambient: 0n }, false), ['/bin/check'], 'nothing to drop: no wrapper')
})

test('users and groups by name or number', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-users-'))
  try {
    writeFileSync(join(dir, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nchk:x:1234:2345::/:/usr/sbin/nologin\n')
    writeFileSync(join(dir, 'group'), 'root:x:0:\nchecks:x:3456:chk\n')
    assert.deepEqual(lookupUser('chk', join(dir, 'passwd')), { uid: 1234, gid: 2345 })
    assert.deepEqual(lookupUser('1234', join(dir, 'passwd')), { uid: 1234, gid: 2345 })
    assert.equal(lookupUser('nobody-here', join(dir, 'passwd')), undefined)
    assert.equal(lookupGroup('checks', join(dir, 'group')), 3456)
    assert.equal(lookupGroup('3456', join(dir, 'group')), 3456)
    assert.equal(lookupGroup('nope', join(dir, 'group')), undefined)
  } finally {
    rmSync(dir, { recursive: true })
  }
})

test('a script sees COMMAND_ENV and nothing of tslb\'s environment', async () => {
  process.env.TSLB_SECRET_FOR_TEST = 'leak'
  try {
    const r = await runCommand(['/usr/bin/env'], { timeoutMs: 5000, killWithParent: true })
    assert.equal(r.ok, true, r.output)
    assert.deepEqual(r.output.split('\n').sort(), Object.entries(COMMAND_ENV).map(([k, v]) => `${k}=${v}`).sort())
  } finally {
    delete process.env.TSLB_SECRET_FOR_TEST
  }
})

test('script_user: the script runs as that user with only its group (and the group given)', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const nobody = lookupUser('nobody')
  assert.ok(nobody !== undefined)
  const r = await runCommand(['/bin/sh', '-c', 'id -u; id -G'], { timeoutMs: 5000, user: 'nobody', killWithParent: true })
  assert.equal(r.output, `${nobody.uid}\n${nobody.gid}`)
  const g = await runCommand(['/bin/sh', '-c', 'id -G'], { timeoutMs: 5000, user: 'nobody', group: 'daemon', killWithParent: true })
  assert.equal(g.output, String(lookupGroup('daemon')))
  const bad = await runCommand(['/bin/true'], { timeoutMs: 5000, user: 'nobody', group: 'no-such-group', killWithParent: true })
  assert.equal(bad.error, "unknown group 'no-such-group'")
})

test('ambient capabilities of tslb do not reach a script unless script_ambient_capabilities', { skip: process.getuid?.() !== 0 && 'needs root' }, () => {
  // A process holding CAP_NET_RAW (bit 13) as ambient, as tslb under its systemd unit holds its capabilities.
  const probe = (keep: boolean): string => execFileSync(SETPRIV, ['--inh-caps=+net_raw', '--ambient-caps=+net_raw', '--', process.execPath, '--input-type=module', '-e', `
    const { runCommand } = await import(${JSON.stringify(EXEC)})
    const own = (await import('node:fs')).readFileSync('/proc/self/status', 'utf8').match(/^CapAmb:\\s*(\\S+)/m)[1]
    const r = await runCommand(['/bin/sh', '-c', 'grep ^CapAmb /proc/self/status'], { timeoutMs: 5000, killWithParent: true, keepAmbientCapabilities: ${String(keep)} })
    process.stdout.write(own + ' ' + r.output.split(/\\s+/)[1])
  `], { encoding: 'utf8' })
  assert.equal(probe(false), '0000000000002000 0000000000000000', 'tslb holds CAP_NET_RAW ambient; the script does not')
  assert.equal(probe(true), '0000000000002000 0000000000002000', 'kept when the configuration asks')
})
