/**
 * Seed 000 in the lab: three tslb nodes share a stick table through a peers section. Sessions
 * created on any node stick to their server on every node, survive a node's death, and a
 * restarted node relearns the whole table.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { useLab, type LabNode } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'
import { tslb } from '../helpers/cli.ts'
import type { SupervisorStatus } from '../../src/supervisor/supervisor.ts'

const lab = useLab()
const LBS = ['lb1', 'lb2', 'lb3'] as const
const nodes = new Map<string, RunningTslb>()
const dir = mkdtempSync(join(tmpdir(), 'tslb-peers-'))
const sock = (n: string): string => join(dir, `${n}.sock`)

function config (net: string, node: string): string {
  return `global
    stats socket ${sock(node)} mode 600 level admin
peers mypeers
    peer lb1 ${net}.11:10000
    peer lb2 ${net}.12:10000
    peer lb3 ${net}.13:10000
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend www
    bind *:80
    default_backend app
backend app
    balance roundrobin
    stick-table type string len 64 size 10k expire 30m peers mypeers
    stick on req.cook(JSESSIONID)
    stick store-response res.cook(JSESSIONID)
    server web1 ${net}.21:80
    server web2 ${net}.22:80
    server web3 ${net}.23:80
    server web4 ${net}.24:80
`
}

async function showTable (node: string): Promise<Map<string, string>> {
  const { stdout } = await promisify(execFile)('sh', ['-c', `echo "show table app" | socat stdio unix-connect:${sock(node)}`])
  const keys = new Map<string, string>()
  for (const m of stdout.matchAll(/key=(\S+) .*server_id=(\d+)/g)) keys.set(m[1] as string, m[2] as string)
  return keys
}

async function login (lb: LabNode): Promise<{ value: string, server: string }> {
  const r = await lab.exec('client', ['curl', '-s', '-i', '--max-time', '3', `http://${lab.addr(lb)}/login`])
  const value = /Set-Cookie: JSESSIONID=([^;]+)/i.exec(r.stdout)?.[1]
  assert.ok(value !== undefined, r.stdout)
  const body = r.stdout.split('\r\n\r\n')[1] ?? ''
  return { value, server: body.split('\n')[0] ?? '' }
}

async function servedWith (lb: LabNode, cookie: string): Promise<string> {
  const r = await lab.exec('client', ['curl', '-s', '--max-time', '3', '-H', `Cookie: JSESSIONID=${cookie}`, `http://${lab.addr(lb)}/`])
  return r.stdout.trim()
}

async function status (node: string): Promise<{ json: SupervisorStatus, text: string }> {
  const socket = nodes.get(node)?.socket ?? ''
  const [j, t] = await Promise.all([tslb(['status', '-S', socket, '--json']), tslb(['status', '-S', socket])])
  assert.equal(j.code, 0, j.stderr)
  assert.equal(t.code, 0, t.stderr)
  return { json: JSON.parse(j.stdout) as SupervisorStatus, text: t.stdout }
}

/** The remote peers of `node` as its serving worker reports them. */
function remotePeers (s: SupervisorStatus): NonNullable<SupervisorStatus['workers'][number]['peers']>['sections'][number]['peers'] {
  const w = s.workers.find(x => x.state === 'serving')
  assert.ok(w !== undefined && w.peers !== undefined && w.peers !== null, JSON.stringify(w))
  const sec = w.peers.sections.find(x => x.name === 'mypeers')
  assert.ok(sec !== undefined)
  return sec.peers.filter(p => !p.local)
}

async function until (what: string, cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

describe('peers sync between three tslb nodes (seed 000)', () => {
  before(async () => {
    for (const n of LBS) nodes.set(n, await runTslbOn(lab, n, config(lab.net, n)))
  })
  after(async () => { for (const n of nodes.values()) await n.stop() })

  const sessions: { value: string, server: string }[] = []

  test('5 sessions per node: all three tables list the same 15 keys with the same server_id', async () => {
    for (const lb of LBS) for (let i = 0; i < 5; i++) sessions.push(await login(lb))
    await until('15 keys on every node', async () => (await Promise.all(LBS.map(showTable))).every(t => t.size === 15))
    const [t1, t2, t3] = await Promise.all(LBS.map(showTable))
    assert.deepEqual([...(t2 ?? [])].sort(), [...(t1 ?? [])].sort())
    assert.deepEqual([...(t3 ?? [])].sort(), [...(t1 ?? [])].sort())
  })

  test('tslb status shows every remote peer established, with the updates it sent and received', async () => {
    for (const lb of LBS) {
      const { json, text } = await status(lb)
      const peers = remotePeers(json)
      assert.deepEqual(peers.map(p => p.name).sort(), LBS.filter(n => n !== lb))
      for (const p of peers) {
        assert.equal(p.state, 'established', `${lb} → ${p.name}`)
        assert.equal(p.lastStatus, 200)
        // Each node created 5 keys and received the other 10.
        assert.ok(p.counters.updatesSent >= 5, `${lb} → ${p.name}: ${JSON.stringify(p.counters)}`)
        assert.ok(p.counters.updatesReceived >= 5, `${lb} → ${p.name}: ${JSON.stringify(p.counters)}`)
        assert.ok(p.counters.acksReceived >= 1)
        assert.match(text, new RegExp(`^ {4}${p.name} \\S+: established \\((connect|accept)\\), last status 200 ESTA`, 'm'))
      }
      // Learning may still be "from-remote": peers that started together teach PARTIAL until the 5 s resync timeout.
      assert.match(text, /^ {2}peers mypeers \(local peer lb\d\): learning (from-remote|finished)/m)
    }
  })

  test('every node sends each session to its server; they still do after lb2 dies', async () => {
    for (const s of sessions) for (const lb of LBS) assert.equal(await servedWith(lb, s.value), s.server)
    await nodes.get('lb2')?.stop()
    for (const s of sessions) for (const lb of ['lb1', 'lb3'] as const) assert.equal(await servedWith(lb, s.value), s.server)
    const lb2 = remotePeers((await status('lb1')).json).find(p => p.name === 'lb2')
    assert.notEqual(lb2?.state, 'established')
    assert.ok(lb2?.lastError !== undefined, JSON.stringify(lb2))
  })

  test('a restarted node relearns the full table', async () => {
    nodes.set('lb2', await runTslbOn(lab, 'lb2', config(lab.net, 'lb2')))
    await until('lb2 relearned 15 keys', async () => (await showTable('lb2')).size === 15)
    for (const s of sessions) assert.equal(await servedWith('lb2', s.value), s.server)
  })
})
