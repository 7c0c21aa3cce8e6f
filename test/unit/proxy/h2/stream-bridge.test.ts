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

const wait = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

test('setTimeout: timeout after the idle time, re-armed by each call with the same value, stopped by 0', async () => {
  const b = bridge()
  let fired = 0
  b.on('timeout', () => { fired++ })
  b.setTimeout(60)
  await wait(30)
  b.setTimeout(60)
  await wait(40)
  assert.equal(fired, 0, 'the second call re-armed the timer')
  await wait(50)
  assert.equal(fired, 1)
  b.setTimeout(0)
  b.setTimeout(30)
  b.setTimeout(0)
  await wait(60)
  assert.equal(fired, 1, 'stopped: no timeout')
  b.setTimeout(30)
  await wait(60)
  assert.equal(fired, 2, 'started again after a stop')
  b.destroy()
  b.setTimeout(20)
  await wait(40)
  assert.equal(fired, 2, 'none once destroyed')
})
