/**
 * Helpers for the VRRP integration and interop suites: tslb (VRRP-only or mixed configs) and
 * keepalived 2.2.7 inside lab nodes, a monitor that polls which nodes hold a VIP, the client's
 * neighbour entry, and log timestamps (every process runs on this host's clock).
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Lab, LabNode } from './lab.ts'
import { TSLB } from './cli.ts'

export const KEEPALIVED = '/usr/sbin/keepalived'

export interface LogRecord {
  readonly time: number
  readonly msg: string
  readonly [key: string]: unknown
}

export interface Running {
  readonly node: LabNode
  readonly child: ChildProcess
  readonly dir: string
  output (): string
  /** Resolves with the exit once the process is gone. */
  readonly exited: Promise<void>
  kill (signal: NodeJS.Signals): Promise<void>
}

export interface RunningTslb extends Running {
  readonly socket: string
  /** Parsed JSON log lines so far. */
  logs (): LogRecord[]
  /** The first log record (after `since`, epoch ms) matching. */
  waitLog (match: (r: LogRecord) => boolean, timeoutMs: number, since?: number): Promise<LogRecord>
}

function spawnIn (lab: Lab, node: LabNode, argv: string[], env: Record<string, string>, dir: string): Running {
  const child = lab.spawn(node, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { out += b.toString() })
  const exited = new Promise<void>(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => { resolve() })
  })
  return {
    node,
    child,
    dir,
    output: () => out,
    exited,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}

function parseLogs (out: string): LogRecord[] {
  const recs: LogRecord[] = []
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const r = JSON.parse(line) as LogRecord
      if (typeof r.time === 'number') recs.push(r)
    } catch { /* partial line */ }
  }
  return recs
}

