/**
 * `server … send-proxy` in HTTP mode: each server connection starts with the header of the
 * client it was opened for, so an idle one is never handed to another client's request, even
 * with `http-reuse always` (HAProxy 2.6 hashes the PROXY addresses into its reuse key); the same
 * client's next request does reuse it. In TCP mode, the addresses of an accepted header are the
 * ones sent on.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type AddressInfo } from 'node:net'
import { once } from 'node:events'
import { parseConfig } from '../../../../src/config/index.ts'
import { listenerKey } from '../../../../src/ipc/messages.ts'
import { bindTcp, handleAddress } from '../../../../src/net/listen-handle.ts'
import { Engine } from '../../../../src/proxy/engine.ts'
import { decodeProxyHeader } from '../../../../src/proxy/proxy-protocol/codec.ts'

test('send-proxy: a server connection carries one client only, with http-reuse always', async () => {
  /** Per server connection: the source its PROXY header named, and the requests it carried. */
  const seen: { src: string, requests: number }[] = []
  const origin = createServer(s => {
    let buf = Buffer.alloc(0)
    let conn: { src: string, requests: number } | undefined
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (conn === undefined) {
        const r = decodeProxyHeader(buf)
        if (!r.done) return
        conn = { src: r.header.source?.address ?? '?', requests: 0 }
        seen.push(conn)
        buf = buf.subarray(r.length)
      }
      while (buf.includes('\r\n\r\n')) {
        buf = buf.subarray(buf.indexOf('\r\n\r\n') + 4)
        conn.requests++
        s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${conn.src.length}\r\n\r\n${conn.src}`)
      }
    })
    s.on('error', () => {})
  })
  origin.listen(0, '127.0.0.1')
  await once(origin, 'listening')
  const handle = bindTcp('127.0.0.1', 0, 4)
  const port = handleAddress(handle).port
  const { config, diagnostics } = parseConfig(`defaults
    mode http
    http-reuse always
    timeout client 5s
    timeout connect 1s
    timeout server 5s
frontend f
    bind 127.0.0.1:${port}
    default_backend b
backend b
    server o 127.0.0.1:${(origin.address() as AddressInfo).port} send-proxy
`, 't.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const engine = new Engine(config, { logFor: () => () => {} })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  /** Two requests on one keep-alive client connection from `from`; the bodies. */
  const client = async (from: string): Promise<string[]> => {
    const sock = connect({ host: '127.0.0.1', port, localAddress: from })
    let text = ''
    sock.on('data', (d: Buffer) => { text += d.toString() })
    const bodies: string[] = []
    for (let i = 0; i < 2; i++) {
      const before = text.length
      sock.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n')
      while (!/\r\n\r\n[\d.]+$/.test(text.slice(before))) await new Promise(resolve => setTimeout(resolve, 5))
      bodies.push(text.slice(text.lastIndexOf('\r\n\r\n') + 4))
    }
    sock.destroy()
    await new Promise(resolve => setTimeout(resolve, 50))
    return bodies
  }
  try {
    assert.deepEqual(await client('127.0.0.2'), ['127.0.0.2', '127.0.0.2'])
    assert.deepEqual(await client('127.0.0.3'), ['127.0.0.3', '127.0.0.3'])
  } finally {
    engine.stopAccepting()
    engine.close()
    origin.close()
  }
  assert.deepEqual(seen, [{ src: '127.0.0.2', requests: 2 }, { src: '127.0.0.3', requests: 2 }])
})

test('mode tcp: accept-proxy in, send-proxy-v2 out: the server gets the address the client\'s header named', async () => {
  const origin = createServer(s => {
    let buf = Buffer.alloc(0)
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      const r = decodeProxyHeader(buf)
      if (!r.done) return
      const { source, destination } = r.header
      s.end(`${source?.address ?? '?'}:${source?.port ?? 0} ${destination?.address ?? '?'}:${destination?.port ?? 0} ` +
        buf.subarray(r.length).toString())
    })
    s.on('error', () => {})
  })
  origin.listen(0, '127.0.0.1')
  await once(origin, 'listening')
  const handle = bindTcp('127.0.0.1', 0, 4)
  const port = handleAddress(handle).port
  const { config, diagnostics } = parseConfig(`defaults
    mode tcp
    timeout client 5s
    timeout connect 1s
    timeout server 5s
listen t
    bind 127.0.0.1:${port} accept-proxy
    server o 127.0.0.1:${(origin.address() as AddressInfo).port} send-proxy-v2
`, 't.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const engine = new Engine(config, { logFor: () => () => {} })
  engine.listen(new Map([[listenerKey('127.0.0.1', port), handle]]))
  try {
    const sock = connect({ host: '127.0.0.1', port })
    let reply = ''
    sock.on('data', (d: Buffer) => { reply += d.toString() })
    const closed = new Promise(resolve => { sock.on('close', resolve) })
    sock.end('PROXY TCP6 2001:db8::7 2001:db8::1 5555 443\r\nhello')
    await closed
    assert.equal(reply, '2001:db8::7:5555 2001:db8::1:443 hello')
  } finally {
    engine.stopAccepting()
    engine.close()
    origin.close()
  }
})
