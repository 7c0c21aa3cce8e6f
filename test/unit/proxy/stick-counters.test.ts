import { beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import type { Config, Proxy } from '../../../src/config/model.ts'
import { StickTable } from '../../../src/stick/index.ts'
import { setStickTables, StickCounters, incrementGpc, keepTrackedEntries, setGpt } from '../../../src/proxy/stick-counters.ts'
import { counterSamples, tableConverter } from '../../../src/proxy/acl/counter-samples.ts'
import { compileCondition } from '../../../src/proxy/acl/matcher.ts'
import { compileTcpRules, tcpAccepts } from '../../../src/proxy/rules/tcp-rules.ts'
import { compileHttpRules, runRules } from '../../../src/proxy/rules/http-rules.ts'
import { RequestSample } from '../../../src/proxy/http/request-sample.ts'
import { parseRequestHead, parseResponseHead } from '../../../src/proxy/http/codec.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'
import { HTTP_REQUEST_ACTIONS } from '../../../src/config/enforcement.ts'
import { COUNTER_FETCH_NAMES, counterFetch } from '../../../src/config/counter-fetches.ts'

const LOC = { file: 't.cfg', line: 1 }

function table (name: string, store: string, type: 'ip' | 'string' = 'ip', expire = 30_000): StickTable {
  const items = store.split(/,(?![^(]*\))/).map(s => {
    const m = /^(\w+)(?:\((\d+)(?:,(\d+))?\))?$/.exec(s) as RegExpExecArray
    const name = m[1] as string
    const n = m[2] === undefined ? undefined : Number(m[2])
    if (name === 'gpc_rate') return { name, count: n, period: Number(m[3]) }
    return name.endsWith('_rate') ? { name, period: n } : name === 'gpc' || name === 'gpt' ? { name, count: n }
      : { name }
  })
  return new StickTable(name, { type, size: 100, expire, nopurge: false, store: items, loc: LOC })
}

let t: StickTable
const NOW = Date.now()

beforeEach(() => {
  t = table('t', 'conn_cur,conn_cnt,conn_rate(10000),sess_cnt,http_req_cnt,http_req_rate(10000),http_err_cnt,' +
    'gpc0,gpc0_rate(10000),gpt0,bytes_in_cnt,bytes_out_cnt')
  setStickTables(new Map([['t', t]]))
})

const src = (counters?: StickCounters) => ({ src: '10.0.0.1', counters })

test('track-sc counts a connection on the entry; the end of the request gives conn_cur back', () => {
  const session = new StickCounters()
  const stream = session.forStream()
  assert.ok(stream.track(0, t, '10.0.0.1', 'stream', NOW))
  const e = t.lookup('10.0.0.1')
  assert.ok(e)
  assert.equal(e.get('conn_cur'), 1)
  assert.equal(e.get('conn_cnt'), 1)
  assert.equal(e.rate('conn_rate', NOW), 1)
  // The first tracker of a slot wins.
  assert.equal(stream.track(0, t, '10.0.0.2', 'stream', NOW), undefined)
  stream.endStream(NOW)
  assert.equal(t.lookup('10.0.0.1')?.get('conn_cur'), 0)
})

test('a session counter is seen by each request, counts sessions, and is released at the end of the session', () => {
  const session = new StickCounters()
  session.track(1, t, '10.0.0.1', 'session', NOW)
  session.countSession(NOW)
  const a = session.forStream()
  const b = session.forStream()
  a.countHttpRequest(NOW)
  b.countHttpRequest(NOW)
  b.countHttpError(NOW)
  a.addBytes(100, 2048, NOW)
  // A request cannot track a slot its session tracks.
  assert.equal(a.track(1, t, '10.0.0.9', 'stream', NOW), undefined)
  a.endStream(NOW)
  const e = t.lookup('10.0.0.1')
  assert.ok(e)
  assert.deepEqual([e.get('conn_cur'), e.get('sess_cnt'), e.get('http_req_cnt'), e.get('http_err_cnt'),
    e.get('bytes_in_cnt'), e.get('bytes_out_cnt')], [1, 1, 2, 1, 100, 2048])
  session.endSession(NOW)
  assert.equal(t.lookup('10.0.0.1')?.get('conn_cur'), 0)
})

test('sc_*, scN_* and src_* fetches: no sample when not tracked, 0 for an absent key, none for a type not stored', () => {
  assert.deepEqual(counterSamples('sc0_conn_cur', [], src(new StickCounters())), [])
  assert.deepEqual(counterSamples('sc0_tracked', [], src(new StickCounters())), ['0'])
  assert.deepEqual(counterSamples('src_conn_cur', ['t'], src()), ['0'])
  const c = new StickCounters()
  c.track(0, t, '10.0.0.1', 'stream', NOW)
  c.countHttpRequest(NOW)
  assert.deepEqual(counterSamples('sc0_conn_cur', [], src(c)), ['1'])
  assert.deepEqual(counterSamples('sc_http_req_rate', ['0'], src(c)), ['1'])
  assert.deepEqual(counterSamples('sc_http_req_cnt', ['0', 't'], src(c)), ['1'])
  assert.deepEqual(counterSamples('sc0_tracked', [], src(c)), ['1'])
  assert.deepEqual(counterSamples('sc0_trackers', [], src(c)), ['1'])
  assert.deepEqual(counterSamples('sc1_conn_cur', [], src(c)), [])
  assert.deepEqual(counterSamples('src_http_req_cnt', ['t'], src()), ['1'])
  assert.deepEqual(counterSamples('src_sess_rate', ['t'], src()), [])
  assert.deepEqual(counterSamples('src_kbytes_out', ['t'], src()), ['0'])
  assert.deepEqual(counterSamples('table_cnt', ['t'], src()), ['1'])
  assert.deepEqual(counterSamples('table_avl', ['t'], src()), ['99'])
  assert.equal(counterSamples('path', [], src()), undefined)
})

test('inc_gpc0 / clr_gpc0 / get_gpc0: src_ creates the entry, the rate is counted with the counter', () => {
  assert.deepEqual(counterSamples('src_get_gpc0', ['t'], { src: '10.0.0.7' }), ['0'])
  assert.deepEqual(counterSamples('src_inc_gpc0', ['t'], { src: '10.0.0.7' }), ['1'])
  assert.deepEqual(counterSamples('src_inc_gpc0', ['t'], { src: '10.0.0.7' }), ['2'])
  assert.deepEqual(counterSamples('src_gpc0_rate', ['t'], { src: '10.0.0.7' }), ['2'])
  assert.deepEqual(counterSamples('src_clr_gpc0', ['t'], { src: '10.0.0.7' }), ['2'])
  assert.deepEqual(counterSamples('src_get_gpc0', ['t'], { src: '10.0.0.7' }), ['0'])
  assert.deepEqual(counterSamples('src_get_gpc1', ['t'], { src: '10.0.0.7' }), [])
})

test('sc-inc-gpc0 and sc-set-gpt0 on a tracked counter; the gpc/gpt arrays stand in for gpc0/gpt0', () => {
  const c = new StickCounters()
  const tr = c.track(0, t, '10.0.0.1', 'stream', NOW)
  assert.ok(tr)
  incrementGpc(tr, 0, false, NOW)
  setGpt(tr, 0, false, 42, NOW)
  assert.deepEqual(counterSamples('sc0_get_gpc0', [], src(c)), ['1'])
  assert.deepEqual(counterSamples('sc0_get_gpt0', [], src(c)), ['42'])
  const arrays = table('a', 'gpc(3),gpc_rate(3,10000),gpt(2)')
  setStickTables(new Map([['a', arrays]]))
  const d = new StickCounters()
  const ta = d.track(2, arrays, '10.0.0.1', 'stream', NOW)
  assert.ok(ta)
  incrementGpc(ta, 0, false, NOW)
  incrementGpc(ta, 2, true, NOW)
  setGpt(ta, 1, true, 7, NOW)
  assert.deepEqual(counterSamples('sc2_get_gpc0', [], src(d)), ['1'])
  assert.deepEqual(counterSamples('sc_get_gpc', ['2', '2'], src(d)), ['1'])
  assert.deepEqual(counterSamples('sc_gpc_rate', ['2', '2'], src(d)), ['1'])
  assert.deepEqual(counterSamples('sc_get_gpt', ['1', '2'], src(d)), ['7'])
  assert.deepEqual(counterSamples('sc_get_gpt', ['0', '2'], src(d)), ['0'])
})

test('table_* converters and in_table: 0 for an absent key; table_trackers counts its own lookup as HAProxy', () => {
  const conn = tableConverter('table_conn_cnt', ['t'])
  const inTable = tableConverter('in_table', ['t'])
  const trackers = tableConverter('table_trackers', ['t'])
  const sess = tableConverter('table_sess_rate', ['t'])
  assert.ok(conn && inTable && trackers && sess)
  assert.equal(conn('10.0.0.3'), '0')
  assert.equal(inTable('10.0.0.3'), '0')
  assert.equal(trackers('10.0.0.3'), '0')
  const c = new StickCounters()
  c.track(0, t, '10.0.0.3', 'stream', NOW)
  assert.equal(conn('10.0.0.3'), '1')
  assert.equal(inTable('10.0.0.3'), '1')
  assert.equal(trackers('10.0.0.3'), '2')
  assert.equal(sess('10.0.0.3'), undefined)
  assert.equal(conn('not an address'), undefined)
  assert.equal(tableConverter('lower', []), undefined)
})

function load (text: string): { config: Config, errors: string[] } {
  const { config, diagnostics } = parseConfig(text, 't.cfg', { env: {} })
  return { config, errors: diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic) }
}

