/**
 * The VRRP speaker: runs every `vrrp_instance` of the configuration inside the supervisor.
 *
 * Per instance: one VrrpStateMachine (pure, see state-machine.ts), one raw protocol-112 socket
 * on its interface, one timer armed from machine.nextDeadline(). Received packets go through
 * validateAdvert() (keepalived's receive checks, a counter per drop reason) into the machine; the
 * machine's actions are performed in order: adverts are sent at once, everything else (VIPs
 * over rtnetlink, GARP/NA bursts through libpcap, notify scripts) runs on a per-instance queue
 * so a slow netlink answer never reorders "add the VIPs, then announce them".
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
import type { Config, VirtualAddress, VrrpInstance, VrrpScript } from '../config/model.ts'
import type { Logger } from '../util/log.ts'
import { TslbError } from '../util/errors.ts'
import { encodeAdvert, encodeIpv4Packet, VRRP_MULTICAST_V4, VRRP_MULTICAST_V6, AUTH_NONE, AUTH_PASS } from './codec.ts'
import { runCommand, type CommandRunner } from './exec.ts'
import { Notifier, type NotifyState } from './notify.ts'
import { advertEvent, machineOptionsFromInstance, VrrpStateMachine, type VrrpAction, type VrrpState } from './state-machine.ts'
import { ScriptTracker, trackedItems, trackingOutcome, type ScriptStatus, type TrackState } from './track.ts'
import { advertCheckConfig, DROP_REASONS, validateAdvert, type AdvertCheckConfig, type DropReason, type ReceiveMeta } from './validate.ts'
import { canonicalIp } from '../net/addr.ts'
import { FrameSender, garpFrame, ipv6Forwarding, unsolicitedNaFrame } from '../net/garp.ts'
import { Rtnl, scopeNumber, type AddressSpec, type InterfaceAddress, type LinkInfo } from '../net/rtnl.ts'
import { VipReaper, type ReaperAddress } from '../net/vip-reaper.ts'
import { VrrpSocket, type VrrpSocketOptions } from '../net/vrrp-socket.ts'

export class VrrpSpeakerError extends TslbError {
  constructor (message: string, options?: ErrorOptions) {
    super('TSLB_ERR_VRRP_SPEAKER', message, options)
  }
}

// ---------------------------------------------------------------- I/O seams (fakes in tests)

export interface RtnlLike {
  links (): Promise<LinkInfo[]>
  addresses (family?: 4 | 6): Promise<InterfaceAddress[]>
  addAddress (a: AddressSpec): Promise<'added' | 'exists'>
  delAddress (a: AddressSpec): Promise<'removed' | 'absent'>
  watchLinks (onChange: () => void): () => void
  close (): void
}

export interface PacketSocket {
  on (event: 'message', listener: (buf: Buffer, src: string) => void): unknown
  on (event: 'error', listener: (err: Error) => void): unknown
  send (packet: Uint8Array, dst: string): Promise<void>
  close (): void
}

export interface FrameSink {
  send (frame: Uint8Array): void
  close (): void
}

export interface Reaper {
  /** Starts the child; false when it cannot run (no `ip`). */
  start (): boolean
  /** Addresses just added; false when nothing would remove them if tslb died. */
  hold (addresses: readonly ReaperAddress[]): boolean
  /** Addresses the speaker is about to remove itself. */
  release (addresses: readonly ReaperAddress[]): void
  onDeath (cb: (why: string) => void): void
  close (): void
}

export interface SpeakerIo {
  openRtnl (): Promise<RtnlLike>
  openSocket (opts: VrrpSocketOptions): PacketSocket
  frameSink (ifname: string): FrameSink
  reaper (): Reaper
  /** Monotonic milliseconds. */
  now (): number
  /** /proc/sys/net/ipv6/conf/IF/forwarding. */
  ipv6Forwarding (ifname: string): boolean
}

export const systemIo: SpeakerIo = {
  openRtnl: async () => await Rtnl.open(),
  openSocket: opts => new VrrpSocket(opts),
  frameSink: ifname => {
    const s = new FrameSender(ifname)
    s.open()
    return s
  },
  reaper: () => new VipReaper(),
  now: () => performance.now(),
  ipv6Forwarding
}

export interface SpeakerOptions {
  readonly log: Logger
  /** `script builtin proxy`: a proxy worker is alive and serving. */
  readonly proxyHealthy: () => boolean
  readonly run?: CommandRunner
  readonly io?: SpeakerIo
}

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
  readonly tracking: readonly { readonly kind: 'script' | 'interface', readonly name: string, readonly weight: number | undefined, readonly state: TrackState }[]
  readonly counters: VrrpCounters
}

