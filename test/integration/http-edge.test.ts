/**
 * HTTP edge cases through tslb in the lab: pipelining, Expect: 100-continue, upgrade tunnels,
 * chunked responses, a server that closes after each response, and HTTP/1.0 clients.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { join } from 'node:path'
import { useLab } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'

const lab = useLab()
let node: RunningTslb
let edge: ChildProcess

function config (net: string): string {
  return `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout tunnel 10s
frontend www
    bind *:80
    default_backend edge
frontend short-client-timeout
    bind *:81
    timeout client 400ms
    default_backend edge
backend edge
    server e1 ${net}.21:8001
`
}

/** Writes `chunks` (with pauses) on one connection and returns everything read until `until` matches. */
async function converse (chunks: string[], until: RegExp, pauseMs = 0): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = connect({ host: lab.addr('lb1'), port: 80 })
    let got = ''
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`timeout; got ${JSON.stringify(got)}`)) }, 5000)
    s.on('data', (b: Buffer) => {
      got += b.toString('latin1')
      if (until.test(got)) { clearTimeout(timer); s.destroy(); resolve(got) }
    })
    s.on('error', reject)
    s.on('connect', () => {
      let i = 0
      const next = (): void => {
        const c = chunks[i++]
        if (c === undefined) return
        s.write(c)
        setTimeout(next, pauseMs)
      }
      next()
    })
  })
}

describe('HTTP edge cases', () => {
  before(async () => {
    edge = lab.spawn('web1', [process.execPath, join(import.meta.dirname, '../helpers/edge-server.ts'), '8001'], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>(resolve => { edge.stdout?.once('data', () => { resolve() }) })
    node = await runTslbOn(lab, 'lb1', config(lab.net))
  })
  after(async () => {
    await node?.stop()
    edge?.kill()
  })

  test('pipelined requests are answered in order on one connection', async () => {
    const req = (p: string): string => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`
    const out = await converse([req('/a') + req('/b') + req('/c')], /GET \/c body=0/)
    const order = [...out.matchAll(/GET (\/\w) body=0/g)].map(m => m[1])
    assert.deepEqual(order, ['/a', '/b', '/c'])
  })

  test('Expect: 100-continue: the interim answer comes back, then the body is sent', async () => {
    const out = await converse([
      'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n', 'hello'
    ], /body=5/, 100)
    assert.match(out, /^HTTP\/1\.1 100 Continue\r\n/)
    assert.match(out, /POST \/upload body=5/)
  })

  test('chunked request and response bodies stream through', async () => {
    const out = await converse(['POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', '2\r\nde\r\n0\r\n\r\n', 'GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n'], /part2\r\n0\r\n\r\n/, 50)
    assert.match(out, /POST \/c body=5/)
    assert.match(out, /Transfer-Encoding: chunked/i)
  })

  test('upgrade: after 101 the connection is a tunnel both ways', async () => {
    const out = await converse(['GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n', 'ping-through-the-tunnel'], /ping-through-the-tunnel/, 100)
    assert.match(out, /^HTTP\/1\.1 101 Switching Protocols/)
  })

  test('a server that closes after each response: the next request on the client connection still works', async () => {
    const req = (p: string): string => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`
    const out = await converse([req('/close'), req('/after')], /GET \/after body=0/, 100)
    assert.match(out, /closing/)
  })

  test('timeout client does not cut a slow server answer short (only timeout server runs while it works)', async () => {
    const r = await lab.exec('client', ['curl', '-s', '--max-time', '5', `http://${lab.addr('lb1')}:81/slow`])
    assert.equal(r.stdout, 'slow answer')
  })

  test('HTTP/1.0 without keep-alive gets its answer and the connection closes', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: lab.addr('lb1'), port: 80 })
      let got = ''
      s.on('data', (b: Buffer) => { got += b.toString() })
      s.on('close', () => { resolve(got) })
      s.on('error', reject)
      s.on('connect', () => { s.write('GET /old HTTP/1.0\r\n\r\n') })
    })
    assert.match(out, /GET \/old body=0/)
    assert.match(out, /Connection: close/i)
  })
})