/** `tslb run -f CONFIG -L node` in the node; resolves once the supervisor has started. */
export async function startTslb (lab: Lab, node: LabNode, config: string): Promise<RunningTslb> {
  const dir = mkdtempSync(join(tmpdir(), `tslb-vrrp-${node}-`))
  const configFile = join(dir, 'tslb.cfg')
  const socket = join(dir, 'master.sock')
  writeFileSync(configFile, config)
  const r = spawnIn(lab, node, [TSLB, 'run', '-f', configFile, '-L', node, '-S', socket], { TSLB_LOG_FORMAT: 'json', TSLB_LOG_LEVEL: 'debug' }, dir)
  const waitLog = async (match: (rec: LogRecord) => boolean, timeoutMs: number, since = 0): Promise<LogRecord> => {
    const until = Date.now() + timeoutMs
    for (;;) {
      const hit = parseLogs(r.output()).find(rec => rec.time >= since && match(rec))
      if (hit !== undefined) return hit
      if (Date.now() > until) throw new Error(`tslb on ${node}: no matching log line within ${timeoutMs} ms:\n${r.output().slice(-4000)}`)
      if (r.child.exitCode !== null || r.child.signalCode !== null) throw new Error(`tslb on ${node} exited:\n${r.output().slice(-4000)}`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }
  const running: RunningTslb = { ...r, socket, logs: () => parseLogs(r.output()), waitLog }
  await waitLog(rec => rec.msg === 'supervisor started', 20_000)
  return running
}

/** keepalived -n -l -D -P with its own config and pid files, in the node. */
export function startKeepalived (lab: Lab, node: LabNode, conf: string): Running {
  const dir = mkdtempSync(join(tmpdir(), `keepalived-${node}-`))
  const file = join(dir, 'keepalived.conf')
  writeFileSync(file, conf)
  return spawnIn(lab, node, [KEEPALIVED, '-n', '-l', '-D', '-P', '-f', file, '-p', join(dir, 'keepalived.pid'), '-r', join(dir, 'vrrp.pid')], {}, dir)
}

/** Lines of keepalived's console log with their time (keepalived prints wall-clock seconds only). */
export async function waitOutput (r: Running, pattern: RegExp, timeoutMs: number, from = 0): Promise<number> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const idx = r.output().slice(from).search(pattern)
    if (idx >= 0) return from + idx
    if (Date.now() > until) throw new Error(`${r.node}: /${pattern.source}/ not seen within ${timeoutMs} ms:\n${r.output().slice(-3000)}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

export interface Sample {
  readonly t: number
  /** VIP → the nodes that held it. */
  readonly holders: Readonly<Record<string, readonly LabNode[]>>
}

export interface DualSample {
  readonly t: number
  readonly vip: string
  readonly holders: readonly LabNode[]
}

/**
 * Polls every node's eth0 for the VIPs every `intervalMs` (all nodes at once, one `ip addr`
 * each) and keeps every sample. Two holders of a VIP trigger an immediate re-check: still two is
 * a real dual master (confirmedDual, still two 250 ms later); one is a hand-over caught in flight (unconfirmedDual).
 */
export class VipMonitor {
  readonly samples: Sample[] = []
  readonly confirmedDual: DualSample[] = []
  readonly unconfirmedDual: DualSample[] = []
  readonly #lab: Lab
  readonly #vips: readonly string[]
  readonly #nodes: readonly LabNode[]
  #running = false
  #loop: Promise<void> | undefined

  constructor (lab: Lab, vips: string | readonly string[], nodes: readonly LabNode[], intervalMs = 50) {
    this.#lab = lab
    this.#vips = typeof vips === 'string' ? [vips] : vips
    this.#nodes = nodes
    this.#running = true
    this.#loop = this.#run(intervalMs)
  }

  async holders (): Promise<Record<string, LabNode[]>> {
    const outputs = await Promise.all(this.#nodes.map(async n => (await this.#lab.exec(n, ['ip', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout))
    const out: Record<string, LabNode[]> = {}
    for (const vip of this.#vips) out[vip] = this.#nodes.filter((_, i) => (outputs[i] ?? '').includes(` ${vip}/`))
    return out
  }

  async #run (intervalMs: number): Promise<void> {
    while (this.#running) {
      const t = Date.now()
      const holders = await this.holders()
      this.samples.push({ t, holders })
      const dual = this.#vips.filter(v => (holders[v]?.length ?? 0) > 1)
      if (dual.length > 0) {
        // A preemption hand-over overlaps by a few ms (as keepalived's does); on a loaded machine
        // it can take tens of ms. Still two holders 250 ms later is a real dual master.
        await new Promise(resolve => setTimeout(resolve, 250))
        const again = await this.holders()
        this.samples.push({ t: Date.now(), holders: again })
        for (const vip of dual) {
          const rec = { t, vip, holders: holders[vip] ?? [] }
          if ((again[vip]?.length ?? 0) > 1) this.confirmedDual.push(rec)
          else this.unconfirmedDual.push(rec)
        }
      }
      const wait = intervalMs - (Date.now() - t)
      if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    }
  }

  /** Waits until exactly `node` holds the VIP (undefined: nobody); returns the first such sample time. */
  async waitHolder (node: LabNode | undefined, timeoutMs: number, vip: string = this.#vips[0] as string): Promise<number> {
    const start = this.samples.length
    const until = Date.now() + timeoutMs
    for (;;) {
      for (let i = start; i < this.samples.length; i++) {
        const s = this.samples[i] as Sample
        const h = s.holders[vip] ?? []
        if (node === undefined ? h.length === 0 : h.length === 1 && h[0] === node) return s.t
      }
      if (Date.now() > until) throw new Error(`VIP ${vip}: holder is not ${node ?? 'nobody'} after ${timeoutMs} ms (last: ${this.samples.at(-1)?.holders[vip]?.join(',') ?? '?'})`)
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }

  /** waitHolder for every VIP. */
  async waitAll (node: LabNode | undefined, timeoutMs: number): Promise<void> {
    await Promise.all(this.#vips.map(async v => await this.waitHolder(node, timeoutMs, v)))
  }

  async stop (): Promise<void> {
    this.#running = false
    await this.#loop
  }
}

export async function macOf (lab: Lab, node: LabNode): Promise<string> {
  return (await lab.exec(node, ['cat', '/sys/class/net/eth0/address'])).stdout.trim()
}

/** The MAC in `from`'s neighbour entry for `ip` (undefined when there is none or it is incomplete). */
export async function neighbourMac (lab: Lab, from: LabNode, ip: string): Promise<string | undefined> {
  const r = await lab.exec(from, ['ip', 'neigh', 'show', ip, 'dev', 'eth0'])
  return /lladdr ([0-9a-f:]{17})/.exec(r.stdout)?.[1]
}

/** A TCP connect to the VIP from the client (refused or answered: either way ARP is resolved). */
export async function touch (lab: Lab, from: LabNode, ip: string, port = 9): Promise<void> {
  await lab.exec(from, ['curl', '-s', '-o', '/dev/null', '--connect-timeout', '1', '-m', '2', `http://${ip}:${port}/`], { timeoutMs: 5000 })
}

export async function waitFor (what: string, cond: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

export interface Presence {
  readonly vip: string
  readonly node: LabNode
  readonly from: number
  /** Infinity while still present. */
  readonly to: number
}

export interface Overlap {
  readonly vip: string
  readonly at: number
  readonly nodes: readonly [LabNode, LabNode]
  readonly ms: number
}

/** `2026-11-22T04:39:59.576348` (local time, µs) → epoch ms with the fraction. */
function parseIpTimestamp (ts: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{1,6})$/.exec(ts)
  if (m === null) return undefined
  const base = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])).getTime()
  return base + Number(`0.${m[7] ?? '0'}`) * 1000
}

