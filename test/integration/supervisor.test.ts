/**
 * The supervisor keeps serving when its proxy worker dies: a SIGKILLed worker is replaced within
 * a second on the same listening sockets.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { useLab } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'
import { tslb as cli } from '../helpers/cli.ts'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'

const lab = useLab()
let node: RunningTslb

interface Status { workers: { generation: number, pid: number, state: string }[] }

async function status (): Promise<Status> {
  const r = await cli(['status', '-S', node.socket, '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as Status
}

describe('supervisor', () => {
  before(async () => {
    node = await runTslbOn(lab, 'lb1', `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind *:80
    default_backend app
backend app
    server web1 ${lab.net}.21:80
`)
  })
  after(async () => { await node?.stop() })

  test('a SIGKILLed worker is replaced within a second and traffic continues', async (t) => {
    const before = (await status()).workers.find(w => w.state === 'serving')
    assert.ok(before !== undefined)
    const servingLines = (): number[] => node.output().split('\n').filter(l => l.includes('"worker serving"')).map(l => (JSON.parse(l) as { time: number }).time)
    const alreadyServing = servingLines().length
    const killedAt = Date.now()
    process.kill(before.pid, 'SIGKILL')
    while (servingLines().length === alreadyServing && Date.now() - killedAt < 5000) await new Promise(resolve => setTimeout(resolve, 20))
    // The new worker's own "serving" log line says when it took over the listening sockets.
    const servingAt = servingLines()[alreadyServing]
    assert.ok(servingAt !== undefined, 'no new worker generation')
    const took = servingAt - killedAt
    t.diagnostic(`replacement serving ${took} ms after the SIGKILL`)
    assert.ok(took < 1000, `replacement took ${took} ms`)
    const after = (await status()).workers.find(w => w.state === 'serving')
    assert.ok(after !== undefined && after.generation > before.generation)
    const r = await lab.exec('client', ['curl', '-s', '--max-time', '2', `http://${lab.addr('lb1')}/`])
    assert.equal(r.stdout.trim(), 'web1')
  })

  test('the worker generations share a compile cache beside the control socket', () => {
    assert.ok(readdirSync(join(dirname(node.socket), 'compile-cache'), { recursive: true }).length > 0)
  })
})
