/**
 * vagrant/Vagrantfile as Vagrant reads it (`vagrant validate`; no hypervisor here, so provider
 * blocks are skipped with --ignore-provider). The provisioning it runs is proven in the
 * systemd-nspawn lab (systemd-lab.test.ts, systemd-drill.test.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const VAGRANT_DIR = join(import.meta.dirname, '../../vagrant')
const HOME = mkdtempSync(join(tmpdir(), 'tslb-vagrant-home-'))

async function validate (env: Record<string, string> = {}): Promise<{ code: number, out: string }> {
  return await new Promise(resolve => {
    execFile('vagrant', ['validate', '--ignore-provider'], { cwd: VAGRANT_DIR, encoding: 'utf8', timeout: 120_000, env: { ...process.env, VAGRANT_HOME: HOME, VAGRANT_CHECKPOINT_DISABLE: '1', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 255, out: stdout + stderr })
    })
  })
}

const machines = (out: string): string[] => [...out.matchAll(/==> (\S+): Ignoring provider config/g)].map(m => m[1] as string)

test('vagrant validate: web nodes, lb1..lb3 and the client', async () => {
  const r = await validate()
  assert.equal(r.code, 0, r.out)
  assert.match(r.out, /Vagrantfile validated successfully/)
  assert.deepEqual(machines(r.out), ['web1', 'web2', 'lb1', 'lb2', 'lb3', 'client'])
})

test('vagrant validate: TSLB_WEBS=4 adds web3 and web4; a network outside 198.18.0.0/15 is refused', async () => {
  const four = await validate({ TSLB_WEBS: '4' })
  assert.equal(four.code, 0, four.out)
  assert.deepEqual(machines(four.out), ['web1', 'web2', 'web3', 'web4', 'lb1', 'lb2', 'lb3', 'client'])
  const bad = await validate({ TSLB_LAB_NET: '10.0.0' })
  assert.notEqual(bad.code, 0)
  assert.match(bad.out, /TSLB_LAB_NET=10\.0\.0: the lab network must lie in 198\.18\.0\.0\/15/)
})
