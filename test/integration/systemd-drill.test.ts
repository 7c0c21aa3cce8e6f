/**
 * `scripts/lab-systemd drill`, as a user runs it: the failover drill on the systemd-nspawn lab,
 * tslb under its unit on lb1..lb3 provisioned by vagrant/provision.sh's cluster template; the
 * crash is `systemctl kill -s KILL tslb` on lb1 and its container powered off.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { LAB_SYSTEMD_SCRIPT, useSystemdLab } from '../helpers/systemd-lab.ts'

const { lab } = useSystemdLab()

describe('scripts/lab-systemd drill', () => {
  test('lb1 crashes: VIP 1 on lb2 in under a second, every sticky session kept, lb1 back with it; VIP 2 stays on lb2', { timeout: 660_000 }, async (t) => {
    const r = await new Promise<{ code: number, stdout: string, stderr: string }>(resolve => {
      execFile(LAB_SYSTEMD_SCRIPT, ['drill'], { encoding: 'utf8', timeout: 600_000, env: { ...process.env, TSLB_LAB_PREFIX: lab.prefix, TSLB_LAB_NET: lab.net } }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 255, stdout, stderr })
      })
    })
    const out = `${r.stdout}\n--- stderr\n${r.stderr}`
    assert.equal(r.code, 0, out)
    const last = r.stdout.trimEnd().split('\n').at(-1) ?? ''
    t.diagnostic(last)
    const m = /^failover: from=lb1 to=lb2 gap_ms=(\d+) requests=(\d+) failed=(\d+) sticky=12\/12$/.exec(last)
    assert.ok(m !== null, out)
    assert.ok(Number(m[1]) < 1000, out)
    assert.match(r.stdout, new RegExp(`${lab.vips[1].replaceAll('.', '\\.')} \\(VI_2, master lb2\\): held by lb2 -> lb2 -> lb2 across the drill, longest gap \\d+ ms \\(\\d+ requests, 0 failed\\)`), out)
  })
})
