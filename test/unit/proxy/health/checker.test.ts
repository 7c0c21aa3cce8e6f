import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer as createTlsServer } from 'node:tls'
import { HealthChecker } from '../../../../src/proxy/health/checker.ts'
import { backendFrom, close, FakeClock, httpServer, listen, logSink, portOf, refusedPort, runCheck, tcpServer, waitFor } from './helpers.ts'
import { parseConfig } from '../../../../src/config/parser.ts'

const DOWN_TAIL = (active: number, backup = 0): string => `. ${active} active and ${backup} backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`
const UP_TAIL = (active: number, backup = 0): string => `. ${active} active and ${backup} backup servers online. 0 sessions requeued, 0 total in queue.`

test('TCP check: servers start UP with health = rise; rise and fall counts are exact (option log-health-checks)', async () => {
  const web1 = await tcpServer()
  const port1 = portOf(web1.server)
  const web2 = await tcpServer()
  const backend = backendFrom(`
backend be
  option log-health-checks
  server web1 127.0.0.1:${port1} check
  server web2 127.0.0.1:${portOf(web2.server)} check
`)
  const clock = new FakeClock()
  const sink = logSink()
  const checker = new HealthChecker(backend, { log: sink.log, clock })
  const web1Lines = (): string[] => sink.texts().filter(l => l.includes('be/web1'))
  assert.equal(checker.status('web1')?.status, 'UP 1/3', 'HAProxy shows a server not yet checked as UP 1/3')
  assert.equal(checker.status('web1')?.lastCheck, 'INI')
  checker.start()

  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.status, 'UP')
  assert.equal(checker.status('web1')?.health, 4)
  await close(web1.server, web1.sockets)

  for (let i = 0; i < 3; i++) await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.status, 'DOWN')
  assert.equal(backend.serverByName('web1')?.healthy, false)
  await runCheck(clock, checker, 'web1') // still failing: same status, no health change, nothing logged
  const refusedInfo = ', reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms'
  assert.deepEqual(web1Lines(), [
    'Health check for server be/web1 succeeded, reason: Layer4 check passed, check duration: 0ms, status: 3/3 UP.',
    `Health check for server be/web1 failed${refusedInfo}, status: 2/3 UP.`,
    `Health check for server be/web1 failed${refusedInfo}, status: 1/3 UP.`,
    `Health check for server be/web1 failed${refusedInfo}, status: 0/2 DOWN.`,
    // With log-health-checks the state line carries no reason: the check line said it.
    `Server be/web1 is DOWN${DOWN_TAIL(1)}`
  ])
  assert.equal(checker.status('web1')?.failedChecks, 3)
  assert.equal(checker.status('web1')?.downTransitions, 1)

  const back = await tcpServer(port1)
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.status, 'DOWN 1/2')
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.status, 'UP')
  assert.equal(backend.serverByName('web1')?.healthy, true)
  assert.deepEqual(web1Lines().slice(5), [
    'Health check for server be/web1 succeeded, reason: Layer4 check passed, check duration: 0ms, status: 1/2 DOWN.',
    'Health check for server be/web1 succeeded, reason: Layer4 check passed, check duration: 0ms, status: 3/3 UP.',
    `Server be/web1 is UP${UP_TAIL(2)}`
  ])
  checker.stop()
  await close(back.server, back.sockets)
  await close(web2.server, web2.sockets)
})

test('a refused server goes DOWN after `fall` failed checks, with the Layer4 line; UP again after `rise`', async () => {
  const web1 = await tcpServer()
  const port1 = portOf(web1.server)
  const web2 = await tcpServer()
  const backend = backendFrom(`
backend be
  server web1 127.0.0.1:${port1} check rise 3 fall 2
  server web2 127.0.0.1:${portOf(web2.server)} check
  server web3 127.0.0.1:${portOf(web2.server)}
`)
  const clock = new FakeClock()
  const sink = logSink()
  const checker = new HealthChecker(backend, { log: sink.log, clock })
  checker.start()
  await runCheck(clock, checker, 'web1')
  await close(web1.server, web1.sockets)
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.status, 'UP 1/2')
  assert.deepEqual(sink.texts(), [])
  await runCheck(clock, checker, 'web1')
  assert.deepEqual(sink.lines, [{
    level: 'error',
    severity: 'alert',
    line: `Server be/web1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms${DOWN_TAIL(2)}`
  }])
  const st = checker.status('web1')
  assert.equal(st?.lastCheck, 'L4CON')
  assert.equal(st?.lastCheckDescription, 'Layer4 connection problem')
  assert.equal(st?.lastCheckDesc, 'Connection refused')
  assert.equal(st?.checkDuration, 0)
  assert.equal(checker.status('web3')?.status, 'no check')

  const back = await tcpServer(port1)
  await runCheck(clock, checker, 'web1')
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.status, 'DOWN 2/3')
  assert.equal(sink.lines.length, 1)
  await runCheck(clock, checker, 'web1')
  assert.deepEqual(sink.lines[1], {
    level: 'info',
    severity: 'notice',
    line: `Server be/web1 is UP, reason: Layer4 check passed, check duration: 0ms${UP_TAIL(3)}`
  })
  assert.ok((checker.status('web1')?.downtime ?? 0) >= 5000, 'downtime counts the DOWN period')
  checker.stop()
  await close(back.server, back.sockets)
  await close(web2.server, web2.sockets)
})

