/**
 * The failover drill of every lab (scripts/demo, scripts/lab-systemd drill, vagrant/drill): client
 * traffic to both VIPs, sticky sessions opened through VIP 1, the master of VIP 1 crashed hard,
 * the VIP moving, the sessions checked on the new master, the old master restarted and taking the
 * VIP back. Every lab gives the same `DrillCluster`; only how a node is reached, crashed and
 * restarted differs. Ends with the line the design names:
 *
 *   failover: from=lb1 to=lb2 gap_ms=N requests=R failed=F sticky=K/K
 *
 * Everything is measured from the client: its probe loops (bash + curl, so a VM client needs
 * nothing else) print one line per request with the client's own clock.
 */
import type { ChildProcess } from 'node:child_process'
import { analyse, parseProbeLine, type ProbeResult } from './probe.ts'

export type LbNode = 'lb1' | 'lb2' | 'lb3'
export type DrillNode = LbNode | 'client'
export const LBS: readonly LbNode[] = ['lb1', 'lb2', 'lb3']

export interface RunResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface DrillCluster {
  /** VIP 1 (VI_1, lb1 master) and VIP 2 (VI_2, lb2 master). */
  readonly vips: readonly [string, string]
  /** Runs argv on a node (as root); never rejects on an exit status or an unreachable node. */
  exec: (node: DrillNode, argv: readonly string[], timeoutMs?: number) => Promise<RunResult>
  /** A long-running command on the client, its stdout piped. */
  spawnClient: (argv: readonly string[]) => ChildProcess
  /** The power cut: every tslb process of the node SIGKILLed, the node off the network. */
  crash: (node: LbNode) => Promise<string>
  /** The node back: booted, tslb started as the lab starts it. */
  restart: (node: LbNode) => Promise<string>
}

export interface DrillOptions {
  /** Seconds of traffic before the sessions are opened (with the progress line). */
  readonly trafficSeconds: number
  /** Sessions opened through VIP 1: on :80 (stick table, replicated) and on :8080 (cookie prefix). */
  readonly tableSessions: number
  readonly prefixSessions: number
  /** Phase lines; the progress line goes here too when it is a terminal. */
  readonly out: NodeJS.WritableStream & { isTTY?: boolean }
  /** How long a node may take to come back (a VM boots slower than a namespace). */
  readonly restartTimeoutMs: number
}

export interface Session {
  readonly port: 80 | 8080
  readonly cookie: string
  readonly server: string
  after?: string
}

export interface DrillResult {
  readonly from: LbNode
  readonly to: LbNode
  readonly gapMs: number
  readonly requests: number
  readonly failed: number
  readonly sessions: readonly Session[]
  readonly kept: number
  /** VIP 2: who held it at each check (before the crash, after the failover, after the restart), and its longest gap. */
  readonly vip2Holders: readonly (readonly LbNode[])[]
  readonly vip2GapMs: number
  readonly vip2Failed: number
  /** Who held VIP 1 once the old master was back. */
  readonly back: readonly LbNode[]
  readonly line: string
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/**
 * One probe loop: a request to http://VIP/ every 50 ms, a fresh connection each (curl), 200 ms to
 * connect (a SYN sent to a dead node is not answered: the loop tries again). Prints `VIP START_US END_US OK BODY` with the client's clock ($EPOCHREALTIME, no fork).
 */
export const PROBE_SCRIPT = `vip=$1 offset=$2
sleep "$offset"
while :; do
  t0=\${EPOCHREALTIME/./}
  if body=$(curl -s --connect-timeout 0.2 -m 1 "http://$vip/" 2>/dev/null) && [ -n "$body" ]; then ok=1; else ok=0; body=-; fi
  t1=\${EPOCHREALTIME/./}
  echo "$vip $t0 $t1 $ok \${body%%[[:space:]]*}" || exit 0
  sleep 0.05
done`

/** Four loops on VIP 1 (staggered, so a recovery is seen within ~70 ms), one on VIP 2. */
function startProbes (cluster: DrillCluster, results: ProbeResult[]): ChildProcess[] {
  const [vip1, vip2] = cluster.vips
  const loops: Array<[string, string]> = [[vip1, '0'], [vip1, '0.07'], [vip1, '0.14'], [vip1, '0.21'], [vip2, '0.1']]
  return loops.map(([vip, offset]) => {
    const child = cluster.spawnClient(['bash', '-c', PROBE_SCRIPT, 'tslb-drill-probe', vip, offset])
    let buf = ''
    child.stdout?.on('data', (b: Buffer) => {
      buf += b.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const r = parseProbeLine(buf.slice(0, nl))
        buf = buf.slice(nl + 1)
        if (r !== undefined) results.push(r)
      }
    })
    child.stderr?.resume()
    return child
  })
}

