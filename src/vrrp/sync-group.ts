/**
 * keepalived's vrrp_sync_group (keepalived/vrrp/vrrp_sync.c): the instances of a group change
 * state together.
 * - One member in FAULT puts every member in FAULT, until no member has a fault of its own.
 * - A member becomes MASTER only when every other member would too (its master-down timer
 *   expired, or it is MASTER already): otherwise it stays BACKUP and waits another interval
 *   (vrrp_sync_can_goto_master; prefer BACKUP to thrashing). Then every member becomes MASTER.
 * - A MASTER member that goes back to BACKUP (a higher priority took over) takes every member
 *   back to BACKUP.
 * - The group's own notify scripts run when the group's state changes; the generic `notify`
 *   gets `GROUP NAME STATE 0`.
 * Driven by the instance runners; holds no timer.
 */
import type { VrrpSyncGroup } from '../config/model.ts'
import type { Logger } from '../util/log.ts'
import type { NotifyState } from './notify.ts'
import type { VrrpState } from './state-machine.ts'

/** What the group sees of, and asks of, one member (an InstanceRunner). */
export interface SyncMember {
  readonly name: string
  readonly state: VrrpState
  /** BACKUP whose master-down timer expired but which the group held back. */
  readonly wantsMaster: boolean
  /** Its own tracking says FAULT (not counting the group's). */
  readonly ownFault: boolean
  syncMaster (): void
  syncBackup (): void
  /** Re-evaluate tracking (another member's fault appeared or cleared). */
  updateTracking (): void
}

export type SyncGroupState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP'

export class SyncGroup {
  readonly spec: VrrpSyncGroup
  readonly #member: (name: string) => SyncMember | undefined
  readonly #notify: (group: VrrpSyncGroup, state: NotifyState) => void
  readonly #log: Logger
  #state: SyncGroupState = 'INIT'

  constructor (
    spec: VrrpSyncGroup,
    member: (name: string) => SyncMember | undefined,
    notify: (group: VrrpSyncGroup, state: NotifyState) => void,
    log: Logger
  ) {
    this.spec = spec
    this.#member = member
    this.#notify = notify
    this.#log = log.child({ vrrpSyncGroup: spec.name })
  }

  get state (): SyncGroupState { return this.#state }
  /** sync_group_tracking_weight not set: members' tracking weights count as 0. */
  get ignoreWeights (): boolean { return !this.spec.trackingWeight }

  #others (name: string): SyncMember[] {
    return this.spec.members.filter(m => m !== name).map(m => this.#member(m)).filter(m => m !== undefined)
  }

  #members (): SyncMember[] {
    return this.spec.members.map(m => this.#member(m)).filter(m => m !== undefined)
  }

  /** vrrp_sync_can_goto_master. */
  canGoMaster (name: string): boolean {
    if (this.#state === 'MASTER') return true
    return this.#others(name).every(m => m.wantsMaster || m.state === 'MASTER')
  }

  /** Another member has a fault of its own: this one is in FAULT too. */
  faultedByOthers (name: string): boolean {
    return this.#others(name).some(m => m.ownFault)
  }

  /** A member's own fault appeared or cleared: the others re-evaluate. */
  ownFaultChanged (name: string): void {
    for (const m of this.#others(name)) m.updateTracking()
  }

  /** A member changed state (after it performed the change). */
  memberChanged (name: string, from: VrrpState, to: VrrpState): void {
    switch (to) {
      case 'MASTER':
        if (this.#state === 'MASTER') return
        this.#set('MASTER', 'Syncing instances to MASTER state')
        for (const m of this.#others(name)) if (m.state === 'BACKUP') m.syncMaster()
        return
      case 'BACKUP':
        if (from === 'MASTER' && this.#state === 'MASTER') {
          this.#set('BACKUP', 'Syncing instances to BACKUP state')
          for (const m of this.#others(name)) if (m.state === 'MASTER') m.syncBackup()
          return
        }
        if (this.#state === 'BACKUP' || this.#state === 'MASTER') return
        if (!this.#members().some(m => m.state === 'FAULT' || m.state === 'INIT')) this.#set('BACKUP')
        return
      case 'FAULT':
        if (this.#state !== 'FAULT') this.#set('FAULT', 'Syncing instances to FAULT state')
        return
      case 'STOP':
        if (this.#state !== 'STOP' && this.#members().every(m => m.state === 'STOP')) this.#set('STOP')
        return
      case 'INIT':
    }
  }

  #set (state: Exclude<SyncGroupState, 'INIT'>, message?: string): void {
    this.#state = state
    if (message !== undefined) this.#log.info(`VRRP_Group(${this.spec.name}) ${message}`)
    this.#notify(this.spec, state)
  }
}
