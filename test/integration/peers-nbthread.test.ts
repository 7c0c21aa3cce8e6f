/**
 * Peers with `nbthread 2`: one set of peers sessions per node (thread 1's), over the node's one table. Requests that
 * node a's two proxy threads count reach node b as one entry with every thread's count.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startTslb, waitExit } from '../helpers/cli.ts'
import { freePort } from '../helpers/ports.ts'

const dir = mkdtempSync(join(tmpdir(), 'tslb-peers-nbthread-'))
const nodes: ChildProcess[] = []
let app: Server | undefined

async function cli (node: string, command: string): Promise<string> {
  const { stdout } = await promisify(execFile)('sh', ['-c',
    `echo "${command}" | socat stdio unix-connect:${join(dir, `${node}.sock`)}`])
  return stdout
}

/** The X-Thread header of a fresh connection's answer. */
async function get (port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })
  await r.text()
  return r.headers.get('x-thread') ?? ''
}

describe('peers with nbthread 2', () => {
  const ports: Record<string, number> = {}
  before(async () => {
    app = createHttpServer((_req, res) => { res.end('app\n') })
    await new Promise<void>(resolve => { app?.listen(0, '127.0.0.1', resolve) })
    const appPort = (app.address() as AddressInfo).port
    for (const key of ['a', 'b', 'peerA', 'peerB']) ports[key] = await freePort()
    for (const node of ['a', 'b']) {
      const cfg = join(dir, `${node}.cfg`)
      writeFileSync(cfg, `global
    nbthread 2
    stats socket ${join(dir, `${node}.sock`)} level admin
peers mesh
    peer a 127.0.0.1:${ports.peerA}
    peer b 127.0.0.1:${ports.peerB}
    table t type ip size 1k expire 1m store http_req_cnt
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind 127.0.0.1:${ports[node]}
    http-response set-header X-Thread %[thread]
    http-request track-sc0 src table mesh/t
    default_backend app
backend app
    server app 127.0.0.1:${appPort}
`)
      nodes.push((await startTslb(['run', '-f', cfg, '-L', node, '-S', join(dir, `${node}-ctl.sock`)],
        /supervisor started/)).child)
    }
  })
  after(async () => {
    for (const n of nodes) n.kill('SIGTERM')
    await Promise.all(nodes.map(async n => await waitExit(n)))
    app?.close()
  })

  test('requests counted by both threads of node a reach node b as one count', async () => {
    const threads = new Set<string>()
    for (let i = 0; i < 20; i++) threads.add(await get(ports.a ?? 0))
    assert.deepEqual([...threads].sort(), ['0', '1'])
    const deadline = Date.now() + 10_000
    let table = ''
    while (Date.now() < deadline) {
      table = await cli('b', 'show table mesh/t')
      if (/http_req_cnt=20\b/.test(table)) break
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    assert.match(table, /key=127\.0\.0\.1 .*http_req_cnt=20\b/, table)
  })
})
