/** PROXY protocol keywords: `send-proxy*` on servers (the last one wins), `accept-proxy` where it is read. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import { checkProxyHeader, proxyHeaderFor } from '../../../src/proxy/proxy-protocol/send.ts'

test('send-proxy / send-proxy-v2 / no-send-proxy / check-send-proxy', () => {
  const { config, diagnostics } = parseConfig(`backend b
    default-server send-proxy-v2
    server v2 127.0.0.1:1
    server v1 127.0.0.1:2 send-proxy
    server none 127.0.0.1:3 no-send-proxy-v2
    server checked 127.0.0.1:4 no-send-proxy-v2 check-send-proxy
    server other-port 127.0.0.1:5 send-proxy check port 6
`, 'b.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const s = Object.fromEntries((config.proxies[0]?.servers ?? []).map(x => [x.name, x]))
  const client = { src: '192.0.2.1', srcPort: 1000, dst: '192.0.2.2', dstPort: 80 }
  const local = { address: '127.0.0.1', port: 40000 }
  const remote = { address: '127.0.0.1', port: 1 }
  assert.equal(proxyHeaderFor(s.v2 ?? {}, client)?.[12], 0x21, 'v2 header')
  assert.equal(proxyHeaderFor(s.v1 ?? {}, client)?.toString(), 'PROXY TCP4 192.0.2.1 192.0.2.2 1000 80\r\n')
  assert.equal(proxyHeaderFor(s.none ?? {}, client), undefined)
  // Checks: implicit on a send-proxy server checked on its own port; explicit with check-send-proxy; not with `port`.
  assert.equal(checkProxyHeader(s.v2 ?? {}, local, remote)?.toString('hex'),
    '0d0a0d0a000d0a515549540a20000000')
  assert.equal(checkProxyHeader(s.checked ?? {}, local, remote)?.toString(),
    'PROXY TCP4 127.0.0.1 127.0.0.1 40000 1\r\n')
  assert.equal(checkProxyHeader(s['other-port'] ?? {}, local, remote), undefined)
})

test('accept-proxy on a peers bind is refused (peers sessions read no header)', () => {
  const { diagnostics } = parseConfig(`peers p
    bind 127.0.0.1:10000 accept-proxy
    peer a 127.0.0.1:10000
`, 'p.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error').map(d => d.message),
    ["'accept-proxy' on a peers 'bind' is not supported: peers sessions read no PROXY protocol header"])
})

test('bind accept-netscaler-cip is refused: the address it carries would be ignored', () => {
  const { diagnostics } = parseConfig('frontend f\n    bind 127.0.0.1:1 accept-netscaler-cip 1234\n', 'f.cfg', { env: {} })
  assert.match(diagnostics.find(d => d.severity === 'error')?.message ?? '', /accept-netscaler-cip' is not supported/)
})
