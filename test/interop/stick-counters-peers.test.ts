/**
 * Stick counters replicated between `tslb run` and HAProxy 2.6 through one `peers` section: requests tracked on
 * tslb (`http-request track-sc0 src table mypeers/t`, `sc-inc-gpc0`) are read on HAProxy (`show table`, and its own
 * fetches), then requests tracked on HAProxy are read back on tslb (its fetches and `show table`).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startTslb } from '../helpers/cli.ts'
import { HAPROXY, haproxy26Skip } from '../helpers/haproxy.ts'
import { freePorts } from '../helpers/ports.ts'

const skip = haproxy26Skip()

async function get (port: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1')
    let buf = ''
    s.setEncoding('latin1')
    s.on('data', (d: string) => { buf += d })
    s.on('end', () => { resolve(buf.slice(buf.indexOf('\r\n\r\n') + 4)) })
    s.on('error', reject)
    s.write('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n')
  })
}

async function cli (sock: string, command: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = net.connect(sock)
    let out = ''
    s.on('data', (b: Buffer) => { out += b.toString() })
    s.on('end', () => { resolve(out) })
    s.on('error', reject)
    s.write(`${command}\n`)
  })
}

/** Waits until `show table` on `sock` matches `re`. */
async function until (sock: string, re: RegExp): Promise<string> {
  const end = Date.now() + 10_000
  for (;;) {
    const out = await cli(sock, 'show table mypeers/t').catch(() => '')
    if (re.test(out) || Date.now() > end) return out
    await sleep(100)
  }
}

function config (front: number, sock: string, hapPeer: number, tslbPeer: number): string {
  return `global
  log stdout format raw local0 emerg
  stats socket ${sock} level admin
defaults
  mode http
  timeout client 5s
  timeout server 5s
  timeout connect 5s
frontend fe
  bind 127.0.0.1:${front}
  http-request track-sc0 src table mypeers/t
  http-request sc-inc-gpc0(0)
  http-request return status 200 content-type text/plain lf-string "req=%[sc0_http_req_cnt] gpc0=%[sc0_get_gpc0] src=%[src_http_req_cnt(mypeers/t)]"
peers mypeers
  peer hap1 127.0.0.1:${hapPeer}
  peer tslb1 127.0.0.1:${tslbPeer}
  table t type ip size 1k expire 60s store http_req_cnt,gpc0,conn_cnt
`
}

describe('stick counters replicated between tslb and HAProxy 2.6', { skip, timeout: 60_000 }, () => {
  let dir = ''
  let haproxy: ChildProcess | undefined
  let tslbChild: ChildProcess | undefined
  let ports: number[] = []
  const hapSock = (): string => join(dir, 'haproxy.sock')
  const tslbSock = (): string => join(dir, 'tslb.sock')

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'counters-peers-'))
    ports = await freePorts(4)
    const [hapFront, tslbFront, hapPeer, tslbPeer] = ports as [number, number, number, number]
    writeFileSync(join(dir, 'haproxy.cfg'), config(hapFront, hapSock(), hapPeer, tslbPeer))
    writeFileSync(join(dir, 'tslb.cfg'), config(tslbFront, tslbSock(), hapPeer, tslbPeer))
    haproxy = spawn(HAPROXY, ['-db', '-L', 'hap1', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] })
    const t = await startTslb(['run', '-L', 'tslb1', '-f', join(dir, 'tslb.cfg'), '-S', join(dir, 'ctl.sock'), '-p',
      join(dir, 'pid')], /worker serving/)
    tslbChild = t.child
    const end = Date.now() + 10_000
    while (!/tslb1.*ESTA|ESTA/.test(await cli(hapSock(), 'show peers').catch(() => '')) && Date.now() < end) {
      await sleep(100)
    }
  })

  after(async () => {
    haproxy?.kill('SIGTERM')
    tslbChild?.kill('SIGTERM')
    await sleep(300)
    rmSync(dir, { recursive: true, force: true })
  })

  test('counted on tslb, read on HAProxy; counted on HAProxy, read back on tslb', async () => {
    const [hapFront, tslbFront] = ports as [number, number]
    const onTslb = [await get(tslbFront), await get(tslbFront), await get(tslbFront)]
    assert.deepEqual(onTslb, ['req=1 gpc0=1 src=1', 'req=2 gpc0=2 src=2', 'req=3 gpc0=3 src=3'])
    const seen = await until(hapSock(), /gpc0=3 conn_cnt=3 http_req_cnt=3/)
    assert.match(seen, /key=127\.0\.0\.1 use=0 exp=\d+ gpc0=3 conn_cnt=3 http_req_cnt=3\n/)
    const onHaproxy = [await get(hapFront), await get(hapFront)]
    assert.deepEqual(onHaproxy, ['req=4 gpc0=4 src=4', 'req=5 gpc0=5 src=5'])
    const back = await until(tslbSock(), /gpc0=5 conn_cnt=5 http_req_cnt=5/)
    assert.match(back, /key=127\.0\.0\.1 use=0 exp=\d+ gpc0=5 conn_cnt=5 http_req_cnt=5\n/)
    assert.equal(await get(tslbFront), 'req=6 gpc0=6 src=6')
  })
})