test('a server failing its very first check goes DOWN at once (HAProxy starts it at health = rise); the last one logs "has no server available!"', async () => {
  const port = await refusedPort()
  const backend = backendFrom(`
backend be
  server web1 127.0.0.1:${port} check
`)
  const clock = new FakeClock()
  const sink = logSink()
  const checker = new HealthChecker(backend, { log: sink.log, clock })
  checker.start()
  await runCheck(clock, checker, 'web1')
  assert.deepEqual(sink.lines, [
    { level: 'error', severity: 'alert', line: `Server be/web1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms${DOWN_TAIL(0)}` },
    { level: 'error', severity: 'emerg', line: 'backend be has no server available!' }
  ])
  checker.stop()
})

test('a listen section is a "proxy" in the no-server line; backups: "Backup Server", "Running on backup."', async () => {
  const port = await refusedPort()
  const bk = await tcpServer()
  const backend = backendFrom(`
listen app
  bind 127.0.0.1:65000
  server web1 127.0.0.1:${port} check
  server bk1 127.0.0.1:${portOf(bk.server)} check backup
`)
  const clock = new FakeClock()
  const sink = logSink()
  const checker = new HealthChecker(backend, { log: sink.log, clock })
  checker.start()
  await runCheck(clock, checker, 'web1')
  assert.deepEqual(sink.texts(), [
    `Server app/web1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.`
  ])
  await close(bk.server, bk.sockets)
  await runCheck(clock, checker, 'bk1')
  assert.deepEqual(sink.texts().slice(1), [
    `Backup Server app/bk1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms${DOWN_TAIL(0)}`,
    'proxy app has no server available!'
  ])
  checker.stop()
})

test('HTTP check: expect status 200 against a 500 is "Layer7 wrong status" with the code and the reason phrase', async () => {
  let status = 500
  const web = await httpServer((_req, res) => { res.statusCode = status; res.end('x') })
  const backend = backendFrom(`
backend be
  option httpchk GET /health
  http-check expect status 200
  server web1 127.0.0.1:${portOf(web)} check
`)
  const clock = new FakeClock()
  const sink = logSink()
  const checker = new HealthChecker(backend, { log: sink.log, clock })
  checker.start()
  await runCheck(clock, checker, 'web1')
  assert.deepEqual(sink.texts(), [
    `Server be/web1 is DOWN, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: 0ms${DOWN_TAIL(0)}`,
    'backend be has no server available!'
  ])
  const st = checker.status('web1')
  assert.equal(st?.lastCheck, 'L7STS')
  assert.equal(st?.checkCode, 500)
  assert.equal(st?.lastCheckDesc, 'Internal Server Error')
  status = 200
  await runCheck(clock, checker, 'web1')
  await runCheck(clock, checker, 'web1')
  assert.equal(sink.texts()[2], `Server be/web1 is UP, reason: Layer7 check passed, code: 200, check duration: 0ms${UP_TAIL(1)}`)
  status = 201 // not in "status 200"
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.lastCheck, 'L7STS')
  checker.stop()
  await close(web)
})

test('HTTP check without expect: 2xx and 3xx pass, 4xx fails', async () => {
  let status = 302
  const web = await httpServer((_req, res) => { res.statusCode = status; res.end() })
  const backend = backendFrom(`
backend be
  option httpchk
  server web1 127.0.0.1:${portOf(web)} check
`)
  const clock = new FakeClock()
  const checker = new HealthChecker(backend, { log: () => {}, clock })
  checker.start()
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.lastCheck, 'L7OK')
  assert.equal(checker.status('web1')?.checkCode, 302)
  status = 404
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.lastCheck, 'L7STS')
  assert.equal(checker.status('web1')?.lastCheckDesc, 'Not Found')
  checker.stop()
  await close(web)
})

