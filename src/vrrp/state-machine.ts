/**
 * The VRRP state machine of ONE instance (RFC 3768 / RFC 5798 §6.4, as keepalived 2.2.7's
 * vrrp.c and vrrp_scheduler.c do it). Pure: no sockets, no timers of its own. Time comes in
 * with every call (`now`, milliseconds on any monotonic clock); every call returns the actions
 * for the I/O layer, in the order to perform them; `nextDeadline()` is the one instant at which
 * the driver must call `timerFired`.
 *
 * Received adverts reach `advertReceived` only after validateAdvert() accepted them.
 */
import { compareIp, parseIp } from '../net/addr.ts'
import { VrrpConfigError } from './errors.ts'
import { PRIORITY_OWNER, PRIORITY_STOP } from './priority.ts'
import { DOWN_TIMER_ADVERTS, masterDownIntervalMs, normalizeAdvertInterval, skewTimeMs } from './timers.ts'
import type { VrrpInstance } from '../config/model.ts'

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP'

export type StateChangeReason =
  /** INIT → BACKUP. */
  | 'startup'
  /** INIT → MASTER: priority 255 and initial state MASTER. */
  | 'address-owner'
  /** BACKUP → MASTER: the master-down timer expired after a priority-0 advert (RFC 6527 "priority"). */
  | 'master-stopped'
  /** BACKUP → MASTER: the master-down timer expired, no advert heard. */
  | 'master-no-response'
  /** BACKUP → MASTER: the master-down timer expired after we discarded lower-priority adverts. */
  | 'preempted'
  /** MASTER → BACKUP: advert with a higher priority. */
  | 'higher-priority'
  /** MASTER → BACKUP: advert with our priority from a numerically higher address. */
  | 'equal-priority-higher-address'
  | 'fault'
  | 'fault-cleared'
  | 'stop'
  /** BACKUP → MASTER or MASTER → BACKUP because another member of its vrrp_sync_group did. */
  | 'sync-group'

export type GarpReason =
  /** The burst right after becoming master. */
  | 'become-master'
  /** The second burst garp_master_delay after becoming master. */
  | 'master-delay'
  /** As master, after a lower-priority advert (garp_lower_prio_repeat). */
  | 'lower-priority'
  /** The second burst garp_lower_prio_delay after that. */
  | 'lower-priority-delay'
  /** garp_master_refresh, checked at advert time while master. */
  | 'refresh'

export type VrrpAction =
  /** Send one advert with this priority (0 = we are stopping). The interval in it is our configured one. */
  | { readonly type: 'send-advert', readonly priority: number }
  | { readonly type: 'add-vips' }
  | { readonly type: 'remove-vips' }
  /** Send `count` gratuitous ARPs / unsolicited NAs for every VIP, now. */
  | { readonly type: 'send-garp', readonly count: number, readonly reason: GarpReason }
  /** Log it and run the notify scripts (asynchronously: never stall the driver). */
  | { readonly type: 'state-change', readonly from: VrrpState, readonly to: VrrpState,
    readonly reason: StateChangeReason, readonly priority: number }
  /** A line keepalived logs at this point (forcing new election, owner conflict...). */
  | { readonly type: 'log', readonly level: 'info' | 'warn', readonly message: string }

/** What the state machine needs of a validated advert (see advertEvent()). */
export interface ReceivedAdvert {
  readonly priority: number
  /** The advert's IP source address. */
  readonly srcAddress: string
  /** The advert's interval in ms (v2: Adver Int × 1000; v3: Max Adver Int × 10). Adopted in v3 only. */
  readonly advertIntervalMs: number
}