export interface VrrpSpeakerStatus {
  readonly instances: readonly VrrpInstanceStatus[]
  readonly scripts: readonly ScriptStatus[]
}

// ---------------------------------------------------------------- helpers

/** Configuration equality for reloads: everything but source locations. */
export function sameConfig (a: unknown, b: unknown): boolean {
  const strip = (_k: string, v: unknown): unknown => (_k === 'loc' ? undefined : v)
  return JSON.stringify(a, strip) === JSON.stringify(b, strip)
}

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

// ---------------------------------------------------------------- one instance

interface SpeakerContext {
  readonly log: Logger
  readonly io: SpeakerIo
  readonly rtnl: RtnlLike
  readonly notifier: Notifier
  readonly reaper: Reaper
  link (name: string): LinkInfo | undefined
  scriptStates (): ReadonlyMap<string, { readonly spec: VrrpScript, readonly state: TrackState }>
  frameSink (ifname: string): FrameSink
}

class InstanceRunner {
  readonly inst: VrrpInstance
  readonly #ctx: SpeakerContext
  readonly #log: Logger
  readonly #family: 4 | 6
  readonly #check: AdvertCheckConfig
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
  /** Adverts handed to the socket and not yet sent: the priority-0 advert must leave before the VIPs go and before close. */
  readonly #pendingSends = new Set<Promise<void>>()
  #faultReasons: readonly string[] = []
  readonly #dropLoggedAt = new Map<DropReason, number>()
  readonly counters: VrrpCounters = { advertsSent: 0, advertsReceived: 0, becameMaster: 0, releasedMaster: 0, priorityZeroSent: 0, priorityZeroReceived: 0, garpsSent: 0, sendErrors: 0, drops: {} }

  constructor (inst: VrrpInstance, ctx: SpeakerContext) {
    this.inst = inst
    this.#ctx = ctx
    this.#log = ctx.log.child({ vrrp: inst.name })
    this.#check = advertCheckConfig(inst)
    this.#family = this.#check.family
  }

