import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyse, parseProbeLine, type ProbeResult } from '../../../scripts/drill.d/probe.ts'
import { shellQuote, sshArgv } from '../../../scripts/drill.d/vagrant.ts'

test('probe lines: the client clock in µs becomes ms; partial or foreign lines are skipped', () => {
  assert.deepEqual(parseProbeLine('198.18.0.100 1796622909232123 1796622909240500 1 web3'),
    { vip: '198.18.0.100', start: 1796622909232.123, end: 1796622909240.5, ok: true, body: 'web3' })
  assert.equal(parseProbeLine('198.18.0.100 1796622909232123 17966229'), undefined)
  assert.equal(parseProbeLine('curl: (28) Connection timed out'), undefined)
  assert.equal(parseProbeLine('198.18.0.100 1 2 0 -')?.ok, false)
})

test('gap: the longest time between two answers of the VIP, failures and other VIPs aside', () => {
  const r = (vip: string, end: number, ok: boolean): ProbeResult => ({ vip, start: end - 5, end, ok, body: ok ? 'web1' : '-' })
  const results = [
    r('v1', 1000, true), r('v1', 1050, true), r('v2', 1100, true), r('v1', 1250, false), r('v1', 1450, false),
    r('v1', 1600, true), r('v2', 1620, true), r('v1', 1640, true), r('v1', 1500, true)
  ]
  assert.deepEqual(analyse(results, 'v1'), { requests: 7, failed: 2, gapMs: 450 })
  assert.deepEqual(analyse(results, 'v2'), { requests: 2, failed: 0, gapMs: 520 })
  assert.deepEqual(analyse([], 'v1'), { requests: 0, failed: 0, gapMs: 0 })
})

test('vagrant ssh: each word quoted for the remote shell, run with sudo', () => {
  assert.equal(shellQuote('ip'), 'ip')
  assert.equal(shellQuote('http://198.18.0.100:8080/login'), 'http://198.18.0.100:8080/login')
  assert.equal(shellQuote("for i in $(seq 3); do echo 'x'; done"), `'for i in $(seq 3); do echo '\\''x'\\''; done'`)
  assert.deepEqual(sshArgv('/tmp/c', 'lb1', ['systemctl', 'kill', '-s', 'KILL', 'tslb']),
    ['-F', '/tmp/c', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5', '-o', 'BatchMode=yes', 'lb1', '--', 'sudo', 'systemctl', 'kill', '-s', 'KILL', 'tslb'])
})