test('HTTP check: expect string / rstring look in the (de-chunked) body', async () => {
  let body = 'status: ready'
  let chunked = false
  const web = await httpServer((_req, res) => {
    if (chunked) {
      res.write('sta')
      setTimeout(() => { res.end(body.slice(3)) }, 5)
    } else {
      res.end(body)
    }
  })
  const backend = backendFrom(`
backend be
  option httpchk GET /
  http-check expect string ready
  server web1 127.0.0.1:${portOf(web)} check
`)
  const clock = new FakeClock()
  const checker = new HealthChecker(backend, { log: () => {}, clock })
  checker.start()
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.lastCheck, 'L7OK')
  body = 'status: starting'
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.lastCheck, 'L7RSP')
  assert.equal(checker.status('web1')?.lastCheckDesc, 'HTTP content check did not match')
  body = 'status: ready'
  chunked = true
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.lastCheck, 'L7OK', 'a chunked body split over two writes matches')
  checker.stop()

  const rx = backendFrom(`
backend be
  option httpchk GET /
  http-check expect rstring ^status:\\ (ready|ok)$
  server web1 127.0.0.1:${portOf(web)} check
`)
  chunked = false
  const checker2 = new HealthChecker(rx, { log: () => {}, clock })
  checker2.start()
  await runCheck(clock, checker2, 'web1')
  assert.equal(checker2.status('web1')?.lastCheck, 'L7OK')
  body = 'status: readyish'
  await runCheck(clock, checker2, 'web1')
  assert.equal(checker2.status('web1')?.lastCheck, 'L7RSP')
  checker2.stop()
  await close(web)
})

test('HTTP check: rstatus and negated (!) rules', async () => {
  let status = 204
  let body = 'all good'
  const web = await httpServer((_req, res) => { res.statusCode = status; res.end(status === 204 ? undefined : body) })
  const port = portOf(web)
  const run = async (rule: string, expected: string, desc?: string): Promise<void> => {
    const backend = backendFrom(`
backend be
  option httpchk
  http-check expect ${rule}
  server web1 127.0.0.1:${port} check
`)
    const clock = new FakeClock()
    const checker = new HealthChecker(backend, { log: () => {}, clock })
    checker.start()
    await runCheck(clock, checker, 'web1')
    checker.stop()
    assert.equal(checker.status('web1')?.lastCheck, expected, `${rule} with ${status}`)
    if (desc !== undefined) assert.equal(checker.status('web1')?.lastCheckDesc, desc)
  }
  await run('rstatus ^20[04]$', 'L7OK')
  status = 201
  await run('rstatus ^20[04]$', 'L7STS', 'Created')
  status = 503
  await run('! status 503', 'L7STS', 'Service Unavailable')
  await run('! rstatus ^5', 'L7STS')
  status = 200
  await run('! status 500-599', 'L7OK')
  body = 'maintenance in progress'
  await run('! string maintenance', 'L7RSP', 'HTTP check matched unwanted content')
  body = 'all good'
  await run('! string maintenance', 'L7OK')
  await run('! rstring error|fail', 'L7OK')
  status = 204
  await run('string good', 'L7RSP', 'HTTP content check could not find a response body')
  await close(web)
})

test('HTTP check request on the wire: HAProxy 2.6 header casing, connection: close for HTTP/1.1, content-length, body; send headers replace the option line\'s', async () => {
  const requests: string[] = []
  const web = await tcpServer(0, socket => {
    let data = ''
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1')
      const end = data.indexOf('\r\n\r\n')
      const length = /content-length: (\d+)/.exec(data)
      if (end >= 0 && data.length >= end + 4 + Number(length?.[1] ?? 0)) {
        requests.push(data)
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n')
      }
    })
  })
  const port = portOf(web.server)
  const cases: [string, string][] = [
    ['option httpchk', 'OPTIONS / HTTP/1.0\r\ncontent-length: 0\r\n\r\n'],
    ['option httpchk GET /health HTTP/1.1\\r\\nHost:\\ www.example.com', 'GET /health HTTP/1.1\r\nhost: www.example.com\r\nconnection: close\r\ncontent-length: 0\r\n\r\n'],
    ['option httpchk HEAD /\n  http-check send meth GET uri /ping ver HTTP/1.1 hdr Host example.org hdr X-Check 1',
      'GET /ping HTTP/1.1\r\nhost: example.org\r\nx-check: 1\r\nconnection: close\r\ncontent-length: 0\r\n\r\n'],
    ['option httpchk POST /x HTTP/1.1\\r\\nHdr:\\ dropped\n  http-check send hdr Host h body "ping body"',
      'POST /x HTTP/1.1\r\nhost: h\r\nconnection: close\r\ncontent-length: 9\r\n\r\nping body']
  ]
  for (const [line] of cases) {
    const backend = backendFrom(`
backend be
  ${line}
  server web1 127.0.0.1:${port} check
`)
    const clock = new FakeClock()
    const checker = new HealthChecker(backend, { log: () => {}, clock })
    checker.start()
    await runCheck(clock, checker, 'web1')
    checker.stop()
    assert.equal(checker.status('web1')?.lastCheck, 'L7OK')
  }
  assert.deepEqual(requests, cases.map(c => c[1]))
  await close(web.server, web.sockets)
})