export interface VrrpMachineOptions {
  /** For log messages. */
  readonly name?: string
  readonly version: 2 | 3
  /** Base priority 1..255. */
  readonly priority: number
  /** Configured advert_int in ms; normalized as keepalived (v2 whole seconds, v3 10 ms steps). */
  readonly advertIntervalMs: number
  /**
   * keepalived `state`. Undefined = derived from the priority as keepalived does (255 → MASTER).
   * Only MASTER with priority 255 starts as master at once; anything else starts in BACKUP.
   */
  readonly initialState?: 'MASTER' | 'BACKUP'
  readonly nopreempt?: boolean
  readonly preemptDelayMs?: number
  /**
   * Our address in adverts (unicast_src_ip, or the interface's primary): the equal-priority tie-break.
   * setLocalAddress() changes it.
   */
  readonly localAddress?: string
  /** Default 5000; 0 = no second burst. */
  readonly garpMasterDelayMs?: number
  /** Default 5. */
  readonly garpMasterRepeat?: number
  /** Default 0 (off). */
  readonly garpMasterRefreshMs?: number
  /** Default 1. */
  readonly garpMasterRefreshRepeat?: number
  /** Default garpMasterDelayMs. */
  readonly garpLowerPrioDelayMs?: number
  /** Default garpMasterRepeat. */
  readonly garpLowerPrioRepeat?: number
  /** keepalived lower_prio_no_advert (default false: answer a lower-priority advert at once). */
  readonly lowerPrioNoAdvert?: boolean
  /** keepalived higher_prio_send_advert (default false). */
  readonly higherPrioSendAdvert?: boolean
  /** keepalived down_timer_adverts (default 3). */
  readonly downTimerAdverts?: number
  /**
   * vrrp_sync_group: asked when the master-down timer expires; false keeps the instance BACKUP
   * (it then "wants MASTER" and waits another master-down interval), as keepalived's
   * vrrp_sync_can_goto_master. Absent: always true.
   */
  readonly masterGate?: () => boolean
}

/** Options after keepalived's vrrp_complete_instance fix-ups. */
export interface ResolvedMachineOptions {
  readonly name: string
  readonly version: 2 | 3
  readonly priority: number
  readonly advertIntervalMs: number
  readonly initialState: 'MASTER' | 'BACKUP'
  readonly nopreempt: boolean
  readonly preemptDelayMs: number
  readonly localAddress: string | undefined
  readonly garpMasterDelayMs: number
  readonly garpMasterRepeat: number
  readonly garpMasterRefreshMs: number
  readonly garpMasterRefreshRepeat: number
  readonly garpLowerPrioDelayMs: number
  readonly garpLowerPrioRepeat: number
  readonly lowerPrioNoAdvert: boolean
  readonly higherPrioSendAdvert: boolean
  readonly downTimerAdverts: number
}

function nonNegative (what: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt
  if (!Number.isFinite(x) || x < 0) throw new VrrpConfigError(`${what} must be a non-negative number, got ${x}`)
  return x
}

/**
 * Check and complete options as keepalived's vrrp_complete_instance does. Impossible values throw
 * VrrpConfigError; combinations keepalived accepts with a warning and a correction come back as
 * `warnings` (config validation can print them as `FILE:LINE: warning: ...`):
 * - nopreempt with priority 255, or with initial state MASTER: nopreempt is cleared;
 * - preempt_delay with initial state MASTER, or with nopreempt: preempt_delay is cleared;
 * - advert_int not representable in the version: rounded.
 */
