/** The files the supervisor writes: pid file, node lock, compile cache, hand-off sockets. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync,
  writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { removePidFile, writePidFile } from '../../../src/supervisor/pidfile.ts'
import { checkCompileCache, warmCompileCache } from '../../../src/supervisor/compile-cache.ts'
import { lockNode } from '../../../src/supervisor/node-lock.ts'
import { NodeLockError, NodeLockedError, PidFileError } from '../../../src/supervisor/errors.ts'
import { removeHandoffSockets } from '../../../src/supervisor/run-dir.ts'

function scratch (t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-paths-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

test('pid file: a symlink at the path is replaced, never written through', async (t) => {
  const dir = scratch(t)
  const victim = join(dir, 'victim')
  writeFileSync(victim, 'precious\n')
  symlinkSync(victim, join(dir, 'tslb.pid'))
  await writePidFile(join(dir, 'tslb.pid'), 4242)
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n')
  assert.ok(lstatSync(join(dir, 'tslb.pid')).isFile())
  assert.equal(readFileSync(join(dir, 'tslb.pid'), 'utf8'), '4242\n')
  assert.equal(lstatSync(join(dir, 'tslb.pid')).mode & 0o777, 0o644)
})

test('pid file: a world-writable directory without the sticky bit is refused; with it, accepted', async (t) => {
  const dir = scratch(t)
  const open = join(dir, 'open')
  mkdirSync(open)
  chmodSync(open, 0o777)
  await assert.rejects(writePidFile(join(open, 'tslb.pid')), (err: unknown) => err instanceof PidFileError &&
    /writable by every user and has no sticky bit/.test(err.message))
  assert.ok(!existsSync(join(open, 'tslb.pid')))
  chmodSync(open, 0o1777)
  await writePidFile(join(open, 'tslb.pid'))
  assert.equal(readFileSync(join(open, 'tslb.pid'), 'utf8'), `${process.pid}\n`)
})

test('pid file: removed only when it still names this process', async (t) => {
  const dir = scratch(t)
  const path = join(dir, 'tslb.pid')
  writeFileSync(path, '99999\n')
  await removePidFile(path)
  assert.ok(existsSync(path))
  await writePidFile(path)
  await removePidFile(path)
  assert.ok(!existsSync(path))
})

test('node lock: a second holder is refused with the first one\'s pid; released, it can be taken again', async (t) => {
  const dir = scratch(t)
  const sock = join(dir, 'run', 'master.sock')
  const first = await lockNode(sock, 1234)
  await assert.rejects(lockNode(sock), (err: unknown) => err instanceof NodeLockedError && err.holder === 1234 &&
    /already run by tslb pid 1234/.test(err.message))
  first.release()
  const second = await lockNode(sock)
  assert.equal(readFileSync(`${sock}.lock`, 'utf8'), `${process.pid}\n`)
  second.release()
})

test('compile cache: created 0700; a symlink, a foreign owner or an open mode is refused', (t) => {
  const dir = scratch(t)
  const cache = join(dir, 'compile-cache')
  assert.deepEqual(checkCompileCache(cache), { ok: true })
  assert.equal(lstatSync(cache).mode & 0o777, 0o700)
  chmodSync(cache, 0o777)
  assert.match((checkCompileCache(cache) as { reason: string }).reason, /mode 777/)
  const real = join(dir, 'elsewhere')
  mkdirSync(real, { mode: 0o700 })
  symlinkSync(real, join(dir, 'link'))
  assert.match((checkCompileCache(join(dir, 'link')) as { reason: string }).reason, /not a directory/)
  if (process.getuid?.() === 0) {
    const foreign = join(dir, 'foreign')
    mkdirSync(foreign, { mode: 0o700 })
    chownSync(foreign, 65534, 65534)
    assert.match((checkCompileCache(foreign) as { reason: string }).reason, /owned by uid 65534/)
  }
})

test('compile cache: an empty one is warmed, so a process loading the same modules never loads the TS stripper', async (t) => {
  const dir = scratch(t)
  const cache = join(dir, 'compile-cache')
  assert.deepEqual(checkCompileCache(cache), { ok: true })
  writeFileSync(join(dir, 'dep.ts'), 'export const n: number = 1\n')
  writeFileSync(join(dir, 'entry.ts'), "import { n } from './dep.ts'\nexport const m: number = n + 1\n")
  const entry = join(dir, 'entry.ts')
  assert.equal(await warmCompileCache(cache, entry), true)
  assert.equal(await warmCompileCache(cache, entry), false, 'a cache with entries is left alone')
  const probe = `await import(${JSON.stringify(pathToFileURL(entry).href)}); ` +
    "process.stdout.write(process.moduleLoadList.filter(m => m.includes('amaro')).join(','))"
  const stripper = execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e',
    probe], { env: { ...process.env, NODE_COMPILE_CACHE: cache }, encoding: 'utf8' })
  assert.equal(stripper, '', 'the modules came from the cache')
})

test('hand-off sockets: one generation\'s, or every generation\'s', async (t) => {
  const dir = scratch(t)
  for (const n of ['peers.g1.mypeers.sock', 'peers.g2.mypeers.sock', 'peers.g12.x.sock', 'master.sock']) {
    writeFileSync(join(dir, n), '')
  }
  assert.deepEqual(await removeHandoffSockets(dir, 1), [join(dir, 'peers.g1.mypeers.sock')])
  assert.deepEqual((await removeHandoffSockets(dir)).sort(), [join(dir, 'peers.g12.x.sock'),
    join(dir, 'peers.g2.mypeers.sock')])
  assert.ok(existsSync(join(dir, 'master.sock')))
})

test('node lock: a directory that cannot be created is a lock error, not a crash', async (t) => {
  const dir = scratch(t)
  writeFileSync(join(dir, 'file'), '')
  await assert.rejects(lockNode(join(dir, 'file', 'master.sock')), (err: unknown) => err instanceof NodeLockError &&
    /cannot take the node lock/.test(err.message))
})