test('http-check send-state adds X-Haproxy-Server-State as HAProxy builds it', async () => {
  const requests: string[] = []
  const web = await tcpServer(0, socket => {
    socket.once('data', (d: Buffer) => {
      requests.push(d.toString('latin1'))
      socket.end('HTTP/1.0 200 OK\r\n\r\n')
    })
  })
  const port = portOf(web.server)
  const backend = backendFrom(`
backend be
  option httpchk GET /
  http-check send-state
  server web1 127.0.0.1:${port} check weight 3
`)
  const clock = new FakeClock()
  const checker = new HealthChecker(backend, { log: () => {}, clock, node: 'lb1' })
  checker.start()
  await runCheck(clock, checker, 'web1')
  await runCheck(clock, checker, 'web1')
  checker.stop()
  assert.equal(requests[0], `GET / HTTP/1.0\r\nx-haproxy-server-state: UP 1/3; address=127.0.0.1; port=${port}; name=be/web1; node=lb1; weight=3/3; scur=0/0; qcur=0\r\ncontent-length: 0\r\n\r\n`)
  assert.ok(requests[1]?.includes('x-haproxy-server-state: UP; address='))
  await close(web.server, web.sockets)
})

test('HTTP check: empty and invalid responses are "Layer7 invalid response"', async () => {
  let mode: 'close' | 'garbage' = 'close'
  const web = await tcpServer(0, socket => {
    socket.once('data', () => {
      if (mode === 'close') socket.end()
      else socket.end('SSH-2.0-OpenSSH_9.2\r\n')
    })
  })
  const backend = backendFrom(`
backend be
  option httpchk
  server web1 127.0.0.1:${portOf(web.server)} check
`)
  const clock = new FakeClock()
  const checker = new HealthChecker(backend, { log: () => {}, clock })
  checker.start()
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.lastCheck, 'L7RSP')
  assert.equal(checker.status('web1')?.lastCheckDesc, 'TCPCHK got an empty response at step 2')
  mode = 'garbage'
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.lastCheck, 'L7RSP')
  assert.equal(checker.status('web1')?.lastCheckDesc, '')
  checker.stop()
  await close(web.server, web.sockets)
})

test('http-check disable-on-404: a 404 puts an UP server in NOLB ("is stopping"); 2xx brings it back; a DOWN server stays DOWN on 404', async () => {
  let status = 404
  const web = await httpServer((_req, res) => { res.statusCode = status; res.end() })
  const other = await httpServer((_req, res) => { res.end() })
  const backend = backendFrom(`
backend be
  option httpchk GET /
  http-check disable-on-404
  server web1 127.0.0.1:${portOf(web)} check
  server web2 127.0.0.1:${portOf(other)} check
`)
  const clock = new FakeClock()
  const sink = logSink()
  const changes: string[] = []
  const checker = new HealthChecker(backend, { log: sink.log, clock, onChange: (s, st) => { changes.push(`${s.name} ${st.status}`) } })
  checker.start()
  await runCheck(clock, checker, 'web1')
  assert.deepEqual(sink.texts(), [`Server be/web1 is stopping, reason: Layer7 check conditionally passed, code: 404, check duration: 0ms${UP_TAIL(1)}`])
  let st = checker.status('web1')
  assert.equal(st?.status, 'NOLB')
  assert.equal(st?.nolb, true)
  assert.equal(st?.lastCheck, 'L7OKC')
  const web1 = backend.serverByName('web1')
  assert.ok(web1 !== undefined)
  assert.equal(web1.healthy, true)
  assert.equal(web1.persistable, true, 'NOLB servers still take persistent traffic')
  assert.equal(web1.usable, false, 'NOLB servers take no new balanced traffic')
  const picks = new Set(Array.from({ length: 6 }, () => backend.balancer.pick({ source: '198.18.0.2' })?.name))
  assert.deepEqual([...picks], ['web2'])
  assert.deepEqual(changes, ['web1 NOLB'])

  status = 200
  await runCheck(clock, checker, 'web1')
  assert.equal(sink.texts()[1], `Server be/web1 is UP, reason: Layer7 check passed, code: 200, check duration: 0ms${UP_TAIL(2)}`)
  assert.equal(checker.status('web1')?.nolb, false)
  assert.equal(web1.usable, true)
  const back = new Set(Array.from({ length: 6 }, () => backend.balancer.pick({ source: '198.18.0.2' })?.name))
  assert.deepEqual([...back].sort(), ['web1', 'web2'])

  status = 500
  for (let i = 0; i < 3; i++) await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.status, 'DOWN')
  status = 404
  await runCheck(clock, checker, 'web1')
  st = checker.status('web1')
  assert.equal(st?.status, 'DOWN')
  assert.equal(st?.lastCheck, 'L7STS')
  assert.equal(st?.lastCheckDesc, 'Not Found')
  checker.stop()
  await close(web)
  await close(other)
})