async function stopProbes (children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(children.map(async c => {
    if (c.exitCode !== null || c.signalCode !== null) return
    const gone = new Promise<void>(resolve => { c.once('exit', () => { resolve() }) })
    c.kill('SIGTERM')
    const t = setTimeout(() => { c.kill('SIGKILL') }, 3000)
    await gone
    clearTimeout(t)
  }))
}

/** The LBs (among `nodes`) that have `vip` on an interface. */
export async function holders (cluster: DrillCluster, vip: string, nodes: readonly LbNode[] = LBS): Promise<LbNode[]> {
  const outs = await Promise.all(nodes.map(async n => await cluster.exec(n, ['ip', '-4', '-o', 'addr', 'show'], 10_000)))
  return nodes.filter((_, i) => (outs[i]?.stdout ?? '').includes(` ${vip}/`))
}

export async function waitHolder (cluster: DrillCluster, vip: string, nodes: readonly LbNode[], want: (h: LbNode[]) => boolean, what: string, timeoutMs: number): Promise<LbNode[]> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const h = await holders(cluster, vip, nodes)
    if (want(h)) return h
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (VIP ${vip} held by: ${h.join(',') || 'nobody'})`)
    await sleep(50)
  }
}

/** Opens sessions: GET /login sets JSESSIONID; the body's first line names the server. */
async function openSessions (cluster: DrillCluster, port: 80 | 8080, n: number): Promise<Session[]> {
  const url = `http://${cluster.vips[0]}:${port}/login`
  const r = await cluster.exec('client', ['bash', '-c', `for i in $(seq ${n}); do curl -s -i -m 3 '${url}'; echo; echo '@@'; done`], 30_000)
  const sessions: Session[] = []
  for (const part of r.stdout.split('@@')) {
    const cookie = /^Set-Cookie: JSESSIONID=([^;\r\n]+)/im.exec(part)?.[1]
    const body = part.split(/\r?\n\r?\n/)[1]?.split(/\r?\n/)[0]?.trim()
    if (cookie !== undefined && body !== undefined && body !== '') sessions.push({ port, cookie, server: body })
  }
  if (sessions.length !== n) throw new Error(`opened ${sessions.length} of ${n} sessions on ${url}:\n${r.stdout}${r.stderr}`)
  return sessions
}

/** Each session's next request (its cookie sent back) through VIP 1: the server that answers. */
async function checkSessions (cluster: DrillCluster, sessions: readonly Session[]): Promise<number> {
  const cmds = sessions.map(s => `curl -s -m 3 -H 'Cookie: JSESSIONID=${s.cookie}' 'http://${cluster.vips[0]}:${s.port}/' || echo -; echo '@@'`)
  const r = await cluster.exec('client', ['bash', '-c', cmds.join('\n')], 60_000)
  const answers = r.stdout.split('@@').map(a => a.trim().split(/\s+/)[0] ?? '-')
  let kept = 0
  sessions.forEach((s, i) => {
    s.after = answers[i] ?? '-'
    if (s.after === s.server) kept++
  })
  return kept
}

function progress (opts: DrillOptions, results: readonly ProbeResult[], vips: readonly [string, string], phase: string, t0: number): () => void {
  if (opts.out.isTTY !== true) return () => {}
  const draw = (): void => {
    const of = (vip: string): string => {
      const rs = results.filter(r => r.vip === vip)
      const bad = rs.filter(r => !r.ok).length
      const last = rs.at(-1)
      return `${vip}: ${rs.length} requests, ${bad} failed, last ${last === undefined ? '-' : last.ok ? last.body : 'FAILED'}`
    }
    opts.out.write(`\r\x1b[K[${((Date.now() - t0) / 1000).toFixed(1)}s] ${phase.padEnd(10)} ${of(vips[0])} | ${of(vips[1])}`)
  }
  draw()
  const timer = setInterval(draw, 200)
  let stopped = false
  return () => {
    if (stopped) return
    stopped = true
    clearInterval(timer)
    draw()
    opts.out.write('\n')
  }
}

/** What the drill has to show for the lab to pass; empty when it passed. */
export function verdict (r: Omit<DrillResult, 'line'>): string[] {
  const problems: string[] = []
  if (r.to === r.from) problems.push(`VIP 1 did not move away from ${r.from}`)
  if (r.gapMs >= 1000) problems.push(`VIP 1 did not answer for ${r.gapMs} ms (1 s or more)`)
  if (r.kept !== r.sessions.length) problems.push(`${r.sessions.length - r.kept} sticky session(s) lost`)
  if (r.back.join() !== r.from) problems.push(`VIP 1 not back on ${r.from} (${r.back.join(',')})`)
  if (r.vip2Holders.some(h => h.join() !== 'lb2')) problems.push(`VIP 2 did not stay on lb2 (${r.vip2Holders.map(h => h.join(',') || 'nobody').join(' -> ')})`)
  return problems
}