/**
 * When the VIPs appeared on and left each node: `ip -ts monitor address` in every namespace
 * (kernel notifications, timestamped by `ip` when it reads them: on a loaded machine that adds
 * scheduling delay, so an overlap is an upper bound). overlaps() lists every interval during
 * which two nodes held the same VIP.
 */
export class AddressWatcher {
  readonly vips: readonly string[]
  readonly #procs: ChildProcess[] = []
  readonly #events: Array<{ vip: string, node: LabNode, t: number, added: boolean }> = []
  readonly #initial: Array<{ vip: string, node: LabNode }> = []

  private constructor (vips: readonly string[]) {
    this.vips = vips
  }

  static async start (lab: Lab, vips: string | readonly string[], nodes: readonly LabNode[]): Promise<AddressWatcher> {
    const w = new AddressWatcher(typeof vips === 'string' ? [vips] : vips)
    for (const node of nodes) {
      const p = lab.spawn(node, ['ip', '-ts', 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] })
      let buf = ''
      p.stdout?.on('data', (b: Buffer) => {
        buf += b.toString()
        let nl: number
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl)
          buf = buf.slice(nl + 1)
          const m = /^\[([^\]]+)\] (Deleted )?\d+: \S+\s+inet6? (\S+)\//.exec(line)
          const vip = m?.[3]
          if (m === null || vip === undefined || !w.vips.includes(vip)) continue
          const t = parseIpTimestamp(m[1] as string)
          if (t !== undefined) w.#events.push({ vip, node, t, added: m[2] === undefined })
        }
      })
      w.#procs.push(p)
    }
    // Give `ip monitor` time to subscribe, then note who holds a VIP already.
    await new Promise(resolve => setTimeout(resolve, 200))
    for (const node of nodes) {
      const r = await lab.exec(node, ['ip', '-o', 'addr', 'show', 'dev', 'eth0'])
      for (const vip of w.vips) if (r.stdout.includes(` ${vip}/`)) w.#initial.push({ vip, node })
    }
    return w
  }

  presences (): Presence[] {
    const out: Presence[] = []
    const open = new Map<string, number>()
    const key = (vip: string, node: LabNode): string => `${vip} ${node}`
    for (const i of this.#initial) open.set(key(i.vip, i.node), -Infinity)
    for (const e of [...this.#events].sort((a, b) => a.t - b.t)) {
      const k = key(e.vip, e.node)
      if (e.added) {
        if (!open.has(k)) open.set(k, e.t)
      } else {
        const from = open.get(k)
        if (from !== undefined) out.push({ vip: e.vip, node: e.node, from, to: e.t })
        open.delete(k)
      }
    }
    for (const [k, from] of open) {
      const [vip, node] = k.split(' ') as [string, LabNode]
      out.push({ vip, node, from, to: Infinity })
    }
    return out.sort((a, b) => a.from - b.from)
  }

  overlaps (): Overlap[] {
    const p = this.presences()
    const out: Overlap[] = []
    for (let i = 0; i < p.length; i++) {
      for (let j = i + 1; j < p.length; j++) {
        const a = p[i] as Presence
        const b = p[j] as Presence
        if (a.node === b.node || a.vip !== b.vip) continue
        const from = Math.max(a.from, b.from)
        const to = Math.min(a.to, b.to)
        if (to > from) out.push({ vip: a.vip, at: from, nodes: [a.node, b.node], ms: to - from })
      }
    }
    return out
  }

  /** When the VIP last appeared on / left `node` at or after `since`. */
  lastEvent (node: LabNode, added: boolean, since = 0, vip: string = this.vips[0] as string): number | undefined {
    return this.#events.filter(e => e.vip === vip && e.node === node && e.added === added && e.t >= since).at(-1)?.t
  }

  stop (): void {
    for (const p of this.#procs) p.kill('SIGTERM')
  }
}
