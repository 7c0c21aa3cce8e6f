/**
 * The long-lived supervisor `tslb run` starts: holds the loaded configuration, answers the control
 * socket (status, reload), writes the pid file and stops cleanly on SIGTERM/SIGINT.
 * The proxy worker, the VRRP speaker and the peers sync attach here as they are built.
 */
import type { Server } from 'node:net'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import type { Config } from '../config/model.ts'
import { loadConfig } from '../config/parser.ts'
import { threadCount } from '../config/threads.ts'
import { ConfigError, formatDiagnostic, TslbError } from '../util/errors.ts'
import { droppedLogLines, type Logger } from '../util/log.ts'
import { type ControlReply, type ControlRequest, listenControlSocket } from './control-socket.ts'
import { ListenerRegistry, listenerSpecs } from './listeners.ts'
import { removePidFile, writePidFile } from './pidfile.ts'
import { lockNode, type NodeLock } from './node-lock.ts'
import { checkCompileCache, warmCompileCache } from './compile-cache.ts'
import { removeHandoffSockets, removeStatsTemporaries } from './run-dir.ts'
import { formatShowVrrp } from '../vrrp/show-vrrp.ts'
import { VrrpSpeaker } from '../vrrp/speaker.ts'
import { WORKER_ENTRY, WorkerProcess } from './worker-process.ts'
import { PEERS_QUERY_TIMEOUT_MS, queryWorkerPeers } from './peers-status.ts'
import { SystemdNotifier, systemdSend } from './sd-notify.ts'
import { type LocalStatus, statusText, type SupervisorStatus, type WorkerSummary } from './status.ts'
import type { TcpHandle } from '../net/listen-handle.ts'
import { DEFAULT_STRATEGY, isStrategyName, type ReloadContext, reloadStrategy, removeReloadRules, type Serving,
  STRATEGY_NAMES } from '../reload/index.ts'
import { UnknownReloadStrategyError } from '../reload/errors.ts'

export type { LocalStatus, SupervisorStatus, WorkerSummary } from './status.ts'

const VRRP_NOTICE_MS = 1000
const SYSTEMD_STATUS_MS = 1000
const RESTART_BACKOFF_MS = [0, 500, 1000, 2000, 5000, 10_000]
/** A standby that died before it was started is replaced after this, growing while they keep dying. */
const STANDBY_BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000]
const DEFAULT_HARD_STOP_AFTER_MS = 300_000
const WORKER_CLI_TIMEOUT_MS = 10_000

export interface SupervisorOptions {
  /** The `-f` paths, files or directories, loaded in order as one configuration at start and at each reload. */
  readonly configFiles: readonly string[]
  readonly localPeer: string | undefined
  readonly pidFile: string | undefined
  readonly controlSocket: string
  readonly log: Logger
  /**
   * Removes nft tables / the plug qdisc an earlier run left (default true); the HAProxy-compatible entry, which runs
   * several instances side by side, skips it.
   */
  readonly cleanupReloadRules?: boolean
  /** Boots the next worker generation's process ahead of time (default true; `tslb run --no-standby`). */
  readonly standby?: boolean
}

async function queryLogDropped (worker: WorkerProcess): Promise<{ logLinesDropped?: number }> {
  try {
    const n = await worker.queries.ask('log', PEERS_QUERY_TIMEOUT_MS)
    return typeof n === 'number' ? { logLinesDropped: n } : {}
  } catch {
    return {}
  }
}

function summary (worker: WorkerProcess, state: WorkerSummary['state']): WorkerSummary {
  return { generation: worker.generation, pid: worker.pid, state }
}

