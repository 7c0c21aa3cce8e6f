/**
 * Log lines byte for byte against HAProxy 2.6 (/usr/sbin/haproxy): the same proxy configuration
 * run by HAProxy and by a tslb engine, one unix datagram socket per `log … format` on each side,
 * the same request sent to both. The lines must be equal once what differs between two runs is
 * masked (pid, time stamps, the client port, the timers).
 */
import { haproxy26Skip, startHaproxy } from '../helpers/haproxy.ts'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, type ChildProcess } from 'node:child_process'
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

const TARGETS = ['default', 'rfc3164', 'local', 'rfc5424', 'priority', 'short', 'timed', 'iso', 'raw', 'len80',
  'notice', 'global'] as const
type Target = typeof TARGETS[number]

function logLines (dir: string): string {
  const line = (t: Target): string => {
    const path = `unix@${join(dir, `${t}.sock`)}`
    if (t === 'default') return `log ${path} local3`
    if (t === 'len80') return `log ${path} len 80 local3`
    if (t === 'notice') return `log ${path} local3 notice`
    if (t === 'global') return ''
    return `log ${path} format ${t} local3`
  }
  return TARGETS.map(line).filter(l => l !== '').map(l => `    ${l}\n`).join('')
}

function config (dir: string, port: number, origin: number): string {
  return `global
    log unix@${join(dir, 'global.sock')} format rfc5424 local4
    log-send-hostname myhost
    log-tag lb
defaults
    mode http
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind 127.0.0.1:${port}
    log global
${logLines(dir)}    default_backend b
backend b
    server s 127.0.0.1:${origin}
`
}

function receive (dir: string): { lines: Map<Target, string[]>, close (): void } {
  const lines = new Map<Target, string[]>()
  const sockets = TARGETS.map(t => {
    const s = unixDgram.createSocket('unix_dgram')
    lines.set(t, [])
    s.on('message', b => { lines.get(t)?.push(b.toString()) })
    s.bind(join(dir, `${t}.sock`))
    return s
  })
  return { lines, close: () => { for (const s of sockets) s.close() } }
}

async function get (port: number): Promise<void> {
  const sock = connect({ host: '127.0.0.1', port })
  sock.on('data', () => {})
  sock.on('error', () => {})
  const closed = new Promise(resolve => { sock.on('close', resolve) })
  sock.write('GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
  await closed
}

/**
 * What differs between two runs: the pid, the time stamps, the client port, the timers. And one
 * httplog field where tslb differs from HAProxy (listed in docs/interop.md): the bytes sent to
 * the client (tslb forwards the server's `Connection` header, HAProxy rewrites it).
 */
function mask (line: string, pid: number): string {
  return line
    .replace(/ (\d{3}) \d+ - - /, ' $1 BYTES - - ')
    .replaceAll(String(pid), 'PID')
    .replace(/\w{3} [ \d]\d \d\d:\d\d:\d\d/, 'DATE')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d/, 'ISODATE')
    .replace(/127\.0\.0\.1:\d+ \[[^\]]*\]?/, 'CLIENT [ACCEPT]')
    .replace(/ -?\d+\/-?\d+\/-?\d+\/-?\d+\/-?\d+ /, ' TIMERS ')
}

let dir: string
let origin: Server
let haproxy: ChildProcess | undefined
let haproxyOut = (): string => ''

before(async () => {
  if (skip !== false) return
  dir = mkdtempSync(join(tmpdir(), 'tslb-syslog-'))
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

async function waitLines (lines: Map<Target, string[]>): Promise<void> {
  const end = Date.now() + 5000
  while ((lines.get('raw')?.length ?? 0) === 0 || (lines.get('global')?.length ?? 0) === 0) {
    if (Date.now() > end) assert.fail(`no log line arrived: ${haproxyOut()}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  await new Promise(resolve => setTimeout(resolve, 100))
}

async function runHaproxy (): Promise<{ lines: Map<Target, string[]>, pid: number }> {
  const d = join(dir, 'hap')
  execFileSync('mkdir', ['-p', d])
  const rx = receive(d)
  const port = handleAddress(bindTcp('127.0.0.1', 0, 4)).port
  const cfg = join(dir, 'haproxy.cfg')
  writeFileSync(cfg, config(d, port, (origin.address() as AddressInfo).port))
  const h = await startHaproxy(cfg, port)
  haproxy = h.child
  haproxyOut = h.output
  const child = h.child
  await new Promise(resolve => setTimeout(resolve, 100))
  for (const l of rx.lines.values()) l.length = 0
  await get(port)
  await waitLines(rx.lines)
  child.kill()
  rx.close()
  return { lines: rx.lines, pid: child.pid ?? 0 }
}

async function runTslb (): Promise<{ lines: Map<Target, string[]>, pid: number }> {
  const d = join(dir, 'tslb')
  execFileSync('mkdir', ['-p', d])
  const rx = receive(d)
  const handle = bindTcp('127.0.0.1', 0, 4)
  const port = handleAddress(handle).port
  const { config: c, diagnostics } = parseConfig(config(d, port, (origin.address() as AddressInfo).port), 't.cfg')
  assert.deepEqual(diagnostics.filter(x => x.severity === 'error'), [])
  const sinks = new LogSinks(createLogger('t', new Writable({ write: (_c, _e, cb) => { cb() } })))
  const engine = new Engine(c, { logFor: p => sinks.forProxy(p, c.global) })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  try {
    await get(port)
    await waitLines(rx.lines)
  } finally {
    engine.stopAccepting()
    engine.close()
    sinks.close()
    rx.close()
  }
  return { lines: rx.lines, pid: process.pid }
}

test('every log format, len, a level and log global: the same bytes as HAProxy 2.6', { skip }, async () => {
  const hap = await runHaproxy()
  const ours = await runTslb()
  for (const t of TARGETS) {
    const expected = (hap.lines.get(t) ?? []).map(l => mask(l, hap.pid))
    const got = (ours.lines.get(t) ?? []).map(l => mask(l, ours.pid))
    // The info line is below the `notice` target's level: nothing there, on either side.
    assert.equal(expected.length, t === 'notice' ? 0 : 1, `${t}: ${haproxyOut()}`)
    assert.deepEqual(got, expected, t)
  }
})
