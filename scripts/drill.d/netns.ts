/**
 * The drill's cluster on the namespace lab (scripts/lab): tslb from this checkout on lb1..lb3,
 * each with the cluster configuration vagrant/provision.sh writes on a Vagrant LB, run as
 * scripts/demo runs it (detached, log and control socket under RUNDIR).
 *
 * The crash is a power cut: every process in the node's namespace — the supervisor, its worker
 * and the VIP reaper child — gets SIGKILL, and its eth0 goes down at once (a dead machine neither
 * answers ARP for the VIP the killed reaper could not remove nor resets connections to it). The restart is a power-on: the VIPs the kernel
 * of the namespace still lists are removed (a rebooted machine comes up without them), eth0
 * comes up, tslb starts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DrillCluster, DrillNode, LbNode, RunResult } from './drill.ts'
import { LBS } from './drill.ts'

export const ROOT = join(import.meta.dirname, '../..')
const TSLB = join(ROOT, 'bin/tslb')
const PROVISION = join(ROOT, 'vagrant/provision.sh')
const WEBS = ['web1', 'web2', 'web3', 'web4']
const OCTET: Record<string, number> = { lb1: 11, lb2: 12, lb3: 13, web1: 21, web2: 22, web3: 23, web4: 24 }

export interface NetnsLab {
  /** Namespace prefix (scripts/lab's TSLB_LAB_PREFIX) and first three octets of the /24. */
  readonly prefix: string
  readonly net: string
  /** Configurations, control and stats sockets, pid files and logs of the nodes. */
  readonly runDir: string
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

export async function run (file: string, argv: readonly string[], timeoutMs = 30_000, env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return await new Promise(resolve => {
    execFile(file, [...argv], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 255
      resolve({ code, stdout, stderr: err !== null && typeof err.code !== 'number' ? `${stderr}${err.message}` : stderr })
    })
  })
}

export const files = (lab: NetnsLab, node: LbNode): { cfg: string, sock: string, stats: string, pid: string, log: string } => ({
  cfg: join(lab.runDir, `${node}.cfg`),
  sock: join(lab.runDir, `${node}.sock`),
  stats: join(lab.runDir, `${node}.stats.sock`),
  pid: join(lab.runDir, `${node}.pid`),
  log: join(lab.runDir, `${node}.log`)
})

/** Writes the node's configuration with vagrant/provision.sh's template. */
export async function writeConfig (lab: NetnsLab, node: LbNode): Promise<string> {
  const f = files(lab, node)
  const r = await run(PROVISION, ['config', node, '--net', lab.net, '--iface', 'eth0', '--stats', f.stats, ...WEBS.map(w => `${w}=${lab.net}.${OCTET[w] ?? 0}`)])
  if (r.code !== 0) throw new Error(`vagrant/provision.sh config ${node} failed:\n${r.stderr}`)
  mkdirSync(lab.runDir, { recursive: true })
  writeFileSync(f.cfg, r.stdout)
  return f.cfg
}

/** Starts tslb on the node, detached (it outlives the drill); resolves once the supervisor has started. */
export async function startNode (lab: NetnsLab, node: LbNode): Promise<number> {
  const f = files(lab, node)
  if (!existsSync(f.cfg)) await writeConfig(lab, node)
  const from = existsSync(f.log) ? statSync(f.log).size : 0
  const fd = openSync(f.log, 'a')
  const child = spawn('ip', ['netns', 'exec', `${lab.prefix}${node}`, TSLB, 'run', '-f', f.cfg, '-L', node, '-S', f.sock, '-p', f.pid], {
    detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, TSLB_LOG_FORMAT: 'json' }
  })
  closeSync(fd)
  let exited: string | undefined
  child.once('exit', (code, signal) => { exited = signal ?? `exit ${code ?? '?'}` })
  child.unref()
  const until = Date.now() + 60_000
  for (;;) {
    const log = readFileSync(f.log, 'utf8').slice(from)
    if (log.includes('"supervisor started"')) return child.pid ?? 0
    if (exited !== undefined || Date.now() > until) throw new Error(`tslb on ${node} did not start (${exited ?? 'timeout'}):\n${log.slice(-3000)}`)
    await sleep(100)
  }
}

