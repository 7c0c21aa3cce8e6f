/**
 * `log-format` lines against HAProxy 2.6 (/usr/sbin/haproxy): one configuration with an HTTP and
 * a TCP frontend, run by HAProxy and by a tslb engine, each logging in `raw` format to a unix
 * datagram socket; the same requests sent to both. Fields are compared one by one; the masked ones
 * are what differs between two runs (timers) or between the two programs for a known reason (the
 * bytes, docs/interop.md).
 */
import { haproxy26Skip, startHaproxy } from '../helpers/haproxy.ts'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer, type AddressInfo, type Server } from 'node:net'
import { Writable } from 'node:stream'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/index.ts'
import { listenerKey } from '../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../src/net/listen-handle.ts'
import { Engine } from '../../src/proxy/engine.ts'
import { LogSinks } from '../../src/proxy/log/sink.ts'
import { createLogger } from '../../src/util/log.ts'

const skip = haproxy26Skip()

interface Receiver { on (e: 'message', fn: (b: Buffer) => void): void, bind (p: string): void, close (): void }
const unixDgram = createRequire(import.meta.url)('unix-dgram') as { createSocket (t: 'unix_dgram'): Receiver }

const HTTP_FORMAT = '%ci|%f|%ft|%b|%s|%ST|%B|%U|%ts|%tsc|%ac|%fc|%bc|%sc|%rc|%sq|%bq|%{+Q}r|%HM|%HU|%HP|%HPO|%HQ|' +
  '%HV|%[var(txn.a)]|%{+Q}[var(txn.none)]|%[var(txn.none)]|%CC|%{+X}ci|%si|%{+Q}b|%hr|%hs|%hrl|%{+Q}hrl|%fi|%H|' +
  '%Tw|%Tc|%Tr|%Tt|%lc|a  %%  end'
const TCP_FORMAT = '%ci|%f|%ft|%b|%s|%ST|%B|%U|%ts|%rc|%[src]|%{+Q}o|%b|%s|%sq'
/** Fields that differ between runs (timers) or between the programs (bytes sent/received, see docs/interop.md). */
const HTTP_MASKED = new Set([6, 7, 37, 38, 39, 40])
const TCP_MASKED = new Set<number>([])

function config (sock: string, http: number, tcp: number, origin: number): string {
  return `global
    log unix@${sock} format raw local3
defaults
    mode http
    log global
    option dontlognull
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:${http}
    capture request header x-a len 5
    http-request set-var(txn.a) req.hdr(x-a)
    log-format "${HTTP_FORMAT}"
    default_backend b
frontend t
    mode tcp
    bind 127.0.0.1:${tcp}
    log-format "${TCP_FORMAT}"
    default_backend bt
backend b
    server s 127.0.0.1:${origin}
backend bt
    mode tcp
    server s 127.0.0.1:${origin}
`
}

let dir: string
let origin: Server
let haproxy: ChildProcess | undefined
let haproxyOut = (): string => ''

before(async () => {
  if (skip !== false) return
  dir = mkdtempSync(join(tmpdir(), 'tslb-logformat-'))
  origin = createServer(s => {
    s.on('data', () => { s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok') })
    s.on('error', () => {})
  })
  await new Promise<void>(resolve => { origin.listen(0, '127.0.0.1', resolve) })
})

after(() => {
  haproxy?.kill()
  origin?.close()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

async function exchange (port: number, request: string): Promise<void> {
  const sock = connect({ host: '127.0.0.1', port })
  sock.on('data', () => {})
  sock.on('error', () => {})
  const closed = new Promise(resolve => { sock.on('close', resolve) })
  sock.write(request)
  await closed
}

const REQUESTS: readonly [string, string][] = [
  ['http', 'GET /p/a?x=1 HTTP/1.1\r\nHost: t\r\nx-a: hello-world\r\nConnection: close\r\n\r\n'],
  ['http', 'GET http://t/q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'],
  ['tcp', 'GET / HTTP/1.1\r\nHost: t\r\n\r\n']
]

async function run (start: (cfg: string, ports: { http: number, tcp: number }) => Promise<() => void>):
Promise<string[]> {
  const sock = join(dir, `log-${Math.random().toString(36).slice(2)}.sock`)
  const lines: string[] = []
  const rx = unixDgram.createSocket('unix_dgram')
  rx.on('message', b => { lines.push(b.toString().trimEnd()) })
  rx.bind(sock)
  const ports = { http: handleAddress(bindTcp('127.0.0.1', 0, 4)).port, tcp: handleAddress(bindTcp('127.0.0.1', 0,
    4)).port }
  const stop = await start(config(sock, ports.http, ports.tcp, (origin.address() as AddressInfo).port), ports)
  try {
    for (const [kind, request] of REQUESTS) {
      const before = lines.length
      await exchange(kind === 'http' ? ports.http : ports.tcp, request)
      const end = Date.now() + 5000
      while (lines.length === before) {
        if (Date.now() > end) assert.fail(`no log line for ${JSON.stringify(request)}: ${haproxyOut()}`)
        await new Promise(resolve => setTimeout(resolve, 10))
      }
    }
  } finally {
    stop()
    rx.close()
  }
  return lines
}

async function runHaproxy (cfg: string, ports: { http: number }): Promise<() => void> {
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(file, cfg)
  // Probed with a connection that sends nothing: dontlognull keeps it out of the log.
  const h = await startHaproxy(file, ports.http)
  haproxy = h.child
  haproxyOut = h.output
  const child = h.child
  return () => { child.kill() }
}

async function startTslb (cfg: string, ports: { http: number, tcp: number }): Promise<() => void> {
  const { config: c, diagnostics } = parseConfig(cfg, 't.cfg')
  assert.deepEqual(diagnostics.filter(x => x.severity === 'error'), [])
  const sinks = new LogSinks(createLogger('t', new Writable({ write: (_c, _e, cb) => { cb() } })))
  const engine = new Engine(c, { logFor: p => sinks.forProxy(p, c.global) })
  engine.listen(new Map([[listenerKey('127.0.0.1', ports.http), bindTcp('127.0.0.1', ports.http, 4)],
    [listenerKey('127.0.0.1', ports.tcp), bindTcp('127.0.0.1', ports.tcp, 4)]]))
  return await Promise.resolve(() => {
    engine.stopAccepting()
    engine.close()
    sinks.close()
  })
}

function fields (line: string, masked: ReadonlySet<number>): string[] {
  return line.split('|').map((f, i) => masked.has(i) ? '(masked)' : f)
}

test('log-format variables, flags and samples: the same fields as HAProxy 2.6, HTTP and TCP', { skip }, async () => {
  const hap = await run(runHaproxy)
  const ours = await run(startTslb)
  assert.equal(hap.length, 3, haproxyOut())
  assert.equal(ours.length, 3)
  for (let i = 0; i < 3; i++) {
    const masked = i < 2 ? HTTP_MASKED : TCP_MASKED
    assert.deepEqual(fields(ours[i] as string, masked), fields(hap[i] as string, masked), `line ${i + 1}`)
  }
})

test('a log-format HAProxy refuses is refused with its reason', { skip }, () => {
  const { diagnostics } = parseConfig('defaults\n  mode http\nfrontend f\n  bind 127.0.0.1:1\n' +
    '  log-format "%[req.hdr(host)]"\n  log-format-x\n', 't.cfg')
  assert.ok(diagnostics.some(d => d.severity === 'error' && /needs 'HTTP request headers' which is not available/
    .test(d.message)), JSON.stringify(diagnostics))
})
