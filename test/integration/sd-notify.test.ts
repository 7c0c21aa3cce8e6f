/**
 * `tslb run` under a stand-in NOTIFY_SOCKET: READY=1 only once it serves, RELOADING=1 → READY=1
 * around each reload (a refused one too), STOPPING=1 on SIGTERM; every message from the main pid.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TSLB, tslb, waitExit } from '../helpers/cli.ts'
import { startNotifyReceiver, type NotifyReceiver } from '../helpers/notify-socket.ts'
import { freePort } from '../helpers/ports.ts'

const dir = mkdtempSync(join(tmpdir(), 'tslb-sd-notify-run-'))
const configFile = join(dir, 'tslb.cfg')
const socket = join(dir, 'master.sock')

const config = (port: number): string => `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind 127.0.0.1:${port}
    default_backend app
backend app
    server s1 127.0.0.1:9
`

describe('sd_notify from tslb run', () => {
  let r: NotifyReceiver
  let child: ChildProcess
  let output = ''
  before(async () => {
    r = await startNotifyReceiver(join(dir, 'notify.sock'))
    writeFileSync(configFile, config(await freePort()))
  })
  after(() => {
    if (child?.exitCode === null) child.kill('SIGKILL')
    r.close()
  })

  test('READY=1 with MAINPID once the control socket answers', async () => {
    child = spawn(TSLB, ['run', '-f', configFile, '-S', socket, '-L', 'lb1'], {
      env: { ...process.env, NOTIFY_SOCKET: r.address, TSLB_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe']
    })
    child.stdout?.on('data', (b: Buffer) => { output += b.toString() })
    child.stderr?.on('data', (b: Buffer) => { output += b.toString() })
    const ready = await r.waitFor('READY', '1')
    assert.equal(ready.fields.get('MAINPID'), String(child.pid))
    assert.equal(ready.pid, child.pid)
    assert.match(ready.fields.get('STATUS') ?? '', /^serving generation 1; 0 reload\(s\)$/)
    assert.match(output, /"worker serving"/)
    const s = await tslb(['status', '-S', socket])
    assert.equal(s.code, 0, s.stderr)
  })

  test('a reload is framed by RELOADING=1 and READY=1, before the reload command returns', async () => {
    writeFileSync(configFile, config(await freePort()))
    const from = r.messages.length
    const res = await tslb(['reload', '--seamless', '-S', socket])
    assert.equal(res.code, 0, res.stderr)
    const seen = r.messages.slice(from).map(m => [...m.fields.keys()].filter(k => k !== 'STATUS' && k !== 'MONOTONIC_USEC' && k !== 'MAINPID').join(','))
    assert.deepEqual(seen.filter(s => s !== ''), ['RELOADING', 'READY'])
    const reloading = r.messages.slice(from).find(m => m.fields.has('RELOADING'))
    assert.match(reloading?.fields.get('MONOTONIC_USEC') ?? '', /^\d+$/)
    assert.match(r.messages.at(-1)?.fields.get('STATUS') ?? '', /^serving generation 2(, 1 draining)?; 1 reload\(s\)$/)
  })

  test('a refused reload still ends in READY=1 (the old configuration serves)', async () => {
    writeFileSync(configFile, `${config(await freePort())}    balanc roundrobin\n`)
    const from = r.messages.length
    const res = await tslb(['reload', '-S', socket])
    assert.equal(res.code, 1)
    const kinds = r.messages.slice(from).filter(m => m.fields.has('RELOADING') || m.fields.has('READY')).map(m => m.fields.has('READY') ? 'READY' : 'RELOADING')
    assert.deepEqual(kinds, ['RELOADING', 'READY'])
    assert.match(r.messages.at(-1)?.fields.get('STATUS') ?? '', /serving generation 2/)
  })

  test('SIGTERM sends STOPPING=1 first, and nothing after it', async () => {
    const from = r.messages.length
    child.kill('SIGTERM')
    assert.equal(await waitExit(child), 0)
    const stopping = await r.waitFor('STOPPING', '1', from)
    assert.equal(stopping.pid, child.pid)
    assert.equal(r.messages.at(-1), stopping)
    for (const m of r.messages) assert.equal(m.pid, child.pid, m.message)
  })
})