/** What scripts/demo does before the drill: each node's configuration checked, tslb started on lb1..lb3, their status. */
export async function startCluster (lab: NetnsLab, say: (line: string) => void): Promise<void> {
  say('== configuration (vagrant/provision.sh\'s cluster template: peers, stick table, cookie prefix, two VRRPv3 instances)')
  for (const n of LBS) {
    const cfg = await writeConfig(lab, n)
    const r = await run(TSLB, ['check', '-f', cfg, '-L', n])
    if (r.code !== 0) throw new Error(`tslb check -f ${cfg} -L ${n}:\n${r.stdout}${r.stderr}`)
    say(`${n}: ${cfg}: ${r.stdout.trim()}`)
  }
  say('== starting tslb on lb1, lb2, lb3')
  await Promise.all(LBS.map(async n => await startNode(lab, n)))
  for (const n of LBS) {
    const r = await run(TSLB, ['status', '-S', files(lab, n).sock])
    say(`-- ${n} (tslb status)\n${r.stdout.trimEnd()}`)
  }
}

/** SIGTERM to every node's supervisor (a clean stop: priority-0 adverts, VIPs released). */
export async function stopNodes (lab: NetnsLab): Promise<void> {
  const pids: number[] = []
  for (const n of LBS) {
    const pidFile = files(lab, n).pid
    if (!existsSync(pidFile)) continue
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    try { process.kill(pid, 'SIGTERM'); pids.push(pid) } catch { /* gone */ }
  }
  const alive = (p: number): boolean => { try { process.kill(p, 0); return true } catch { return false } }
  const until = Date.now() + 15_000
  while (pids.some(alive) && Date.now() < until) await sleep(100)
  for (const p of pids.filter(alive)) process.kill(p, 'SIGKILL')
}

async function nsPids (ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns])
  return r.stdout.split('\n').filter(l => l.trim() !== '').map(Number)
}

function describe (pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(a => a !== '')
    if (argv.includes('tslb-vip-reaper')) return `${pid} VIP reaper`
    if (argv.some(a => a.endsWith('/worker-main.ts'))) return `${pid} proxy worker`
    if (argv.some(a => a.endsWith('/cli/main.ts'))) return `${pid} supervisor`
    return `${pid} ${argv[0]?.split('/').at(-1) ?? '?'}`
  } catch {
    return String(pid)
  }
}

export function netnsCluster (lab: NetnsLab): DrillCluster {
  const ns = (node: DrillNode): string => `${lab.prefix}${node}`
  const vips: readonly [string, string] = [`${lab.net}.100`, `${lab.net}.101`]
  return {
    vips,
    exec: async (node, argv, timeoutMs = 30_000) => await run('ip', ['netns', 'exec', ns(node), ...argv], timeoutMs),
    spawnClient: (argv): ChildProcess => spawn('ip', ['netns', 'exec', ns('client'), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }),
    crash: async (node) => {
      // SIGKILL first, then the link: with eth0 going down under it, the supervisor's pcap handle
      // aborts the process (cap's binding asserts), which would be tslb dying, not the drill killing it.
      const killed: string[] = []
      const killAll = async (): Promise<number> => {
        const pids = await nsPids(ns(node))
        for (const p of pids) {
          const what = describe(p)
          try { process.kill(p, 'SIGKILL'); killed.push(what) } catch { /* gone */ }
        }
        return pids.length
      }
      await killAll()
      const r = await run('ip', ['-n', ns(node), 'link', 'set', 'dev', 'eth0', 'down'])
      if (r.code !== 0) throw new Error(`ip link set eth0 down in ${ns(node)}: ${r.stderr}`)
      for (let round = 0; round < 50 && await killAll() > 0; round++) await sleep(20)
      return `SIGKILL to ${killed.join(', ')}; eth0 down`
    },
    restart: async (node) => {
      for (const vip of vips) await run('ip', ['-n', ns(node), 'addr', 'del', `${vip}/24`, 'dev', 'eth0'])
      const r = await run('ip', ['-n', ns(node), 'link', 'set', 'dev', 'eth0', 'up'])
      if (r.code !== 0) throw new Error(`ip link set eth0 up in ${ns(node)}: ${r.stderr}`)
      const pid = await startNode(lab, node)
      return `the VIPs a power cycle drops removed, eth0 up, tslb started (pid ${pid})`
    }
  }
}