export class Supervisor {
  private config: Config | undefined
  private control: Server | undefined
  private readonly startedAt = new Date()
  private reloads = 0
  private lastReload: Date | undefined
  private reloading: Promise<ControlReply> | undefined
  private stopping = false
  private readonly opts: SupervisorOptions
  private readonly listeners = new ListenerRegistry()
  /** The generation accepting connections, and the sockets it accepts on. */
  private serving: Serving | undefined
  /** The generation that died, for its restart on the same sockets. */
  private crashed: Serving | undefined
  private readonly draining = new Set<Serving>()
  private reloadInProgress = false
  private generation = 0
  private crashes = 0
  private restartTimer: NodeJS.Timeout | undefined
  private vrrp: VrrpSpeaker | undefined
  private vrrpNotice: NodeJS.Timeout | undefined
  private readonly systemd = new SystemdNotifier(systemdSend())
  private lock: NodeLock | undefined
  /** The serving generation's stats sockets moving onto their paths; a retired generation drains after it. */
  private publishing: Promise<void> = Promise.resolve()
  private compileCache: string | undefined
  /**
   * The next generation's process, forked and booted while the current one serves: a reload or a restart sends it
   * the configuration instead of forking (the fork and the module loading are most of a worker's start).
   */
  private standby: WorkerProcess | undefined
  private standbyTimer: NodeJS.Timeout | undefined
  /** Standbys that died in a row before they were started. */
  private standbyDeaths = 0

  constructor (opts: SupervisorOptions) {
    this.opts = opts
  }

  private get worker (): WorkerProcess | undefined {
    return this.serving?.worker
  }

  get node (): string {
    return this.opts.localPeer ?? hostname()
  }

  private get runDir (): string {
    return dirname(this.opts.controlSocket)
  }

  async start (): Promise<void> {
    // Nothing of the node (sockets, firewall rules, qdiscs, pid file) is touched before this: a second `tslb run`
    // stops here.
    this.lock = await lockNode(this.opts.controlSocket)
    try {
      await this.startLocked()
    } catch (err) {
      if (!this.stopping) {
        this.lock.release()
        this.lock = undefined
      }
      throw err
    }
  }

  private async startLocked (): Promise<void> {
    const { config, diagnostics } = await loadConfig(this.opts.configFiles, { localPeer: this.node })
    for (const d of diagnostics) this.opts.log.warn(formatDiagnostic(d))
    this.config = config
    const cache = join(this.runDir, 'compile-cache')
    const cacheCheck = checkCompileCache(cache)
    if (cacheCheck.ok) {
      this.compileCache = cache
      if (await warmCompileCache(cache, WORKER_ENTRY)) this.opts.log.debug({ dir: cache }, 'compile cache warmed')
    }
    else this.opts.log.warn({ dir: cache, reason: cacheCheck.reason },
      'V8 compile cache refused: workers start without it')
    for (const f of await removeHandoffSockets(this.runDir)) this.opts.log.info({ path: f },
      'removed a peers socket left by an earlier run')
    if (this.opts.cleanupReloadRules !== false) for (const r of await removeReloadRules(
      this.opts.log)) this.opts.log.warn(`removed ${r} left by an earlier run`)
    if (config.proxies.length > 0) {
      const handles = this.listeners.acquire(listenerSpecs(config))
      this.serving = { worker: await this.startWorker(config, handles), config, handles }
      await this.publish(this.serving.worker)
    }
    try {
      await this.applyVrrp(config, true)
    } catch (err) {
      await this.stop('VRRP start failure')
      throw err
    }
    // The runtime API lives in the worker; VRRP in the supervisor: `show vrrp` is pushed there.
    this.vrrpNotice = setInterval(() => { if (this.vrrp !== undefined) this.worker?.notify({ type: 'vrrp',
      text: this.showVrrp() }) }, VRRP_NOTICE_MS)
    this.vrrpNotice.unref()
    this.control = await listenControlSocket(this.opts.controlSocket, async (req, step) => await this.handle(req, step))
    if (this.opts.pidFile !== undefined) await writePidFile(this.opts.pidFile)
    this.opts.log.info({ config: this.opts.configFiles, node: this.node, control: this.opts.controlSocket },
      'supervisor started')
    this.systemd.ready(statusText(this.localStatus()))
    this.systemd.startStatusUpdates(() => statusText(this.localStatus()), SYSTEMD_STATUS_MS)
    this.ensureStandby()
  }

  /** `script builtin proxy`: a proxy worker generation is alive and serving. */
  proxyHealthy (): boolean {
    return this.worker !== undefined && this.worker.alive
  }