/** Runs the drill on a cluster whose lb1 is master of VIP 1 and lb2 of VIP 2. */
export async function runDrill (cluster: DrillCluster, opts: DrillOptions): Promise<DrillResult> {
  const [vip1, vip2] = cluster.vips
  const say = (s: string): void => { opts.out.write(`${s}\n`) }
  const from: LbNode = 'lb1'
  say(`== VRRP: waiting for lb1 to hold ${vip1} (VI_1) and lb2 ${vip2} (VI_2)`)
  await waitHolder(cluster, vip1, LBS, h => h.join() === 'lb1', `lb1 to hold ${vip1}`, 60_000)
  const vip2Holders: LbNode[][] = [await waitHolder(cluster, vip2, LBS, h => h.join() === 'lb2', `lb2 to hold ${vip2}`, 60_000)]
  say(`${vip1}: lb1   ${vip2}: lb2`)

  const results: ProbeResult[] = []
  const probes = startProbes(cluster, results)
  const t0 = Date.now()
  let stop = (): void => {}
  try {
    say(`== client traffic to ${vip1} and ${vip2} (a new connection per request; 4 loops on the first, 1 on the second)`)
    stop = progress(opts, results, cluster.vips, 'traffic', t0)
    const until = Date.now() + opts.trafficSeconds * 1000
    while (Date.now() < until || !results.some(r => r.vip === vip1 && r.ok)) {
      if (Date.now() > until + 15_000) throw new Error(`no answer from ${vip1} in ${opts.trafficSeconds + 15} s of traffic`)
      await sleep(100)
    }
    stop()

    say(`== sticky sessions through ${vip1}: ${opts.tableSessions} on :80 (stick table on JSESSIONID, replicated by the peers), ${opts.prefixSessions} on :8080 (cookie prefix)`)
    const sessions = [...await openSessions(cluster, 80, opts.tableSessions), ...await openSessions(cluster, 8080, opts.prefixSessions)]
    say(sessions.map(s => `${s.port === 80 ? ':80' : ':8080'} ${s.server}`).join(', '))
    await sleep(1000) // the peers push an update within milliseconds; the margin is for a loaded machine

    const crashedAt = Date.now()
    say(`== crash of ${from} (power cut): ${await cluster.crash(from)}`)
    stop = progress(opts, results, cluster.vips, 'failover', t0)
    const survivors = LBS.filter(n => n !== from)
    const [to] = await waitHolder(cluster, vip1, survivors, h => h.length === 1, `a new master of ${vip1}`, 30_000) as [LbNode]
    const seenAt = Date.now()
    const answered = results.length
    while (!results.slice(answered).some(r => r.vip === vip1 && r.ok)) {
      if (Date.now() > t0 + 600_000) throw new Error(`${vip1} does not answer after the failover`)
      await sleep(50)
    }
    await sleep(500)
    stop()
    vip2Holders.push(await holders(cluster, vip2, survivors))
    say(`${vip1} moved to ${to} (seen there ${seenAt - crashedAt} ms after the crash began, polling); ${vip2} held by ${vip2Holders[1]?.join(',') || 'nobody'}`)

    say(`== the sessions through ${vip1}, now served by ${to}`)
    const kept = await checkSessions(cluster, sessions)
    say(sessions.map(s => `${s.server}${s.after === s.server ? ' kept' : ` LOST (now ${s.after ?? '-'})`}`).join(', '))

    say(`== ${from} restarted: ${await cluster.restart(from)}`)
    stop = progress(opts, results, cluster.vips, 'failback', t0)
    const back = await waitHolder(cluster, vip1, LBS, h => h.join() === from, `${from} to take ${vip1} back`, opts.restartTimeoutMs)
    await sleep(1500)
    stop()
    vip2Holders.push(await holders(cluster, vip2))
    say(`${vip1} back on ${back.join(',')}; ${vip2} held by ${vip2Holders[2]?.join(',') || 'nobody'}`)

    await stopProbes(probes)
    const a1 = analyse(results, vip1)
    const a2 = analyse(results, vip2)
    // Every request the client made over the drill: the probes' and the sessions' (opened and checked).
    const requests = results.length + 2 * sessions.length
    const failed = a1.failed + a2.failed + sessions.filter(s => s.after === '-').length
    say(`${vip2} (VI_2, master lb2): held by ${vip2Holders.map(h => h.join(',') || 'nobody').join(' -> ')} across the drill, longest gap ${a2.gapMs} ms (${a2.requests} requests, ${a2.failed} failed)`)
    const line = `failover: from=${from} to=${to} gap_ms=${a1.gapMs} requests=${requests} failed=${failed} sticky=${kept}/${sessions.length}`
    const result = { from, to, gapMs: a1.gapMs, requests, failed, sessions, kept, vip2Holders, vip2GapMs: a2.gapMs, vip2Failed: a2.failed, back, line }
    for (const p of verdict(result)) say(`drill: FAILED: ${p}`)
    say(line)
    return result
  } finally {
    stop()
    await stopProbes(probes)
  }
}
