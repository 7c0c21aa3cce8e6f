/**
 * The supervisor keeps serving when its proxy worker dies: a SIGKILLed worker is replaced within
 * a second on the same listening sockets. The next generation's process is forked ahead of time
 * (the standby): reloads and restarts start on it, and it never outlives the supervisor.
 */
import { after, before, describe, test } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import assert from 'node:assert/strict'
import { useLab } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'
import { tslb as cli, startTslb, waitExit } from '../helpers/cli.ts'
import { readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

const lab = useLab()
let node: RunningTslb

interface Status {
  workers: { generation: number, pid: number, state: string }[]
  standby?: { pid: number, state: string }
}

async function status (): Promise<Status> {
  const r = await cli(['status', '-S', node.socket, '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as Status
}

function config (web: number): string {
  return `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind *:80
    default_backend app
backend app
    server web${web} ${lab.net}.2${web}:80
`
}

async function until<T> (what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** The standby once it has booted (and is not `other`). */
async function bootedStandby (other?: number): Promise<number> {
  return await until('a booted standby', async () => {
    const s = (await status()).standby
    return s?.state === 'booted' && s.pid !== other ? s.pid : undefined
  })
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function answer (): Promise<string> {
  return (await lab.exec('client', ['curl', '-s', '--max-time', '2', `http://${lab.addr('lb1')}/`])).stdout.trim()
}

describe('supervisor', () => {
  before(async () => {
    node = await runTslbOn(lab, 'lb1', config(1))
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

  test('a reload starts the next generation on the standby process booted before it, and a new standby follows', async () => {
    const standby = await bootedStandby()
    const text = await cli(['status', '-S', node.socket])
    assert.match(text.stdout, new RegExp(`^standby worker \\(pid ${standby}\\): booted`, 'm'))
    writeFileSync(node.configFile, config(2))
    const r = await cli(['reload', '-S', node.socket])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, new RegExp(`on the standby process ${standby}\\b`))
    const serving = (await status()).workers.find(w => w.state === 'serving')
    assert.equal(serving?.pid, standby)
    assert.equal(await answer(), 'web2')
    const next = await bootedStandby(standby)
    assert.ok(alive(next))
  })

  test('a crashed worker is restarted on the standby process', async () => {
    const standby = await bootedStandby()
    const before = (await status()).workers.find(w => w.state === 'serving')
    assert.ok(before !== undefined)
    process.kill(before.pid, 'SIGKILL')
    const after = await until('a new serving generation', async () => {
      const w = (await status()).workers.find(x => x.state === 'serving')
      return w !== undefined && w.generation > before.generation ? w : undefined
    })
    assert.equal(after.pid, standby)
    assert.equal(await answer(), 'web2')
    await bootedStandby(standby)
  })

  test('a standby that dies is replaced', async () => {
    const standby = await bootedStandby()
    process.kill(standby, 'SIGKILL')
    const next = await bootedStandby(standby)
    assert.notEqual(next, standby)
    assert.ok(node.output().includes('the standby worker process died'))
  })

  test('a refused configuration leaves the standby as it was', async () => {
    const standby = await bootedStandby()
    writeFileSync(node.configFile, `${config(1)}    no-such-keyword\n`)
    const r = await cli(['reload', '-S', node.socket])
    assert.equal(r.code, 1)
    const s = await status()
    assert.deepEqual(s.standby, { pid: standby, state: 'booted' })
    writeFileSync(node.configFile, config(1))
    assert.equal((await cli(['reload', '-S', node.socket])).code, 0)
    assert.equal((await status()).workers.find(w => w.state === 'serving')?.pid, standby)
    assert.equal(await answer(), 'web1')
  })

  test('stopping the supervisor kills the standby', async () => {
    const standby = await bootedStandby()
    await node.stop()
    assert.equal(node.child.exitCode, 0)
    // The supervisor waited for it before exiting.
    assert.ok(!alive(standby), `standby ${standby} outlived the supervisor`)
  })
})

test('tslb run --no-standby boots no standby; a reload then starts a new process', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-nostandby-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const cfg = join(dir, 'tslb.cfg')
  const sock = join(dir, 'master.sock')
  writeFileSync(cfg, 'backend app\n    server s1 127.0.0.1:9\n')
  const { child } = await startTslb(['run', '-f', cfg, '-S', sock, '--no-standby'], /"supervisor started"/)
  t.after(async () => { child.kill('SIGTERM'); await waitExit(child) })
  const r = await cli(['reload', '-S', sock])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /starting worker generation 2 \(new process\)/)
  const s = JSON.parse((await cli(['status', '--json', '-S', sock])).stdout) as Status
  assert.equal(s.standby, undefined)
  assert.equal(s.workers.filter(w => w.state === 'serving').length, 1)
})
