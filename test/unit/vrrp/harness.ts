/**
 * A deterministic discrete-event simulation of VRRP state machines on one link: each machine's
 * send-advert reaches every other live node after `delayMs`; the driver loop calls timerFired
 * exactly at each machine's nextDeadline(). No real timers: whole minutes run in milliseconds.
 */
import { VrrpStateMachine, type VrrpAction, type VrrpMachineOptions, type VrrpState } from '../../../src/vrrp/state-machine.ts'

export interface SimNode {
  readonly name: string
  readonly address: string
  machine: VrrpStateMachine
  alive: boolean
  holdsVips: boolean
  /** Every state change: time and new state. */
  readonly states: Array<{ readonly t: number, readonly state: VrrpState }>
  /** Every action with its time. */
  readonly actions: Array<{ readonly t: number, readonly action: VrrpAction }>
  /** Times of the adverts this node sent, with their priority. */
  readonly adverts: Array<{ readonly t: number, readonly priority: number }>
}

interface QueuedEvent {
  readonly at: number
  readonly seq: number
  readonly run: () => void
}

export class SimNet {
  now = 0
  readonly delayMs: number
  readonly nodes = new Map<string, SimNode>()
  /** [time, number of masters] after every event where it changed. */
  readonly masterCount: Array<{ readonly t: number, readonly masters: number, readonly vipHolders: number }> = []
  #queue: QueuedEvent[] = []
  #seq = 0

  constructor (delayMs = 1) {
    this.delayMs = delayMs
  }

  /** Create (or re-create, for a node that comes back) a node and start it at `at`. */
  add (name: string, address: string, options: Omit<VrrpMachineOptions, 'localAddress'>, at = this.now): SimNode {
    const node: SimNode = this.nodes.get(name) ?? { name, address, machine: new VrrpStateMachine({ ...options, name, localAddress: address }), alive: false, holdsVips: false, states: [], actions: [], adverts: [] }
    this.nodes.set(name, node)
    this.at(at, () => {
      node.machine = new VrrpStateMachine({ ...options, name, localAddress: address })
      node.alive = true
      node.holdsVips = false
      this.#apply(node, node.machine.start(this.now))
    })
    return node
  }

  node (name: string): SimNode {
    const n = this.nodes.get(name)
    if (n === undefined) throw new Error(`no node ${name}`)
    return n
  }

  /** Run `fn` at simulated time `t`. */
  at (t: number, fn: () => void): void {
    this.#queue.push({ at: t, seq: this.#seq++, run: fn })
    this.#queue.sort((a, b) => a.at - b.at || a.seq - b.seq)
  }

  /** Call a machine method at time `t` and perform its actions. */
  call (t: number, name: string, fn: (m: VrrpStateMachine, now: number) => VrrpAction[]): void {
    this.at(t, () => {
      const n = this.node(name)
      if (n.alive) this.#apply(n, fn(n.machine, this.now))
    })
  }

  /** The node vanishes without a word (crash, cable cut): no adverts, no timers. */
  kill (t: number, name: string): void {
    this.at(t, () => {
      const n = this.node(name)
      n.alive = false
      n.holdsVips = false
      this.#sample()
    })
  }

  runUntil (end: number): void {
    for (;;) {
      let timerNode: SimNode | undefined
      let tm = Infinity
      for (const n of this.nodes.values()) {
        if (!n.alive) continue
        const d = n.machine.nextDeadline()
        if (d !== undefined && d < tm) { tm = d; timerNode = n }
      }
      const tq = this.#queue[0]?.at ?? Infinity
      const t = Math.min(tm, tq)
      if (t > end) break
      if (t < this.now) throw new Error(`time went backwards: ${t} < ${this.now}`)
      this.now = t
      if (timerNode !== undefined && tm <= tq) {
        this.#apply(timerNode, timerNode.machine.timerFired(this.now))
      } else {
        const ev = this.#queue.shift()
        ev?.run()
      }
    }
    this.now = end
  }

  /** Time of the first state change of `name` to `state` at or after `from`. */
  firstTime (name: string, state: VrrpState, from = 0): number | undefined {
    return this.node(name).states.find(s => s.t >= from && s.state === state)?.t
  }

  /** The last time at which more than one node was master (or held the VIPs); -Infinity if never. */
  lastDualMaster (): number {
    let last = -Infinity
    for (const s of this.masterCount) if (s.masters > 1 || s.vipHolders > 1) last = s.t
    return last
  }

  #apply (node: SimNode, actions: readonly VrrpAction[]): void {
    for (const action of actions) {
      node.actions.push({ t: this.now, action })
      switch (action.type) {
        case 'send-advert': {
          node.adverts.push({ t: this.now, priority: action.priority })
          const advert = { priority: action.priority, srcAddress: node.address, advertIntervalMs: node.machine.advertIntervalMs }
          for (const peer of this.nodes.values()) {
            if (peer === node) continue
            this.at(this.now + this.delayMs, () => {
              if (peer.alive) this.#apply(peer, peer.machine.advertReceived(this.now, advert))
            })
          }
          break
        }
        case 'add-vips': node.holdsVips = true; break
        case 'remove-vips': node.holdsVips = false; break
        case 'state-change': node.states.push({ t: this.now, state: action.to }); break
        default: break
      }
    }
    this.#sample()
  }

  #sample (): void {
    let masters = 0
    let vipHolders = 0
    for (const n of this.nodes.values()) {
      if (!n.alive) continue
      if (n.machine.state === 'MASTER') masters++
      if (n.holdsVips) vipHolders++
    }
    const last = this.masterCount.at(-1)
    if (last === undefined || last.masters !== masters || last.vipHolders !== vipHolders) this.masterCount.push({ t: this.now, masters, vipHolders })
  }
}
