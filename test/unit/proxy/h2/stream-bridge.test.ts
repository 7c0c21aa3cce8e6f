import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { ServerHttp2Stream } from 'node:http2'
import { StreamBridge } from '../../../../src/proxy/h2/stream-bridge.ts'

/** The part of a ServerHttp2Stream the bridge touches, for a request without a body. */
function fakeStream (): ServerHttp2Stream {
  const s = Object.assign(new EventEmitter(), {
    endAfterHeaders: true,
    destroyed: false,
    isPaused: () => false,
    pause: () => s,
    resume: () => s,
    close: () => {}
  })
  return s as unknown as ServerHttp2Stream
}

function bridge (): StreamBridge {
  return new StreamBridge(fakeStream(), { method: 'GET', path: '/', authority: 'a', contentLength: -1,
    chunked: false, head: Buffer.from('GET / HTTP/1.1\r\nconnection: close\r\n\r\n', 'latin1') },
  { remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2 }, 16384)
}

/** The bridge's one idle timer (white box: what the test checks is that calls re-arm it rather than make new ones). */
function timerOf (b: StreamBridge): unknown {
  return (b as unknown as { idleTimer: unknown }).idleTimer
}

test('setTimeout: one timer per stream, re-armed by calls with the same value', () => {
  const b = bridge()
  b.setTimeout(60_000)
  const first = timerOf(b)
  assert.ok(first !== undefined)
  b.setTimeout(60_000)
  b.setTimeout(0)
  b.setTimeout(60_000)
  assert.equal(timerOf(b), first, 'the same timer, re-armed')
  b.setTimeout(30_000)
  assert.notEqual(timerOf(b), first, 'another duration: another timer')
  b.destroy()
})

test('setTimeout: timeout after the idle time, none while stopped by 0, none once destroyed', t => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const b = bridge()
  let fired = 0
  b.on('timeout', () => { fired++ })
  b.setTimeout(60)
  t.mock.timers.tick(59)
  assert.equal(fired, 0)
  t.mock.timers.tick(1)
  assert.equal(fired, 1)
  b.setTimeout(30)
  b.setTimeout(0)
  t.mock.timers.tick(60)
  assert.equal(fired, 1, 'stopped: no timeout')
  const c = bridge()
  c.on('timeout', () => { fired++ })
  c.setTimeout(20)
  c.destroy()
  c.setTimeout(20)
  t.mock.timers.tick(40)
  assert.equal(fired, 1, 'none once destroyed')
})
