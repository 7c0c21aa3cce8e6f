/**
 * Tracking for VRRP instances, as keepalived's vrrp_track.c: `vrrp_script` checks (an external
 * command run with execa, or `builtin proxy`) with rise/fall counting, and the combination of
 * every tracked object of an instance into a fault flag and an effective priority.
 */
import { EventEmitter } from 'node:events'
import type { Logger } from '../util/log.ts'
import type { VrrpInstance, VrrpScript, VrrpTrackFile, VrrpTrackProcess } from '../config/model.ts'
import { trackFileContribution } from './track-file.ts'
import { type CommandRunner, describeResult, type ScriptPolicy } from './exec.ts'
import { splitCommand } from '../util/command-words.ts'
import { computeEffectivePriority, trackerContribution } from './priority.ts'

/** 'init' until the first result (then the first result decides, as keepalived's INIT state). */
export type TrackState = 'init' | 'ok' | 'fail'

/**
 * keepalived's rise/fall hysteresis: from FAIL, `rise` consecutive successes make it OK; from OK,
 * `fall` consecutive failures make it FAIL; a result the other way resets the count.
 */
export class RiseFall {
  readonly rise: number
  readonly fall: number
  #state: TrackState
  #count = 0

  constructor (rise: number, fall: number, initial: TrackState = 'init') {
    this.rise = Math.max(1, rise)
    this.fall = Math.max(1, fall)
    this.#state = initial
  }

  get state (): TrackState { return this.#state }

  /** Records one result; true when the state changed. */
  record (success: boolean): boolean {
    if (this.#state === 'init') {
      this.#state = success ? 'ok' : 'fail'
      this.#count = 0
      return true
    }
    const towards = success ? 'ok' : 'fail'
    if (this.#state === towards) {
      this.#count = 0
      return false
    }
    this.#count++
    if (this.#count >= (success ? this.rise : this.fall)) {
      this.#state = towards
      this.#count = 0
      return true
    }
    return false
  }
}

export interface ScriptStatus {
  readonly name: string
  readonly state: TrackState
  readonly weight: number
  readonly runs: number
  readonly failures: number
  readonly lastResult: string | undefined
  readonly lastRunAt: string | undefined
}

export interface ScriptTrackerDeps {
  readonly run: CommandRunner
  /** `builtin proxy`: a proxy worker is alive and serving. */
  readonly proxyHealthy: () => boolean
  readonly log: Logger
  /** The global script settings in force (script_user…); a vrrp_script's `user` wins. */
  readonly policy?: () => ScriptPolicy
}

/** One `vrrp_script`, shared by every instance that tracks it. Emits `change` with the new state. */
export class ScriptTracker extends EventEmitter<{ change: [TrackState] }> {
  readonly spec: VrrpScript
  readonly #deps: ScriptTrackerDeps
  readonly #rf: RiseFall
  readonly #argv: readonly string[]
  #timer: NodeJS.Timeout | undefined
  #running = false
  #stopped = true
  #runs = 0
  #failures = 0
  #lastResult: string | undefined
  #lastRunAt: Date | undefined
  #first: Promise<void>
  #resolveFirst: () => void = () => {}

  constructor (spec: VrrpScript, deps: ScriptTrackerDeps) {
    super()
    this.spec = spec
    this.#deps = deps
    this.#rf = new RiseFall(spec.rise, spec.fall)
    this.#argv = spec.script?.kind === 'exec' ? splitCommand(spec.script.command) : []
    this.#first = new Promise(resolve => { this.#resolveFirst = resolve })
  }

  get state (): TrackState { return this.#rf.state }
  get timeoutMs (): number { return this.spec.timeout ?? this.spec.interval }

  /** Resolves after the first result (or right away once stopped). */
  async firstResult (): Promise<void> { await this.#first }

  start (): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#check()
  }

  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#resolveFirst()
  }

  status (): ScriptStatus {
    return {
      name: this.spec.name,
      state: this.#rf.state,
      weight: this.spec.weight,
      runs: this.#runs,
      failures: this.#failures,
      lastResult: this.#lastResult,
      lastRunAt: this.#lastRunAt?.toISOString()
    }
  }

