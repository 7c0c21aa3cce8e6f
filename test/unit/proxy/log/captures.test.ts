import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type AddressInfo } from 'node:net'
import { parseConfig } from '../../../../src/config/index.ts'
import { listenerKey } from '../../../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../../../src/net/listen-handle.ts'
import { Engine } from '../../../../src/proxy/engine.ts'
import { captureBlock } from '../../../../src/proxy/log/captures.ts'
import { rawExchange } from '../../../helpers/http-get.ts'

const caps = [{ kind: 'request' as const, header: 'Host', len: 8 }, { kind: 'request' as const, header: 'X-Missing', len: 5 },
  { kind: 'request' as const, header: 'User-Agent', len: 64 }, { kind: 'response' as const, header: 'Server', len: 10 }]

test('capture blocks: the last occurrence, cut to len, a missing header empty, "#{|} and control bytes #XX (HAProxy hdr_encode_map)', () => {
  const head = { headers: ['Host', 'first.example', 'host', 'last.example.org', 'User-Agent', 'a "b" {c|d} #1\x01é'] }
  assert.equal(captureBlock(caps, 'request', head), 'last.exa||a #22b#22 #7Bc#7Cd#7D #231#01#E9')
  assert.equal(captureBlock(caps, 'response', { headers: ['Server', 'nginx/1.22.1 (Debian)'] }), 'nginx/1.22')
  assert.equal(captureBlock(caps, 'response', undefined), '', 'no response: an empty block')
  assert.equal(captureBlock([], 'request', head), undefined, 'no capture declared: no block')
})

test('the httplog line carries {request captures} {response captures} before the request line, as HAProxy', async () => {
  const web = createServer(s => { s.once('data', () => { s.end('HTTP/1.1 200 OK\r\nServer: web/1\r\ncontent-length: 0\r\n\r\n') }) })
  await new Promise<void>(resolve => { web.listen(0, '127.0.0.1', resolve) })
  const handle = bindTcp('127.0.0.1', 0, 4)
  const { port } = handleAddress(handle)
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend www
    bind 127.0.0.1:${port}
    option httplog
    capture request header Host len 20
    capture request header X-Trace len 4
    capture response header Server len 20
    http-request set-header Host rewritten
    default_backend app
backend app
    server s1 127.0.0.1:${(web.address() as AddressInfo).port}
`, 'cap.cfg')
  assert.deepEqual(diagnostics.map(d => d.message).filter(m => /capture/.test(m)), [], 'capture is enforced: no warning')
  const lines: string[] = []
  const engine = new Engine(config, { logFor: () => line => { lines.push(line) } })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  try {
    await rawExchange(port, 'GET / HTTP/1.1\r\nHost: h.example\r\nX-Trace: abcdef\r\nConnection: close\r\n\r\n')
    assert.match(lines[0] ?? '', / \{h\.example\|abcd\} \{web\/1\} "GET \/ HTTP\/1\.1"$/, 'the Host as received, before http-request set-header')
  } finally {
    engine.stopAccepting()
    engine.close()
    web.close()
  }
})
