/**
 * Entry point of a proxy worker process, forked by the supervisor. It receives the parsed
 * configuration and the listening handles over IPC, serves, and drains when told to.
 * The messages are src/ipc/messages.ts; queries (`tslb status`) src/ipc/query.ts.
 */
import type { Config } from '../config/model.ts'
import { createLogger, droppedLogLines } from '../util/log.ts'
import { Engine } from './engine.ts'
import { LogSinks } from './log/sink.ts'
import { bindRuntimeApi, newSession, type PendingRuntimeApi, RuntimeApi, type RuntimeApiOptions,
  type RuntimeApiServer } from './stats/runtime-api.ts'
import { createStatsHandler } from './stats/page.ts'
import { prometheusResponse } from './stats/prometheus.ts'
import { type CheckReport, checkReportFrom } from './stats/providers.ts'
import { runTableCommand } from '../stick/index.ts'
import { trackerCount } from './stick-counters.ts'
import { formatShowPeers, handoffSocketPath, PeersManager } from '../peers/index.ts'
import { flushCompileCache } from 'node:module'
import { hostname, tmpdir } from 'node:os'
import { addressKey, type SupervisorMessage, type WorkerMessage } from '../ipc/messages.ts'
import { answerQuery, type QueryReply } from '../ipc/query.ts'
import { threadCount } from '../config/threads.ts'
import { ProxyThreads } from './threads/pool.ts'
import type { Worker } from 'node:worker_threads'
import { shareSockets } from './threads/share.ts'
import { pinThread } from './threads/pin.ts'
import { NodeState } from './threads/node-state.ts'
import { StatsShare } from './threads/stats-share.ts'

const log = createLogger('tslb-worker')
const handles = new Map<string, object>()
let config: Config | undefined
let engine: Engine | undefined
/** Proxy threads 2..N (`nbthread`); this thread is thread 1. */
let threads: ProxyThreads | undefined
/** Threads booted while this process is a standby (`prepare`), for `start` to use. */
let spareThreads: Worker[] = []
let peers: PeersManager | undefined
/** The supervisor's latest `show vrrp` text. */
let vrrpText: string | undefined
let context: { generation: number, previous: number | undefined, localPeer: string, runDir: string } | undefined
const apis: RuntimeApiServer[] = []
/** Stats sockets bound under temporary names, moved onto their paths when the supervisor activates us. */
const unpublished: PendingRuntimeApi[] = []
let published = false

function send (msg: WorkerMessage | QueryReply): void {
  if (process.send !== undefined && process.connected) process.send(msg)
}

process.on('message', (msg: SupervisorMessage, handle: object | undefined) => {
  if (answerQuery(msg, queryHandlers, send)) return
  switch (msg.type) {
    case 'config':
      config = msg.config
      context = { generation: msg.generation ?? 1, previous: msg.previousGeneration,
        localPeer: msg.localPeer ?? hostname(), runDir: msg.runDir ?? tmpdir() }
      break
    case 'vrrp': vrrpText = msg.text; break
    case 'prepare': if (config === undefined) spareThreads = ProxyThreads.spawnSpares(msg.threads - 1); break
    case 'listener': if (msg.key !== undefined && handle !== undefined) handles.set(msg.key, handle); break
    case 'start':
      void start()
      break
    case 'drain': {
      // Stop accepting only after this poll phase: a connection already queued on a listener is
      // accepted first (the supervisor may close the last copy of that listener once we exit).
      const hardStopAfter = msg.hardStopAfter ?? 300_000
      setImmediate(() => { void drain(hardStopAfter) })
      break
    }
  }
})

/** What the supervisor may ask (`tslb status`). */
const queryHandlers = {
  peers: () => peers?.status(),
  log: () => droppedLogLines(),
  publish: async () => { await publish(); return true },
  // The master CLI (`tslb haproxy -S`): one command at admin level, as HAProxy's master relays it.
  cli: (command: string | undefined) => masterCliApi?.execute(command ?? '',
    newSession('admin')) ?? 'Worker not ready.\n'
}
let masterCliApi: RuntimeApi | undefined