  /** The runtime API's `show vrrp`. */
  showVrrp (): string {
    return this.vrrp?.showVrrp() ?? formatShowVrrp({ instances: [], scripts: [] })
  }

  /**
   * Starts, reloads or stops the VRRP speaker for `config`. Unchanged instances keep their state
   * (no flap across reloads); `strict` (first start): an instance that cannot open its socket fails.
   */
  private async applyVrrp (config: Config, strict: boolean): Promise<void> {
    if (config.vrrpInstances.length === 0) {
      const speaker = this.vrrp
      this.vrrp = undefined
      await speaker?.stop()
      return
    }
    this.vrrp ??= new VrrpSpeaker({ log: this.opts.log, proxyHealthy: () => this.proxyHealthy() })
    await this.vrrp.apply(config, { strict })
  }

  /** `tslb status`: the supervisor's view, plus each worker's peers sessions (asked over IPC). */
  async status (): Promise<SupervisorStatus> {
    return {
      ...this.localStatus(),
      workers: await Promise.all(this.generations().map(async ({ worker, state }) => ({ ...summary(worker, state),
        ...await queryWorkerPeers(worker), ...await queryLogDropped(worker) })))
    }
  }

  /**
   * The master CLI's relay: `command` run by a worker's runtime API, the worker chosen by its
   * position (1: the serving one, 2: the newest draining one...) or its pid; undefined: no such worker.
   */
  async workerCommand (command: string, which: { readonly relative: number } | {
    readonly pid: number }): Promise<string | undefined> {
    const workers = this.generations().map(g => g.worker)
    const worker = 'pid' in which ? workers.find(w => w.pid === which.pid) : workers[which.relative - 1]
    if (worker === undefined) return undefined
    try {
      const answer = await worker.queries.ask('cli', WORKER_CLI_TIMEOUT_MS, command)
      return typeof answer === 'string' ? answer : ''
    } catch (err) {
      return `${err instanceof Error ? err.message : String(err)}\n`
    }
  }

  /** The serving worker generation, then the draining ones. */
  private generations (): { worker: WorkerProcess, state: WorkerSummary['state'] }[] {
    return [
      ...(this.worker === undefined ? [] : [{ worker: this.worker, state: 'serving' as const }]),
      ...[...this.draining].map(({ worker }) => ({ worker, state: 'draining' as const }))
    ]
  }

  /** What the supervisor knows without asking its workers. */
  localStatus (): LocalStatus {
    const c = this.config
    const vrrp = new Map((this.vrrp?.status().instances ?? []).map(i => [i.name, i]))
    return {
      node: this.node,
      pid: process.pid,
      configFile: this.opts.configFiles[0] ?? '',
      configFiles: this.opts.configFiles,
      startedAt: this.startedAt.toISOString(),
      reloads: this.reloads,
      lastReload: this.lastReload?.toISOString(),
      proxies: c?.proxies.map(p => ({ name: p.name, kind: p.kind })) ?? [],
      vrrpInstances: c?.vrrpInstances.map(v => ({ name: v.name, vrid: v.virtualRouterId, interface: v.interface,
        configuredState: v.state ?? (v.priority === 255 ? 'MASTER' : 'BACKUP'), priority: v.priority,
          runtime: vrrp.get(v.name) })) ?? [],
      peers: c?.peers.map(p => ({ name: p.name, peers: p.peers.map(x => x.name) })) ?? [],
      logLinesDropped: droppedLogLines(),
      workers: this.generations().map(({ worker, state }) => summary(worker, state)),
      ...(this.standby === undefined ? {} : { standby: { pid: this.standby.pid,
        state: this.standby.booted ? 'booted' : 'booting' } })
    }
  }

  private async handle (req: ControlRequest, step: (m: string) => void): Promise<ControlReply> {
    switch (req.cmd) {
      case 'status': return { ok: true, status: await this.status() }
      case 'reload': {
        const strategy = typeof req.strategy === 'string' ? req.strategy : DEFAULT_STRATEGY
        if (!isStrategyName(strategy)) return { ok: false, error: new UnknownReloadStrategyError(strategy,
          STRATEGY_NAMES).message }
        return await this.reload(step, strategy)
      }
      default: return { ok: false, error: `unknown command '${req.cmd}'` }
    }
  }

