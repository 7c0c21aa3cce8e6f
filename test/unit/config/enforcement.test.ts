import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { parseConfig } from '../../../src/config/parser.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'
import * as registry from '../../../src/config/enforcement.ts'
import { PROXY_KEYWORDS } from '../../../src/config/keywords/proxy.ts'
import { rootPath } from '../../../src/cli/docs/generate.ts'

const HEAD = 'defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n' +
  'backend be\n  server s1 127.0.0.1:9\nfrontend fe\n  bind 127.0.0.1:80\n  default_backend be\n'
const RULES_LINE = 11

function diagnostics (rules: string): string[] {
  return parseConfig(HEAD + rules, 't.cfg', { env: {} }).diagnostics.map(formatDiagnostic)
}

test('every entry of every registry has a status, enforced or not-enforced', () => {
  const tables: Record<string, Readonly<Record<string, registry.Entry>>> = {
    HTTP_REQUEST_ACTIONS: registry.HTTP_REQUEST_ACTIONS, HTTP_RESPONSE_ACTIONS: registry.HTTP_RESPONSE_ACTIONS,
    HTTP_AFTER_RESPONSE_ACTIONS: registry.HTTP_AFTER_RESPONSE_ACTIONS,
    TCP_REQUEST_ACTIONS: registry.TCP_REQUEST_ACTIONS, FETCHES: registry.FETCHES, CONVERTERS: registry.CONVERTERS,
    MATCH_METHODS: registry.MATCH_METHODS, ACL_FLAGS: registry.ACL_FLAGS, PREDEFINED_ACLS: registry.PREDEFINED_ACLS
  }
  let n = 0
  for (const [table, entries] of Object.entries(tables)) {
    for (const [name, e] of Object.entries(entries)) {
      assert.ok(e.status === 'enforced' || e.status === 'not-enforced', `${table}.${name} has no status`)
      n++
    }
  }
  assert.ok(n > 150)
  assert.ok(['enforced', 'not-enforced'].includes(registry.TCP_INSPECT_DELAY.status))
  for (const kw of Object.keys(PROXY_KEYWORDS)) {
    const s = registry.PROXY_KEYWORD_STATUS[kw]
    assert.ok(s === 'enforced' || s === 'not-enforced', `proxy keyword '${kw}' has no status`)
  }
  for (const kw of Object.keys(registry.PROXY_KEYWORD_STATUS)) assert.ok(kw in PROXY_KEYWORDS, `'${kw}' is no keyword`)
})