  #check (): void {
    if (this.#stopped || this.#running) return
    const started = performance.now()
    this.#lastRunAt = new Date()
    const done = (ok: boolean, detail: string): void => {
      this.#running = false
      this.#runs++
      if (!ok) this.#failures++
      this.#lastResult = detail
      if (this.#stopped) return
      const before = this.#rf.state
      if (this.#rf.record(ok)) {
        const s = this.#rf.state
        if (s === 'ok') this.#deps.log.info({ script: this.spec.name }, `VRRP_Script(${this.spec.name}) succeeded`)
        else this.#deps.log.warn({ script: this.spec.name, result: detail },
          `VRRP_Script(${this.spec.name}) failed (${detail})`)
        if (before === 'init') this.#resolveFirst()
        this.emit('change', s)
      }
      const wait = Math.max(0, this.spec.interval - (performance.now() - started))
      this.#timer = setTimeout(() => { this.#check() }, wait)
    }
    const s = this.spec.script
    if (s === undefined) { done(false, 'no script'); return }
    if (s.kind === 'builtin') {
      let ok: boolean
      try { ok = this.#deps.proxyHealthy() } catch { ok = false }
      done(ok, ok ? 'proxy serving' : 'no proxy worker serving')
      return
    }
    this.#running = true
    const timeoutMs = this.timeoutMs
    const policy = this.#deps.policy?.() ?? {}
    const who = this.spec.user === undefined ? { user: policy.user, group: policy.group } : { user: this.spec.user,
      group: this.spec.group }
    this.#deps.run(this.#argv, { timeoutMs, ...who, keepAmbientCapabilities: policy.keepAmbientCapabilities,
      killWithParent: true }).then(r => {
      if (!r.ok && r.output !== '') this.#deps.log.debug({ script: this.spec.name, output: r.output },
        'track script output')
      done(r.ok, r.ok ? 'exit 0' : describeResult(r, timeoutMs))
    }, (err: unknown) => { done(false, err instanceof Error ? err.message : String(err)) })
  }
}

/** What one tracked object of an instance is, for trackingOutcome(). */
export interface TrackedItem {
  readonly kind: 'script' | 'interface' | 'file' | 'process'
  readonly name: string
  /** Undefined or 0: failing means FAULT. */
  readonly weight: number | undefined
  /** 'init' counts as OK. */
  readonly state: TrackState
  /** keepalived `reverse`: the weight's sign (and for weight 0, OK and FAULT) swapped. */
  readonly reverse?: boolean
  /** track_file: the value read, which the contribution is computed from (state is then 'ok'). */
  readonly value?: number
}

export interface TrackingOutcome {
  readonly fault: boolean
  readonly effectivePriority: number
  /** "script chk_proxy", "interface eth1" for every object that faults the instance. */
  readonly faultReasons: readonly string[]
}

/** keepalived's combination: any weight-0 object failing → FAULT; the weights → effective priority. */
export function trackingOutcome (basePriority: number, items: readonly TrackedItem[]): TrackingOutcome {
  const contributions: number[] = []
  const faultReasons: string[] = []
  for (const it of items) {
    const c = it.kind === 'file' ? trackFileContribution(it.value ?? 0, it.weight ?? 0,
      it.reverse === true) : trackerContribution(it.weight, it.state !== 'fail', it.reverse === true)
    if (c === 'fault') faultReasons.push(`${it.kind} ${it.name}`)
    else contributions.push(c)
  }
  return { fault: faultReasons.length > 0, effectivePriority: computeEffectivePriority(basePriority, contributions),
    faultReasons }
}

/**
 * The tracked objects of an instance: its track_script lines (an instance-level weight overrides
 * the script's, as keepalived's `track_script { NAME weight W }`), its track_interface lines, and
 * its own interface (down = FAULT) unless dont_track_primary.
 */
export interface OtherTrackers {
  readonly files?: ReadonlyMap<string, { readonly spec: VrrpTrackFile, readonly value: number }>
  readonly processes?: ReadonlyMap<string, { readonly spec: VrrpTrackProcess, readonly state: TrackState }>
  /** In a vrrp_sync_group without sync_group_tracking_weight: every weight is 0 (a failure is FAULT), as keepalived. */
  readonly ignoreWeights?: boolean
}

export function trackedItems (inst: VrrpInstance, scripts: ReadonlyMap<string, { readonly spec: VrrpScript,
  readonly state: TrackState }>, linkUp: (ifname: string) => boolean | undefined,
    other: OtherTrackers = {}): TrackedItem[] {
  const items: TrackedItem[] = []
  for (const t of inst.trackFiles) {
    const f = other.files?.get(t.name)
    items.push({ kind: 'file', name: t.name, weight: t.weight ?? f?.spec.weight ?? 1,
      reverse: t.reverse ?? f?.spec.reverse ?? false, state: 'ok', value: f?.value ?? 0 })
  }
  for (const t of inst.trackProcesses) {
    const p = other.processes?.get(t.name)
    items.push({ kind: 'process', name: t.name, weight: t.weight ?? p?.spec.weight ?? 0,
      reverse: t.reverse ?? p?.spec.reverse ?? false, state: p?.state ?? 'init' })
  }
  for (const t of inst.trackScripts) {
    const s = scripts.get(t.name)
    items.push({ kind: 'script', name: t.name, weight: t.weight ?? s?.spec.weight ?? 0, state: s?.state ?? 'init' })
  }
  const ifState = (name: string): TrackState => {
    const up = linkUp(name)
    return up === undefined ? 'fail' : up ? 'ok' : 'fail'
  }
  for (const t of inst.trackInterfaces) items.push({ kind: 'interface', name: t.name, weight: t.weight,
    state: ifState(t.name) })
  if (!inst.dontTrackPrimary && inst.interface !== undefined && !inst.trackInterfaces.some(t => t.name ===
    inst.interface)) {
    items.push({ kind: 'interface', name: inst.interface, weight: undefined, state: ifState(inst.interface) })
  }
  return other.ignoreWeights === true ? items.map(i => ({ ...i, weight: 0 })) : items
}
