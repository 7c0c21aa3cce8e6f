/**
 * Error pages against HAProxy 2.6 (/usr/sbin/haproxy): one configuration with `errorfile`,
 * `errorfiles`, `errorloc`, `http-error` and an `http-errors` section run by both, the same requests (each
 * ending in a 503 from a backend without server) sent to both. tslb's responses must be HAProxy's
 * bytes, plus the `connection: close` tslb adds to every page it generates (it closes after it).
 */
import { HAPROXY, haproxy26Skip } from '../helpers/haproxy.ts'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/index.ts'
import { loadErrorReplies } from '../../src/config/error-replies.ts'
import { listenerKey } from '../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../src/net/listen-handle.ts'
import { Engine } from '../../src/proxy/engine.ts'

const skip = haproxy26Skip()

const PATHS = ['/1', '/2', '/3', '/4', '/5', '/6', '/7', '/8', '/9', '/10', '/11']

function config (dir: string, port: number): string {
  const f = (name: string): string => join(dir, name)
  return `defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
http-errors site
    errorfile 503 ${f('s503.http')}
    errorfile 403 ${f('s403.http')}
frontend f
    bind 127.0.0.1:${port}
    errorfile 503 ${f('fe503.http')}
${PATHS.slice(0, 10).map((p, i) => `    use_backend b${i + 1} if { path ${p} }`).join('\n')}
    default_backend b11
backend b1
    errorfile 503 ${f('e503.http')}
    errorfiles site
backend b2
    errorfiles site
    errorfile 503 ${f('e503.http')}
backend b3
    errorfiles site 403
backend b4
    errorfiles site
    http-error status 503 content-type text/plain string "from http-error" hdr X-A b
backend b5
    http-error status 503 content-type text/plain string "from http-error"
    errorfiles site
backend b6
    http-error status 503
backend b7
    errorfile 503 ${f('lf.http')}
backend b8
    http-error status 503 content-type "text/html; charset=utf-8" file ${f('body.html')}
backend b9
    http-error status 503 default-errorfiles
backend b10
    errorloc 503 http://example.com/sorry
backend b11
    errorloc303 503 /sorry?x=1
`
}

function writeFiles (dir: string): void {
  writeFileSync(join(dir, 's503.http'), 'HTTP/1.1 503 From Section\r\nContent-Length: 2\r\n\r\nS\n')
  writeFileSync(join(dir, 's403.http'), 'HTTP/1.1 403 Section403\r\nContent-Length: 2\r\n\r\nS\n')
  writeFileSync(join(dir, 'e503.http'), 'HTTP/1.1 503 From Errorfile\r\nContent-Length: 2\r\nX-Custom: Yes\r\n\r\nE\n')
  writeFileSync(join(dir, 'fe503.http'), 'HTTP/1.1 503 Frontend\r\nContent-Length: 3\r\n\r\nFE\n')
  writeFileSync(join(dir, 'lf.http'), 'HTTP/1.1 503 Down\nContent-Type: text/plain\nContent-Length: 12\n\nsorry, down\n')
  writeFileSync(join(dir, 'body.html'), '<p>down</p>\n')
}

/** One request; the reply, read until the server closes or goes quiet. */
async function request (port: number, path: string): Promise<string> {
  const sock = connect({ host: '127.0.0.1', port })
  let reply = ''
  sock.on('data', (d: Buffer) => { reply += d.toString('latin1') })
  sock.on('error', () => {})
  sock.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`)
  await new Promise<void>(resolve => {
    const timer = setTimeout(() => { sock.destroy(); resolve() }, 500)
    sock.on('close', () => { clearTimeout(timer); resolve() })
  })
  return reply
}

let dir: string
let haproxy: ChildProcess | undefined
let haproxyOut = ''
before(() => {
  if (skip === false) {
    dir = mkdtempSync(join(tmpdir(), 'tslb-errors-'))
    writeFiles(dir)
  }
})
after(() => {
  haproxy?.kill()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

async function haproxyReplies (): Promise<string[]> {
  const port = handleAddress(bindTcp('127.0.0.1', 0, 4)).port
  const cfg = join(dir, 'haproxy.cfg')
  writeFileSync(cfg, config(dir, port))
  haproxy = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] })
  haproxy.stdout?.on('data', (b: Buffer) => { haproxyOut += b.toString() })
  haproxy.stderr?.on('data', (b: Buffer) => { haproxyOut += b.toString() })
  const end = Date.now() + 5000
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true) })
      s.on('error', () => { resolve(false) })
    })
    if (ok) break
    if (Date.now() > end) assert.fail(`haproxy did not listen: ${haproxyOut}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const replies = await Promise.all(PATHS.map(async p => await request(port, p)))
  haproxy.kill()
  return replies
}

async function tslbReplies (): Promise<string[]> {
  const handle = bindTcp('127.0.0.1', 0, 4)
  const port = handleAddress(handle).port
  const { config: c, diagnostics } = parseConfig(config(dir, port), 'e.cfg')
  const loaded = await loadErrorReplies(c)
  assert.deepEqual([...diagnostics, ...loaded].filter(d => d.severity === 'error'), [])
  const engine = new Engine(c, { logFor: () => () => {} })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  try {
    return await Promise.all(PATHS.map(async p => await request(port, p)))
  } finally {
    engine.stopAccepting()
    engine.close()
  }
}

test('errorfile, errorfiles, http-error, http-errors: HAProxy 2.6\'s bytes (plus connection: close)', { skip },
  async () => {
    const theirs = await haproxyReplies()
    const ours = await tslbReplies()
    for (const [i, path] of PATHS.entries()) {
      const expected = theirs[i] ?? ''
      assert.match(expected, /^HTTP\/1\.1 (503|302|303) /, `${path}: ${haproxyOut}`)
      const withClose = expected.includes('\r\nconnection: close\r\n') ? expected
        : expected.replace('\r\n\r\n', '\r\nconnection: close\r\n\r\n')
      assert.equal(ours[i], withClose, path)
    }
  })
