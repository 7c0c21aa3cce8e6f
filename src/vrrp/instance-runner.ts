/**
 * One `vrrp_instance` at run time: one VrrpStateMachine (pure, see state-machine.ts), one raw
 * protocol-112 socket on its interface, one timer armed from machine.nextDeadline(). Received
 * packets go through validateAdvert() (keepalived's receive checks, a counter per drop reason)
 * into the machine; the machine's actions are performed in order: adverts are sent at once,
 * everything else (VIPs over rtnetlink, GARP/NA bursts through libpcap, notify scripts) runs on
 * a per-instance queue so a slow netlink answer never reorders "add the VIPs, then announce them".
 *
 * What instances share (rtnetlink, links, script trackers, frame senders, the reaper) comes from
 * the speaker through SpeakerContext.
 */
import type { VirtualAddress, VrrpInstance, VrrpScript } from '../config/model.ts'
import type { Logger } from '../util/log.ts'
import { encodeAdvert, encodeIpv4Packet, VRRP_MULTICAST_V4, VRRP_MULTICAST_V6, AUTH_NONE, AUTH_PASS } from './codec.ts'
import type { Notifier, NotifyState } from './notify.ts'
import { advertEvent, machineOptionsFromInstance, VrrpStateMachine, type VrrpAction,
  type VrrpState } from './state-machine.ts'
import { trackedItems, trackingOutcome, type OtherTrackers, type TrackedItem, type TrackState } from './track.ts'
import type { SyncGroup, SyncMember } from './sync-group.ts'
import { advertCheckConfig, isProtocolError, validateAdvert, type AdvertCheckConfig, type DropReason,
  type ReceiveMeta } from './validate.ts'
import { canonicalIp } from '../net/addr.ts'
import { garpFrame, unsolicitedNaFrame } from '../net/garp.ts'
import { scopeNumber, type AddressSpec, type InterfaceAddress, type LinkInfo } from '../net/rtnl.ts'
import type { ReaperAddress } from '../net/vip-reaper.ts'
import type { FrameSink, PacketSocket, Reaper, RtnlLike, SpeakerIo } from './speaker-io.ts'

// ---------------------------------------------------------------- status

export interface VrrpCounters {
  advertsSent: number
  advertsReceived: number
  becameMaster: number
  releasedMaster: number
  priorityZeroSent: number
  priorityZeroReceived: number
  garpsSent: number
  sendErrors: number
  /** Received packets dropped, by reason (validate.ts DROP_REASONS; 'not-for-us' excluded). */
  drops: Partial<Record<DropReason, number>>
}

export interface VrrpInstanceStatus {
  readonly name: string
  readonly vrid: number | undefined
  readonly interface: string | undefined
  readonly version: 2 | 3
  readonly state: VrrpState
  readonly since: string
  readonly basePriority: number
  readonly effectivePriority: number
  /** The current master's address: ours when MASTER, the last advert's source when BACKUP. */
  readonly masterAddress: string | undefined
  readonly masterPriority: number | undefined
  readonly localAddress: string | undefined
  readonly advertIntervalMs: number
  readonly unicastPeers: readonly string[]
  readonly vips: readonly string[]
  readonly vipsHeld: boolean
  readonly faultReasons: readonly string[]
  readonly tracking: readonly { readonly kind: TrackedItem['kind'], readonly name: string,
    readonly weight: number | undefined, readonly state: TrackState, readonly value?: number }[]
  readonly syncGroup: string | undefined
  readonly counters: VrrpCounters
}

// ---------------------------------------------------------------- helpers

function vipText (v: VirtualAddress): string {
  return `${v.address}/${v.prefixLength}`
}

function errText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function notifyStateOf (s: VrrpState): NotifyState | undefined {
  return s === 'MASTER' || s === 'BACKUP' || s === 'FAULT' || s === 'STOP' ? s : undefined
}

const DROP_LOG_EVERY_MS = 60_000
const INIT_RETRY_MS = 1000