async function start (): Promise<void> {
  try {
    if (config === undefined) throw new Error('no configuration received')
    const shares = shareSockets(handles.keys(), threadCount(config))
    if (shares.length <= 1) for (const w of spareThreads.splice(0)) void w.terminate()
    // The threads get the configuration as received (the Engine below compiles rules into it).
    const received = shares.length > 1 ? structuredClone(config) : config
    const sinks = new LogSinks(log)
    const global = config.global
    const e = new Engine(config, { logFor: proxy => sinks.forProxy(proxy, global) })
    engine = e
    const own = statsProviders(e, config)
    const stats = shares.length > 1 ? StatsShare.create(e, own, shares.length) : undefined
    const providers: RuntimeApiOptions = { ...own, threads: stats }
    const state = stats === undefined ? undefined : NodeState.create(e, shares.length)
    e.services = { stats: createStatsHandler(e, providers), prometheus: (target, isHead) => prometheusResponse(e,
      providers, target, isHead) }
    if (config.peers.some(ps => !ps.disabled && ps.peers.some(p => p.name === context?.localPeer))) {
      // Learn the stick tables (from the previous generation first) before serving any request.
      const { generation, previous, localPeer, runDir } = context ?? { generation: 1, previous: undefined,
        localPeer: hostname(), runDir: tmpdir() }
      peers = new PeersManager({ config, localName: localPeer, tables: e.tables.values(),
        log: log.child({ module: 'peers' }), handoffPath: s => handoffSocketPath(runDir, generation, s) })
      await peers.start(previous === undefined ? {} : { learnFrom: s => handoffSocketPath(runDir, previous, s) })
      await peers.localSyncDone
    }
    // The other threads start once the tables are learned, on the same tables.
    if (stats !== undefined && state !== undefined) {
      threads = startThreads(received, shares.slice(1), state, stats, e)
      threads.onSyslog = (path, bytes) => { sinks.sendUnix(path, bytes) }
    }
    e.listen(new Map((shares[0] ?? []).map(k => [k, handles.get(k) ?? {}])))
    e.startChecks(global, (level, line) => { log[level]({ type: 'health' }, line) })
    if (threads !== undefined && e.checkers.size > 0) shareCheckReports(e, threads)
    masterCliApi = new RuntimeApi(e, providers)
    // Every stats socket is bound under a temporary name; the serving generation's stay on their paths until the
    // supervisor makes this one serve (`publish`): a generation that fails, before or after `ready`, never took them.
    const pending: PendingRuntimeApi[] = []
    try {
      for (const s of global.statsSockets) {
        if (s.address === undefined) {
          pending.push(await bindRuntimeApi(s.path, s.mode ?? 0o600, s.level, e, providers))
          continue
        }
        const handle = handles.get(addressKey(s.address, s.address.port ?? 0))
        if (handle === undefined) throw new Error(
          `no listening socket for stats socket ${addressKey(s.address, s.address.port ?? 0)}`)
        pending.push(await bindRuntimeApi({ handle }, undefined, s.level, e, providers))
      }
    } catch (err) {
      await Promise.all(pending.map(async p => { await p.abort() }))
      throw err
    }
    unpublished.push(...pending)
    await threads?.ready()
    // Thread 1 last: a thread starts with the mask of the thread that made it.
    try {
      const done = await pinThread(config, 1, shares.length)
      if (done !== undefined) log.info(`cpu-map: ${done}`)
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cpu-map not applied')
    }
    send({ type: 'ready' })
  } catch (err) {
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) })
    process.exit(1)
  }
}

/** The other threads render stats too: they get the health checks' reports as often as the counters move. */
function shareCheckReports (e: Engine, pool: ProxyThreads): void {
  const timer = setInterval(() => {
    const reports: [string, CheckReport][] = []
    for (const b of e.backends.values()) {
      for (const s of b.servers) {
        const r = checkReportFrom(e.checkers.get(b.name)?.status(s.name))
        if (r !== undefined) reports.push([`${b.name}/${s.name}`, r])
      }
    }
    pool.broadcast({ type: 'checks', reports })
  }, 250)
  timer.unref()
}

function startThreads (c: Config, shares: readonly string[][], state: NodeState, stats: StatsShare, e: Engine):
ProxyThreads {
  const pool = new ProxyThreads(c, shares.map(keys => keys.map(k => [k, (handles.get(k) as { fd: number }).fd])),
    state.handle, stats.handle, [...e.tables].map(([name, t]) => [name, t.sharedHandle()]), spareThreads)
  pool.onDeath = (tid, why) => {
    log.error({ thread: tid, why }, 'proxy thread died: the worker exits so that the supervisor restarts it')
    process.exit(1)
  }
  return pool
}

/** What the runtime API, the stats page and the exporter read besides the engine. */
function statsProviders (e: Engine, c: Config): RuntimeApiOptions {
  return {
    config: c,
    certs: e.certs,
    checkStatus: (be, s) => checkReportFrom(e.checkers.get(be.name)?.status(s.name)),
    tables: { run: (action, args, level) => runTableCommand(action, args, { tables: [...e.tables.values()], level,
      now: Date.now(), uses: (t, entry) => trackerCount(t, entry.key) }) },
    vrrp: () => vrrpText ?? 'No VRRP instance on this node.\n',
    peers: (section, dict) => peers === undefined ? undefined : formatShowPeers(peers, section, dict),
    onServerChange: (be, s, change) => { if (change === 'admin') e.checkers.get(be.name)?.notifyAdminChange(s) },
    onSslCert: (verb, name, payload) => { threads?.broadcast({ type: 'ssl-cert', verb, name, payload }) },
    onPatterns: (verb, map, args, payload) => { threads?.broadcast({ type: 'patterns', verb, map, args, payload }) }
  }
}

/** The supervisor made this generation the serving one: its stats sockets take over their paths. */
async function publish (): Promise<void> {
  if (published) return
  published = true
  for (const p of unpublished.splice(0)) apis.push(await p.publish())
  log.info({ frontends: engine?.frontends.length, backends: engine?.backends.size }, 'worker serving')
}

async function drain (hardStopAfter: number): Promise<void> {
  if (engine === undefined) process.exit(0)
  engine.stopAccepting()
  engine.close()
  void peers?.retire()
  await Promise.all([...apis.splice(0).map(async a => { await a.close() }),
    ...unpublished.splice(0).map(async p => { await p.abort() })])
  log.info({ connections: engine.activeConnections }, 'draining')
  const timer = setTimeout(() => {
    log.warn({ connections: engine?.activeConnections }, 'hard-stop-after reached: closing remaining connections')
    process.exit(0)
  }, hardStopAfter)
  timer.unref()
  await Promise.all([engine.idle(), threads?.drain(hardStopAfter)])
  send({ type: 'drained' })
  process.exit(0)
}

// The supervisor owns this process: when it goes away, so do we.
process.on('disconnect', () => { process.exit(0) })
// Node writes the compile cache at exit: now, so the next process boots from it.
flushCompileCache()
send({ type: 'booted' })