  /**
   * Re-reads the configuration file; a file with errors is refused and the running one kept.
   * With proxies, the reload strategy (src/reload/) replaces the serving generation.
   */
  async reload (step: (m: string) => void = () => {}, strategyName: string = DEFAULT_STRATEGY): Promise<ControlReply> {
    // Reloads are serialized (control socket, SIGHUP, SIGUSR2): one during a reload waits for it, then runs.
    const previous = this.reloading ?? Promise.resolve<ControlReply>({ ok: true })
    const next = previous.catch(() => undefined).then(async () => await this.reloadNotifying(step, strategyName))
    this.reloading = next
    return await next
  }

  private async reloadNotifying (step: (m: string) => void, strategyName: string): Promise<ControlReply> {
    this.systemd.reloading(`reloading ${this.opts.configFiles.join(' ')}`)
    try {
      return await this.reloadNow(step, strategyName)
    } finally {
      this.systemd.ready(statusText(this.localStatus()))
      this.ensureStandby()
    }
  }

  private async reloadNow (step: (m: string) => void, strategyName: string): Promise<ControlReply> {
    const strategy = reloadStrategy(strategyName)
    step(`reading ${this.opts.configFiles.join(' ')}`)
    let config: Config
    try {
      const loaded = await loadConfig(this.opts.configFiles, { localPeer: this.node })
      for (const d of loaded.diagnostics) step(formatDiagnostic(d))
      config = loaded.config
    } catch (err) {
      if (!(err instanceof TslbError)) throw err
      const lines = err instanceof ConfigError ? err.diagnostics.map(formatDiagnostic) : [err.message]
      for (const l of lines) step(l)
      this.opts.log.error({ code: err.code }, 'reload refused: the running configuration is kept')
      return { ok: false, error: 'reload refused: the new configuration has errors; the running one is kept' }
    }
    step((`configuration valid: ${config.proxies.length} proxies, ${config.vrrpInstances.length} VRRP instances, ` +
      `${config.peers.length} peers sections`))
    if (config.proxies.length > 0) {
      this.reloadInProgress = true
      try {
        await strategy.preflight(this.opts.log)
        step(`reload strategy: ${strategy.name}`)
        await strategy.reload(this.reloadContext(step), config)
        await this.publishing
      } catch (err) {
        if (!(err instanceof TslbError)) throw err
        step(err.message)
        this.opts.log.error({ code: err.code, err: err.message, strategy: strategy.name }, 'reload failed')
        if (this.serving === undefined) this.scheduleRestart()
        return { ok: false, error:
          `reload failed: ${err.message}; ${this.serving === undefined ? ('restarting the previous ' +
            'configuration') : 'the running generation keeps serving'}` }
      } finally {
        this.reloadInProgress = false
        this.releaseUnusedListeners()
      }
    } else if (this.serving !== undefined) {
      this.retire(this.serving, step)
      for (const r of await removeReloadRules(this.opts.log)) step(`removed ${r}`)
    }
    this.config = config
    this.reloads++
    this.lastReload = new Date()
    if (config.vrrpInstances.length > 0 || this.vrrp !== undefined) {
      step(`applying ${config.vrrpInstances.length} VRRP instance(s): unchanged ones keep their state`)
      try {
        await this.applyVrrp(config, false)
      } catch (err) {
        step(`VRRP: ${err instanceof Error ? err.message : String(err)}`)
        this.opts.log.error({ err: err instanceof Error ? err.message : String(err) }, 'VRRP reload failed')
      }
    }
    this.releaseUnusedListeners()
    step('new configuration active')
    this.opts.log.info({ reloads: this.reloads, generation: this.worker?.generation, strategy: strategy.name },
      'configuration reloaded')
    return { ok: true }
  }