const proxy = (c: Config, name: string): Proxy => c.proxies.find(p => p.name === name) as Proxy

test('the actions parse as HAProxy writes them, the parenthesised forms included; bad ones are errors', () => {
  const { config, errors } = load(['frontend fe', '  bind :80',
    '  stick-table type ip size 1k store gpc0,gpt0,gpc(2),gpt(2)',
    '  http-request track-sc0 src', '  http-request track-sc1 src table fe',
    '  http-request sc-inc-gpc0(0)', '  http-request sc-inc-gpc1', '  http-request sc-inc-gpc(1,2)',
    '  http-request sc-set-gpt0(1) 5', '  http-request sc-set-gpt(1,0) req.hdr_cnt(x)',
    '  tcp-request connection track-sc2 src', '  tcp-request content sc-inc-gpc0(2)', ''].join('\n'))
  assert.deepEqual(errors, [])
  assert.deepEqual(proxy(config, 'fe').httpRules.map(r => r.spec), [
    { type: 'track-sc', slot: 0, key: { fetch: 'src', args: [] }, table: undefined },
    { type: 'track-sc', slot: 1, key: { fetch: 'src', args: [] }, table: 'fe' },
    { type: 'sc-inc-gpc', slot: 0, idx: 0, array: false },
    { type: 'sc-inc-gpc', slot: 0, idx: 1, array: false },
    { type: 'sc-inc-gpc', slot: 2, idx: 1, array: true },
    { type: 'sc-set-gpt', slot: 1, idx: 0, array: false, value: 5 },
    { type: 'sc-set-gpt', slot: 0, idx: 1, array: true, value: { fetch: 'req.hdr_cnt', args: ['x'] } }
  ])
  const bad = load(['frontend fe', '  bind :80', '  stick-table type ip size 1k store gpc0',
    '  http-request track-sc3 src', '  http-request sc-inc-gpc0(5)', '  http-request track-sc0 src table nope',
    '  http-request deny if { src_conn_cur(nope) gt 1 }', '  http-request deny if { sc_conn_cur gt 1 }', ''].join('\n'))
  assert.deepEqual(bad.errors, [
    "t.cfg:4: 'http-request': unknown action 'track-sc3' (known: " + Object.keys(HTTP_REQUEST_ACTIONS).join(', ') + ')',
    "t.cfg:5: 'http-request sc-inc-gpc0': invalid stick counter '5' (0 to 2)",
    "t.cfg:6: unable to find table 'nope' referenced by track-sc0",
    "t.cfg:7: 'src_conn_cur': unable to find table 'nope'",
    "t.cfg:8: 'sc_conn_cur': argument 1 must be an integer below 3, got ''"
  ])
})