test('timeouts (driven clock): without "timeout check" inter bounds the whole check; with it, "timeout check" runs from the connection', async () => {
  const silent = await tcpServer()
  const port = portOf(silent.server)
  const backend = backendFrom(`
backend be
  option httpchk
  server web1 127.0.0.1:${port} check inter 2s
`)
  const clock = new FakeClock()
  const sink = logSink()
  const checker = new HealthChecker(backend, { log: sink.log, clock })
  checker.start()
  clock.advanceTo(checker.status('web1')?.nextCheckAt ?? 0)
  await waitFor(() => silent.accepted() === 1, 2000, 'connection')
  clock.advance(1999)
  assert.equal(checker.status('web1')?.inProgress, true)
  assert.equal(clock.pending, 1, 'only the check deadline is armed: no second check while one is in flight')
  clock.advance(1)
  await waitFor(() => checker.status('web1')?.inProgress === false, 2000, 'timeout')
  assert.deepEqual(sink.texts(), [`Server be/web1 is DOWN, reason: Layer7 timeout, check duration: 2000ms${DOWN_TAIL(0)}`, 'backend be has no server available!'])
  assert.equal(silent.accepted(), 1)
  await waitFor(() => silent.sockets.size === 0, 2000, 'the check socket closed')
  checker.stop()

  const withTimeout = backendFrom(`
backend be
  option httpchk
  timeout connect 50ms
  timeout check 300ms
  server web1 127.0.0.1:${port} check inter 2s
`)
  const checker2 = new HealthChecker(withTimeout, { log: () => {}, clock })
  checker2.start()
  clock.advanceTo(checker2.status('web1')?.nextCheckAt ?? 0)
  await waitFor(() => silent.accepted() === 2, 2000, 'connection')
  clock.advance(299)
  assert.equal(checker2.status('web1')?.inProgress, true)
  clock.advance(1)
  await waitFor(() => checker2.status('web1')?.inProgress === false, 2000, 'timeout')
  assert.equal(checker2.status('web1')?.lastCheck, 'L7TOUT')
  assert.equal(checker2.status('web1')?.checkDuration, 300)
  checker2.stop()
  await close(silent.server, silent.sockets)
})

test('timeouts (driven clock): L4TOUT before the connection, L6TOUT for an unanswered ssl hello', async () => {
  const silent = await tcpServer()
  const port = portOf(silent.server)
  const clock = new FakeClock()
  const sink = logSink()
  const l4 = backendFrom(`
backend be
  option tcp-check
  server web1 127.0.0.1:${port} check inter 500ms
`)
  const checker = new HealthChecker(l4, { log: sink.log, clock })
  checker.start()
  // The deadline fires in the same turn as the connect() call: the connection is not established yet.
  clock.advanceTo(checker.status('web1')?.nextCheckAt ?? 0)
  clock.advance(500)
  await waitFor(() => checker.status('web1')?.inProgress === false, 2000, 'timeout')
  assert.equal(checker.status('web1')?.lastCheck, 'L4TOUT')
  assert.equal(sink.texts()[0], `Server be/web1 is DOWN, reason: Layer4 timeout, info: " at initial connection step of tcp-check", check duration: 500ms${DOWN_TAIL(0)}`)
  checker.stop()

  const l6 = backendFrom(`
backend be
  option ssl-hello-chk
  timeout check 200ms
  server web1 127.0.0.1:${port} check
`)
  const checker2 = new HealthChecker(l6, { log: () => {}, clock })
  checker2.start()
  clock.advanceTo(checker2.status('web1')?.nextCheckAt ?? 0)
  await waitFor(() => silent.accepted() >= 1, 2000, 'connection')
  await new Promise(resolve => setTimeout(resolve, 10))
  clock.advance(200)
  await waitFor(() => checker2.status('web1')?.inProgress === false, 2000, 'timeout')
  assert.equal(checker2.status('web1')?.lastCheck, 'L6TOUT')
  assert.equal(checker2.status('web1')?.lastCheckDescription, 'Layer6 timeout')
  checker2.stop()
  await close(silent.server, silent.sockets)
})