  /** What a reload strategy may do to the supervisor's generations and sockets. */
  private reloadContext (step: (m: string) => void): ReloadContext {
    return {
      step,
      log: this.opts.log,
      serving: this.serving,
      draining: () => [...this.draining],
      listeners: this.listeners,
      startWorker: async (config, handles) => {
        const worker = await this.startWorker(config, handles, step)
        step(`worker generation ${worker.generation} (pid ${worker.pid ?? '?'}) is serving`)
        return worker
      },
      activate: next => {
        this.serving = next
        this.crashed = undefined
        this.publishing = this.publish(next.worker)
      },
      retire: old => { this.retire(old, step) }
    }
  }

  private async startWorker (config: Config, handles: ReadonlyMap<string, TcpHandle>,
    step: (m: string) => void = () => {}): Promise<WorkerProcess> {
    const standby = this.takeStandby()
    const worker = standby ?? new WorkerProcess(this.compileCache)
    const generation = ++this.generation
    step(`starting worker generation ${generation} ${standby === undefined ? '(new process)' : (`on the standby ` +
      `process ${worker.pid ?? '?'}${standby.booted ? '' : ', still booting'}`)}`)
    this.opts.log.info({ generation, workerPid: worker.pid, standby: standby !== undefined }, 'starting proxy worker')
    void worker.exitPromise.then(async ({ code, signal }) => {
      this.onWorkerExit(worker, code, signal)
      // A generation that is gone leaves no hand-off or temporary stats socket behind (it may have been killed).
      await removeHandoffSockets(this.runDir, worker.generation)
      if (worker.pid !== undefined) await removeStatsTemporaries(config, worker.pid)
    })
    await worker.start(generation, config, handles, { localPeer: this.node, runDir: this.runDir })
    return worker
  }

  /** Forks the next generation's process unless one waits already (none while the configuration has no proxy). */
  private ensureStandby (): void {
    if (this.stopping || this.standbyTimer !== undefined || this.opts.standby === false) return
    if ((this.config?.proxies.length ?? 0) === 0) {
      this.standby?.kill()
      this.standby = undefined
      return
    }
    if (this.standby !== undefined) return
    const standby = new WorkerProcess(this.compileCache)
    this.standby = standby
    // The next configuration most likely runs as many threads as this one: they boot ahead of time too.
    const threads = this.config === undefined ? 1 : threadCount(this.config)
    if (threads > 1) standby.notify({ type: 'prepare', threads })
    void standby.exitPromise.then(({ code, signal }) => {
      if (this.standby !== standby) return
      this.standby = undefined
      if (this.stopping) return
      const delay = STANDBY_BACKOFF_MS[Math.min(this.standbyDeaths, STANDBY_BACKOFF_MS.length - 1)] ?? 30_000
      this.standbyDeaths++
      this.opts.log.warn({ workerPid: standby.pid, code, signal, replaceInMs: delay },
        'the standby worker process died: forking another')
      this.standbyTimer = setTimeout(() => {
        this.standbyTimer = undefined
        this.ensureStandby()
      }, delay)
    })
  }

  /** The standby, which stops being one (undefined: none alive, the caller forks). */
  private takeStandby (): WorkerProcess | undefined {
    const standby = this.standby
    this.standby = undefined
    if (standby === undefined) return undefined
    if (!standby.alive || !standby.child.connected) {
      standby.kill()
      return undefined
    }
    if (standby.booted) this.standbyDeaths = 0
    return standby
  }

  /** The worker's stats sockets onto their paths; a failure is logged (the worker serves, its runtime API does not). */
  private async publish (worker: WorkerProcess): Promise<void> {
    try {
      await worker.publish()
    } catch (err) {
      this.opts.log.error({ generation: worker.generation, err: err instanceof Error ? err.message : String(err) },
        'the stats sockets of the new generation could not take over their paths')
    }
  }

  /**
   * Tells `old` to stop accepting and drain (once the serving generation's stats sockets hold their paths, so a path
   * never goes missing); its slot sockets are closed once it has exited.
   */
  private retire (old: Serving, step: (m: string) => void = () => {}): void {
    step(`draining worker generation ${old.worker.generation}`)
    if (this.serving === old) this.serving = undefined
    this.draining.add(old)
    void this.publishing.then(() => { old.worker.drain(old.config.global.hardStopAfter ?? DEFAULT_HARD_STOP_AFTER_MS) })
    void old.worker.exitPromise.then(() => {
      this.draining.delete(old)
      old.slot?.close()
      // Sockets only the retired generation used are released once it is gone.
      if (!this.reloadInProgress) this.releaseUnusedListeners()
    })
  }

