// The counters the sessions feed (recordExchange) and the per-second sampler, as they show up in
// `show stat`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { countersOf, downtimeOf, observeState, recordExchange, SlidingAverage } from '../../../../src/proxy/counters.ts'
import { StatsSampler } from '../../../../src/proxy/stats/sampler.ts'
import { collectRows, valueOf } from '../../../../src/proxy/stats/model.ts'
import { fixtureLab } from './helpers.ts'

function row (lab: ReturnType<typeof fixtureLab>, px: string, sv: string): ReturnType<typeof collectRows>[number] {
  const r = collectRows(lab.engine, lab.providers, { legends: true }).find(x => x.proxy.name === px && (x.server?.name ?? (x.kind === 'F' ? 'FRONTEND' : 'BACKEND')) === sv)
  assert.ok(r !== undefined, `${px}/${sv}`)
  return r
}

test('recorded HTTP exchanges fill requests, response classes, bytes, aborts, timers', () => {
  const lab = fixtureLab()
  const fe = lab.engine.frontends[0]
  const be = lab.engine.backends.get('be_app')
  const s1 = be?.serverByName('s1')
  assert.ok(fe !== undefined && be !== undefined && s1 !== undefined)
  for (let i = 0; i < 10; i++) {
    recordExchange({ frontend: fe, backend: be, server: s1, http: true, status: i < 8 ? 200 : 503, bytesIn: 100, bytesOut: 1000, tw: 0, tc: 2, tr: 10, tt: 20, feconn: 3, beconn: 2, srvConn: 2 })
  }
  recordExchange({ frontend: fe, backend: be, server: s1, http: true, status: -1, termination: 'CD', tw: 0, tc: 1, tr: -1, tt: 5, retries: 1, redispatched: true, reused: true })
  recordExchange({ frontend: fe, http: true, status: 400, badRequest: true, termination: 'PR', denied: true })
  const f = row(lab, 'fe_main', 'FRONTEND')
  assert.equal(valueOf(f, 'req_tot'), 12)
  assert.equal(valueOf(f, 'hrsp_2xx'), 8)
  assert.equal(valueOf(f, 'hrsp_5xx'), 2)
  assert.equal(valueOf(f, 'hrsp_4xx'), 1)
  assert.equal(valueOf(f, 'hrsp_other'), 1)
  assert.equal(valueOf(f, 'bin'), 1000)
  assert.equal(valueOf(f, 'bout'), 10000)
  assert.equal(valueOf(f, 'ereq'), 1)
  assert.equal(valueOf(f, 'dreq'), 1)
  assert.equal(valueOf(f, 'smax'), 3)
  const s = row(lab, 'be_app', 's1')
  assert.equal(valueOf(s, 'req_tot'), 11)
  assert.equal(valueOf(s, 'hrsp_2xx'), 8)
  assert.equal(valueOf(s, 'cli_abrt'), 1)
  assert.equal(valueOf(s, 'wretr'), 1)
  assert.equal(valueOf(s, 'wredis'), 1)
  assert.equal(valueOf(s, 'connect'), 10)
  assert.equal(valueOf(s, 'reuse'), 1)
  assert.equal(valueOf(s, 'smax'), 2)
  assert.equal(valueOf(s, 'rtime'), 10)
  assert.equal(valueOf(s, 'ttime_max'), 20)
  assert.equal(valueOf(s, 'lastsess'), 0)
  const b = row(lab, 'be_app', 'BACKEND')
  assert.equal(valueOf(b, 'req_tot'), 11)
  assert.equal(valueOf(b, 'hrsp_5xx'), 2)
  assert.equal(valueOf(b, 'smax'), 2)
})

test('the sampler derives per-second rates and their maxima from the engine totals', () => {
  const lab = fixtureLab()
  const sampler = new StatsSampler(lab.engine)
  const fe = lab.engine.frontends[0]
  const be = lab.engine.backends.get('be_app')
  assert.ok(fe !== undefined && be !== undefined)
  sampler.tick()
  fe.totalSessions += 7
  be.totalSessions += 5
  sampler.tick()
  assert.equal(countersOf(fe).rate, 7)
  assert.equal(countersOf(be).rate, 5)
  assert.equal(sampler.process.connRate, 7)
  fe.totalSessions += 2
  sampler.tick()
  assert.equal(countersOf(fe).rate, 2)
  assert.equal(countersOf(fe).rateMax, 7)
  assert.equal(sampler.process.connRateMax, 7)
  const f = row(lab, 'fe_main', 'FRONTEND')
  assert.equal(valueOf(f, 'rate_max'), 7)
  assert.equal(valueOf(f, 'conn_rate'), 2)
})

test('state changes reset lastchg and add up downtime', () => {
  const c = countersOf({})
  observeState(c, 'ready/up', false, 1000)
  observeState(c, 'ready/down', true, 5000)
  assert.equal(c.lastChangeAt, 5000)
  assert.equal(c.downTransitions, 1)
  assert.equal(downtimeOf(c, 8000), 3000)
  observeState(c, 'ready/up', false, 9000)
  assert.equal(downtimeOf(c, 20000), 4000)
  assert.equal(c.lastChangeAt, 9000)
})

test('a server going DOWN shows in lastchg, downtime and the backend status', () => {
  const lab = fixtureLab()
  const be = lab.engine.backends.get('be_tcp')
  const t1 = be?.serverByName('t1')
  assert.ok(be !== undefined && t1 !== undefined)
  collectRows(lab.engine, lab.providers, { legends: false })
  t1.healthy = false
  be.refresh()
  collectRows(lab.engine, lab.providers, { legends: false })
  const later = Date.now() + 65_000
  const b = collectRows(lab.engine, lab.providers, { legends: false, now: later }).find(r => r.proxy.name === 'be_tcp' && r.kind === 'B')
  assert.ok(b !== undefined)
  assert.equal(valueOf(b, 'status'), 'DOWN')
  assert.equal(valueOf(b, 'act'), 0)
  assert.ok((valueOf(b, 'downtime') as number) >= 64)
})

test('sliding average over the last samples', () => {
  const a = new SlidingAverage(4)
  assert.equal(a.value, 0)
  a.add(10)
  assert.equal(a.value, 10)
  a.add(20)
  // HAProxy's swrate decays the older samples: (10 - 10/4 + 20) / 2
  assert.equal(a.value, 14)
  for (let i = 0; i < 100; i++) a.add(20)
  assert.equal(a.value, 20)
})
