// The Prometheus exporter against HAProxy 2.6.12's /metrics for the same configuration
// (fixtures/haproxy-2.6/metrics.txt): same families in the same order, same HELP and TYPE
// lines, same samples (labels) in the same order, NaN where HAProxy has no value.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { request } from 'node:http'
import { parsePrometheusQuery, prometheusResponse, renderPrometheus } from '../../../../src/proxy/stats/prometheus.ts'
import { fixture, fixtureLab } from './helpers.ts'

interface Sample { readonly series: string, readonly value: string }

function parse (text: string): { headers: string[], samples: Sample[] } {
  const headers: string[] = []
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      headers.push(line)
      continue
    }
    const sp = line.lastIndexOf(' ')
    samples.push({ series: line.slice(0, sp), value: line.slice(sp + 1) })
  }
  return { headers, samples }
}

test('same metric families, HELP and TYPE lines, in the same order as HAProxy', () => {
  const { engine, providers } = fixtureLab()
  const ours = parse(renderPrometheus(engine, providers))
  const ref = parse(fixture('metrics.txt'))
  assert.deepEqual(ours.headers, ref.headers)
})

test('same series (name and labels) in the same order, NaN where HAProxy has none', () => {
  // The version label of haproxy_process_build_info is the product's: pretend to be that HAProxy.
  const { engine, providers } = fixtureLab({ version: '2.6.12-1+deb12u4' })
  const ours = parse(renderPrometheus(engine, providers)).samples
  const ref = parse(fixture('metrics.txt')).samples
  assert.deepEqual(ours.map(s => s.series), ref.map(s => s.series))
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i] as Sample
    const o = ours[i] as Sample
    assert.equal(o.value === 'NaN', r.value === 'NaN', `${r.series}: HAProxy ${r.value}, tslb ${o.value}`)
    assert.match(o.value, /^(NaN|-?\d+(\.\d{6})?)$/, o.series)
  }
})

test('states and configuration values match HAProxy', () => {
  const { engine, providers } = fixtureLab()
  const ours = new Map(parse(renderPrometheus(engine, providers)).samples.map(s => [s.series, s.value]))
  const ref = parse(fixture('metrics.txt')).samples
  const stable = /_status\{|_weight\{|uweight\{|_servers\{|queue_limit\{|check_code\{|limit_sessions\{proxy="[^"]+",server=|nbproc|relative_process_id|sticktable/
  for (const r of ref) {
    if (!stable.test(r.series)) continue
    assert.equal(ours.get(r.series), r.value, r.series)
  }
})

test('scopes and no-maint from the query string', () => {
  const { engine, providers } = fixtureLab()
  const scoped = parse(renderPrometheus(engine, providers, parsePrometheusQuery('/metrics?scope=backend&scope=server')))
  const ref = parse(fixture('metrics-scope.txt'))
  assert.deepEqual(scoped.headers, ref.headers)
  assert.deepEqual(parsePrometheusQuery('/metrics?scope='), { scopes: new Set(), noMaint: false })
  assert.equal(renderPrometheus(engine, providers, parsePrometheusQuery('/metrics?scope=')), '')
  engine.backends.get('be_app')?.servers.forEach(s => { s.admin = 'maint' })
  const noMaint = renderPrometheus(engine, providers, parsePrometheusQuery('/metrics?scope=server&no-maint'))
  assert.ok(!noMaint.includes('proxy="be_app"'))
  assert.ok(noMaint.includes('proxy="be_check"'))
})

test('prometheusResponse is a complete HTTP response a client can read', async () => {
  const { engine, providers } = fixtureLab()
  const srv: Server = createServer(sock => {
    sock.once('data', () => { sock.end(prometheusResponse(engine, providers, '/metrics')) })
  })
  await new Promise<void>(resolve => { srv.listen(0, '127.0.0.1', resolve) })
  const addr = srv.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0
  const { status, type, body } = await new Promise<{ status: number, type: string, body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }) })
    })
    req.on('error', reject)
    req.end()
  })
  srv.close()
  assert.equal(status, 200)
  assert.equal(type, 'text/plain; version=0.0.4')
  assert.match(body, /^# HELP haproxy_process_nbthread /)
  assert.match(body, /\nhaproxy_server_status\{proxy="be_check",server="down1",state="DOWN"\} 1\n/)
  assert.match(body, /\nhaproxy_process_build_info\{version="\d+\.\d+\.\d+"\} 1\n/)
  const head = prometheusResponse(engine, providers, '/metrics', true).toString()
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n[\s\S]*content-length: \d+\r\n\r\n$/)
})
