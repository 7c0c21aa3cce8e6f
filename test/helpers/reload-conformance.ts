/**
 * The conformance suite every reload strategy runs in the lab (like the balancers' shared suite):
 * a reload changes which backend answers, a broken configuration is refused and the running one
 * keeps serving, requests in flight across a reload finish, and no nft table or qdisc is left
 * behind after a success, a forced failure or a stop. A strategy the host cannot run (tc-plug
 * here) must refuse every reload cleanly and change nothing. Every strategy starts the next
 * generation on the standby process the supervisor booted ahead of time.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { type Lab, useLab } from './lab.ts'
import { runTslbOn, type RunningTslb } from './tslb-node.ts'
import { tslb as cli, type CliResult } from './cli.ts'
import { startSlowServer } from './http-get.ts'

const SLOW_MS = 2000

export interface ConformanceExpectation {
  /** 'reloads': the strategy works on this host; 'refuses': it must refuse, changing nothing. */
  readonly outcome: 'reloads' | 'refuses'
  /** nft tables of the strategy that stay while it serves (iptables-flip's NAT rules). */
  readonly tablesWhileServing: readonly string[]
  /** What a refusal says (outcome 'refuses'). */
  readonly refusal?: RegExp
  /** `nbthread` of every configuration (default: none set). */
  readonly threads?: number
}

export function reloadConfig (lab: Lab, webs: readonly number[], global = ''): string {
  return `${global}defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend www
    bind *:80
    default_backend app
listen slow
    bind *:8080
    server slow ${lab.net}.21:9000
backend app
    balance roundrobin
${webs.map(n => `    server web${n} ${lab.net}.2${n}:80`).join('\n')}
`
}

async function servedBy (lab: Lab, n: number): Promise<Set<string>> {
  const r = await lab.exec('client', ['sh', '-c', `for i in $(seq ${n}); do curl -s --max-time 3 http://${lab.addr('lb1')}/; done`])
  return new Set(r.stdout.split('\n').filter(l => l !== ''))
}

/** What a strategy could leave behind in lb1's namespace: tslb's nft tables and lo's qdiscs. */
async function netState (lab: Lab): Promise<{ tables: string[], ruleset: string, qdiscs: string }> {
  const tables = (await lab.exec('lb1', ['nft', 'list', 'tables'])).stdout.split('\n').filter(l => l.includes('tslb_')).map(l => l.trim().split(' ').at(-1) ?? '')
  const ruleset = (await lab.exec('lb1', ['nft', 'list', 'ruleset'])).stdout
  const qdiscs = (await lab.exec('lb1', ['tc', 'qdisc', 'show', 'dev', 'lo'])).stdout
  return { tables, ruleset, qdiscs }
}

async function workerPids (node: RunningTslb): Promise<number[]> {
  const r = await cli(['status', '--json', '-S', node.socket])
  const status = JSON.parse(r.stdout) as { workers: { pid: number, state: string }[] }
  return status.workers.filter(w => w.state === 'serving').map(w => w.pid)
}

