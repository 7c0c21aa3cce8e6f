/** The traffic log's syslog target: a target that refuses every datagram costs lines, never the process. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import type { GlobalSettings, Proxy } from '../../../../src/config/model.ts'
import { LogSinks } from '../../../../src/proxy/log/sink.ts'
import { createLogger, droppedLogLines } from '../../../../src/util/log.ts'

test('an unreachable syslog target: lines are counted as dropped, one warning, no exception', async () => {
  let out = ''
  const logger = createLogger('t', new Writable({ write (c: Buffer, _e, cb) { out += c.toString(); cb() } }))
  const sinks = new LogSinks(logger)
  const loc = { file: 't.cfg', line: 1 }
  // Without SO_BROADCAST every send to the limited broadcast address fails (EACCES).
  const proxy = { logs: [{ target: '255.255.255.255:514', facility: 'local0', loc }] } as unknown as Proxy
  const line = sinks.forProxy(proxy, { logs: [] } as unknown as GlobalSettings)
  const before = droppedLogLines()
  for (let i = 0; i < 500; i++) line(`request ${i}`)
  await new Promise(resolve => setTimeout(resolve, 300))
  sinks.close()
  assert.equal(droppedLogLines() - before, 500)
  const warnings = out.split('\n').filter(l => l.includes('syslog send failed'))
  assert.equal(warnings.length, 1, out.slice(0, 500))
  assert.match(warnings[0] ?? '', /"dropped":1\b/)
})
