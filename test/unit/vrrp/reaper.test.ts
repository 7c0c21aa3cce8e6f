import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { reaperEntry, VipReaper } from '../../../src/net/vip-reaper.ts'

test('VIP reaper: at end-of-file it removes what is still held, not what was released; SIGTERM does not stop it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-reaper-'))
  try {
    const log = join(dir, 'ip.log')
    const fakeIp = join(dir, 'ip')
    writeFileSync(fakeIp, `#!/bin/sh\necho "$@" >> ${log}\n`)
    chmodSync(fakeIp, 0o755)
    const r = new VipReaper({ ip: fakeIp })
    let died = false
    r.onDeath(() => { died = true })
    const a = { family: 4 as const, address: '198.18.0.100', prefixLength: 24, dev: 'eth0' }
    const b = { family: 4 as const, address: '198.18.0.101', prefixLength: 32, dev: 'eth0:x' }
    const c = { family: 6 as const, address: '2001:2::150', prefixLength: 64, dev: 'eth0' }
    assert.equal(r.hold([a, b]), true)
    r.hold([c])
    await new Promise(resolve => setTimeout(resolve, 150)) // the shell has run its trap line
    process.kill(r.pid ?? 0, 'SIGTERM')
    await new Promise(resolve => setTimeout(resolve, 50))
    r.release([b])
    r.hold([a]) // already held: no duplicate
    r.close()
    await r.exited()
    assert.equal(died, false, 'a closed reaper is not reported dead')
    const calls = readFileSync(log, 'utf8').trim().split('\n').sort()
    assert.deepEqual(calls, ['-4 addr del 198.18.0.100/24 dev eth0', '-6 addr del 2001:2::150/64 dev eth0'])
    assert.equal(reaperEntry(b), '-4 addr del 198.18.0.101/32 dev eth0:x')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('VIP reaper: everything released → nothing removed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-reaper-'))
  try {
    const log = join(dir, 'ip.log')
    const fakeIp = join(dir, 'ip')
    writeFileSync(fakeIp, `#!/bin/sh\necho "$@" >> ${log}\n`)
    chmodSync(fakeIp, 0o755)
    const r = new VipReaper({ ip: fakeIp })
    const a = { family: 4 as const, address: '198.18.0.100', prefixLength: 24, dev: 'eth0' }
    r.hold([a])
    r.release([a])
    await new Promise(resolve => setTimeout(resolve, 100))
    r.close()
    await r.exited()
    assert.throws(() => readFileSync(log), /ENOENT/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