  /** Closes the public sockets the serving configuration does not bind. */
  private releaseUnusedListeners (): void {
    const config = this.serving?.config ?? this.config
    if (config !== undefined) this.listeners.release(new Set(listenerSpecs(config).map(s => s.key)))
  }

  private onWorkerExit (worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (worker !== this.worker || this.stopping) return
    this.crashed = this.serving
    this.serving = undefined
    this.opts.log.error({ generation: worker.generation, code, signal }, 'proxy worker died')
    this.scheduleRestart()
  }

  /** Restarts the worker after a back-off that grows with consecutive crashes. */
  private scheduleRestart (): void {
    const delay = RESTART_BACKOFF_MS[Math.min(this.crashes, RESTART_BACKOFF_MS.length - 1)] ?? 10_000
    this.crashes++
    this.opts.log.info({ restartInMs: delay }, 'restarting proxy worker')
    this.restartTimer = setTimeout(() => {
      const config = this.config
      if (config === undefined || this.stopping || this.worker !== undefined) return
      this.restartWorker(config).then(w => {
        setTimeout(() => { if (this.worker === w && w.alive) this.crashes = 0 }, 30_000).unref()
        this.ensureStandby()
      }, (err: unknown) => {
        this.opts.log.error({ err: err instanceof Error ? err.message : String(err) }, 'worker restart failed')
        this.scheduleRestart()
      })
    }, delay)
  }

  /** Starts `config` again on the sockets the dead generation used (its iptables-flip slot if it had one). */
  private async restartWorker (config: Config): Promise<WorkerProcess> {
    const crashed = this.crashed?.config === config ? this.crashed : undefined
    const handles = crashed?.handles ?? this.listeners.acquire(listenerSpecs(config))
    const worker = await this.startWorker(config, handles)
    this.serving = { worker, config, handles, ...(crashed?.slot === undefined ? {} : { slot: crashed.slot }) }
    this.crashed = undefined
    await this.publish(worker)
    return worker
  }

  /**
   * Stops VRRP, then drains every worker generation (`hardStopAfterMs` overrides the config's hard-stop-after; 0: close
   * now, as HAProxy's hard stop).
   */
  async stop (signal: string, hardStopAfterMs?: number): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.systemd.stopping(`stopping (${signal})`)
    this.opts.log.info({ signal }, 'stopping')
    clearTimeout(this.restartTimer)
    clearInterval(this.vrrpNotice)
    clearTimeout(this.standbyTimer)
    const standby = this.standby
    this.standby = undefined
    standby?.kill()
    // VRRP first: priority-0 adverts and VIPs released while the proxy still serves the drain.
    const speaker = this.vrrp
    this.vrrp = undefined
    await speaker?.stop()
    const generations = [...this.draining, ...(this.serving === undefined ? [] : [this.serving])]
    for (const { worker: w } of generations) w.drain(hardStopAfterMs ?? this.config?.global.hardStopAfter ??
      DEFAULT_HARD_STOP_AFTER_MS)
    await Promise.all([...generations.map(async ({ worker: w }) => await w.exitPromise), standby?.exitPromise])
    if (this.opts.cleanupReloadRules !== false) for (const r of await removeReloadRules(
      this.opts.log)) this.opts.log.info(`removed ${r}`)
    for (const g of [...generations, ...(this.crashed === undefined ? [] : [this.crashed])]) g.slot?.close()
    this.listeners.closeAll()
    await new Promise<void>(resolve => {
      if (this.control === undefined) resolve()
      else this.control.close(() => { resolve() })
    })
    if (this.opts.pidFile !== undefined) await removePidFile(this.opts.pidFile)
    this.lock?.release()
    this.lock = undefined
    this.opts.log.info('stopped')
  }
}
