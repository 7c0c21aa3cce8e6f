/**
 * keepalived's script security: every path component of a root script owned by root and
 * writable by nobody else (a sticky directory excepted), on fake and real file trees, and the
 * configuration check (`enable_script_security` refuses, without it a warning).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathComponents, unsafePathReason, unsafeScriptReason, type Lstat, type PathEntry } from '../../../src/util/script-security.ts'
import { validateScripts, type ScriptCheckEnv } from '../../../src/config/script-checks.ts'
import { parseConfig } from '../../../src/config/parser.ts'
import { Diagnostics } from '../../../src/config/context.ts'

const dir = (over: Partial<PathEntry> = {}): PathEntry => ({ uid: 0, gid: 0, mode: 0o755, kind: 'dir', ...over })
const file = (over: Partial<PathEntry> = {}): PathEntry => ({ uid: 0, gid: 0, mode: 0o755, kind: 'file', ...over })
const fakeFs = (entries: Record<string, PathEntry>): Lstat => p => entries[p]

test('path components from / to the file', () => {
  assert.deepEqual(pathComponents('/etc/tslb//check.sh'), ['/', '/etc', '/etc/tslb', '/etc/tslb/check.sh'])
})

test('unsafe for a root script: owner not root, group- or world-writable, a directory without the sticky bit', () => {
  const base = { '/': dir(), '/etc': dir(), '/etc/tslb': dir(), '/etc/tslb/check.sh': file() }
  assert.equal(unsafePathReason('/etc/tslb/check.sh', fakeFs(base)), undefined)
  const cases: Array<[Record<string, PathEntry>, RegExp]> = [
    [{ '/etc/tslb/check.sh': file({ uid: 1000 }) }, /check\.sh is owned by uid 1000/],
    [{ '/etc/tslb/check.sh': file({ mode: 0o757 }) }, /check\.sh is writable by everyone/],
    [{ '/etc/tslb/check.sh': file({ gid: 50, mode: 0o775 }) }, /check\.sh is writable by group 50/],
    [{ '/etc/tslb': dir({ mode: 0o777 }) }, /\/etc\/tslb is writable by everyone/],
    [{ '/etc/tslb': dir({ gid: 50, mode: 0o775 }) }, /\/etc\/tslb is writable by group 50/],
    [{ '/etc': dir({ uid: 5 }) }, /\/etc is owned by uid 5/],
    [{ '/etc/tslb': file() }, /\/etc\/tslb is not a directory/],
    [{ '/etc/tslb/check.sh': dir() }, /check\.sh is not a file/],
    [{ '/etc/tslb/check.sh': undefined as unknown as PathEntry }, /does not exist/]
  ]
  for (const [over, want] of cases) assert.match(unsafePathReason('/etc/tslb/check.sh', fakeFs({ ...base, ...over })) ?? 'safe', want)
  assert.equal(unsafePathReason('/etc/tslb/check.sh', fakeFs({ ...base, '/etc/tslb': dir({ mode: 0o1777 }) })), undefined, 'a sticky directory, as /tmp')
  assert.equal(unsafePathReason('/etc/tslb/check.sh', fakeFs({ ...base, '/etc/tslb/check.sh': file({ gid: 0, mode: 0o775 }) })), undefined, 'writable by group root')
})

test('on a real tree: what runs is checked (symlinked directories resolved, a final symlink followed)', { skip: process.getuid?.() !== 0 && 'needs root' }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tslb-sec-'))
  try {
    chmodSync(root, 0o755)
    const scripts = join(root, 'scripts')
    mkdirSync(scripts, { mode: 0o755 })
    const check = join(scripts, 'check.sh')
    writeFileSync(check, '#!/bin/sh\n', { mode: 0o755 })
    assert.equal(unsafeScriptReason(check), undefined)
    symlinkSync(scripts, join(root, 'linked'))
    assert.equal(unsafeScriptReason(join(root, 'linked', 'check.sh')), undefined, 'through a symlinked directory')
    const open = join(root, 'open')
    mkdirSync(open, { mode: 0o755 })
    chmodSync(open, 0o777)
    writeFileSync(join(open, 'target.sh'), '#!/bin/sh\n', { mode: 0o755 })
    symlinkSync(join(open, 'target.sh'), join(scripts, 'via-link.sh'))
    assert.match(unsafeScriptReason(join(scripts, 'via-link.sh')) ?? 'safe', /open is writable by everyone/, 'the link points into a world-writable directory')
    chownSync(check, 65534, 65534)
    assert.match(unsafeScriptReason(check) ?? 'safe', /owned by uid 65534/)
    assert.equal(unsafeScriptReason(join(root, 'missing.sh')), 'missing')
    assert.equal(unsafeScriptReason('sh'), undefined, 'a bare name along PATH (/usr/bin/sh on a merged /usr)')
  } finally {
    rmSync(root, { recursive: true })
  }
})

test('config: insecure root scripts warn, and are refused with enable_script_security; other users are not checked', () => {
  const tree = fakeFs({ '/': dir(), '/opt': dir({ mode: 0o777 }), '/opt/chk': file(), '/etc': dir(), '/etc/ok': file() })
  const env: ScriptCheckEnv = {
    uid: 0,
    gid: 0,
    lstat: tree,
    realpath: p => { if (tree(p) === undefined) throw new Error('ENOENT'); return p },
    lookupUser: u => (u === 'chk' ? { uid: 900, gid: 900 } : u === 'root' ? { uid: 0, gid: 0 } : undefined),
    lookupGroup: g => (g === 'wheel' ? 10 : undefined)
  }
  const text = (global: string, script: string, user = ''): string => `global\n${global}\nvrrp_script s\n    script "${script} arg"\n${user}\nvrrp_instance VI_1\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress 198.18.0.100/24\n    track_script s\n    notify_master "/etc/ok"\n`
  const run = (t: string): Array<[string, string]> => {
    const parsed = parseConfig(t, 't.cfg')
    const diag = new Diagnostics()
    validateScripts(parsed.config, diag, env)
    return diag.list.map(d => [d.severity, d.message])
  }
  assert.deepEqual(run(text('', '/etc/ok')), [])
  const warned = run(text('', '/opt/chk'))
  assert.equal(warned.length, 1)
  assert.equal(warned[0]?.[0], 'warning')
  assert.match(warned[0]?.[1] ?? '', /vrrp_script 's': unsafe permissions for script '\/opt\/chk' run as root: \/opt is writable by everyone/)
  const refused = run(text('    enable_script_security', '/opt/chk'))
  assert.equal(refused[0]?.[0], 'error')
  assert.match(refused[0]?.[1] ?? '', /refused \(enable_script_security\)/)
  assert.deepEqual(run(text('    enable_script_security\n    script_user chk', '/opt/chk')), [], 'runs as chk: not a root script')
  assert.equal(run(text('    enable_script_security\n    script_user chk', '/opt/chk', '    user root'))[0]?.[0], 'error', "the vrrp_script's own user wins")
  assert.match(run(text('    script_user ghost', '/etc/ok'))[0]?.[1] ?? '', /user 'ghost' does not exist/)
  assert.match(run(text('    script_user chk staff', '/etc/ok'))[0]?.[1] ?? '', /group 'staff' does not exist/)
  assert.deepEqual(run(text('', '/nowhere/chk')), [], 'a missing script is not a security matter without enable_script_security')
  assert.match(run(text('    enable_script_security', '/nowhere/chk'))[0]?.[1] ?? '', /not found/)
  const notifyAs = (line: string): Array<[string, string]> => run(text('    enable_script_security', '/etc/ok').replace('    notify_master "/etc/ok"', line))
  assert.deepEqual(notifyAs('    notify_master "/opt/chk" chk'), [], "a notify line's own user: not a root script")
  assert.match(notifyAs('    notify_master "/opt/chk" ghost')[0]?.[1] ?? '', /notify_master: user 'ghost' does not exist/)
  assert.match(notifyAs('    notify_master "/opt/chk" chk staff')[0]?.[1] ?? '', /group 'staff' does not exist/)
  const parsed = parseConfig(text('    script_user chk wheel\n    enable_script_security\n    script_ambient_capabilities', '/etc/ok'), 't.cfg')
  assert.deepEqual(parsed.config.global.scriptUser, { user: 'chk', group: 'wheel' })
  assert.equal(parsed.config.global.enableScriptSecurity, true)
  assert.equal(parsed.config.global.scriptAmbientCapabilities, true)
})