export function resolveMachineOptions (o: VrrpMachineOptions): { readonly options: ResolvedMachineOptions,
  readonly warnings: readonly string[] } {
  const name = o.name ?? 'VI'
  const warnings: string[] = []
  if (o.version !== 2 && o.version !== 3) throw new VrrpConfigError(`(${name}) VRRP version must be 2 or 3`)
  if (!Number.isInteger(o.priority) || o.priority < 1 || o.priority > PRIORITY_OWNER) throw new VrrpConfigError(
    `(${name}) priority must be 1..255, got ${o.priority}`)
  if (!Number.isFinite(o.advertIntervalMs) || o.advertIntervalMs <= 0) throw new VrrpConfigError(
    `(${name}) advert_int must be positive`)
  if (o.localAddress !== undefined && parseIp(o.localAddress) === undefined) throw new VrrpConfigError(
    `(${name}) '${o.localAddress}' is not an IP address`)
  const interval = normalizeAdvertInterval(o.version, o.advertIntervalMs)
  if (interval.warning !== undefined) warnings.push(`(${name}) ${interval.warning}`)
  const initialState = o.initialState ?? (o.priority === PRIORITY_OWNER ? 'MASTER' : 'BACKUP')
  let nopreempt = o.nopreempt ?? false
  let preemptDelayMs = nonNegative('preempt_delay', o.preemptDelayMs, 0)
  if (o.priority === PRIORITY_OWNER && nopreempt) {
    warnings.push(`(${name}) nopreempt is incompatible with priority 255. resetting nopreempt`)
    nopreempt = false
  }
  if (initialState === 'MASTER') {
    if (nopreempt) {
      warnings.push(`(${name}) Warning - nopreempt will not work with initial state MASTER - clearing`)
      nopreempt = false
    }
    if (preemptDelayMs > 0) {
      warnings.push(`(${name}) Warning - preempt delay will not work with initial state MASTER - clearing`)
      preemptDelayMs = 0
    }
  }
  if (preemptDelayMs > 0 && nopreempt) {
    warnings.push(`(${name}) preempt_delay is incompatible with nopreempt mode - resetting`)
    preemptDelayMs = 0
  }
  const garpMasterDelayMs = nonNegative('garp_master_delay', o.garpMasterDelayMs, 5000)
  const garpMasterRepeat = nonNegative('garp_master_repeat', o.garpMasterRepeat, 5)
  const downTimerAdverts = o.downTimerAdverts ?? DOWN_TIMER_ADVERTS
  if (!Number.isInteger(downTimerAdverts) || downTimerAdverts < 1) throw new VrrpConfigError(
    `(${name}) down_timer_adverts must be a positive integer`)
  return {
    options: {
      name,
      version: o.version,
      priority: o.priority,
      advertIntervalMs: interval.ms,
      initialState,
      nopreempt,
      preemptDelayMs,
      localAddress: o.localAddress,
      garpMasterDelayMs,
      garpMasterRepeat,
      garpMasterRefreshMs: nonNegative('garp_master_refresh', o.garpMasterRefreshMs, 0),
      garpMasterRefreshRepeat: nonNegative('garp_master_refresh_repeat', o.garpMasterRefreshRepeat, 1),
      garpLowerPrioDelayMs: nonNegative('garp_lower_prio_delay', o.garpLowerPrioDelayMs, garpMasterDelayMs),
      garpLowerPrioRepeat: nonNegative('garp_lower_prio_repeat', o.garpLowerPrioRepeat, garpMasterRepeat),
      lowerPrioNoAdvert: o.lowerPrioNoAdvert ?? false,
      higherPrioSendAdvert: o.higherPrioSendAdvert ?? false,
      downTimerAdverts
    },
    warnings
  }
}

/**
 * Machine options from a configured instance. `localAddress`: unicast_src_ip when set, else what
 * the driver knows of the interface's primary address.
 *
 * Note: the config model always has `state` (default BACKUP), so "priority 255 without a state
 * line" cannot be told apart from an explicit `state BACKUP`; keepalived derives MASTER there.
 */
export function machineOptionsFromInstance (inst: VrrpInstance, localAddress?: string): VrrpMachineOptions {
  return {
    name: inst.name,
    version: inst.version,
    priority: inst.priority,
    advertIntervalMs: inst.advertInt,
    initialState: inst.state,
    nopreempt: inst.nopreempt,
    preemptDelayMs: inst.preemptDelay,
    localAddress: inst.unicastSrcIp ?? localAddress,
    garpMasterDelayMs: inst.garpMasterDelay,
    garpMasterRepeat: inst.garpMasterRepeat,
    garpMasterRefreshMs: inst.garpMasterRefresh,
    garpMasterRefreshRepeat: inst.garpMasterRefreshRepeat
  }
}

/** The state machine's view of an advert validateAdvert() accepted. */
export function advertEvent (v: { readonly advert: { readonly priority: number }, readonly src: string,
  readonly advertIntervalMs: number }): ReceivedAdvert {
  return { priority: v.advert.priority, srcAddress: v.src, advertIntervalMs: v.advertIntervalMs }
}

interface GarpTimer {
  readonly at: number
  readonly count: number
  readonly reason: GarpReason
}

type MasterReason = 'master-stopped' | 'master-no-response' | 'preempted'

export class VrrpStateMachine {
  /** keepalived's corrections of the options (see resolveMachineOptions). */
  readonly warnings: readonly string[]
  readonly options: ResolvedMachineOptions