export interface SpeakerContext {
  readonly log: Logger
  readonly io: SpeakerIo
  readonly rtnl: RtnlLike
  readonly notifier: Notifier
  readonly reaper: Reaper
  link (name: string): LinkInfo | undefined
  scriptStates (): ReadonlyMap<string, { readonly spec: VrrpScript, readonly state: TrackState }>
  /** Track files and processes (value / state), by name. */
  otherTrackers (): Pick<OtherTrackers, 'files' | 'processes'>
  /** The vrrp_sync_group of an instance. */
  sync (instance: string): SyncGroup | undefined
  frameSink (ifname: string): FrameSink
}

export class InstanceRunner implements SyncMember {
  readonly inst: VrrpInstance
  readonly #ctx: SpeakerContext
  readonly #log: Logger
  readonly #family: 4 | 6
  #check: AdvertCheckConfig
  #machine: VrrpStateMachine | undefined
  #socket: PacketSocket | undefined
  #localAddress: string | undefined
  #timer: NodeJS.Timeout | undefined
  #queue: Promise<void> = Promise.resolve()
  #vipsHeld = false
  #stopped = false
  #ipId = 0
  #legacyChecksum = false
  #since = new Date()
  #initError: string | undefined
  #retry: NodeJS.Timeout | undefined
  #starting = false
  /**
   * Adverts handed to the socket and not yet sent: the priority-0 advert must leave before the VIPs go and before
   * close.
   */
  readonly #pendingSends = new Set<Promise<void>>()
  #faultReasons: readonly string[] = []
  #ownFault = false
  readonly #dropLoggedAt = new Map<DropReason, number>()
  readonly counters: VrrpCounters = { advertsSent: 0, advertsReceived: 0, becameMaster: 0, releasedMaster: 0,
    priorityZeroSent: 0, priorityZeroReceived: 0, garpsSent: 0, sendErrors: 0, drops: {} }

  constructor (inst: VrrpInstance, ctx: SpeakerContext) {
    this.inst = inst
    this.#ctx = ctx
    this.#log = ctx.log.child({ vrrp: inst.name })
    this.#check = advertCheckConfig(inst)
    this.#family = this.#check.family
  }