test('timeout (real clock): a server that accepts and never answers fails with L7TOUT within "timeout check"', async () => {
  const silent = await tcpServer()
  const backend = backendFrom(`
backend be
  option httpchk
  timeout check 100ms
  server web1 127.0.0.1:${portOf(silent.server)} check inter 10s
`)
  const sink = logSink()
  const started = Date.now()
  const checker = new HealthChecker(backend, { log: sink.log })
  checker.start()
  await waitFor(() => checker.status('web1')?.lastCheck === 'L7TOUT', 3000, 'L7TOUT')
  const elapsed = Date.now() - started
  const duration = checker.status('web1')?.checkDuration ?? -1
  assert.ok(duration >= 99 && duration < 1000, `check duration ${duration}ms`)
  assert.ok(elapsed < 1000, `verdict after ${elapsed}ms`)
  assert.match(sink.texts()[0] ?? '', /^Server be\/web1 is DOWN, reason: Layer7 timeout, check duration: \d+ms\. 0 active/)
  checker.stop()
  await close(silent.server, silent.sockets)
})

test('option ssl-hello-chk: a TLS server passes (Layer6), a plain HTTP server fails', async () => {
  const tls = createTlsServer({})
  tls.on('tlsClientError', () => {})
  await listen(tls)
  const http = await httpServer((_req, res) => { res.end() })
  const quiet = await tcpServer(0, socket => { socket.once('data', () => { socket.end() }) })
  const backend = backendFrom(`
backend be
  option ssl-hello-chk
  server tls 127.0.0.1:${(tls.address() as { port: number }).port} check
  server http 127.0.0.1:${portOf(http)} check
  server quiet 127.0.0.1:${portOf(quiet.server)} check
`)
  const clock = new FakeClock()
  const sink = logSink()
  const checker = new HealthChecker(backend, { log: sink.log, clock })
  checker.start()
  await runCheck(clock, checker, 'tls')
  await runCheck(clock, checker, 'http')
  await runCheck(clock, checker, 'quiet')
  assert.equal(checker.status('tls')?.lastCheck, 'L6OK')
  assert.equal(checker.status('tls')?.status, 'UP')
  assert.equal(checker.status('http')?.lastCheck, 'L6RSP')
  assert.equal(checker.status('quiet')?.lastCheckDesc, 'TCPCHK got an empty response at step 2')
  assert.deepEqual(sink.texts(), [
    `Server be/http is DOWN, reason: Layer6 invalid response, check duration: 0ms${DOWN_TAIL(2)}`,
    `Server be/quiet is DOWN, reason: Layer6 invalid response, info: "TCPCHK got an empty response at step 2", check duration: 0ms${DOWN_TAIL(1)}`
  ])
  checker.stop()
  await close(tls)
  await close(http)
  await close(quiet.server, quiet.sockets)
})

test('option tcp-check without rules: the tcp-check wording of the info text', async () => {
  const port = await refusedPort()
  const backend = backendFrom(`
backend be
  option tcp-check
  server web1 127.0.0.1:${port} check
`)
  const clock = new FakeClock()
  const checker = new HealthChecker(backend, { log: () => {}, clock })
  checker.start()
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.lastCheckDesc, 'Connection refused at initial connection step of tcp-check')
  checker.stop()
})

test('intervals: inter while UP, fastinter while changing state, downinter while DOWN; first checks spread by position', async () => {
  const web = await tcpServer()
  const port = portOf(web.server)
  const backend = backendFrom(`
backend be
  server web1 127.0.0.1:${port} check inter 1s fastinter 300ms downinter 5s rise 2 fall 2
  server web2 127.0.0.1:${port} check inter 3s
  server web3 127.0.0.1:${port} check inter 3s
`)
  const clock = new FakeClock()
  const checker = new HealthChecker(backend, { log: () => {}, clock })
  const t0 = clock.now()
  checker.start()
  // start_checks(): position × max(min interval, own interval) / number of checks; web1 starts
  // in transition (health = rise), so its own interval is fastinter.
  assert.deepEqual(['web1', 'web2', 'web3'].map(n => (checker.status(n)?.nextCheckAt ?? 0) - t0), [0, 1000, 2000])
  const next = (): number => (checker.status('web1')?.nextCheckAt ?? 0) - clock.now()
  await runCheck(clock, checker, 'web1')
  assert.equal(next(), 1000, 'UP: inter')
  await close(web.server, web.sockets)
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.status, 'UP 1/2')
  assert.equal(next(), 300, 'going down: fastinter')
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.status, 'DOWN')
  assert.equal(next(), 5000, 'DOWN: downinter')
  const back = await tcpServer(port)
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.status, 'DOWN 1/2')
  assert.equal(next(), 300, 'going up: fastinter')
  await runCheck(clock, checker, 'web1')
  assert.equal(next(), 1000)
  checker.stop()
  await close(back.server, back.sockets)
})

