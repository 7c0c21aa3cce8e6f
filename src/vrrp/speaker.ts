/**
 * The VRRP speaker: runs every `vrrp_instance` of the configuration inside the supervisor, one
 * InstanceRunner each (instance-runner.ts); `show vrrp` and the status lines are in show-vrrp.ts.
 *
 * Shared: one rtnetlink socket (plus link notifications for track_interface), one ScriptTracker
 * per vrrp_script, one frame sender per interface.
 *
 * apply() is both start and reload: an instance whose configuration is unchanged keeps its
 * state machine, socket and VIPs (no flap); a changed one is stopped (priority-0 advert if it
 * was master, VIPs removed) and started afresh; a removed one is stopped. stop() stops them all.
 *
 * VIPs are never left behind: stop() removes them, and while an instance holds them a VipReaper
 * child removes them if the process dies without doing so (SIGKILL, uncaught exception).
 */
import type { Config } from '../config/model.ts'
import type { Logger } from '../util/log.ts'
import { runCommand, scriptPolicy, type CommandRunner, type ScriptPolicy } from './exec.ts'
import { InstanceRunner, type SpeakerContext } from './instance-runner.ts'
import { Notifier } from './notify.ts'
import { formatShowVrrp, type VrrpSpeakerStatus } from './show-vrrp.ts'
import { systemIo, type FrameSink, type Reaper, type RtnlLike, type SpeakerIo } from './speaker-io.ts'
import { ScriptTracker } from './track.ts'
import { FileTracker } from './track-file.ts'
import { ProcessTracker } from './track-process.ts'
import { SyncGroup } from './sync-group.ts'
import type { LinkInfo } from '../net/rtnl.ts'

export interface SpeakerOptions {
  readonly log: Logger
  /** `script builtin proxy`: a proxy worker is alive and serving. */
  readonly proxyHealthy: () => boolean
  readonly run?: CommandRunner
  readonly io?: SpeakerIo
}

/** Configuration equality for reloads: everything but source locations. */
export function sameConfig (a: unknown, b: unknown): boolean {
  const strip = (_k: string, v: unknown): unknown => (_k === 'loc' ? undefined : v)
  return JSON.stringify(a, strip) === JSON.stringify(b, strip)
}

