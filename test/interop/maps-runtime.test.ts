/**
 * The runtime API's map and ACL file commands, differential against a real HAProxy 2.6 (/usr/sbin/haproxy): the
 * same configuration and files, the same command sequence; every answer must be the same text once the entry
 * pointers, the `#ID`s (HAProxy also numbers ACLs without a file) and the configuration's path are set aside; and
 * after `add map` both route the new host to the same backend.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTslb, waitExit } from '../helpers/cli.ts'
import { HAPROXY, haproxy26Skip } from '../helpers/haproxy.ts'
import { freePort } from '../helpers/ports.ts'
import { unixExchange, waitForPath } from '../helpers/unix-socket.ts'

const skip = haproxy26Skip()
const dir = mkdtempSync(join(tmpdir(), 'tslb-maps-interop-'))
const MAP = join(dir, 'hosts.map')
const ACL = join(dir, 'paths.acl')
const port = { haproxy: 0, tslb: 0 }
const sock = { haproxy: join(dir, 'haproxy.sock'), tslb: join(dir, 'tslb.sock') }
const cfg = { haproxy: join(dir, 'haproxy.cfg'), tslb: join(dir, 'tslb.cfg') }
let haproxy: ChildProcess | undefined
let proxy: Awaited<ReturnType<typeof startTslb>> | undefined

function config (who: 'haproxy' | 'tslb'): string {
  return `global
  stats socket ${sock[who]} level admin
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend f
  bind 127.0.0.1:${port[who]}
  http-request deny if { path -f ${ACL} }
  use_backend %[req.hdr(host),lower,map(${MAP},be_a)]
backend be_a
  http-request return status 200 content-type text/plain string be_a
backend be_b
  http-request return status 200 content-type text/plain string be_b
`
}

async function cli (who: 'haproxy' | 'tslb', input: string): Promise<string> {
  const out = await unixExchange(sock[who], input)
  // Pointers and #IDs are the process's own; the list keeps the files (HAProxy lists ACLs without one too).
  return out.replaceAll(cfg[who], 'CFG').replace(/0x[0-9a-f]+/g, '0xPTR')
    .split('\n').filter(l => !/^\d+ \(\) /.test(l)).map(l => l.replace(/^\d+ \(/, 'ID (')).join('\n')
}

async function get (who: 'haproxy' | 'tslb', host: string, path = '/'): Promise<string> {
  return await new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: port[who], path, headers: { host, connection: 'close' }, agent: false },
      res => {
        let body = ''
        res.on('data', (b: Buffer) => { body += b.toString() })
        res.on('end', () => { resolve(`${res.statusCode ?? 0} ${res.statusCode === 200 ? body : ''}`) })
      })
    r.on('error', reject)
    r.end()
  })
}

describe('map and ACL runtime commands against HAProxy 2.6', { skip }, () => {
  before(async () => {
    if (skip !== false) return
    writeFileSync(MAP, '# hosts\na.example be_a\nb.example be_b\n')
    writeFileSync(ACL, '/blocked\n')
    port.haproxy = await freePort()
    port.tslb = await freePort()
    writeFileSync(cfg.haproxy, config('haproxy'))
    writeFileSync(cfg.tslb, config('tslb'))
    haproxy = spawn(HAPROXY, ['-db', '-f', cfg.haproxy], { stdio: 'ignore' })
    proxy = await startTslb(['run', '-f', cfg.tslb, '-S', join(dir, 'ctl.sock'), '-p', join(dir, 'pid')],
      /supervisor started/)
    await waitForPath(sock.haproxy)
    await waitForPath(sock.tslb)
  })

  after(async () => {
    haproxy?.kill('SIGTERM')
    if (proxy !== undefined) {
      proxy.child.kill('SIGTERM')
      await waitExit(proxy.child)
    }
    rmSync(dir, { recursive: true, force: true })
  })

  test('the same answers to the same command sequence, and the same routes and denials after the changes',
    async () => {
      const steps = [
        'show map', 'show acl', `show map ${MAP}`, `get map ${MAP} a.example`, `get map ${MAP} zz`,
        `add map ${MAP} c.example be_b`, `add map ${MAP} c.example be_d`, `show map ${MAP}`,
        `set map ${MAP} c.example be_x`, `set map ${MAP} nope be_x`, `show map ${MAP}`,
        `del map ${MAP} c.example`, `del map ${MAP} c.example`, `add map ${MAP} n.example be_b`,
        'show map /nofile', 'add map /nofile a b', `get acl ${ACL} /blocked`, `get acl ${ACL} /x`,
        `add acl ${ACL} /admin`, `show acl ${ACL}`, `add acl ${MAP} x`,
        'add map', `add map ${MAP} k`, 'get map', `get map ${MAP}`, `set map ${MAP} a`, `del map ${MAP}`,
        'clear map', `del acl ${ACL}`, `add acl ${ACL}`, 'show map', 'show acl'
      ]
      assert.match(await cli('haproxy', 'show map\n'), /^# id \(file\) description\nID \(\S+hosts\.map\) pattern loaded/)
      for (const step of steps) {
        const [ours, theirs] = [await cli('tslb', `${step}\n`), await cli('haproxy', `${step}\n`)]
        assert.equal(ours, theirs, step)
      }
      for (const [host, path] of [['N.example', '/'], ['b.example', '/'], ['zz', '/'], ['a.example', '/admin']]) {
        assert.equal(await get('tslb', host ?? '', path), await get('haproxy', host ?? '', path), `${host} ${path}`)
      }
      assert.equal(await get('tslb', 'n.example'), '200 be_b')
      assert.equal(await get('tslb', 'x', '/admin'), '403 ')
      for (const step of [`del acl ${ACL} /admin`, `clear map ${MAP}`, `show map ${MAP}`, `show acl ${ACL}`]) {
        assert.equal(await cli('tslb', `${step}\n`), await cli('haproxy', `${step}\n`), step)
      }
      assert.equal(await get('tslb', 'b.example', '/admin'), await get('haproxy', 'b.example', '/admin'))
      assert.equal(await get('tslb', 'b.example', '/admin'), '200 be_a')
    })
})