test('a table argument left out is the proxy\'s own table; a proxy without one is told to name one', () => {
  const { config, errors } = load(['frontend fe', '  bind :80', '  stick-table type ip size 1k store conn_cur',
    '  acl busy src_conn_cur gt 3', '  http-request deny if busy || { src,table_conn_cur gt 3 }',
    'backend be', '  http-request deny if { src_conn_cur gt 3 }', ''].join('\n'))
  assert.deepEqual(errors, ["t.cfg:7: 'src_conn_cur': proxy 'be' has no stick-table (name one as the table argument)"])
  const fe = proxy(config, 'fe')
  assert.deepEqual(fe.acls[0]?.fetchArgs, ['fe'])
})

test('tcp-request connection track-sc + reject over sc_conn_cur: the limit holds per source', () => {
  const { config, errors } = load(['frontend fe', '  bind :80',
    '  stick-table type ip size 1k expire 30s store conn_cur',
    '  tcp-request connection track-sc0 src', '  tcp-request connection reject if { sc_conn_cur(0) gt 2 }', '']
    .join('\n'))
  assert.deepEqual(errors, [])
  const fe = proxy(config, 'fe')
  const own = table('fe', 'conn_cur')
  setStickTables(new Map([['fe', own]]))
  const rules = compileTcpRules(fe)
  assert.ok(rules)
  const sessions = [1, 2, 3, 4].map(() => new StickCounters())
  const verdicts = sessions.map(c => tcpAccepts(rules, { src: '10.0.0.1', srcPort: 1, dst: '10.0.0.2', dstPort: 80,
    counters: c }))
  assert.deepEqual(verdicts, [true, true, false, false])
  sessions[0]?.endSession(NOW)
  sessions[2]?.endSession(NOW)
  sessions[3]?.endSession(NOW)
  assert.equal(own.lookup('10.0.0.1')?.get('conn_cur'), 1)
})