  get state (): VrrpState { return this.#machine?.state ?? (this.#initError !== undefined ? 'FAULT' : 'INIT') }
  get initialized (): boolean { return this.#machine !== undefined }
  get name (): string { return this.inst.name }
  get wantsMaster (): boolean { return this.#machine?.wantsMaster ?? false }
  /** Its own tracking says FAULT (a sync group's fault not counted). */
  get ownFault (): boolean { return this.#ownFault }

  /**
   * Opens the socket, clears leftover VIPs, creates the machine and starts it. A missing
   * interface or address leaves the instance in FAULT (retried on link changes); a socket that
   * cannot be opened throws (no privileges: nothing can work).
   */
  async start (): Promise<void> {
    clearTimeout(this.#retry)
    if (this.#stopped || this.#machine !== undefined || this.#starting) return
    this.#starting = true
    try {
      await this.#start()
    } catch (err) {
      // Retried like a missing interface; the caller decides whether this is fatal (first start).
      this.#setInitError(errText(err))
      throw err
    } finally {
      this.#starting = false
    }
  }

  async #start (): Promise<void> {
    const ifname = this.inst.interface as string
    const link = this.#ctx.link(ifname)
    if (link === undefined) { this.#setInitError(`interface ${ifname} does not exist`); return }
    let local = this.inst.unicastSrcIp
    let addrs: InterfaceAddress[]
    try {
      addrs = await this.#ctx.rtnl.addresses(this.#family)
    } catch (err) {
      this.#setInitError(errText(err))
      return
    }
    const vipSet = new Set(this.inst.virtualAddresses.map(v => canonicalIp(v.address)))
    if (local === undefined) {
      const own = addrs.filter(a => a.index === link.index && !vipSet.has(a.address))
      const pick = this.#family === 4 ? own.find(a => !a.secondary) ?? own[0] : own.find(a => a.address.startsWith(
        'fe80:')) ?? own[0]
      local = pick?.address
    }
    if (local === undefined) { this.#setInitError(`interface ${ifname} has no IPv${this.#family} address`); return }
    if (this.#stopped) return
    // A VIP present now was left by a previous run that could not remove it: a BACKUP must not hold it.
    for (const v of this.inst.virtualAddresses) {
      const dev = this.#ctx.link(v.dev ?? ifname)
      if (dev === undefined) continue
      if (addrs.some(a => a.index === dev.index && a.address === canonicalIp(v.address))) {
        this.#log.warn({ vip: vipText(v), dev: dev.name }, 'removing a VIP left on the interface by a previous run')
        try { await this.#ctx.rtnl.delAddress(this.#spec(v, dev)) } catch (err) { this.#log.error({ err: errText(err) },
          'cannot remove leftover VIP') }
      }
    }
    const socket = this.#ctx.io.openSocket({ family: this.#family, ifname, ifindex: link.index,
      joinGroup: this.inst.unicastPeers.length === 0 })
    if (this.#stopped) { socket.close(); return }
    this.#socket = socket
    socket.on('message', buf => { this.#onPacket(buf) })
    socket.on('error', err => { this.#log.error({ err: err.message }, 'VRRP socket error') })
    // Open the GARP/NA senders now: opening a pcap handle takes tens of ms, not to be paid at takeover.
    for (const dev of new Set(this.inst.virtualAddresses.map(v => v.dev ?? ifname))) {
      try { this.#ctx.frameSink(dev) } catch (err) { this.#log.error({ dev, err: errText(err) },
        'cannot open the interface for gratuitous ARP / NA') }
    }
    this.#localAddress = local
    this.#check = { ...advertCheckConfig(this.inst), localAddress: local }
    this.#initError = undefined
    const machine = new VrrpStateMachine({ ...machineOptionsFromInstance(this.inst, local),
      masterGate: () => this.#ctx.sync(this.inst.name)?.canGoMaster(this.inst.name) ?? true })
    for (const w of machine.warnings) this.#log.warn(w)
    this.#machine = machine
    const now = this.#ctx.io.now()
    const outcome = this.#outcome()
    this.#faultReasons = outcome.faultReasons
    if (outcome.fault) machine.fault(now)
    this.#perform(machine.priorityChanged(now, outcome.effectivePriority))
    if (this.#ownFault) this.#ctx.sync(this.inst.name)?.ownFaultChanged(this.inst.name)
    this.#log.info({ vrid: this.inst.virtualRouterId, interface: ifname, version: this.inst.version,
      priority: this.inst.priority, src: local, unicastPeers: this.inst.unicastPeers.length > 0 ?
        this.inst.unicastPeers : undefined }, 'VRRP instance starting')
    this.#perform(machine.start(now))
    this.#schedule()
  }

  #setInitError (message: string): void {
    if (this.#initError !== message) this.#log.error(
      (`VRRP instance cannot run: ${message}; FAULT until it can (retried every ${INIT_RETRY_MS / 1000} s and on ` +
        `link changes)`))
    this.#initError = message
    this.#faultReasons = [message]
    clearTimeout(this.#retry)
    this.#retry = setTimeout(() => {
      this.start().catch(() => { /* logged by #setInitError, retried */ })
    }, INIT_RETRY_MS)
  }

  /** Tracked scripts or links changed: FAULT / effective priority. */
  updateTracking (): void {
    const machine = this.#machine
    if (machine === undefined || this.#stopped) return
    const now = this.#ctx.io.now()
    const ownBefore = this.#ownFault
    const outcome = this.#outcome()
    this.#faultReasons = outcome.faultReasons
    const actions: VrrpAction[] = []
    if (outcome.fault && !machine.faulted) {
      this.#log.warn({ reasons: outcome.faultReasons }, 'tracked object failed: FAULT')
      actions.push(...machine.fault(now))
    }
    actions.push(...machine.priorityChanged(now, outcome.effectivePriority))
    if (!outcome.fault && machine.faulted) actions.push(...machine.faultCleared(now))
    this.#perform(actions)
    this.#schedule()
    if (this.#ownFault !== ownBefore) this.#ctx.sync(this.inst.name)?.ownFaultChanged(this.inst.name)
  }

  /** vrrp_sync_group: another member became MASTER. */
  syncMaster (): void {
    const machine = this.#machine
    if (machine === undefined || this.#stopped) return
    this.#perform(machine.syncMaster(this.#ctx.io.now()))
    this.#schedule()
  }

  /** vrrp_sync_group: another member went back to BACKUP. */
  syncBackup (): void {
    const machine = this.#machine
    if (machine === undefined || this.#stopped) return
    this.#perform(machine.syncBackup(this.#ctx.io.now()))
    this.#schedule()
  }

  #items (): TrackedItem[] {
    const sync = this.#ctx.sync(this.inst.name)
    return trackedItems(this.inst, this.#ctx.scriptStates(), name => this.#ctx.link(name)?.up,
      { ...this.#ctx.otherTrackers(), ignoreWeights: sync?.ignoreWeights })
  }

  /** Own tracking, then the sync group's: another member's fault is a fault here too. */
  #outcome (): ReturnType<typeof trackingOutcome> {
    const own = trackingOutcome(this.inst.priority, this.#items())
    this.#ownFault = own.fault
    const sync = this.#ctx.sync(this.inst.name)
    if (sync === undefined || own.fault || !sync.faultedByOthers(this.inst.name)) return own
    return { ...own, fault: true, faultReasons: [`vrrp_sync_group ${sync.spec.name}`] }
  }

  /** Priority-0 advert if master, VIPs removed, socket closed. `why`: for notify (STOP / DELETED). */
  async stop (why: 'stop' | 'removed' | 'changed'): Promise<void> {
    if (this.#stopped) return
    clearTimeout(this.#timer)
    clearTimeout(this.#retry)
    this.#timer = undefined
    const machine = this.#machine
    if (machine !== undefined) this.#perform(machine.stop(this.#ctx.io.now()), why === 'removed' ? 'DELETED' : 'STOP')
    this.#stopped = true
    // Whatever happened before, nothing may stay: remove the VIPs if still held.
    this.#enqueue('remove VIPs', async () => { if (this.#vipsHeld) await this.#removeVips() })
    await this.#queue
    await Promise.all([...this.#pendingSends])
    this.#socket?.close()
    this.#socket = undefined
  }

  #schedule (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const machine = this.#machine
    if (machine === undefined || this.#stopped) return
    const at = machine.nextDeadline()
    if (at === undefined) return
    const delay = Math.max(0, at - this.#ctx.io.now())
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      if (this.#stopped) return
      this.#perform(machine.timerFired(this.#ctx.io.now()))
      this.#schedule()
    }, Math.ceil(delay))
  }

  #onPacket (buf: Buffer): void {
    const machine = this.#machine
    if (machine === undefined || this.#stopped) return
    // Both families arrive with their IP header (IPv6 through the capture, see net/vrrp-socket.ts).
    const meta: ReceiveMeta = this.#family === 4 ? { family: 4 } : { family: 6, header: 'included' }
    const v = validateAdvert(buf, meta, this.#check)
    if (!v.ok) {
      if (!isProtocolError(v.reason)) return
      if (v.src !== undefined && v.src === this.#localAddress) return
      this.counters.drops[v.reason] = (this.counters.drops[v.reason] ?? 0) + 1
      const now = this.#ctx.io.now()
      const last = this.#dropLoggedAt.get(v.reason)
      if (last === undefined || now - last >= DROP_LOG_EVERY_MS) {
        this.#dropLoggedAt.set(v.reason, now)
        this.#log.warn({ reason: v.reason, src: v.src, count: this.counters.drops[v.reason] },
          `advert dropped: ${v.message}`)
      }
      return
    }
    if (v.src === this.#localAddress) return
    if (v.legacyChecksum && !this.#legacyChecksum) {
      this.#legacyChecksum = true
      this.#log.info({ src: v.src }, 'peer uses the pre-1.3.6 VRRPv3 unicast checksum: sending that form too')
    }
    this.counters.advertsReceived++
    if (v.advert.priority === 0) this.counters.priorityZeroReceived++
    this.#log.trace({ src: v.src, priority: v.advert.priority }, 'advert received')
    this.#perform(machine.advertReceived(this.#ctx.io.now(), advertEvent(v)))
    this.#schedule()
  }

  #perform (actions: readonly VrrpAction[], stopState: NotifyState = 'STOP'): void {
    const changes: Array<{ readonly from: VrrpState, readonly to: VrrpState }> = []
    for (const a of actions) {
      switch (a.type) {
        case 'send-advert': this.#sendAdvert(a.priority); break
        case 'add-vips': this.#enqueue('add VIPs', async () => { await this.#addVips() }); break
        case 'remove-vips': this.#enqueue('remove VIPs', async () => { await this.#removeVips() }); break
        case 'send-garp': {
          const { count, reason } = a
          this.#enqueue('send GARP', () => { this.#sendGarps(count, reason) })
          break
        }
        case 'state-change': {
          this.#since = new Date()
          if (a.to === 'MASTER') this.counters.becameMaster++
          if (a.from === 'MASTER') this.counters.releasedMaster++
          const fields = { from: a.from, to: a.to, reason: a.reason, priority: a.priority }
          if (a.to === 'FAULT' || a.from === 'MASTER') this.#log.warn(fields, `Entering ${a.to} STATE`)
          else this.#log.info(fields, `Entering ${a.to} STATE`)
          const ns = a.to === 'STOP' ? stopState : notifyStateOf(a.to)
          const priority = a.priority
          if (ns !== undefined) this.#enqueue('notify', () => { this.#ctx.notifier.fire(this.inst, ns, priority) })
          changes.push(a)
          break
        }
        case 'log':
          if (a.level === 'warn') this.#log.warn(a.message)
          else this.#log.info(a.message)
          break
      }
    }
    const sync = this.#ctx.sync(this.inst.name)
    for (const c of changes) sync?.memberChanged(this.inst.name, c.from, c.to)
  }

  #enqueue (what: string, f: () => Promise<void> | void): void {
    this.#queue = this.#queue.then(f).catch((err: unknown) => {
      this.#log.error({ err: errText(err) }, `${what} failed`)
    })
  }

  #sendAdvert (priority: number): void {
    const socket = this.#socket
    const src = this.#localAddress
    const machine = this.#machine
    if (socket === undefined || src === undefined || machine === undefined) return
    const vips = this.#check.virtualAddresses
    const multicast = this.inst.unicastPeers.length === 0
    const dsts = multicast ? [this.#family === 4 ? VRRP_MULTICAST_V4 : VRRP_MULTICAST_V6] : this.inst.unicastPeers
    for (const dst of dsts) {
      let payload: Uint8Array
      try {
        if (this.inst.version === 2) {
          payload = encodeAdvert({
            version: 2,
            vrid: this.#check.vrid,
            priority,
            addresses: vips,
            advertIntervalSec: Math.round(machine.advertIntervalMs / 1000),
            authType: this.#check.auth === undefined ? AUTH_NONE : AUTH_PASS,
            authData: this.#check.auth?.password
          })
        } else {
          const pseudoDst = this.#legacyChecksum && !multicast ? VRRP_MULTICAST_V4 : dst
          payload = encodeAdvert({ version: 3, vrid: this.#check.vrid, priority, addresses: vips,
            maxAdvertIntervalCs: Math.round(machine.advertIntervalMs / 10) }, { src, dst: pseudoDst })
        }
      } catch (err) {
        this.counters.sendErrors++
        this.#log.error({ err: errText(err) }, 'cannot encode advert')
        return
      }
      let packet = payload
      if (this.#family === 4) {
        this.#ipId = this.#ipId >= 0xffff ? 1 : this.#ipId + 1
        packet = encodeIpv4Packet(payload, { src, dst, id: this.#ipId })
      }
      this.counters.advertsSent++
      if (priority === 0) this.counters.priorityZeroSent++
      const sent: Promise<void> = socket.send(packet, dst).catch((err: unknown) => {
        this.counters.sendErrors++
        this.#log.warn({ err: errText(err), dst }, 'advert not sent')
      }).finally(() => { this.#pendingSends.delete(sent) })
      this.#pendingSends.add(sent)
    }
  }

  #spec (v: VirtualAddress, dev: LinkInfo): AddressSpec {
    return { family: v.family, address: v.address, prefixLength: v.prefixLength, index: dev.index, label: v.label,
      broadcast: v.broadcast, scope: scopeNumber(v.scope) }
  }

  async #addVips (): Promise<void> {
    const held: ReaperAddress[] = []
    const ifname = this.inst.interface as string
    for (const v of this.inst.virtualAddresses) {
      const dev = this.#ctx.link(v.dev ?? ifname)
      if (dev === undefined) { this.#log.error({ vip: vipText(v), dev: v.dev ?? ifname },
        'cannot add VIP: no such interface'); continue }
      const r = await this.#ctx.rtnl.addAddress(this.#spec(v, dev))
      if (r === 'exists') this.#log.info({ vip: vipText(v), dev: dev.name }, 'VIP already present')
      held.push({ family: v.family, address: v.address, prefixLength: v.prefixLength, dev: dev.name })
    }
    this.#vipsHeld = true
    this.#ctx.reaper.hold(held)
    this.#log.info({ vips: held.map(h => `${h.address}/${h.prefixLength}`) }, 'VIPs added')
  }

  async #removeVips (): Promise<void> {
    // keepalived's order on stop and fault: the priority-0 advert is on the wire, then the VIPs go.
    await Promise.all([...this.#pendingSends])
    const ifname = this.inst.interface as string
    this.#ctx.reaper.release(this.inst.virtualAddresses.map(v => ({ family: v.family, address: v.address,
      prefixLength: v.prefixLength, dev: v.dev ?? ifname })))
    const removed: string[] = []
    for (const v of this.inst.virtualAddresses) {
      const dev = this.#ctx.link(v.dev ?? ifname)
      if (dev === undefined) continue
      try {
        if (await this.#ctx.rtnl.delAddress(this.#spec(v, dev)) === 'removed') removed.push(vipText(v))
      } catch (err) {
        this.#log.error({ vip: vipText(v), err: errText(err) }, 'cannot remove VIP')
      }
    }
    this.#vipsHeld = false
    this.#log.info({ vips: removed }, 'VIPs removed')
  }

  #sendGarps (count: number, reason: string): void {
    if (!this.#vipsHeld) return
    const ifname = this.inst.interface as string
    let sent = 0
    for (const v of this.inst.virtualAddresses) {
      const dev = this.#ctx.link(v.dev ?? ifname)
      if (dev?.mac === undefined) continue
      try {
        const frame = v.family === 4 ? garpFrame(dev.mac, v.address) : unsolicitedNaFrame(dev.mac, v.address,
          this.#ctx.io.ipv6Forwarding(dev.name))
        const sink = this.#ctx.frameSink(dev.name)
        for (let i = 0; i < count; i++) { sink.send(frame); sent++ }
      } catch (err) {
        this.#log.error({ vip: vipText(v), err: errText(err) }, 'cannot send gratuitous ARP / NA')
      }
    }
    this.counters.garpsSent += sent
    this.#log.debug({ count: sent, reason }, this.#family === 4 ? 'gratuitous ARPs sent' : 'unsolicited NAs sent')
  }

  status (): VrrpInstanceStatus {
    const m = this.#machine
    const state = this.state
    const items = this.#items()
    return {
      name: this.inst.name,
      vrid: this.inst.virtualRouterId,
      interface: this.inst.interface,
      version: this.inst.version,
      state,
      since: this.#since.toISOString(),
      basePriority: m?.basePriority ?? this.inst.priority,
      effectivePriority: m?.effectivePriority ?? this.inst.priority,
      masterAddress: state === 'MASTER' ? this.#localAddress : state === 'BACKUP' ? m?.masterAddress : undefined,
      masterPriority: state === 'MASTER' ? m?.effectivePriority : state === 'BACKUP' ? m?.masterPriority : undefined,
      localAddress: this.#localAddress,
      advertIntervalMs: m?.advertIntervalMs ?? this.inst.advertInt,
      unicastPeers: this.inst.unicastPeers,
      vips: this.inst.virtualAddresses.map(vipText),
      vipsHeld: this.#vipsHeld,
      faultReasons: state === 'FAULT' ? this.#faultReasons : [],
      tracking: items.map(i => ({ kind: i.kind, name: i.name, weight: i.weight, state: i.state, value: i.value })),
      syncGroup: this.#ctx.sync(this.inst.name)?.spec.name,
      counters: { ...this.counters, drops: { ...this.counters.drops } }
    }
  }
}
