/**
 * Reload strategies beyond the shared conformance suite: switching strategy from one reload to
 * the next, what syn-drop costs a client, the removal of rules a crashed run left,
 * iptables-flip's wait for a slot that is still draining and its restart of a dead worker.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { useLab } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'
import { tslb as cli, type CliResult } from '../helpers/cli.ts'
import { reloadConfig } from '../helpers/reload-conformance.ts'
import { flipScript, synDropScript } from '../../src/reload/rules.ts'
import { listenerKey } from '../../src/ipc/messages.ts'
import { startSlowServer } from '../helpers/http-get.ts'

const lab = useLab()
let node: RunningTslb
const slowServers: ChildProcess[] = []
let webs: readonly number[] = [1, 2]
/** Where `listen slow` (port 8080) sends requests: web1 answers after 2 s, web2 after 8 s. */
let slowBackend = 'web1'

function config (next: readonly number[]): string {
  return reloadConfig(lab, next).replace(`${lab.addr('web1')}:9000`, `${lab.addr(slowBackend === 'web1' ? 'web1' : 'web2')}:9000`)
}

async function reloadTo (strategy: string, next: readonly number[]): Promise<CliResult> {
  writeFileSync(node.configFile, config(next))
  const r = await cli(['reload', '--strategy', strategy, '-S', node.socket])
  assert.equal(r.code, 0, `${strategy}: ${r.stdout}${r.stderr}`)
  webs = next
  return r
}

const other = (): number[] => webs.includes(1) ? [3, 4] : [1, 2]

async function servedBy (n: number): Promise<Set<string>> {
  const r = await lab.exec('client', ['sh', '-c', `for i in $(seq ${n}); do curl -s --max-time 3 http://${lab.addr('lb1')}/; done`])
  return new Set(r.stdout.split('\n').filter(l => l !== ''))
}

async function tslbTables (): Promise<string[]> {
  const r = await lab.exec('lb1', ['nft', 'list', 'tables'])
  return r.stdout.split('\n').filter(l => l.includes('tslb_')).map(l => l.trim().split(' ').at(-1) ?? '')
}

/** A client opening a new connection every 20 ms until stopped (after its current request); logs "status connect-time clock". */
function connectLoop (): { log: () => string, stop: () => Promise<{ statuses: string[], maxConnect: number }> } {
  const stopFile = join(mkdtempSync(join(tmpdir(), 'tslb-loop-')), 'stop')
  const child = lab.spawn('client', ['sh', '-c', `while [ ! -e ${stopFile} ]; do r=$(curl -s -o /dev/null -w '%{http_code} %{time_connect}' --max-time 10 http://${lab.addr('lb1')}/); echo "$r curl-exit=$? $(date +%T.%N)"; sleep 0.02; done`], { stdio: ['ignore', 'pipe', 'ignore'] })
  let out = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  return {
    log: () => out,
    stop: async () => {
      const exited = new Promise(resolve => { child.once('exit', resolve) })
      writeFileSync(stopFile, '')
      await exited
      const lines = out.split('\n').filter(l => l !== '')
      return { statuses: [...new Set(lines.map(l => l.split(' ')[0] ?? ''))], maxConnect: Math.max(...lines.map(l => Number(l.split(' ')[1]))) }
    }
  }
}