function errText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export class VrrpSpeaker {
  readonly #log: Logger
  readonly #io: SpeakerIo
  readonly #run: CommandRunner
  readonly #proxyHealthy: () => boolean
  readonly #notifier: Notifier
  #rtnl: RtnlLike | undefined
  #unwatch: (() => void) | undefined
  #links = new Map<string, LinkInfo>()
  readonly #scripts = new Map<string, ScriptTracker>()
  readonly #files = new Map<string, FileTracker>()
  readonly #processes = new Map<string, ProcessTracker>()
  /** vrrp_sync_group by name, and each member's group. */
  #groups = new Map<string, SyncGroup>()
  #groupOf = new Map<string, SyncGroup>()
  readonly #instances = new Map<string, InstanceRunner>()
  readonly #sinks = new Map<string, FrameSink>()
  #reaper: Reaper | undefined
  #applying: Promise<void> = Promise.resolve()
  #stopped = false
  #policy: ScriptPolicy = {}

  constructor (opts: SpeakerOptions) {
    this.#log = opts.log
    this.#io = opts.io ?? systemIo
    this.#run = opts.run ?? runCommand
    this.#proxyHealthy = opts.proxyHealthy
    this.#notifier = new Notifier(this.#run, opts.log, undefined, () => this.#policy)
  }

  get instanceCount (): number { return this.#instances.size }

  /**
   * Starts or reloads to `config`. Serialized with other apply()/stop() calls. With `strict`
   * (the first start), an instance whose socket cannot be opened fails the whole call.
   */
  async apply (config: Config, opts: { readonly strict?: boolean } = {}): Promise<void> {
    const run = this.#applying.then(async () => { await this.#apply(config, opts.strict ?? false) })
    this.#applying = run.catch(() => {})
    await run
  }

  async #apply (config: Config, strict: boolean): Promise<void> {
    if (this.#stopped) return
    const rtnl = this.#rtnl ?? await this.#io.openRtnl()
    this.#rtnl = rtnl
    await this.#refreshLinks()
    this.#unwatch ??= rtnl.watchLinks(() => { this.#onLinksChanged() })
    if (this.#reaper === undefined) {
      const reaper = this.#io.reaper()
      reaper.onDeath(why => { this.#log.error({ why },
        'the VIP reaper child died: VIPs would stay if tslb were killed (restarted at the next takeover)') })
      if (!reaper.start()) this.#log.warn(
        "'ip' (iproute2) not found: nothing would remove the VIPs if tslb were killed")
      this.#reaper = reaper
    }

    this.#policy = scriptPolicy(config.global)
    // Scripts: unchanged ones keep running (and their state); changed or new ones start afresh.
    const wanted = new Map(config.vrrpScripts.map(s => [s.name, s]))
    for (const [name, tracker] of this.#scripts) {
      const spec = wanted.get(name)
      if (spec === undefined || !sameConfig(spec, tracker.spec)) {
        tracker.stop()
        this.#scripts.delete(name)
      }
    }
    const trackedNames = new Set(config.vrrpInstances.flatMap(i => i.trackScripts.map(t => t.name)))
    for (const spec of config.vrrpScripts) {
      if (this.#scripts.has(spec.name) || !trackedNames.has(spec.name)) continue
      const tracker = new ScriptTracker(spec, { run: this.#run, proxyHealthy: this.#proxyHealthy,
        log: this.#log.child({ vrrpScript: spec.name }), policy: () => this.#policy })
      tracker.on('change', () => { this.#onTrackingChanged() })
      this.#scripts.set(spec.name, tracker)
      tracker.start()
    }

    this.#applyTrackers(config)
    this.#applyGroups(config)

    // Instances: stop removed and changed ones first (a changed one may reuse its VRID and VIPs).
    const next = new Map(config.vrrpInstances.map(i => [i.name, i]))
    const stops: Promise<void>[] = []
    for (const [name, runner] of this.#instances) {
      const inst = next.get(name)
      if (inst !== undefined && sameConfig(inst, runner.inst)) continue
      this.#instances.delete(name)
      this.#log.info({ vrrp: name }, inst === undefined ? 'VRRP instance removed' :
        'VRRP instance changed: restarting it')
      stops.push(runner.stop(inst === undefined ? 'removed' : 'changed'))
    }
    await Promise.all(stops)
    const starting: InstanceRunner[] = []
    for (const inst of config.vrrpInstances) {
      const kept = this.#instances.get(inst.name)
      if (kept !== undefined) { kept.updateTracking(); continue }
      const runner = new InstanceRunner(inst, this.#context(rtnl))
      this.#instances.set(inst.name, runner)
      starting.push(runner)
    }
    // A new instance waits (bounded) for its scripts' first results, so it starts with the right priority.
    await Promise.all(starting.map(async runner => {
      const trackers = runner.inst.trackScripts.map(t => this.#scripts.get(t.name)).filter(t => t !== undefined)
      const bound = Math.max(0, ...trackers.map(t => t.timeoutMs)) + 500
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(trackers.map(async t => { await t.firstResult() })),
        new Promise<void>(resolve => { timer = setTimeout(resolve, bound) })
      ])
      clearTimeout(timer)
      try {
        await runner.start()
      } catch (err) {
        if (strict) throw err
        this.#log.error({ vrrp: runner.inst.name, err: errText(err) }, 'VRRP instance cannot start')
      }
    }))
  }

  /**
   * Track files and processes: unchanged ones keep their value; changed, new and untracked ones are rebuilt or stopped.
   */
  #applyTrackers (config: Config): void {
    const filesTracked = new Set(config.vrrpInstances.flatMap(i => i.trackFiles.map(t => t.name)))
    const processesTracked = new Set(config.vrrpInstances.flatMap(i => i.trackProcesses.map(t => t.name)))
    const sync = <T extends { readonly spec: { readonly name: string }, stop: () => void, start: () => void,
      on: (e: 'change', l: () => void) => unknown }>(
      running: Map<string, T>, specs: ReadonlyArray<T['spec']>, tracked: ReadonlySet<string>,
        make: (spec: T['spec']) => T): void => {
      for (const [name, t] of running) {
        const spec = specs.find(x => x.name === name)
        if (spec === undefined || !tracked.has(name) || !sameConfig(spec, t.spec)) { t.stop(); running.delete(name) }
      }
      for (const spec of specs) {
        if (running.has(spec.name) || !tracked.has(spec.name)) continue
        const t = make(spec)
        t.on('change', () => { this.#onTrackingChanged() })
        running.set(spec.name, t)
        t.start()
      }
    }
    sync(this.#files, config.vrrpTrackFiles, filesTracked, spec => new FileTracker(spec,
      this.#log.child({ vrrpTrackFile: spec.name })))
    sync(this.#processes, config.vrrpTrackProcesses, processesTracked, spec => new ProcessTracker(spec,
      this.#log.child({ vrrpTrackProcess: spec.name })))
  }

  /** Sync groups: an unchanged one keeps its state. */
  #applyGroups (config: Config): void {
    const groups = new Map<string, SyncGroup>()
    for (const spec of config.vrrpSyncGroups) {
      const kept = this.#groups.get(spec.name)
      groups.set(spec.name, kept !== undefined && sameConfig(kept.spec, spec)
        ? kept
        : new SyncGroup(spec, name => this.#instances.get(name), (g, state) => { this.#notifier.fireGroup(g, state) },
          this.#log))
    }
    this.#groups = groups
    this.#groupOf = new Map([...groups.values()].flatMap(g => g.spec.members.map(m => [m, g] as const)))
  }

  #context (rtnl: RtnlLike): SpeakerContext {
    return {
      log: this.#log,
      io: this.#io,
      rtnl,
      notifier: this.#notifier,
      reaper: this.#reaper as Reaper,
      link: name => this.#links.get(name),
      scriptStates: () => this.#scripts,
      otherTrackers: () => ({ files: this.#files, processes: this.#processes }),
      sync: name => this.#groupOf.get(name),
      frameSink: ifname => {
        let s = this.#sinks.get(ifname)
        if (s === undefined) {
          s = this.#io.frameSink(ifname)
          this.#sinks.set(ifname, s)
        }
        return s
      }
    }
  }

  async #refreshLinks (): Promise<void> {
    const links = await (this.#rtnl as RtnlLike).links()
    this.#links = new Map(links.map(l => [l.name, l]))
  }

  #onLinksChanged (): void {
    if (this.#stopped) return
    this.#refreshLinks().then(() => {
      for (const r of this.#instances.values()) {
        if (r.initialized) r.updateTracking()
        else {
          r.start().catch(() => { /* logged and retried by the instance */ })
        }
      }
    }, (err: unknown) => { this.#log.error({ err: errText(err) }, 'cannot read links') })
  }

  #onTrackingChanged (): void {
    for (const r of this.#instances.values()) r.updateTracking()
  }

  /** Stops every instance (priority-0 adverts from masters, VIPs removed), scripts and sockets. */
  async stop (): Promise<void> {
    const run = this.#applying.then(async () => { await this.#stop() })
    this.#applying = run.catch(() => {})
    await run
  }

  async #stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    await Promise.all([...this.#instances.values()].map(async r => { await r.stop('stop') }))
    this.#instances.clear()
    for (const t of [...this.#scripts.values(), ...this.#files.values(), ...this.#processes.values()]) t.stop()
    this.#scripts.clear()
    this.#files.clear()
    this.#processes.clear()
    for (const s of this.#sinks.values()) s.close()
    this.#sinks.clear()
    this.#reaper?.close()
    this.#unwatch?.()
    this.#rtnl?.close()
    this.#log.info('VRRP speaker stopped')
  }

  status (): VrrpSpeakerStatus {
    return {
      instances: [...this.#instances.values()].map(r => r.status()),
      scripts: [...this.#scripts.values()].map(t => t.status()),
      files: [...this.#files.values()].map(t => t.status()),
      processes: [...this.#processes.values()].map(t => t.status()),
      groups: [...this.#groups.values()].map(g => ({ name: g.spec.name, state: g.state, members: g.spec.members }))
    }
  }

  /** The runtime API's `show vrrp`. */
  showVrrp (): string {
    return formatShowVrrp(this.status())
  }
}