test('spread-checks adds ±N% to each interval', async () => {
  const web = await tcpServer()
  const backend = backendFrom(`
backend be
  server web1 127.0.0.1:${portOf(web.server)} check inter 1s
`)
  const clock = new FakeClock()
  let r = 0
  const checker = new HealthChecker(backend, { log: () => {}, clock, spreadChecks: 10, random: () => r })
  checker.start()
  const next = (): number => (checker.status('web1')?.nextCheckAt ?? 0) - clock.now()
  await runCheck(clock, checker, 'web1')
  assert.equal(next(), 1100)
  r = 0.5
  await runCheck(clock, checker, 'web1')
  assert.equal(next(), 1000)
  r = 0.9999
  await runCheck(clock, checker, 'web1')
  assert.equal(next(), 901)
  checker.stop()
  await close(web.server, web.sockets)
})

test('addr and port send the checks elsewhere; a server without any port is not checked (warned once)', async () => {
  const web = await tcpServer()
  const backend = backendFrom(`
backend be
  server web1 192.0.2.1:80 check addr 127.0.0.1 port ${portOf(web.server)}
  server web2 127.0.0.1 check
`)
  const clock = new FakeClock()
  const sink = logSink()
  const checker = new HealthChecker(backend, { log: sink.log, clock })
  assert.deepEqual(sink.lines, [{ level: 'warn', severity: 'warning', line: "config: backend 'be': server 'web2' has neither service port nor check port. Check has been disabled." }])
  checker.start()
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.lastCheck, 'L4OK')
  assert.equal(checker.status('web1')?.checkAddress, '127.0.0.1')
  assert.equal(web.accepted(), 1)
  const web2 = checker.status('web2')
  assert.equal(web2?.status, 'no check')
  assert.equal(web2?.checked, false)
  assert.equal(web2?.nextCheckAt, undefined)
  assert.equal(sink.lines.length, 1)
  checker.stop()
  await close(web.server, web.sockets)
})

test('the balancer stops picking a DOWN server and picks it again once UP', async () => {
  const web1 = await tcpServer()
  const port1 = portOf(web1.server)
  const web2 = await tcpServer()
  const backend = backendFrom(`
backend be
  balance roundrobin
  server web1 127.0.0.1:${port1} check fall 1
  server web2 127.0.0.1:${portOf(web2.server)} check
`)
  const picks = (): string[] => Array.from({ length: 6 }, () => backend.balancer.pick({ source: '127.0.0.1' })?.name ?? 'none')
  assert.deepEqual(new Set(picks()), new Set(['web1', 'web2']))
  const clock = new FakeClock()
  const checker = new HealthChecker(backend, { log: () => {}, clock })
  checker.start()
  await close(web1.server, web1.sockets)
  await runCheck(clock, checker, 'web1')
  assert.equal(backend.serverByName('web1')?.usable, false)
  assert.deepEqual(new Set(picks()), new Set(['web2']))
  const back = await tcpServer(port1)
  await runCheck(clock, checker, 'web1')
  await runCheck(clock, checker, 'web1')
  assert.deepEqual(new Set(picks()), new Set(['web1', 'web2']))
  checker.stop()
  await close(back.server, back.sockets)
  await close(web2.server, web2.sockets)
})

test('maintenance pauses the checks; leaving it resumes them at once with health = rise', async () => {
  const web = await tcpServer()
  const backend = backendFrom(`
backend be
  server web1 127.0.0.1:${portOf(web.server)} check disabled
`)
  const clock = new FakeClock()
  const checker = new HealthChecker(backend, { log: () => {}, clock })
  checker.start()
  assert.equal(checker.status('web1')?.status, 'MAINT')
  clock.advance(10_000)
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(web.accepted(), 0, 'no check while in maintenance')
  const server = backend.serverByName('web1')
  assert.ok(server !== undefined)
  server.admin = 'ready'
  backend.refresh()
  checker.notifyAdminChange(server)
  assert.equal(checker.status('web1')?.status, 'UP 1/3')
  assert.equal(checker.status('web1')?.nextCheckAt, clock.now())
  await runCheck(clock, checker, 'web1')
  assert.equal(checker.status('web1')?.status, 'UP')
  assert.equal(web.accepted(), 1)
  checker.stop()
  await close(web.server, web.sockets)
})