describe('reload strategies', () => {
  before(async () => {
    for (const [web, delay] of [['web1', 2000], ['web2', 8000]] as const) {
      slowServers.push(await startSlowServer(lab, web, 9000, delay, 'slow'))
    }
    node = await runTslbOn(lab, 'lb1', config(webs))
  })
  after(async () => {
    await node?.stop()
    for (const c of slowServers) c.kill()
  })

  // Known issue (todo: reported, does not fail the run): about one run in two, one request of
  // the ~150 made across these switches, at a switch between the public sockets and the flip
  // slots (handoff <-> iptables-flip), connects and then waits until its 10 s timeout: it sat in
  // a listener queue no generation accepts from. Every reload itself succeeds.
  test('any strategy can follow any other; a client connecting throughout is always answered', { todo: 'a connection can be stranded at a switch between handoff and iptables-flip' }, async () => {
    const loop = connectLoop()
    const log: string[] = []
    for (const strategy of ['iptables-flip', 'handoff', 'iptables-flip', 'syn-drop', 'iptables-flip', 'iptables-flip', 'handoff', 'syn-drop', 'handoff']) {
      log.push(`${new Date().toISOString()} ${strategy}`)
      await reloadTo(strategy, other())
      log.push(`${new Date().toISOString()} ${strategy} done`)
      // The loop's requests take turns in the round robin too: check that only the new servers answer.
      const answered = await servedBy(4)
      assert.ok(answered.size > 0 && [...answered].every(w => webs.includes(Number(w.slice(3)))), `after ${strategy}: ${[...answered].join(' ')}`)
      assert.deepEqual(await tslbTables(), strategy === 'iptables-flip' ? ['tslb_flip'] : [], `after ${strategy}`)
    }
    const { statuses } = await loop.stop()
    const counters = (await lab.exec('lb1', ['nstat', '-az', 'TcpOutRsts', 'TcpExtListenDrops', 'TcpExtTCPAbortOnClose', 'TcpExtTCPAbortOnData'])).stdout
    assert.deepEqual(statuses, ['200'], `${log.join('\n')}\n${loop.log().split('\n').filter(l => !l.startsWith('200 0.0')).join('\n')}\nlb1: ${counters}`)
  })

  test('syn-drop\'s cost: a client connecting during the restart waits for a SYN retransmit (about 1 s)', async () => {
    const loop = connectLoop()
    await new Promise(resolve => setTimeout(resolve, 300))
    await reloadTo('syn-drop', other())
    const { statuses, maxConnect } = await loop.stop()
    assert.deepEqual(statuses, ['200'])
    assert.ok(maxConnect >= 0.9, `longest connect ${maxConnect} s: no SYN was dropped and retransmitted\n${loop.log()}`)
  })

  test('rules a crashed run left are removed: syn-drop\'s before its next reload, all of them when tslb starts', async () => {
    const specs = [{ key: listenerKey('', 80), host: '', port: 80, family: 0 as const, sockets: 1 }]
    const leave = async (script: string): Promise<void> => {
      const r = await lab.exec('lb1', ['sh', '-c', `nft -f - <<'EOF'\n${script}EOF`])
      assert.equal(r.code, 0, r.stderr)
    }
    await leave(synDropScript(specs))
    const r = await reloadTo('syn-drop', other())
    assert.match(r.stdout, /removing the syn-drop rule an earlier run left behind/)
    assert.deepEqual(await tslbTables(), [])

    await node.stop()
    await leave(synDropScript(specs))
    await leave(flipScript('A', [{ spec: specs[0] ?? assert.fail(), slotPort: 1 }]))
    assert.deepEqual(await tslbTables(), ['tslb_syn_drop', 'tslb_flip'])
    node = await runTslbOn(lab, 'lb1', config(webs))
    assert.match(node.output(), /removed nft table inet tslb_syn_drop left by an earlier run/)
    assert.deepEqual(await tslbTables(), [])
    assert.deepEqual(await servedBy(4), new Set(webs.map(n => `web${n}`)))
  })

  test('iptables-flip: a reload while the other slot still drains waits for it, then flips', async () => {
    slowBackend = 'web2'
    await reloadTo('iptables-flip', other())
    const inFlight = lab.exec('client', ['curl', '-s', '--max-time', '20', `http://${lab.addr('lb1')}:8080/`])
    await new Promise(resolve => setTimeout(resolve, 1000))
    await reloadTo('iptables-flip', other()) // the slot holding the 2 s request now drains
    const r = await reloadTo('iptables-flip', other())
    assert.match(r.stdout, /slot [AB] is still draining worker generation \d+: waiting/)
    assert.equal((await inFlight).stdout, 'slow\n')
    assert.deepEqual(await servedBy(4), new Set(webs.map(n => `web${n}`)))
  })

  test('iptables-flip: a worker that dies is restarted on its slot, where the NAT rule points', async () => {
    const status = async (): Promise<{ generation: number, pid: number, state: string }[]> =>
      (JSON.parse((await cli(['status', '--json', '-S', node.socket])).stdout) as { workers: { generation: number, pid: number, state: string }[] }).workers
    const serving = (await status()).find(w => w.state === 'serving') ?? assert.fail('no serving worker')
    process.kill(serving.pid, 'SIGKILL')
    const deadline = Date.now() + 10_000
    while (!(await status()).some(w => w.state === 'serving' && w.generation > serving.generation)) {
      assert.ok(Date.now() < deadline, 'no new worker after 10 s')
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    assert.deepEqual(await tslbTables(), ['tslb_flip'])
    assert.deepEqual(await servedBy(4), new Set(webs.map(n => `web${n}`)))
  })
})