  #state: VrrpState = 'INIT'
  #basePriority: number
  #effectivePriority: number
  #masterAdvertIntervalMs: number
  #localAddress: Uint8Array | undefined
  #faulted = false
  /** BACKUP: when the master-down timer expires. */
  #downAt: number | undefined
  /** MASTER: when the next advert is due. */
  #advertAt: number | undefined
  /** MASTER: pending delayed GARP bursts. */
  #garps: GarpTimer[] = []
  /** MASTER: garp_master_refresh. */
  #refreshAt: number | undefined
  /** BACKUP: keepalived preempt_time; undefined = not running (tv_sec 0). */
  #preemptUntil: number | undefined
  #nextMasterReason: MasterReason = 'master-no-response'
  #masterAddress: string | undefined
  #masterPriority: number | undefined
  readonly #masterGate: (() => boolean) | undefined
  /** BACKUP: the master-down timer expired and the sync group held us back. */
  #wantMaster = false

  constructor (options: VrrpMachineOptions) {
    this.#masterGate = options.masterGate
    const r = resolveMachineOptions(options)
    this.options = r.options
    this.warnings = r.warnings
    this.#basePriority = r.options.priority
    this.#effectivePriority = r.options.priority
    this.#masterAdvertIntervalMs = r.options.advertIntervalMs
    this.#localAddress = r.options.localAddress === undefined ? undefined : parseIp(r.options.localAddress)
  }