test('http-request track-sc0 + deny over sc_http_req_rate: the sixth request is the first denied', () => {
  const { config, errors } = load(['frontend fe', '  bind :80', '  mode http',
    '  stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur,gpc0',
    '  http-request track-sc0 src', '  http-request deny deny_status 429 if { sc_http_req_rate(0) gt 5 }', '']
    .join('\n'))
  assert.deepEqual(errors, [])
  const fe = proxy(config, 'fe')
  const own = table('fe', 'http_req_rate(10000),conn_cur,gpc0')
  setStickTables(new Map([['fe', own]]))
  const rules = compileHttpRules(fe, () => true)
  const session = new StickCounters()
  const statuses = [1, 2, 3, 4, 5, 6, 7].map(() => {
    const raw = Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n')
    const head = parseRequestHead(raw, raw.length)
    assert.ok(head)
    const counters = session.forStream()
    counters.countHttpRequest(Date.now())
    const sample = new RequestSample(head, { srcIp: '10.0.0.1', srcPort: 1, dstIp: '10.0.0.2', dstPort: 80,
      nbsrv: () => 0 }, counters)
    const v = runRules(rules.request, { request: head, sample })
    counters.endStream(Date.now())
    return v?.kind === 'reply' ? v.status : 200
  })
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429])
  assert.equal(own.lookup('10.0.0.1')?.get('conn_cur'), 0)
})

test('ACLs over counters: int by default, sc0_tracked and in_table are booleans without a value', () => {
  const { config, errors } = load(['frontend fe', '  bind :80', '  stick-table type ip size 1k store conn_cnt',
    '  acl tracked sc0_tracked', '  acl known src,in_table(fe)', '  acl many src_conn_cnt ge 1', ''].join('\n'))
  assert.deepEqual(errors, [])
  const fe = proxy(config, 'fe')
  const own = table('fe', 'conn_cnt')
  setStickTables(new Map([['fe', own]]))
  const cond = (name: string) => compileCondition({ negate: false, terms: [[{ negate: false, acl: name }]] }, fe.acls)
  const c = new StickCounters()
  const s = { src: '10.0.0.1', srcPort: 1, dst: '', dstPort: 0, counters: c }
  assert.deepEqual(['tracked', 'known', 'many'].map(n => cond(n)(s)), [false, false, false])
  c.track(0, own, '10.0.0.1', 'session', NOW)
  assert.deepEqual(['tracked', 'known', 'many'].map(n => cond(n)(s)), [true, true, true])
})

test('every counter fetch of the registry answers: a number (tracked, or src) or nothing; a boolean for *_tracked', () => {
  const all = table('all', 'conn_cur,conn_cnt,conn_rate(1000),sess_cnt,sess_rate(1000),http_req_cnt,' +
    'http_req_rate(1000),http_err_cnt,http_err_rate(1000),http_fail_cnt,http_fail_rate(1000),bytes_in_cnt,' +
    'bytes_in_rate(1000),bytes_out_cnt,bytes_out_rate(1000),gpt0,gpc0,gpc0_rate(1000),gpc1,gpc1_rate(1000)')
  const arrays = table('arr', 'gpt(3),gpc(3),gpc_rate(3,1000)')
  setStickTables(new Map([['all', all], ['arr', arrays]]))
  const c = new StickCounters()
  for (const slot of [0, 1, 2]) c.track(slot, slot === 2 ? arrays : all, '10.0.0.1', 'stream', NOW)
  for (const name of COUNTER_FETCH_NAMES) {
    const f = counterFetch(name)
    const indexed = f?.indexed === true
    const args = f === undefined ? ['all'] : f.form === 'src' ? [...(indexed ? ['1'] : []), indexed ? 'arr' : 'all']
      : f.form === 'sc' ? [...(indexed ? ['1'] : []), indexed ? '2' : '0'] : f.slot === 2 ? ['all'] : []
    const got = counterSamples(name, args, { src: '10.0.0.1', counters: c })
    assert.ok(got !== undefined && got.length === 1, `${name}(${args.join(',')}) gave ${JSON.stringify(got)}`)
    assert.match(got[0] as string, /^\d+$/, name)
    if (f?.data === 'tracked') assert.equal(got[0], '1', name)
  }
  const none = new StickCounters()
  for (const name of COUNTER_FETCH_NAMES.filter(n => counterFetch(n)?.form === 'slot')) {
    assert.deepEqual(counterSamples(name, [], { src: '10.0.0.1', counters: none }), name.endsWith('_tracked') ? ['0']
      : [], name)
  }
})

