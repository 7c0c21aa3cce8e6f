/**
 * `tslb haproxy` (bin/tslb-haproxy) on loopback, driven as VTest drives HAProxy: listening
 * sockets created by the parent and passed as `fd@N`, a TCP stats socket, the pid file, the exit
 * status on SIGINT (-W: 130; -d: 0), -c's answer, and the pid in syslog lines.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { get } from '../helpers/http-get.ts'

const HAPROXY = join(import.meta.dirname, '../../bin/tslb-haproxy')
const dir = mkdtempSync(join(tmpdir(), 'tslb-haproxy-entry-'))

async function listening (): Promise<Server> {
  const s = createServer()
  await new Promise<void>(resolve => { s.listen(0, '127.0.0.1', resolve) })
  return s
}
const portOf = (s: { address: () => AddressInfo | string | null }): number => (s.address() as AddressInfo).port
const fdOf = (s: Server): number => (s as unknown as { _handle: { fd: number } })._handle.fd

async function freePort (): Promise<number> {
  const s = await listening()
  const port = portOf(s)
  await new Promise(resolve => s.close(resolve))
  return port
}

function start (args: string[], inherited: number[], env: Record<string, string> = {}): { child: ChildProcess, output: () => string } {
  const child = spawn(HAPROXY, args, { env: { ...process.env, TSLB_LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe', ...inherited] })
  let out = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { out += b.toString() })
  return { child, output: () => out }
}

async function exitOf (child: ChildProcess): Promise<{ code: number | null, signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null) return { code: child.exitCode, signal: null }
  return await new Promise(resolve => { child.once('exit', (code, signal) => { resolve({ code, signal }) }) })
}

async function waitFor<T> (what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000, everyMs = 50): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

async function cli (port: number, command: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const c = createConnection(port, '127.0.0.1', () => { c.end(`${command}\n`) })
    let out = ''
    c.on('data', (b: Buffer) => { out += b.toString() })
    c.on('close', () => { resolve(out) })
    c.on('error', reject)
  })
}

test('-W -S fd@ with fd@ listeners: serves on the inherited socket, TCP stats socket and master CLI answer, pid file = our pid, SIGINT exits 130', async () => {
  const backend = createHttpServer((_req, res) => { res.end('from-backend') })
  await new Promise<void>(resolve => { backend.listen(0, '127.0.0.1', resolve) })
  const fe = await listening()
  const statsPort = await freePort()
  const cfg = join(dir, 'w.cfg')
  const pid = join(dir, 'w.pid')
  writeFileSync(cfg, `global
    stats socket "fd@\${cli}" level admin
    stats socket ipv4@127.0.0.1:${statsPort} level admin
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind "fd@\${fe1}"
    default_backend be
backend be
    server s1 127.0.0.1:${portOf(backend)}
`)
  const cliSock = await listening()
  const mcliSock = await listening()
  // stdio[3] = the frontend's socket, stdio[4] = the stats socket's, stdio[5] = the master CLI's.
  const fePort = portOf(fe)
  const cliPort = portOf(cliSock)
  const mcliPort = portOf(mcliSock)
  const { child, output } = start(['-W', '-S', 'fd@5', '-dM', '-f', cfg, '-p', pid], [fdOf(fe), fdOf(cliSock), fdOf(mcliSock)], { fe1: '3', cli: '4' })
  // The child has its own copies; ours must not accept.
  fe.close()
  cliSock.close()
  mcliSock.close()
  try {
    await waitFor('the pid file', () => { try { return readFileSync(pid, 'utf8') } catch { return undefined } }, 15_000, 5)
    // As HAProxy's master: written once the configuration is read, before the worker is ready.
    assert.doesNotMatch(output(), /supervisor started/)
    assert.equal(Number(readFileSync(pid, 'utf8').trim()), child.pid)
    const r = await waitFor('an answer through fd@3', async () => await get('127.0.0.1', fePort, '/').catch(() => undefined))
    assert.equal(r.body, 'from-backend', output())
    assert.match(await cli(cliPort, 'show info'), /^Name: tslb$/m)
    assert.match(await cli(statsPort, 'show stat'), /^be,s1,/m)
    assert.match(await cli(mcliPort, '@1 show info'), /^Process_num: 1$/m)
    assert.match(await cli(mcliPort, 'show proc'), new RegExp(`^${child.pid ?? 0} +master `, 'm'))
    assert.match(await cli(mcliPort, '@3 show info'), /Can't find the target CLI!/)
  } finally {
    child.kill('SIGINT')
    const { code } = await exitOf(child)
    backend.close()
    assert.equal(code, 130, output())
  }
})

test('-d: SIGINT exits 0; syslog lines carry the pid of the process started (HAProxy\'s single process)', async () => {
  const syslog = createSocket('udp4')
  const lines: string[] = []
  syslog.on('message', m => { lines.push(m.toString()) })
  await new Promise<void>(resolve => { syslog.bind(0, '127.0.0.1', resolve) })
  const fe = await listening()
  const cfg = join(dir, 'd.cfg')
  writeFileSync(cfg, `defaults
    mode http
    log 127.0.0.1:${syslog.address().port} local0
    option httplog
    timeout client 5s
    timeout server 5s
    timeout connect 5s
listen fe
    bind "fd@\${fe1}"
    server s1 127.0.0.1:1
`)
  const fePort = portOf(fe)
  const { child, output } = start(['-d', '-f', cfg], [fdOf(fe)], { fe1: '3' })
  fe.close()
  try {
    const r = await waitFor('an answer', async () => await get('127.0.0.1', fePort, '/x').catch(() => undefined))
    assert.equal(r.status, 503)
    const line = await waitFor('a syslog line', () => lines.find(l => l.includes('GET /x')))
    assert.match(line, new RegExp(`\\[${child.pid}\\]: `), output())
  } finally {
    child.kill('SIGINT')
    const { code } = await exitOf(child)
    syslog.close()
    assert.equal(code, 0, output())
  }
})

test('-W -p with a configuration error: exit 1, the error, no pid file left', async () => {
  const cfg = join(dir, 'wbad.cfg')
  const pid = join(dir, 'wbad.pid')
  writeFileSync(cfg, 'listen l\n  bind 127.0.0.1:1\n  bogus-keyword\n')
  const run = start(['-W', '-f', cfg, '-p', pid], [])
  assert.equal((await exitOf(run.child)).code, 1)
  assert.match(run.output(), /bogus-keyword/)
  assert.throws(() => readFileSync(pid), /ENOENT/)
})

test('-c: 0 and "Configuration file is valid", or 1 with the error; bind fd@ of a closed descriptor is refused at start', async () => {
  const good = join(dir, 'good.cfg')
  const bad = join(dir, 'bad.cfg')
  writeFileSync(good, 'defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nlisten l\n  bind fd@200\n  server s 127.0.0.1:1\n')
  writeFileSync(bad, 'listen l\n  bind 127.0.0.1:1\n  bogus-keyword\n')
  const ok = start(['-c', '-f', good], [])
  assert.equal((await exitOf(ok.child)).code, 0)
  assert.match(ok.output(), /Configuration file is valid/)
  const ko = start(['-c', '-f', bad], [])
  assert.equal((await exitOf(ko.child)).code, 1)
  assert.match(ko.output(), /\[ALERT\].*parsing \[.*bad\.cfg:3\] : .*bogus-keyword/)
  const run = start(['-d', '-f', good], [])
  assert.equal((await exitOf(run.child)).code, 1)
  assert.match(run.output(), /cannot listen on fd@200: not an open TCP socket/)
})

test('option logasap: the HTTP line leaves with the response head, Tt and bytes prefixed "+"', async () => {
  const syslog = createSocket('udp4')
  const lines: string[] = []
  syslog.on('message', m => { lines.push(m.toString()) })
  await new Promise<void>(resolve => { syslog.bind(0, '127.0.0.1', resolve) })
  let finishBody: (() => void) | undefined
  const backend = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-length': '4' })
    res.flushHeaders()
    finishBody = () => { res.end('done') }
  })
  await new Promise<void>(resolve => { backend.listen(0, '127.0.0.1', resolve) })
  const fe = await listening()
  const cfg = join(dir, 'asap.cfg')
  writeFileSync(cfg, `defaults
    mode http
    log 127.0.0.1:${syslog.address().port} local0
    option httplog
    option logasap
    timeout client 5s
    timeout server 5s
    timeout connect 5s
listen fe
    bind "fd@\${fe1}"
    server s1 127.0.0.1:${portOf(backend)}
`)
  const fePort = portOf(fe)
  const { child, output } = start(['-d', '-f', cfg], [fdOf(fe)], { fe1: '3' })
  fe.close()
  try {
    const answer = waitFor('an answer', async () => await get('127.0.0.1', fePort, '/asap').catch(() => undefined))
    const line = await waitFor('the early syslog line', () => lines.find(l => l.includes('GET /asap')))
    assert.equal(finishBody !== undefined, true)
    assert.match(line, / fe fe\/s1 \d+\/\d+\/\d+\/\d+\/\+\d+ 200 \+\d+ /, output())
    finishBody?.()
    assert.equal((await answer).body, 'done')
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.equal(lines.filter(l => l.includes('GET /asap')).length, 1, 'one line only')
  } finally {
    child.kill('SIGINT')
    await exitOf(child)
    backend.close()
    syslog.close()
  }
})