/** The standby process once it has booted, other than `not`. */
async function bootedStandby (node: RunningTslb, not?: number): Promise<number> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const r = await cli(['status', '--json', '-S', node.socket])
    const s = (JSON.parse(r.stdout) as { standby?: { pid: number, state: string } }).standby
    if (s?.state === 'booted' && s.pid !== not) return s.pid
    if (Date.now() > deadline) throw new Error(`no booted standby (other than ${not ?? '-'}) within 10 s: ${r.stdout}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

export function runReloadConformance (strategy: string, expect: ConformanceExpectation): void {
  const threads = expect.threads === undefined ? '' : `global\n    nbthread ${expect.threads}\n`
  describe(`reload --strategy ${strategy}${threads === '' ? '' : ` (nbthread ${expect.threads})`}: conformance`, () => {
    const lab = useLab()
    let node: RunningTslb
    let slow: ChildProcess | undefined
    let current: readonly number[] = [1, 2]
    const reload = async (): Promise<CliResult> => await cli(['reload', '--strategy', strategy, '-S', node.socket])
    const configure = (webs: readonly number[], global = ''): void => { writeFileSync(node.configFile, reloadConfig(lab, webs, threads + global)) }

    before(async () => {
      slow = await startSlowServer(lab, 'web1', 9000, SLOW_MS, 'slow')
      node = await runTslbOn(lab, 'lb1', reloadConfig(lab, current, threads))
    })
    after(async () => {
      await node?.stop()
      slow?.kill()
    })

    if (expect.outcome === 'reloads') {
      test('each reload changes which backend answers; only the serving rules remain', async () => {
        for (const webs of [[3, 4], [1, 2], [3, 4]]) {
          configure(webs)
          const standby = await bootedStandby(node)
          const r = await reload()
          assert.equal(r.code, 0, `reload to web${webs.join('+web')} failed:\n${r.stdout}${r.stderr}`)
          assert.match(r.stdout, new RegExp(`reload strategy: ${strategy}`))
          assert.deepEqual(await workerPids(node), [standby], 'the new generation runs on the standby process')
          current = webs
          assert.deepEqual(await servedBy(lab, 6), new Set(webs.map(n => `web${n}`)))
          const { tables, qdiscs } = await netState(lab)
          assert.deepEqual(tables, [...expect.tablesWhileServing], `tslb nft tables after reload:\n${r.stdout}`)
          assert.doesNotMatch(qdiscs, /7c5b:/)
        }
      })
    } else {
      test('a reload is refused before anything changes; the running generation keeps serving', async () => {
        const before = await netState(lab)
        const pids = await workerPids(node)
        const standby = await bootedStandby(node)
        configure([3, 4])
        const r = await reload()
        assert.equal(r.code, 1, `${r.stdout}${r.stderr}`)
        assert.match(r.stderr, expect.refusal ?? /./)
        assert.match(r.stderr, /--strategy handoff/)
        assert.deepEqual(await workerPids(node), pids)
        assert.equal(await bootedStandby(node), standby, 'the standby is kept')
        assert.deepEqual(await servedBy(lab, 6), new Set(current.map(n => `web${n}`)))
        assert.deepEqual(await netState(lab), before)
      })
    }

    test(`requests in flight across a reload (${SLOW_MS / 1000} s each) all finish`, async () => {
      const requests = Array.from({ length: 4 }, async () => await lab.exec('client', ['curl', '-s', '-w', ' %{http_code}', '--max-time', '10', `http://${lab.addr('lb1')}:8080/`]))
      await new Promise(resolve => setTimeout(resolve, 300))
      const webs = current.includes(1) ? [3, 4] : [1, 2]
      configure(webs)
      const r = await reload()
      assert.equal(r.code, expect.outcome === 'reloads' ? 0 : 1, `${r.stdout}${r.stderr}`)
      if (r.code === 0) current = webs
      for (const done of await Promise.all(requests)) assert.equal(done.stdout, 'slow\n 200')
    })

    test('a broken configuration is refused and the running one keeps serving, rules unchanged', async () => {
      const before = await netState(lab)
      const standby = await bootedStandby(node)
      writeFileSync(node.configFile, `${reloadConfig(lab, [1], threads)}    balanc roundrobin\n`)
      const r = await reload()
      assert.equal(r.code, 1)
      assert.match(r.stdout, /unknown keyword 'balanc'/)
      assert.equal(await bootedStandby(node), standby, 'the standby is kept')
      assert.deepEqual(await servedBy(lab, 4), new Set(current.map(n => `web${n}`)))
      assert.deepEqual(await netState(lab), before)
    })

    test('a reload whose worker cannot start (stats socket in a missing directory) leaves the rules as they were', async () => {
      const before = await netState(lab)
      configure(current.includes(1) ? [3, 4] : [1, 2], 'global\n    stats socket /nonexistent-tslb-dir/admin.sock\n')
      const standby = await bootedStandby(node)
      const r = await reload()
      assert.equal(r.code, 1, `${r.stdout}${r.stderr}`)
      if (expect.outcome === 'reloads') {
        assert.match(`${r.stdout}${r.stderr}`, /failed to start: listen /)
        // The standby started the failing generation and is gone; another one replaces it.
        assert.notEqual(await bootedStandby(node, standby), standby)
      }
      assert.deepEqual(await servedBy(lab, 4), new Set(current.map(n => `web${n}`)))
      assert.deepEqual(await netState(lab), before)
    })

    test('stopping the node removes every rule and qdisc', async () => {
      await node.stop()
      const { tables, qdiscs } = await netState(lab)
      assert.deepEqual(tables, [])
      assert.doesNotMatch(qdiscs, /7c5b:/)
    })
  })
}