  get state (): VrrpState { return this.#state }
  get basePriority (): number { return this.#basePriority }
  /** The priority we advertise (and compare with). */
  get effectivePriority (): number { return this.#effectivePriority }
  /** Our configured (normalized) advert interval. */
  get advertIntervalMs (): number { return this.options.advertIntervalMs }
  /** v3: the current master's interval (adopted from its adverts); v2: always ours. */
  get masterAdvertIntervalMs (): number { return this.#masterAdvertIntervalMs }
  /** Source of the last advert accepted (or discarded as lower priority) as backup. */
  get masterAddress (): string | undefined { return this.#masterAddress }
  get masterPriority (): number | undefined { return this.#masterPriority }
  get faulted (): boolean { return this.#faulted }
  /** BACKUP held back by its sync group: it would be MASTER on its own (keepalived wantstate MASTER). */
  get wantsMaster (): boolean { return this.#state === 'BACKUP' && this.#wantMaster }

  /** Skew_Time with the current effective priority and master advert interval. */
  skewTimeMs (): number {
    return skewTimeMs(this.options.version, this.#effectivePriority, this.#masterAdvertIntervalMs)
  }

  /** Master_Down_Interval = down_timer_adverts × Master_Adver_Interval + Skew_Time. */
  masterDownIntervalMs (): number {
    return masterDownIntervalMs(this.options.version, this.#effectivePriority, this.#masterAdvertIntervalMs,
      this.options.downTimerAdverts)
  }

  /** The earliest instant at which timerFired must be called, or undefined (nothing scheduled). */
  nextDeadline (): number | undefined {
    let t: number | undefined
    const consider = (x: number | undefined): void => { if (x !== undefined && (t === undefined || x < t)) t = x }
    consider(this.#downAt)
    consider(this.#advertAt)
    for (const g of this.#garps) consider(g.at)
    return t
  }

  /** The address used for the equal-priority tie-break (e.g. after the interface's primary address changed). */
  setLocalAddress (address: string | undefined): void {
    if (address === undefined) { this.#localAddress = undefined; return }
    const b = parseIp(address)
    if (b === undefined) throw new VrrpConfigError(`(${this.options.name}) '${address}' is not an IP address`)
    this.#localAddress = b
  }

  /**
   * Leave INIT (keepalived vrrp_init_state): FAULT if a fault is already reported; MASTER at once
   * for the address owner (priority 255) with initial state MASTER; otherwise BACKUP with the
   * master-down timer (`state MASTER` below 255 only differs in keepalived's sync groups).
   */
  start (now: number): VrrpAction[] {
    if (this.#state !== 'INIT') return []
    if (this.#faulted) return this.#enter('FAULT', 'fault')
    if (this.options.initialState === 'MASTER' && this.#basePriority === PRIORITY_OWNER) return this.#gotoMaster(now,
      'address-owner')
    this.#masterAdvertIntervalMs = this.options.advertIntervalMs
    this.#downAt = now + this.masterDownIntervalMs()
    this.#nextMasterReason = 'master-no-response'
    return this.#enter('BACKUP', 'startup')
  }

  /** An advert validateAdvert() accepted. Ignored in INIT, FAULT and STOP (keepalived vrrp_dispatcher_read). */
  advertReceived (now: number, advert: ReceivedAdvert): VrrpAction[] {
    if (this.#state === 'BACKUP') return this.#backupRx(now, advert)
    if (this.#state === 'MASTER') return this.#masterRx(now, advert)
    return []
  }

  /** Call when nextDeadline() has passed (calling early is harmless: nothing is due). */
  timerFired (now: number): VrrpAction[] {
    const actions: VrrpAction[] = []
    for (;;) {
      if (this.#state === 'BACKUP' && this.#downAt !== undefined && this.#downAt <= now) {
        if (this.#masterGate !== undefined && !this.#masterGate()) {
          this.#wantMaster = true
          this.#downAt = now + this.masterDownIntervalMs()
          continue
        }
        actions.push(...this.#gotoMaster(now, this.#nextMasterReason))
        continue
      }
      if (this.#state !== 'MASTER') break
      // Master: the earliest due timer first (advert or a delayed GARP burst).
      let garp: GarpTimer | undefined
      for (const g of this.#garps) if (g.at <= now && (garp === undefined || g.at < garp.at)) garp = g
      const advertDue = this.#advertAt !== undefined && this.#advertAt <= now
      if (garp !== undefined && (!advertDue || garp.at <= (this.#advertAt as number))) {
        this.#garps = this.#garps.filter(g => g !== garp)
        if (garp.count > 0) actions.push({ type: 'send-garp', count: garp.count, reason: garp.reason })
        continue
      }
      if (advertDue) {
        actions.push(...this.#masterTx(now))
        continue
      }
      break
    }
    return actions
  }

  /**
   * The effective priority changed (base + tracker weights, see computeEffectivePriority; clamped
   * to 1..254 here too). Ignored for the address owner. As backup the running master-down timer
   * moves by the change of Skew_Time; as master the next advert carries it.
   */
  priorityChanged (now: number, effectivePriority: number): VrrpAction[] {
    if (this.#basePriority === PRIORITY_OWNER || !Number.isFinite(effectivePriority)) return []
    const p = Math.min(PRIORITY_OWNER - 1, Math.max(1, Math.round(effectivePriority)))
    if (p === this.#effectivePriority) return []
    const oldSkew = this.skewTimeMs()
    const old = this.#effectivePriority
    this.#effectivePriority = p
    if (this.#state === 'BACKUP' && this.#downAt !== undefined) {
      this.#downAt = Math.max(now, this.#downAt + this.skewTimeMs() - oldSkew)
    }
    return [{ type: 'log', level: 'info', message:
      `(${this.options.name}) Changing effective priority from ${old} to ${p}` }]
  }

  /**
   * A fault (weight-0 tracker failing, unweighted interface down). The driver aggregates its
   * fault sources: this is a level, and calling it again is a no-op. As master: one priority-0
   * advert, then the VIPs go.
   */
  fault (now: number): VrrpAction[] {
    void now
    if (this.#faulted) return []
    this.#faulted = true
    if (this.#state === 'INIT' || this.#state === 'STOP' || this.#state === 'FAULT') return []
    const actions: VrrpAction[] = []
    if (this.#state === 'MASTER') actions.push({ type: 'send-advert', priority: PRIORITY_STOP },
      { type: 'remove-vips' })
    this.#clearTimers()
    actions.push(...this.#enter('FAULT', 'fault'))
    return actions
  }

  /** The fault is gone: FAULT → BACKUP with a full master-down timer (keepalived try_up_instance). */
  faultCleared (now: number): VrrpAction[] {
    if (!this.#faulted) return []
    this.#faulted = false
    if (this.#state !== 'FAULT') return []
    this.#masterAdvertIntervalMs = this.options.advertIntervalMs
    this.#preemptUntil = undefined
    this.#nextMasterReason = 'master-no-response'
    this.#downAt = now + this.masterDownIntervalMs()
    return this.#enter('BACKUP', 'fault-cleared')
  }

  /** vrrp_sync_group: another member became MASTER; a BACKUP member follows at once. */
  syncMaster (now: number): VrrpAction[] {
    if (this.#state !== 'BACKUP') return []
    return this.#gotoMaster(now, 'sync-group')
  }

  /**
   * vrrp_sync_group: another member went back to BACKUP; a MASTER member follows: the VIPs go,
   * no priority-0 advert, a full master-down timer (keepalived vrrp_state_leave_master).
   */
  syncBackup (now: number): VrrpAction[] {
    if (this.#state !== 'MASTER') return []
    this.#clearTimers()
    this.#preemptUntil = undefined
    this.#nextMasterReason = 'master-no-response'
    this.#masterAdvertIntervalMs = this.options.advertIntervalMs
    const actions: VrrpAction[] = [{ type: 'remove-vips' }, ...this.#enter('BACKUP', 'sync-group')]
    this.#downAt = now + this.masterDownIntervalMs()
    return actions
  }

  /** Shut down: as master one priority-0 advert, then the VIPs go. Final: later calls do nothing. */
  stop (now: number): VrrpAction[] {
    void now
    if (this.#state === 'STOP') return []
    const actions: VrrpAction[] = []
    if (this.#state === 'MASTER') actions.push({ type: 'send-advert', priority: PRIORITY_STOP },
      { type: 'remove-vips' })
    this.#clearTimers()
    if (this.#state === 'INIT') {
      this.#state = 'STOP'
      return actions
    }
    actions.push(...this.#enter('STOP', 'stop'))
    return actions
  }

  #enter (to: VrrpState, reason: StateChangeReason): VrrpAction[] {
    const from = this.#state
    this.#state = to
    this.#wantMaster = false
    return [{ type: 'state-change', from, to, reason, priority: this.#effectivePriority }]
  }

  #clearTimers (): void {
    this.#downAt = undefined
    this.#advertAt = undefined
    this.#garps = []
    this.#refreshAt = undefined
  }

  /** keepalived vrrp_state_goto_master + vrrp_state_master_tx + vrrp_state_become_master. */
  #gotoMaster (now: number, reason: StateChangeReason): VrrpAction[] {
    const o = this.options
    this.#clearTimers()
    // RFC 5798: a master advertises its own interval. (keepalived resets master_adver_int here only
    // when detailed logging is on; it does not change what is sent.)
    this.#masterAdvertIntervalMs = o.advertIntervalMs
    this.#advertAt = now + o.advertIntervalMs
    // Advert first, so the old master drops the VIPs before our GARPs (keepalived's comment).
    const actions: VrrpAction[] = [{ type: 'send-advert', priority: this.#effectivePriority }, { type: 'add-vips' }]
    if (o.garpMasterRepeat > 0) actions.push({ type: 'send-garp', count: o.garpMasterRepeat, reason: 'become-master' })
    if (o.garpMasterRefreshMs > 0) this.#refreshAt = now + o.garpMasterRefreshMs
    if (o.garpMasterDelayMs > 0) this.#garps.push({ at: now + o.garpMasterDelayMs, count: o.garpMasterRepeat,
      reason: 'master-delay' })
    actions.push(...this.#enter('MASTER', reason))
    return actions
  }

  /** The periodic advert (keepalived vrrp_state_master_tx with VIPs set). */
  #masterTx (now: number): VrrpAction[] {
    const o = this.options
    const actions: VrrpAction[] = [{ type: 'send-advert', priority: this.#effectivePriority }]
    if (this.#refreshAt !== undefined && now > this.#refreshAt) {
      if (o.garpMasterRefreshRepeat > 0) actions.push({ type: 'send-garp', count: o.garpMasterRefreshRepeat,
        reason: 'refresh' })
      this.#refreshAt = now + o.garpMasterRefreshMs
    }
    this.#advertAt = now + o.advertIntervalMs
    return actions
  }

  /** keepalived vrrp_state_backup (RFC 5798 §6.4.2). */
  #backupRx (now: number, adv: ReceivedAdvert): VrrpAction[] {
    const o = this.options
    const actions: VrrpAction[] = []
    if (adv.priority === PRIORITY_STOP) {
      // The master is leaving: take over after Skew_Time only.
      this.#downAt = now + this.skewTimeMs()
      this.#nextMasterReason = 'master-stopped'
      return actions
    }
    const delaying = o.preemptDelayMs > 0 && (this.#preemptUntil === undefined || this.#preemptUntil > now)
    if (o.nopreempt || adv.priority >= this.#effectivePriority || delaying) {
      this.#wantMaster = false
      if (o.version === 3) this.#masterAdvertIntervalMs = Math.max(10, adv.advertIntervalMs)
      this.#downAt = now + this.masterDownIntervalMs()
      this.#masterAddress = adv.srcAddress
      this.#masterPriority = adv.priority
      this.#nextMasterReason = 'master-no-response'
      if (o.preemptDelayMs > 0) {
        if (adv.priority >= this.#effectivePriority) {
          this.#preemptUntil = undefined
        } else if (this.#preemptUntil === undefined) {
          this.#preemptUntil = now + o.preemptDelayMs
          actions.push({ type: 'log', level: 'info', message:
            `(${o.name}) start preempt delay (${o.preemptDelayMs / 1000}s)` })
        }
      }
      return actions
    }
    // Preemption: discard the lower-priority advert; the running timer is NOT reset, so we take
    // over when it expires.
    this.#nextMasterReason = 'preempted'
    this.#masterAddress = adv.srcAddress
    actions.push({ type: 'log', level: 'info', message:
      `(${o.name}) received lower priority (${adv.priority}) advert from ${adv.srcAddress} - discarding` })
    return actions
  }

  /** keepalived vrrp_state_master_rx (RFC 5798 §6.4.3). */
  #masterRx (now: number, adv: ReceivedAdvert): VrrpAction[] {
    const o = this.options
    const actions: VrrpAction[] = []
    const src = parseIp(adv.srcAddress)
    const cmp = src === undefined || this.#localAddress === undefined ? 0 : compareIp(src, this.#localAddress)
    const eff = this.#effectivePriority
    const higher = adv.priority > eff || (adv.priority === eff && cmp > 0)
    if (adv.priority === PRIORITY_STOP || (o.higherPrioSendAdvert && higher)) {
      actions.push({ type: 'send-advert', priority: eff })
      this.#advertAt = now + o.advertIntervalMs
      if (adv.priority === PRIORITY_STOP) return actions
    }
    if (adv.priority === eff) {
      if (cmp === 0) {
        const why = this.#localAddress === undefined ? 'and our own address is not known (setLocalAddress)' :
          'from remote host with our IP address'
        actions.push({ type: 'log', level: 'warn', message:
          `(${o.name}) WARNING - equal priority advert received ${why}.` })
      } else if (eff === PRIORITY_OWNER) {
        actions.push({ type: 'log', level: 'warn', message:
          (`(${o.name}) CONFIGURATION ERROR: local instance and a remote instance are both configured as address ` +
            `owner, please fix - reducing local priority`) })
        this.#basePriority = PRIORITY_OWNER - 1
        this.#effectivePriority = PRIORITY_OWNER - 1
      }
    }
    const ours = this.#effectivePriority
    if (adv.priority < ours || (adv.priority === ours && cmp < 0)) {
      // A lower-priority router thinks it is master: reassert at once ("forcing new election").
      actions.push({ type: 'log', level: 'info', message:
        (`(${o.name}) Received advert from ${adv.srcAddress} with lower priority ${adv.priority}, ours ` +
          `${ours}${o.lowerPrioNoAdvert ? '' : ', forcing new election'}`) })
      if (!o.lowerPrioNoAdvert) {
        actions.push({ type: 'send-advert', priority: ours })
        this.#advertAt = now + o.advertIntervalMs
      }
      if (o.garpLowerPrioRepeat > 0) {
        actions.push({ type: 'send-garp', count: o.garpLowerPrioRepeat, reason: 'lower-priority' })
        if (o.garpLowerPrioDelayMs > 0) this.#garps.push({ at: now + o.garpLowerPrioDelayMs,
          count: o.garpLowerPrioRepeat, reason: 'lower-priority-delay' })
      }
      return actions
    }
    if (adv.priority > ours || (adv.priority === ours && cmp > 0)) {
      if (o.version === 3) this.#masterAdvertIntervalMs = Math.max(10, adv.advertIntervalMs)
      this.#masterAddress = adv.srcAddress
      this.#masterPriority = adv.priority
      this.#clearTimers()
      this.#preemptUntil = undefined
      this.#nextMasterReason = 'master-no-response'
      actions.push({ type: 'remove-vips' })
      actions.push(...this.#enter('BACKUP', adv.priority > ours ? 'higher-priority' : 'equal-priority-higher-address'))
      this.#downAt = now + this.masterDownIntervalMs()
      return actions
    }
    return actions
  }
}