test("docs/configuration.md's proxy keyword table says `parsed` exactly for the keywords the registry calls not-enforced", () => {
  const doc = readFileSync(rootPath('docs/configuration.md'), 'utf8')
  const section = doc.slice(doc.indexOf('### 2.2'), doc.indexOf('### 2.3'))
  let checked = 0
  for (const row of section.split('\n').filter(l => l.startsWith('| `'))) {
    const cells = row.split(/(?<!\\)\|/).map(c => c.trim())
    const status = cells[cells.length - 2] ?? ''
    for (const kw of [...(cells[1] ?? '').matchAll(/`([^`]+)`/g)].map(m => m[1] as string)) {
      const s = registry.PROXY_KEYWORD_STATUS[kw]
      if (s === undefined) continue
      assert.equal(status.startsWith('`parsed`'), s === 'not-enforced', `${kw}: '${status}' vs registry ${s}`)
      checked++
    }
  }
  assert.ok(checked >= Object.keys(registry.PROXY_KEYWORD_STATUS).length - 1)
})

test('a not-enforced action is a warning naming it, a not-enforced guard an error; a not-enforced fetch a warning', () => {
  const action = Object.entries(registry.HTTP_REQUEST_ACTIONS).find(([, e]) => e.status === 'not-enforced' && e.guard !== true)
  assert.ok(action !== undefined)
  const args = { 'set-var(txn.x)': 'str(1)' }[action[0]] ?? 'x y'
  assert.deepEqual(diagnostics(`  http-request ${action[0]} ${args}\n`), [
    `t.cfg:${RULES_LINE}: warning: 'http-request ${action[0]}' is parsed but not enforced yet`
  ])
  const guard = Object.entries(registry.HTTP_REQUEST_ACTIONS).find(([, e]) => e.status === 'not-enforced' && e.guard === true)
  assert.ok(guard !== undefined)
  assert.deepEqual(diagnostics(`  http-request ${guard[0]} x\n`), [
    `t.cfg:${RULES_LINE}: 'http-request ${guard[0]}' is not enforced yet: tslb refuses it rather than let through what it would stop`
  ])
  const fetch = Object.entries(registry.FETCHES).find(([, e]) => e.status === 'not-enforced' && !e.args)
  assert.ok(fetch !== undefined)
  assert.deepEqual(diagnostics(`  acl x ${fetch[0]} -m found\n  use_backend be if x\n`), [
    `t.cfg:${RULES_LINE}: warning: '${fetch[0]}' is parsed but not enforced yet`
  ])
})

test('a not-enforced proxy keyword is a warning at its line', () => {
  assert.ok(diagnostics('  grace 1s\n').includes(`t.cfg:${RULES_LINE}: warning: 'grace' is parsed but not enforced yet`))
})

test('an enforced deny is accepted; what it depends on must be enforced too (a fetch yielding nothing would disable it)', () => {
  assert.deepEqual(diagnostics('  http-request deny if { path_beg /admin }\n'), [])
  const fetch = Object.entries(registry.FETCHES).find(([, e]) => e.status === 'not-enforced' && !e.args)
  assert.ok(fetch !== undefined)
  assert.deepEqual(diagnostics(`  acl x ${fetch[0]} -m found\n  http-request allow unless x\n`), [
    `t.cfg:${RULES_LINE}: '${fetch[0]}' is not enforced yet: tslb refuses it rather than let through what it would stop ('http-request allow' at line ${RULES_LINE + 1} depends on it)`
  ])
})

test('a userlist password hash tslb cannot check is an error at load', () => {
  const text = 'userlist ul\n  user a password $1$abc$xyz\n  user b password $6$salt$' + 'a'.repeat(86) + '\n  user c insecure-password x\n'
  assert.deepEqual(parseConfig(HEAD + text, 't.cfg', { env: {} }).diagnostics.map(formatDiagnostic), [
    "t.cfg:11: userlist 'ul' user 'a': this password hash format is not supported (use a SHA-crypt '$5$' or '$6$' hash, e.g. from 'mkpasswd -m sha-512', or insecure-password)"
  ])
})

test('tcp-request accept/reject are enforced in frontends over layer-4 fetches; refused in a backend or over layer-7 fetches', () => {
  assert.deepEqual(diagnostics('  tcp-request connection reject if { src 10.0.0.0/8 }\n  tcp-request content accept if LOCALHOST\n'), [])
  assert.deepEqual(diagnostics('  tcp-request connection reject if { path_beg /x }\n'), [
    `t.cfg:${RULES_LINE}: 'tcp-request connection reject over path' is not enforced yet: tslb refuses it rather than let through what it would stop`
  ])
  // In mode http the content rules run on each request: its fetches are there, the response's are not.
  assert.deepEqual(diagnostics('  tcp-request content reject if { path_beg /x }\n'), [])
  assert.deepEqual(diagnostics('  tcp-request content reject if { status 200 }\n'), [
    `t.cfg:${RULES_LINE}: 'tcp-request content reject over status' is not enforced yet: tslb refuses it rather than let through what it would stop`
  ])
  const backend = parseConfig(HEAD.replace('  server s1', '  tcp-request content reject if { src 10.0.0.1 }\n  server s1'), 't.cfg', { env: {} })
  assert.deepEqual(backend.diagnostics.map(formatDiagnostic), [
    "t.cfg:7: 'tcp-request content reject in a backend' is not enforced yet: tslb refuses it rather than let through what it would stop"
  ])
})

test('global keywords, options and server options accepted without effect are warned about by tslb check, each', () => {
  const { GLOBAL_NOT_ENFORCED, OPTION_NOT_ENFORCED, SERVER_OPTION_NOT_ENFORCED } = registry
  const warned = (text: string, what: string): void => {
    const r = parseConfig(text, 't.cfg', { env: {} })
    assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error').map(d => d.message), [], what)
    assert.ok(r.diagnostics.some(d => d.severity === 'warning' && d.message.startsWith(`'${what}' is parsed but not enforced yet`)), what)
  }
  const globalArg: Readonly<Record<string, string>> = { 'cpu-map': '1 0', 'ulimit-n': '100', uid: '0', gid: '0' }
  for (const kw of Object.keys(GLOBAL_NOT_ENFORCED)) warned(`global\n  ${kw} ${globalArg[kw] ?? 'x'}\nbackend b\n  server s 127.0.0.1:1\n`, kw)
  for (const o of Object.keys(OPTION_NOT_ENFORCED)) warned(`listen l\n  bind :80\n  option ${o}\n`, `option ${o}`)
  const serverArg: Readonly<Record<string, string>> = { 'agent-port': '1', maxqueue: '1', slowstart: '1s', observe: 'layer4', 'on-error': 'fastinter', 'error-limit': '1', 'agent-check': '', track: 's' }
  for (const o of Object.keys(SERVER_OPTION_NOT_ENFORCED)) warned(`backend b\n  server s 127.0.0.1:1 ${o} ${serverArg[o] ?? 'x'}\n`, `server option ${o}`)
})