test('entering and leaving maintenance from the runtime API log as HAProxy does (alert, emerg, notice)', async () => {
  const web = await tcpServer()
  const backend = backendFrom(`
backend be
  server web1 127.0.0.1:${portOf(web.server)} check
`)
  const clock = new FakeClock()
  const sink = logSink()
  const checker = new HealthChecker(backend, { log: sink.log, clock })
  checker.start()
  const server = backend.serverByName('web1')
  assert.ok(server !== undefined)
  server.admin = 'maint'
  backend.refresh()
  checker.notifyAdminChange(server)
  server.admin = 'ready'
  backend.refresh()
  checker.notifyAdminChange(server)
  assert.deepEqual(sink.lines.map(l => [l.severity, l.line]), [
    ['alert', 'Server be/web1 is going DOWN for maintenance. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.'],
    ['emerg', 'backend be has no server available!'],
    ['notice', 'Server be/web1 is UP/READY (leaving forced maintenance).']
  ])
  checker.stop()
  await close(web.server, web.sockets)
})

test('stop() leaves no timer and no socket behind', async () => {
  const silent = await tcpServer()
  const refused = await refusedPort()
  const ok = await httpServer((_req, res) => { res.end('ok') })
  // What the checker may create: timers and client sockets (the servers' accepted sockets close with them).
  const count = (): string => {
    const out: Record<string, number> = { Timeout: 0, TCPSocketWrap: 0 }
    for (const r of process.getActiveResourcesInfo()) if (r in out) out[r] = (out[r] ?? 0) + 1
    return JSON.stringify(out)
  }
  const baseline = count()
  const backend = backendFrom(`
backend be
  option httpchk
  server silent 127.0.0.1:${portOf(silent.server)} check inter 40ms
  server refused 127.0.0.1:${refused} check inter 20ms
  server ok 127.0.0.1:${portOf(ok)} check inter 20ms
`)
  const checker = new HealthChecker(backend, { log: () => {} })
  checker.start()
  await waitFor(() => checker.status('silent')?.inProgress === true && checker.status('ok')?.lastCheck === 'L7OK' && checker.status('refused')?.lastCheck === 'L4CON', 2000, 'checks running')
  await new Promise(resolve => setTimeout(resolve, 60))
  assert.notEqual(count(), baseline, 'checks hold timers and sockets while running')
  checker.stop()
  assert.equal(checker.status('silent')?.inProgress, false)
  assert.equal(checker.status('ok')?.nextCheckAt, undefined)
  await waitFor(() => count() === baseline, 2000, `resources back to ${baseline}, now ${count()}`)
  await close(silent.server, silent.sockets)
  await close(ok)
})

test('a section\'s own option httpchk or http-check send starts its check afresh; without them it inherits the defaults\' check', () => {
  const r = parseConfig(`defaults
  option httpchk GET /status HTTP/1.1
  http-check send hdr Host www body "b"
  http-check expect status 204
backend inherits
  server s 127.0.0.1:1 check
backend own-option
  option httpchk
  server s 127.0.0.1:1 check
backend own-send
  http-check send hdr Host other
  server s 127.0.0.1:1 check
`, 't.cfg', { env: {} })
  const [inherits, ownOption, ownSend] = r.config.proxies
  assert.deepEqual(inherits?.httpCheck, { method: 'GET', uri: '/status', version: 'HTTP/1.1', headers: ['Host: www'], body: 'b', expects: [{ negate: false, kind: 'status', pattern: '204' }] })
  assert.deepEqual(ownOption?.httpCheck, { method: 'OPTIONS', uri: '/', version: 'HTTP/1.0', headers: [], expects: undefined })
  assert.deepEqual(ownSend?.httpCheck, { method: 'OPTIONS', uri: '/', version: 'HTTP/1.0', headers: ['Host: other'] })
  const refused = (line: string): string => parseConfig(`backend b\n  ${line}\n`, 't.cfg', { env: {} }).diagnostics.map(d => d.message).join('\n')
  assert.match(refused('http-check connect port 80'), /'http-check connect' is not supported by tslb yet/)
  assert.match(refused('http-check set-var(txn.x) str(y)'), /'http-check set-var' is not supported by tslb yet/)
  assert.match(refused('http-check send uri-lf "%[var(x)]"'), /log-format strings are not supported/)
  assert.match(refused('http-check send hdr X "%[src]"'), /log-format values are not supported/)
})