  get state (): VrrpState { return this.#machine?.state ?? (this.#initError !== undefined ? 'FAULT' : 'INIT') }
  get initialized (): boolean { return this.#machine !== undefined }

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
      const pick = this.#family === 4 ? own.find(a => !a.secondary) ?? own[0] : own.find(a => a.address.startsWith('fe80:')) ?? own[0]
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
        try { await this.#ctx.rtnl.delAddress(this.#spec(v, dev)) } catch (err) { this.#log.error({ err: errText(err) }, 'cannot remove leftover VIP') }
      }
    }
    const socket = this.#ctx.io.openSocket({ family: this.#family, ifname, ifindex: link.index, joinGroup: this.inst.unicastPeers.length === 0 })
    if (this.#stopped) { socket.close(); return }
    this.#socket = socket
    socket.on('message', (buf, src) => { this.#onPacket(buf, src) })
    socket.on('error', err => { this.#log.error({ err: err.message }, 'VRRP socket error') })
    // Open the GARP/NA senders now: opening a pcap handle takes tens of ms, not to be paid at takeover.
    for (const dev of new Set(this.inst.virtualAddresses.map(v => v.dev ?? ifname))) {
      try { this.#ctx.frameSink(dev) } catch (err) { this.#log.error({ dev, err: errText(err) }, 'cannot open the interface for gratuitous ARP / NA') }
    }
    this.#localAddress = local
    this.#initError = undefined
    const machine = new VrrpStateMachine(machineOptionsFromInstance(this.inst, local))
    for (const w of machine.warnings) this.#log.warn(w)
    this.#machine = machine
    const now = this.#ctx.io.now()
    const outcome = this.#outcome()
    this.#faultReasons = outcome.faultReasons
    if (outcome.fault) machine.fault(now)
    this.#perform(machine.priorityChanged(now, outcome.effectivePriority))
    this.#log.info({ vrid: this.inst.virtualRouterId, interface: ifname, version: this.inst.version, priority: this.inst.priority, src: local, unicastPeers: this.inst.unicastPeers.length > 0 ? this.inst.unicastPeers : undefined }, 'VRRP instance starting')
    this.#perform(machine.start(now))
    this.#schedule()
  }

  #setInitError (message: string): void {
    if (this.#initError !== message) this.#log.error(`VRRP instance cannot run: ${message}; FAULT until it can (retried every ${INIT_RETRY_MS / 1000} s and on link changes)`)
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
  }

  #outcome (): ReturnType<typeof trackingOutcome> {
    return trackingOutcome(this.inst.priority, trackedItems(this.inst, this.#ctx.scriptStates(), name => this.#ctx.link(name)?.up))
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

  #onPacket (buf: Buffer, src: string): void {
    const machine = this.#machine
    if (machine === undefined || this.#stopped) return
    let meta: ReceiveMeta
    if (this.#family === 4) {
      // Multicast to another group than 224.0.0.18 (joined by someone else on this host) is not ours.
      if (buf.length >= 20 && (buf[16] as number) >= 224 && (buf[16] as number) <= 239 && !(buf[16] === 224 && buf[17] === 0 && buf[18] === 0 && buf[19] === 18)) return
      meta = { family: 4 }
    } else {
      // raw-socket has no recvmsg: the destination is the instance's own (multicast group or our address).
      meta = { family: 6, src, dst: this.inst.unicastPeers.length === 0 ? VRRP_MULTICAST_V6 : this.#localAddress ?? '::' }
    }
    const v = validateAdvert(buf, meta, this.#check)
    if (!v.ok) {
      if (v.reason === 'not-for-us') return
      if (v.src !== undefined && v.src === this.#localAddress) return
      this.counters.drops[v.reason] = (this.counters.drops[v.reason] ?? 0) + 1
      const now = this.#ctx.io.now()
      const last = this.#dropLoggedAt.get(v.reason)
      if (last === undefined || now - last >= DROP_LOG_EVERY_MS) {
        this.#dropLoggedAt.set(v.reason, now)
        this.#log.warn({ reason: v.reason, src: v.src, count: this.counters.drops[v.reason] }, `advert dropped: ${v.message}`)
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
          break
        }
        case 'log':
          if (a.level === 'warn') this.#log.warn(a.message)
          else this.#log.info(a.message)
          break
      }
    }
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
          payload = encodeAdvert({ version: 3, vrid: this.#check.vrid, priority, addresses: vips, maxAdvertIntervalCs: Math.round(machine.advertIntervalMs / 10) }, { src, dst: pseudoDst })
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
    return { family: v.family, address: v.address, prefixLength: v.prefixLength, index: dev.index, label: v.label, broadcast: v.broadcast, scope: scopeNumber(v.scope) }
  }

  async #addVips (): Promise<void> {
    const held: ReaperAddress[] = []
    const ifname = this.inst.interface as string
    for (const v of this.inst.virtualAddresses) {
      const dev = this.#ctx.link(v.dev ?? ifname)
      if (dev === undefined) { this.#log.error({ vip: vipText(v), dev: v.dev ?? ifname }, 'cannot add VIP: no such interface'); continue }
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
    this.#ctx.reaper.release(this.inst.virtualAddresses.map(v => ({ family: v.family, address: v.address, prefixLength: v.prefixLength, dev: v.dev ?? ifname })))
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
        const frame = v.family === 4 ? garpFrame(dev.mac, v.address) : unsolicitedNaFrame(dev.mac, v.address, this.#ctx.io.ipv6Forwarding(dev.name))
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
    const items = trackedItems(this.inst, this.#ctx.scriptStates(), name => this.#ctx.link(name)?.up)
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
      tracking: items.map(i => ({ kind: i.kind, name: i.name, weight: i.weight, state: i.state })),
      counters: { ...this.counters, drops: { ...this.counters.drops } }
    }
  }
}

// ---------------------------------------------------------------- the speaker

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
  readonly #instances = new Map<string, InstanceRunner>()
  readonly #sinks = new Map<string, FrameSink>()
  #reaper: Reaper | undefined
  #applying: Promise<void> = Promise.resolve()
  #stopped = false

  constructor (opts: SpeakerOptions) {
    this.#log = opts.log
    this.#io = opts.io ?? systemIo
    this.#run = opts.run ?? runCommand
    this.#proxyHealthy = opts.proxyHealthy
    this.#notifier = new Notifier(this.#run, opts.log)
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
      reaper.onDeath(why => { this.#log.error({ why }, 'the VIP reaper child died: VIPs would stay if tslb were killed (restarted at the next takeover)') })
      if (!reaper.start()) this.#log.warn("'ip' (iproute2) not found: nothing would remove the VIPs if tslb were killed")
      this.#reaper = reaper
    }

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
      const tracker = new ScriptTracker(spec, { run: this.#run, proxyHealthy: this.#proxyHealthy, log: this.#log.child({ vrrpScript: spec.name }) })
      tracker.on('change', () => { this.#onTrackingChanged() })
      this.#scripts.set(spec.name, tracker)
      tracker.start()
    }

    // Instances: stop removed and changed ones first (a changed one may reuse its VRID and VIPs).
    const next = new Map(config.vrrpInstances.map(i => [i.name, i]))
    const stops: Promise<void>[] = []
    for (const [name, runner] of this.#instances) {
      const inst = next.get(name)
      if (inst !== undefined && sameConfig(inst, runner.inst)) continue
      this.#instances.delete(name)
      this.#log.info({ vrrp: name }, inst === undefined ? 'VRRP instance removed' : 'VRRP instance changed: restarting it')
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

  #context (rtnl: RtnlLike): SpeakerContext {
    return {
      log: this.#log,
      io: this.#io,
      rtnl,
      notifier: this.#notifier,
      reaper: this.#reaper as Reaper,
      link: name => this.#links.get(name),
      scriptStates: () => this.#scripts,
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
    for (const t of this.#scripts.values()) t.stop()
    this.#scripts.clear()
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
      scripts: [...this.#scripts.values()].map(t => t.status())
    }
  }

  /** The runtime API's `show vrrp`. */
  showVrrp (): string {
    return formatShowVrrp(this.status())
  }
}

// ---------------------------------------------------------------- text formats

function countersText (c: VrrpCounters): string {
  return `adverts sent ${c.advertsSent} received ${c.advertsReceived}, became master ${c.becameMaster}, released master ${c.releasedMaster}, priority-0 sent ${c.priorityZeroSent} received ${c.priorityZeroReceived}, gratuitous ARP/NA sent ${c.garpsSent}, send errors ${c.sendErrors}`
}

function dropsText (c: VrrpCounters): string | undefined {
  const parts = DROP_REASONS.filter(r => (c.drops[r] ?? 0) > 0).map(r => `${r} ${c.drops[r] ?? 0}`)
  return parts.length === 0 ? undefined : parts.join(', ')
}

/** `show vrrp` of the runtime API: one block per instance, then the scripts. */
export function formatShowVrrp (s: VrrpSpeakerStatus): string {
  if (s.instances.length === 0) return 'no VRRP instance\n'
  const out: string[] = []
  for (const i of s.instances) {
    const master = i.state === 'MASTER' ? `${i.masterAddress ?? '?'} (this node)` : i.masterAddress ?? '-'
    out.push(`vrrp_instance ${i.name}`)
    out.push(`  state ${i.state} since ${i.since}`)
    out.push(`  vrid ${i.vrid ?? '?'} on ${i.interface ?? '?'}, version ${i.version}, advert_int ${i.advertIntervalMs / 1000}s, ${i.unicastPeers.length > 0 ? `unicast to ${i.unicastPeers.join(' ')}` : 'multicast'}, source ${i.localAddress ?? '-'}`)
    out.push(`  priority ${i.basePriority}, effective ${i.effectivePriority}`)
    out.push(`  master ${master}${i.masterPriority === undefined ? '' : ` priority ${i.masterPriority}`}`)
    out.push(`  virtual_ipaddress ${i.vips.join(' ')} (${i.vipsHeld ? 'held' : 'not held'})`)
    if (i.tracking.length > 0) out.push(`  tracking ${i.tracking.map(t => `${t.kind} ${t.name} ${t.kind === 'interface' ? (t.state === 'ok' ? 'up' : 'down') : t.state}${t.weight === undefined || t.weight === 0 ? '' : ` weight ${t.weight}`}`).join(', ')}`)
    if (i.faultReasons.length > 0) out.push(`  fault ${i.faultReasons.join(', ')}`)
    out.push(`  ${countersText(i.counters)}`)
    const drops = dropsText(i.counters)
    if (drops !== undefined) out.push(`  dropped ${drops}`)
  }
  for (const sc of s.scripts) {
    out.push(`vrrp_script ${sc.name}: ${sc.state}, weight ${sc.weight}, ${sc.runs} run(s), ${sc.failures} failure(s)${sc.lastResult === undefined ? '' : `, last ${sc.lastResult}`}`)
  }
  return `${out.join('\n')}\n`
}

/** One line per instance, for `tslb status`. */
export function formatVrrpStatusLine (i: VrrpInstanceStatus): string {
  const c = i.counters
  const master = i.state === 'MASTER' ? 'this node' : i.masterAddress ?? '-'
  const drops = Object.values(c.drops).reduce((a, b) => a + (b ?? 0), 0)
  return `${i.name}: ${i.state}, vrid ${i.vrid ?? '?'} on ${i.interface ?? '?'} v${i.version}, priority ${i.effectivePriority}/${i.basePriority}, master ${master}, VIPs ${i.vipsHeld ? 'held' : 'not held'}; adverts tx ${c.advertsSent} rx ${c.advertsReceived}, master ${c.becameMaster}x, released ${c.releasedMaster}x, garp ${c.garpsSent}, dropped ${drops}${i.faultReasons.length > 0 ? `; fault: ${i.faultReasons.join(', ')}` : ''}`
}
