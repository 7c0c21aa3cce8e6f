import { test } from 'node:test'
import assert from 'node:assert/strict'
import { matchesMonitorUri } from '../../../../src/proxy/http/monitor-uri.ts'

test('monitor-uri /PATH: compared with the path, absolute-form targets and queries included', () => {
  assert.equal(matchesMonitorUri('/health', '/health'), true)
  assert.equal(matchesMonitorUri('/health', '/health?x=1'), true)
  assert.equal(matchesMonitorUri('/health', 'http://www.haproxy.org/health'), true)
  assert.equal(matchesMonitorUri('/health', '/hEAlth'), false)
  assert.equal(matchesMonitorUri('/health', '/health/'), false)
})

test('monitor-uri with an absolute URI: compared with the request target as received', () => {
  const u = 'http://www.haproxy.org/health'
  assert.equal(matchesMonitorUri(u, u), true)
  assert.equal(matchesMonitorUri(u, '/health'), false)
  assert.equal(matchesMonitorUri(u, 'http://www.haproxy.org/health?x=1'), false)
  assert.equal(matchesMonitorUri(u, 'http://WWW.haproxy.org/health'), false)
})