test('tslb check: what stays refused says so (a content track-sc over a layer-7 key without inspect-delay); counters in tcp rules are fine', () => {
  const { errors } = load(['frontend fe', '  bind :80', '  mode tcp',
    '  stick-table type string size 1k store conn_cur',
    '  tcp-request content track-sc0 req.hdr(host)', '  tcp-request content reject if { sc0_conn_cur gt 1 }',
    '  tcp-request connection reject if { src_conn_cur ge 5 }', '  default_backend be', 'backend be', '  mode tcp',
    '  server s 127.0.0.1:1', ''].join('\n'))
  assert.deepEqual(errors, ["t.cfg:5: 'tcp-request content track-sc0 over req.hdr' is not enforced yet: tslb refuses " +
    'it rather than let through what it would stop'])
})

test('mode tcp with inspect-delay: content rules may track an HTTP request fetch of the first bytes (HAProxy parses them)',
  () => {
    const { errors } = load(['frontend fe', '  bind :80', '  stick-table type string size 1k store conn_cur',
      '  tcp-request inspect-delay 1s', '  tcp-request content track-sc0 url', '  tcp-request content sc-inc-gpc0(0)',
      '  default_backend be', 'backend be', '  server s 127.0.0.1:1', ''].join('\n'))
    assert.deepEqual(errors, [])
  })

test('src_* over an address the table cannot hold (IPv6 in an ip table) gives no sample', () => {
  assert.deepEqual(counterSamples('src_conn_cur', ['t'], { src: '2001:db8::1' }), [])
  assert.deepEqual(counterSamples('src_conn_cur', ['t'], { src: '::ffff:10.0.0.9' }), ['0'])
})

test('http-response track-sc0: the response tracks, counting the request and its 4xx as an error', () => {
  const { config, errors } = load(['frontend fe', '  bind :80', '  mode http',
    '  stick-table type ip size 1k store http_req_cnt,http_err_cnt,http_fail_cnt,conn_cnt',
    '  http-response track-sc0 src', ''].join('\n'))
  assert.deepEqual(errors, [])
  const own = table('fe', 'http_req_cnt,http_err_cnt,http_fail_cnt,conn_cnt')
  setStickTables(new Map([['fe', own]]))
  const rules = compileHttpRules(proxy(config, 'fe'), () => true)
  const raw = Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n')
  const head = parseRequestHead(raw, raw.length)
  assert.ok(head)
  const counters = new StickCounters().forStream()
  const sample = new RequestSample(head, { srcIp: '10.0.0.1', srcPort: 1, dstIp: '10.0.0.2', dstPort: 80,
    nbsrv: () => 0 }, counters)
  const resRaw = Buffer.from('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n')
  const response = parseResponseHead(resRaw, resRaw.length, 'GET')
  assert.ok(response)
  runRules(rules.response, { request: head, response, sample })
  const e = own.lookup('10.0.0.1')
  assert.ok(e)
  assert.deepEqual([e.get('http_req_cnt'), e.get('http_err_cnt'), e.get('http_fail_cnt'), e.get('conn_cnt')],
    [1, 1, 0, 1])
})

test('a tracked entry does not expire while tracked (an idle connection keeps its conn_cur), then does', () => {
  const short = table('short', 'conn_cur', 'ip', 100)
  setStickTables(new Map([['short', short]]))
  const session = new StickCounters()
  session.track(0, short, '10.0.0.1', 'session', NOW)
  keepTrackedEntries(NOW + 50)
  short.expire(NOW + 120)
  assert.equal(short.lookup('10.0.0.1')?.get('conn_cur'), 1)
  const other = new StickCounters()
  other.track(0, short, '10.0.0.2', 'session', NOW + 130)
  other.endSession(NOW + 130)
  keepTrackedEntries(NOW + 200)
  short.expire(NOW + 250)
  assert.equal(short.lookup('10.0.0.2'), undefined, 'released: it expires')
  assert.equal(short.lookup('10.0.0.1')?.get('conn_cur'), 1, 'still tracked')
  session.endSession(NOW + 260)
  assert.equal(short.lookup('10.0.0.1')?.get('conn_cur'), 0)
  short.expire(NOW + 1000)
  assert.equal(short.size, 0)
})
