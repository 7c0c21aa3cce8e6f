/**
 * Mangled rule lines, formats and sample chains: parsing ends in diagnostics, never in an
 * exception, and whatever parses compiles and runs on a request without throwing. Seeded.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../../src/config/parser.ts'
import type { Proxy } from '../../../../src/config/model.ts'
import { rulesOf, runRules } from '../../../../src/proxy/rules/index.ts'
import { RequestSample } from '../../../../src/proxy/http/request-sample.ts'
import { serializeRequestHead } from '../../../../src/proxy/http/codec.ts'
import { req } from '../http/helpers.ts'
import { StickTable } from '../../../../src/stick/index.ts'
import { setStickTables, StickCounters } from '../../../../src/proxy/stick-counters.ts'
import { rng } from '../../../helpers/rng.ts'

const WORDS = ['http-request', 'http-response', 'tcp-request connection', 'deny', 'allow', 'auth', 'redirect', 'return',
  'set-header', 'add-header', 'del-header', 'replace-header', 'replace-value', 'set-path', 'set-pathq', 'set-uri',
  'set-query', 'set-method', 'replace-path', 'replace-uri', 'set-var(txn.x)', 'unset-var(txn.x)', 'set-status',
  'tarpit', 'reject', 'location', 'prefix', 'scheme', 'code', '301', '302', '999', 'drop-query', 'append-slash',
  'status', 'content-type', 'text/plain', 'string', 'lf-string', 'hdr', 'deny_status', '429', '418', 'X-A', '-m', 'reg',
  'beg', '(.*)', '\\1', '[', '%[src]', '%[', '%[hdr(host),lower]', '%[src,ipmask(24)]', '%[var(txn.x)]', '%%', '%ci',
  '%[path,map(/nope)]', '%[req.hdr(x),field(2,:)]', '%[url_param(q),url_dec]', ']', 'if', 'unless', '{', '}', '!',
  'path_beg', '/a', 'src', '10.0.0.0/8', 'hdr(host)', '-i', 'realm', 'R', 'reason', 'Content-Length', '""', 'x y',
  'req.hdr(x),bool', 'var(txn.x)', 'http_auth(ul)', '-f', '/nope', 'track-sc0', 'track-sc2', 'track-sc9', 'table',
  'fe', 'nope', 'sc-inc-gpc0', 'sc-inc-gpc1(2)', 'sc-inc-gpc(1,0)', 'sc-inc-gpc(', 'sc-set-gpt0', 'sc-set-gpt0(1)',
  'sc-set-gpt(0,', '42', 'sc_http_req_rate(0)', 'sc0_conn_cur', 'src_get_gpc0', 'src,table_conn_cur', 'src,in_table(fe)',
  'gt', 'sc_trackers', 'src_inc_gpc0(nope)']

function line (r: () => number): string {
  const n = 1 + Math.floor(r() * 9)
  return Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)] as string).join(' ')
}

test('2000 random rule lines: diagnostics, never an exception; what parses compiles and runs on requests', () => {
  const r = rng(12)
  const request = 'GET /a/b?q=a%0d%0ab&x=1 HTTP/1.1\r\nHost: h\r\nX-A: one-two\r\nAuthorization: Basic YTpi\r\n\r\n'
  // The stick counters' rules act on a table of their own proxy.
  setStickTables(new Map([['fe', new StickTable('fe', { type: 'ip', size: 1024, nopurge: false,
    store: [{ name: 'gpc0' }, { name: 'gpt0' }, { name: 'conn_cur' }], loc: { file: 't.cfg', line: 6 } })]]))
  for (let i = 0; i < 2000; i++) {
    const rules = `  ${line(r)}\n  ${line(r)}\n`
    const text = `userlist ul\n  user a insecure-password b\nfrontend fe\n  mode http\n  bind :80\n  stick-table type ip size 1k store gpc0,gpt0,conn_cur\n${rules}`
    let proxy: Proxy | undefined
    try {
      proxy = parseConfig(text, 't.cfg', { env: {}, readFile: () => 'k v\n' }).config.proxies[0]
    } catch (err) {
      assert.fail(`parsing threw on ${JSON.stringify(rules)}: ${String(err)}`)
    }
    if (proxy === undefined) continue
    try {
      const head = req(request)
      const counters = new StickCounters().forStream()
      const sample = new RequestSample(head, { srcIp: '10.1.2.3', srcPort: 1, dstIp: '127.0.0.1', dstPort: 80,
        nbsrv: () => 1 }, counters)
      runRules(rulesOf(proxy).request, { request: head, sample })
      counters.endStream(Date.now())
      serializeRequestHead(head)
    } catch (err) {
      assert.fail(`running threw on ${JSON.stringify(rules)}: ${String(err)}`)
    }
  }
})
