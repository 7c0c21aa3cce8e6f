/**
 * Entry point of proxy threads 2..N: the same Engine over the same configuration as the main thread, listening on
 * this thread's share of each listener's SO_REUSEPORT group (by fd). Health checks, the runtime API, peers and the
 * stats sockets run once per node, on the main thread. A spare (no workerData: a standby worker's, see pool.ts) only
 * loads its modules, then waits for `start`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createLogger } from '../../util/log.ts'
import { openInheritedSocket } from '../../net/listen-handle.ts'
import { Engine } from '../engine.ts'
import { LogSinks } from '../log/sink.ts'
import { createStatsHandler } from '../stats/page.ts'
import { prometheusResponse } from '../stats/prometheus.ts'
import type { RuntimeApiOptions } from '../stats/runtime-api.ts'
import type { FromThread, ThreadData, ToThread } from './messages.ts'
import { setThreadPosition } from './current.ts'
import { NodeState } from './node-state.ts'
import { StatsShare } from './stats-share.ts'
import type { CheckReport } from '../stats/providers.ts'
import { sslCertCommand } from '../stats/runtime-api-ssl.ts'
import { patternCommand } from '../stats/runtime-api-maps.ts'
import { pinThread } from './pin.ts'

let engine: Engine | undefined
let state: NodeState | undefined
let stats: StatsShare | undefined
/** Thread 1's health-check reports (`backend/server`), for the stats this thread renders. */
let checks = new Map<string, CheckReport>()

function send (msg: FromThread): void {
  parentPort?.postMessage(msg)
}

function start (data: ThreadData): void {
  setThreadPosition(data.tid - 1)
  const log = createLogger('tslb-worker').child({ thread: data.tid })
  pinThread(data.config, data.tid, data.threads).then(done => { if (done !== undefined) log.info(`cpu-map: ${done}`) },
    (err: unknown) => { log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cpu-map not applied') })
  try {
    const sinks = new LogSinks(log, undefined, (path, bytes) => { send({ type: 'syslog', path, bytes }) })
    const config = data.config
    const e = new Engine(config, { logFor: proxy => sinks.forProxy(proxy, config.global),
      tables: new Map(data.tables) })
    engine = e
    state = NodeState.attach(data.state, e, data.tid - 1)
    const own: RuntimeApiOptions = { config, checkStatus: (be, s) => checks.get(`${be.name}/${s.name}`) }
    stats = StatsShare.attach(data.stats, e, own, data.tid - 1)
    const providers: RuntimeApiOptions = { ...own, threads: stats }
    e.services = { stats: createStatsHandler(e, providers), prometheus: (target, isHead) => prometheusResponse(e,
      providers, target, isHead) }
    // The fds stay open in the main thread's handles too; only this thread's server closes them (when it drains).
    e.listen(new Map(data.sockets.map(([key, fd]) => [key, openInheritedSocket(fd)])), false)
    send({ type: 'ready' })
  } catch (err) {
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) })
    process.exit(1)
  }
}

async function drain (hardStopAfter: number): Promise<void> {
  const e = engine
  if (e === undefined) process.exit(0)
  e.stopAccepting()
  e.close()
  state?.close()
  stats?.close()
  const timer = setTimeout(() => { process.exit(0) }, hardStopAfter)
  timer.unref()
  await e.idle()
  send({ type: 'drained' })
  process.exit(0)
}

parentPort?.on('message', (msg: ToThread) => {
  if (msg.type === 'start' && engine === undefined) start(msg.data)
  if (msg.type === 'drain') setImmediate(() => { void drain(msg.hardStopAfter) })
  if (msg.type === 'checks') checks = new Map(msg.reports)
  if (msg.type === 'ssl-cert' && engine !== undefined) sslCertCommand(engine.certs, msg.verb, msg.name, msg.payload)
  if (msg.type === 'patterns' && engine !== undefined) {
    patternCommand(engine.patterns, msg.verb, msg.map, msg.args, msg.payload)
  }
})
if (workerData !== null && workerData !== undefined) start(workerData as ThreadData)
