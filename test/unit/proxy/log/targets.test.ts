/**
 * Log targets with real sockets: unix datagram sockets (`/dev/log`-style paths and `unix@PATH`)
 * receive each line in its format, several `log` lines and `log global` each get it, `no log`
 * silences a proxy, `sample` thins it, `len` cuts it, and `stdout format raw` writes the bare line.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { parseConfig } from '../../../../src/config/parser.ts'
import { LogSinks, NO_LOG } from '../../../../src/proxy/log/sink.ts'
import { createLogger } from '../../../../src/util/log.ts'

interface Receiver { on (e: 'message', fn: (b: Buffer) => void): void, bind (p: string): void, close (): void }
const unixDgram = createRequire(import.meta.url)('unix-dgram') as { createSocket (t: 'unix_dgram'): Receiver }

const dir = mkdtempSync(join(tmpdir(), 'tslb-log-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })

function receiver (name: string): { path: string, lines: string[], close (): void } {
  const path = join(dir, name)
  const lines: string[] = []
  const s = unixDgram.createSocket('unix_dgram')
  s.on('message', b => { lines.push(b.toString()) })
  s.bind(path)
  return { path, lines, close: () => { s.close() } }
}

/** Waits for the datagrams: until `ready()` holds (at most 5 s, the machine may be busy), then a little more for any extra. */
async function settle (ready: () => boolean = () => true): Promise<void> {
  const until = Date.now() + 5000
  while (!ready() && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 10))
  await new Promise(resolve => setTimeout(resolve, 100))
}

const quiet = createLogger('t', new Writable({ write: (_c, _e, cb) => { cb() } }))

test('unix sockets, several log lines, log global, formats and levels', async () => {
  const g = receiver('global.sock')
  const a = receiver('a.sock')
  const b = receiver('b.sock')
  const c = receiver('c.sock')
  const { config, diagnostics } = parseConfig(`global
    log unix@${g.path} local1 notice
    log-tag tslbtest
defaults
    log global
frontend f
    bind 127.0.0.1:1
    log ${a.path} local0
    log unix@${b.path} format rfc5424 local0 info
    log unix@${c.path} len 80 format raw local2 err
frontend quiet
    bind 127.0.0.1:2
    no log
`, 't.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const sinks = new LogSinks(quiet)
  const [f, silent] = config.proxies
  assert.ok(f !== undefined && silent !== undefined)
  const log = sinks.forProxy(f, config.global)
  const silenced = sinks.forProxy(silent, config.global)
  try {
    log('an info line')
    log('an error line that is longer than the eighty bytes that the raw target keeps of each line, so cut', 3)
    await settle(() => a.lines.length >= 2 && b.lines.length >= 2 && c.lines.length >= 1 && g.lines.length >= 1)
  } finally {
    sinks.close()
    for (const r of [g, a, b, c]) r.close()
  }
  assert.equal(silenced, NO_LOG, 'no log: nothing to send to')
  const pid = process.pid
  assert.equal(a.lines.length, 2)
  assert.match(a.lines[0] ?? '', new RegExp(`^<134>\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d tslbtest\\[${pid}\\]: an info line\\n$`))
  assert.match(a.lines[1] ?? '', /^<131>.* an error line/)
  assert.equal(b.lines.length, 2, 'level info: both lines pass')
  assert.match(b.lines[0] ?? '', new RegExp(
    `^<134>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}[+-]\\d\\d:\\d\\d - tslbtest ${pid} - - an info line\\n$`))
  assert.deepEqual(c.lines, ['an error line that is longer than the eighty bytes that the raw target keeps of \n'])
  assert.deepEqual(g.lines.map(l => l.replace(/^<(\d+)>.*?: /, '$1 ')), ['139 an error line that is longer than the ' +
    'eighty bytes that the raw target keeps of each line, so cut\n'])
})

test('sample 1,3:4 sends the first and third of every four lines', async () => {
  const s = receiver('sample.sock')
  const { config } = parseConfig(`frontend f
    bind 127.0.0.1:1
    log unix@${s.path} sample 1,3:4 format raw local0
`, 't.cfg', { env: {} })
  const sinks = new LogSinks(quiet)
  const px = config.proxies[0]
  assert.ok(px !== undefined)
  const log = sinks.forProxy(px, config.global)
  for (let i = 1; i <= 8; i++) log(`line ${i}`)
  await settle(() => s.lines.length >= 4)
  sinks.close()
  s.close()
  assert.deepEqual(s.lines, ['line 1\n', 'line 3\n', 'line 5\n', 'line 7\n'])
})

test('a missing socket drops the line (counted), as HAProxy does', async () => {
  const { config } = parseConfig(`frontend f
    bind 127.0.0.1:1
    log unix@${join(dir, 'nobody.sock')} local0
`, 't.cfg', { env: {} })
  const sinks = new LogSinks(quiet)
  const px = config.proxies[0]
  assert.ok(px !== undefined)
  sinks.forProxy(px, config.global)('lost')
  await settle(() => sinks.dropped >= 1)
  assert.equal(sinks.dropped, 1)
  sinks.close()
})

test('log stdout format raw: the bare line on stdout; without format, through the process logger', () => {
  const script = `
import { parseConfig } from ${JSON.stringify(new URL('../../../../src/config/parser.ts', import.meta.url).href)}
import { LogSinks } from ${JSON.stringify(new URL('../../../../src/proxy/log/sink.ts', import.meta.url).href)}
import { createLogger } from ${JSON.stringify(new URL('../../../../src/util/log.ts', import.meta.url).href)}
const { config } = parseConfig('frontend f\\n bind 127.0.0.1:1\\n log stdout format raw local0\\n log stderr format short local0\\n', 't.cfg', { env: {} })
const sinks = new LogSinks(createLogger('t', process.stderr))
sinks.forProxy(config.proxies[0], config.global)('127.0.0.1:1 [x] f b/s "GET / HTTP/1.1"')
`
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  assert.equal(out.toString(), '127.0.0.1:1 [x] f b/s "GET / HTTP/1.1"\n')
})

test('log stdout without format: through the process logger, the level still filters', () => {
  let out = ''
  const logger = createLogger('t', new Writable({ write (c: Buffer, _e, cb) { out += c.toString(); cb() } }))
  const { config } = parseConfig('frontend f\n    bind 127.0.0.1:1\n    log stdout local0 notice\n', 't.cfg', { env: {} })
  const px = config.proxies[0]
  assert.ok(px !== undefined)
  const sinks = new LogSinks(logger)
  const log = sinks.forProxy(px, config.global)
  log('an info line')
  log('an err line', 3)
  sinks.close()
  assert.doesNotMatch(out, /an info line/)
  assert.match(out, /"type":"traffic".*"msg":"an err line"/)
})
