/**
 * Mangled log-format and unique-id-format strings: a configuration that holds one loads with
 * diagnostics, never an exception, and whatever parses compiles and formats a record. Seeded.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../../src/config/parser.ts'
import { LOG_FORMAT_VARIABLES, parseLogFormat } from '../../../../src/config/log-format.ts'
import { ValueError } from '../../../../src/config/errors.ts'
import { compileLogFormat, type LogRecord } from '../../../../src/proxy/log/log-format.ts'
import { rng } from '../../../helpers/rng.ts'

const PIECES = [...Object.keys(LOG_FORMAT_VARIABLES).map(v => `%${v}`), '%{+Q}', '%{-Q,+X}', '%{+E}', '%o', '%%',
  '%[', ']', '%[src]', '%[var(txn.a),lower]', '%[req.hdr(x)]', '%[str(a,b)', '(', ')', '{', '}', ',', ' ', '  ', '|',
  '"', "'", '\\', '%', 'x', '%zz', '%{', '%[uuid', '%[bad(]']

const RECORD: LogRecord = { http: true, clientIp: '198.18.0.1', clientPort: 1, acceptedAt: 0, frontend: 'f',
  backend: 'b', server: 's', tq: 0, tw: 0, tc: 0, tr: 0, tt: 0, status: 200, bytesRead: 0, termination: '----',
  actconn: 0, feconn: 0, beconn: 0, srvConn: 0, retries: 0, srvQueue: 0, backendQueue: 0, requestLine: 'GET / HTTP/1.1',
  sample: { src: '198.18.0.1', srcPort: 1, dst: '198.18.0.2', dstPort: 80 } }

test('random log-format strings: parsed or refused with a ValueError; what parses formats a record', () => {
  const next = rng(2026)
  for (let i = 0; i < 3000; i++) {
    let text = ''
    const n = 1 + Math.floor(next() * 8)
    for (let k = 0; k < n; k++) text += PIECES[Math.floor(next() * PIECES.length)] as string
    for (const mode of ['http', 'tcp'] as const) {
      let nodes
      try {
        nodes = parseLogFormat(text, mode, 'log-format', next() < 0.5)
      } catch (err) {
        assert.ok(err instanceof ValueError, `${JSON.stringify(text)}: ${String(err)}`)
        continue
      }
      assert.equal(typeof compileLogFormat(nodes, next() < 0.5)(RECORD), 'string', JSON.stringify(text))
    }
  }
})

test('a configuration with a mangled log-format loads with diagnostics, never an exception', () => {
  const next = rng(7)
  for (let i = 0; i < 300; i++) {
    let text = ''
    for (let k = 0; k < 4; k++) text += PIECES[Math.floor(next() * PIECES.length)] as string
    const cfg = `defaults\n  mode http\nfrontend f\n  bind :80\n  log-format "${text.replaceAll('"', '\\"')}"\n` +
      `  unique-id-format "${text.replaceAll('"', '\\"')}"\n`
    assert.doesNotThrow(() => parseConfig(cfg, 't.cfg', { env: {} }), JSON.stringify(text))
  }
})
