import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monotonicUsec, SystemdNotifier, systemdSend } from '../../../src/supervisor/sd-notify.ts'
import { statusText } from '../../../src/supervisor/status.ts'
import type { LocalStatus } from '../../../src/supervisor/status.ts'
import { startNotifyReceiver, type NotifyReceiver } from '../../helpers/notify-socket.ts'

const dir = mkdtempSync(join(tmpdir(), 'tslb-sd-notify-'))

test('without NOTIFY_SOCKET nothing is loaded or sent', () => {
  assert.equal(systemdSend({}), undefined)
  assert.equal(systemdSend({ NOTIFY_SOCKET: '' }), undefined)
  const n = new SystemdNotifier(undefined)
  assert.equal(n.enabled, false)
  n.ready('x')
  n.reloading('x')
  n.stopping('x')
})

test('MONOTONIC_USEC is CLOCK_MONOTONIC', async () => {
  // python's time.monotonic_ns() reads CLOCK_MONOTONIC: the receipt time bounds ours.
  const r = await startNotifyReceiver(join(dir, 'clock.sock'))
  after(() => { r.close() })
  process.env['NOTIFY_SOCKET'] = r.address
  const n = new SystemdNotifier(systemdSend())
  n.reloading('r')
  const m = await r.waitFor('RELOADING', '1')
  const sent = BigInt(m.fields.get('MONOTONIC_USEC') ?? '0')
  const received = BigInt(m.monotonicNs) / 1000n
  assert.ok(sent <= received && received - sent < 1_000_000n, `sent ${sent} received ${received}`)
  assert.ok(monotonicUsec() >= sent)
})

for (const kind of ['path', 'abstract'] as const) {
  describe(`NOTIFY_SOCKET as ${kind}`, () => {
    let r: NotifyReceiver
    after(() => { r.close() })

    test('READY, RELOADING, STATUS and STOPPING come from this process, in order', async () => {
      r = await startNotifyReceiver(kind === 'path' ? join(dir, 'notify.sock') : `@tslb-test-${randomBytes(6).toString('hex')}`)
      process.env['NOTIFY_SOCKET'] = r.address
      const n = new SystemdNotifier(systemdSend())
      assert.equal(n.enabled, true)
      n.ready('serving generation 1')
      n.status('serving generation 1')
      n.reloading('reloading\nnow')
      n.ready('serving generation 2')
      n.status('serving generation 2; VRRP VI_1 MASTER')
      n.stopping('stopping (SIGTERM)')
      n.ready('late reload')
      n.status('late status')
      await r.waitFor('STOPPING', '1')
      await new Promise(resolve => setTimeout(resolve, 100))
      assert.deepEqual(r.messages.map(m => m.message.replace(/MONOTONIC_USEC=\d+/, 'MONOTONIC_USEC=N')), [
        `READY=1\nMAINPID=${process.pid}\nSTATUS=serving generation 1`,
        'RELOADING=1\nMONOTONIC_USEC=N\nSTATUS=reloading now',
        `READY=1\nMAINPID=${process.pid}\nSTATUS=serving generation 2`,
        'STATUS=serving generation 2; VRRP VI_1 MASTER',
        'STOPPING=1\nSTATUS=stopping (SIGTERM)'
      ])
      for (const m of r.messages) assert.equal(m.pid, process.pid)
    })
  })
}

test('status updates are polled and only changes are sent', async () => {
  const r = await startNotifyReceiver(join(dir, 'poll.sock'))
  after(() => { r.close() })
  process.env['NOTIFY_SOCKET'] = r.address
  const n = new SystemdNotifier(systemdSend())
  let text = 'a'
  n.startStatusUpdates(() => text, 20)
  await r.waitFor('STATUS', 'a')
  await new Promise(resolve => setTimeout(resolve, 100))
  text = 'b'
  await r.waitFor('STATUS', 'b')
  n.stopStatusUpdates()
  assert.deepEqual(r.messages.map(m => m.message), ['STATUS=a', 'STATUS=b'])
})

test('status text', () => {
  const base: LocalStatus = {
    node: 'lb1', pid: 1, configFile: 'f', configFiles: ['f'], startedAt: '', reloads: 2, lastReload: undefined,
    proxies: [{ name: 'www', kind: 'frontend' }], vrrpInstances: [], peers: [],
    workers: [{ generation: 3, pid: 10, state: 'serving' }, { generation: 2, pid: 9, state: 'draining' }]
  }
  assert.equal(statusText(base), 'serving generation 3, 1 draining; 2 reload(s)')
  assert.equal(statusText({ ...base, workers: [] }), 'no proxy worker serving; 2 reload(s)')
  const vrrp: LocalStatus['vrrpInstances'][number] = { name: 'VI_1', vrid: 51, interface: 'eth0', configuredState: 'BACKUP', priority: 100, runtime: undefined }
  assert.equal(statusText({ ...base, proxies: [], workers: [], vrrpInstances: [vrrp] }), 'VRRP VI_1 INIT; 2 reload(s)')
})
