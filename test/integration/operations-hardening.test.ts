/**
 * Clumsy operations cannot hurt a running node (issue 11): a second `tslb run`, a refused reload, a closed or full
 * stdout. Real `tslb run` in the lab (each node its own network namespace, so nft tables are the test's own).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { useLab, type LabNode } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'
import { TSLB, tslb as cli } from '../helpers/cli.ts'
import { parseConfig } from '../../src/config/parser.ts'
import { WorkerProcess } from '../../src/supervisor/worker-process.ts'

const lab = useLab()
const statsDir = mkdtempSync(join(tmpdir(), 'tslb-hardops-stats-'))
const statsSocket = join(statsDir, 'admin.sock')

function config (extraGlobal = ''): string {
  return `global
    stats socket ${statsSocket} level admin
${extraGlobal}
peers mypeers
    peer lb1 ${lab.addr('lb1')}:10000
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind *:80
    default_backend app
backend app
    stick-table type ip size 1k peers mypeers
    stick on src
    server web1 ${lab.net}.21:80
`
}

interface Status { pid: number, workers: { generation: number, pid: number, state: string,
  logLinesDropped?: number }[] }

async function status (socket: string): Promise<Status> {
  const r = await cli(['status', '-S', socket, '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as Status
}

async function showInfo (path: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const c = connect(path, () => { c.end('show info\n') })
    let out = ''
    c.setEncoding('utf8')
    c.on('data', (d: string) => { out += d })
    c.on('error', reject)
    c.on('close', () => { resolve(out) })
  })
}

async function curl (node: LabNode): Promise<string> {
  const r = await lab.exec('client', ['curl', '-s', '--max-time', '2', `http://${lab.addr(node)}/`])
  return r.stdout.trim()
}

async function nftTables (node: LabNode): Promise<string> {
  return (await lab.exec(node, ['nft', 'list', 'tables'])).stdout
}

async function until (what: string, ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

describe('operations hardening', () => {
  let node: RunningTslb
  before(async () => { node = await runTslbOn(lab, 'lb1', config()) })
  after(async () => {
    await node?.stop()
    rmSync(statsDir, { recursive: true, force: true })
    rmSync(dirname(node.socket), { recursive: true, force: true })
  })

  test('a second tslb run is refused naming the first pid, and the first node is untouched', async () => {
    const flip = await cli(['reload', '-S', node.socket, '--strategy', 'iptables-flip'])
    assert.equal(flip.code, 0, flip.stdout + flip.stderr)
    assert.match(await nftTables('lb1'), /table inet tslb_flip/)
    const first = await status(node.socket)
    const second = await lab.exec('lb1', [TSLB, 'run', '-f', node.configFile, '-L', 'lb1', '-S', node.socket],
      { env: { TSLB_LOG_FORMAT: 'json' } })
    assert.equal(second.code, 1, second.stdout + second.stderr)
    assert.match(second.stderr, new RegExp(`already run by tslb pid ${first.pid}\\b`))
    // Its firewall rules, control socket, stats socket and traffic are the first node's as before.
    assert.match(await nftTables('lb1'), /table inet tslb_flip/)
    assert.equal((await status(node.socket)).pid, first.pid)
    assert.match(await showInfo(statsSocket), /^Name: /)
    assert.equal(await curl('lb1'), 'web1')
    const reload = await cli(['reload', '-S', node.socket])
    assert.equal(reload.code, 0, reload.stdout + reload.stderr)
    assert.equal(await curl('lb1'), 'web1')
  })

  test('a refused reload leaves the serving generation\'s stats socket answering', async () => {
    const serving = (await status(node.socket)).workers.find(w => w.state === 'serving')
    writeFileSync(node.configFile, config(`    stats socket ${join(statsDir, 'missing', 'b.sock')} level admin`))
    try {
      const r = await cli(['reload', '-S', node.socket])
      assert.equal(r.code, 1, r.stdout + r.stderr)
      assert.match(await showInfo(statsSocket), new RegExp(`^Name: [\\s\\S]*\\nPid: ${serving?.pid ?? -1}\\n`))
      // The failed generation left no temporary socket behind.
      assert.deepEqual(readdirSync(statsDir).filter(n => n.startsWith('.tslb.')), [])
    } finally {
      writeFileSync(node.configFile, config())
    }
    assert.equal((await cli(['reload', '-S', node.socket])).code, 0)
    assert.match(await showInfo(statsSocket), /^Name: /)
  })

  test('retired generations leave no peers hand-off socket behind', async () => {
    await until('only the serving generation left', async () => (await status(node.socket)).workers.length === 1)
    const serving = (await status(node.socket)).workers[0]
    await until('hand-off sockets of retired generations removed', async () => {
      const socks = readdirSync(dirname(node.socket)).filter(n => /^peers\.g\d+\./.test(n))
      return await Promise.resolve(socks.length === 1 && socks[0] === `peers.g${serving?.generation ?? 0}.mypeers.sock`)
    }, 5000)
  })
})

test('a ready worker generation has not taken its stats socket paths until it is made the serving one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-hardops-publish-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const { config } = parseConfig(`global
    stats socket ${dir}/s.sock level admin
backend app
    server s1 127.0.0.1:9
`, 't.cfg', { env: {} })
  const worker = new WorkerProcess()
  t.after(() => { worker.kill() })
  await worker.start(1, config, new Map(), { localPeer: 'x', runDir: dir })
  // Ready: bound under a temporary name, the path still belongs to whoever had it.
  assert.ok(!existsSync(join(dir, 's.sock')))
  assert.equal(readdirSync(dir).filter(n => n.startsWith(`.tslb.${worker.pid ?? 0}.`)).length, 1)
  await worker.publish()
  assert.match(await showInfo(join(dir, 's.sock')), /^Name: /)
  assert.deepEqual(readdirSync(dir).filter(n => n.startsWith('.tslb.')), [])
})

describe('logging never stops the node', () => {
  const runs: ChildProcess[] = []
  const dirs: string[] = []
  after(async () => {
    for (const c of runs) {
      if (c.exitCode !== null) continue
      const exited = new Promise(resolve => { c.once('exit', resolve) })
      c.kill('SIGTERM')
      await exited
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  async function startWithStdout (n: LabNode, stdout: 'closed' | number): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), `tslb-hardops-${n}-`))
    dirs.push(dir)
    const cfg = join(dir, 'tslb.cfg')
    writeFileSync(cfg, `global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind *:80
    default_backend app
backend app
    server web1 ${lab.net}.21:80
`)
    const socket = join(dir, 'master.sock')
    const child = lab.spawn(n, [TSLB, 'run', '-f', cfg, '-L', n, '-S', socket], {
      env: { ...process.env, TSLB_LOG_FORMAT: 'json' }, stdio: ['ignore', stdout === 'closed' ? 'pipe' : stdout, 'pipe'] })
    runs.push(child)
    // `tslb run | head -c 0`: the reader is gone before the first line.
    child.stdout?.destroy()
    let stderr = ''
    child.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
    await until(`tslb on ${n} serving (${stderr})`, async () => {
      if (child.exitCode !== null) assert.fail(`tslb on ${n} exited ${child.exitCode}: ${stderr}`)
      const r = await cli(['status', '-S', socket, '--json'])
      return r.code === 0 && (JSON.parse(r.stdout) as Status).workers.some(w => w.state === 'serving')
    })
    return socket
  }

  for (const [n, how] of [['lb2', 'closed'], ['lb3', '/dev/full']] as const) {
    test(`stdout ${how}: traffic is served and logged lines are counted as dropped`, async () => {
      const fd = how === 'closed' ? undefined : openSync(how, 'w')
      try {
        const socket = await startWithStdout(n, fd ?? 'closed')
        for (let i = 0; i < 30; i++) assert.equal(await curl(n), 'web1')
        const reload = await cli(['reload', '-S', socket])
        assert.equal(reload.code, 0, reload.stderr)
        assert.equal(await curl(n), 'web1')
        const st = await status(socket)
        assert.ok((st.workers.find(w => w.state === 'serving')?.logLinesDropped ?? 0) > 0, JSON.stringify(st))
      } finally {
        if (fd !== undefined) closeSync(fd)
      }
    })
  }
})
