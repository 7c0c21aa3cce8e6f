/**
 * Health-check results and server state changes reach the backend's own `log` targets at their
 * syslog severity, as HAProxy's send_log(proxy, ...) sends them; a target's level filters them.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { createServer, type AddressInfo } from 'node:net'
import { parseConfig } from '../../../../src/config/parser.ts'
import { Engine } from '../../../../src/proxy/engine.ts'
import { LogSinks } from '../../../../src/proxy/log/sink.ts'
import { createLogger } from '../../../../src/util/log.ts'
import { Writable } from 'node:stream'

test('log-health-checks lines and UP/DOWN go to the backend\'s syslog target at notice/alert/emerg; info lines are filtered by "notice"', async () => {
  const syslog = createSocket('udp4')
  const got: string[] = []
  syslog.on('message', m => { got.push(m.toString()) })
  await new Promise<void>(resolve => { syslog.bind(0, '127.0.0.1', resolve) })
  const srv = createServer(s => { s.destroy() })
  await new Promise<void>(resolve => { srv.listen(0, '127.0.0.1', resolve) })
  const port = (srv.address() as AddressInfo).port
  const { config, diagnostics } = parseConfig(`defaults
  mode tcp
  timeout connect 1s
  timeout client 1s
  timeout server 1s
backend be
  log 127.0.0.1:${syslog.address().port} local0 notice
  option log-health-checks
  server s1 127.0.0.1:${port} check inter 100 rise 1 fall 1
`, 't.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const quiet = createLogger('t', new Writable({ write: (_c, _e, cb) => { cb() } }))
  const sinks = new LogSinks(quiet)
  const engine = new Engine(config, { logFor: p => sinks.forProxy(p, config.global) })
  const be = config.proxies.find(p => p.name === 'be')
  assert.ok(be !== undefined)
  const traffic = sinks.forProxy(be, config.global)
  try {
    engine.startChecks(config.global, () => {})
    traffic('an info line the notice target drops')
    const deadline = Date.now() + 5000
    while (!got.some(l => l.includes('succeeded')) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    await new Promise(resolve => { srv.close(resolve) })
    while (!got.some(l => l.includes('has no server available')) && Date.now() < deadline + 5000) await new Promise(resolve => setTimeout(resolve, 50))
  } finally {
    engine.close()
    sinks.close()
    syslog.close()
  }
  const pid = `tslb\\[${process.pid}\\]: `
  // local0 = 16: notice 16*8+5 = 133, alert 129, emerg 128.
  assert.ok(got.some(l => new RegExp(`^<133>.* ${pid}Health check for server be/s1 succeeded, reason: Layer4 check passed`).test(l)), got.join('\n'))
  assert.ok(got.some(l => new RegExp(`^<129>.* ${pid}Server be/s1 is DOWN`).test(l)), got.join('\n'))
  assert.ok(got.some(l => new RegExp(`^<128>.* ${pid}backend be has no server available!`).test(l)), got.join('\n'))
  assert.ok(!got.some(l => l.includes('info line')), got.join('\n'))
})
