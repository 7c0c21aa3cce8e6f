/**
 * keepalived's notify scripts: `notify_master`, `notify_backup`, `notify_fault`, `notify_stop`
 * run as configured; the generic `notify` gets four more arguments, `INSTANCE NAME STATE PRIORITY`
 * (STATE is MASTER, BACKUP, FAULT, STOP or DELETED). Fire and forget: started at once, never
 * awaited by the timer path, killed after a timeout, output and status logged.
 */
import type { VrrpInstance, VrrpSyncGroup } from '../config/model.ts'
import type { Logger } from '../util/log.ts'
import { type CommandRunner, describeResult, type ScriptPolicy } from './exec.ts'
import { splitCommand } from '../util/command-words.ts'

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED'

export const NOTIFY_TIMEOUT_MS = 60_000

/** The command lines to run for a transition, in keepalived's order (the state's own script, then `notify`). */
export function notifyCommands (inst: VrrpInstance, state: NotifyState, priority: number): string[][] {
  const out: string[][] = []
  const own = state === 'MASTER' ? inst.notify.master : state === 'BACKUP' ? inst.notify.backup : state === 'FAULT' ?
    inst.notify.fault : inst.notify.stop
  if (own !== undefined) out.push(splitCommand(own))
  if (inst.notify.any !== undefined) out.push([...splitCommand(inst.notify.any), 'INSTANCE', inst.name, state,
    String(priority)])
  return out.filter(a => a.length > 0)
}

/**
 * A vrrp_sync_group's scripts for a group state change (`notify` gets `GROUP NAME STATE 0`, keepalived
 * send_group_notifies).
 */
export function groupNotifyCommands (group: VrrpSyncGroup, state: Exclude<NotifyState, 'DELETED'>): string[][] {
  const out: string[][] = []
  const own = state === 'MASTER' ? group.notify.master : state === 'BACKUP' ? group.notify.backup : state === 'FAULT' ?
    group.notify.fault : group.notify.stop
  if (own !== undefined) out.push(splitCommand(own))
  if (group.notify.any !== undefined) out.push([...splitCommand(group.notify.any), 'GROUP', group.name, state, '0'])
  return out.filter(a => a.length > 0)
}

export class Notifier {
  readonly #run: CommandRunner
  readonly #log: Logger
  readonly #timeoutMs: number

  readonly #policy: () => ScriptPolicy

  constructor (run: CommandRunner, log: Logger, timeoutMs = NOTIFY_TIMEOUT_MS,
    policy: () => ScriptPolicy = () => ({})) {
    this.#run = run
    this.#log = log
    this.#timeoutMs = timeoutMs
    this.#policy = policy
  }

  /** Starts the notify scripts of a transition; returns at once. */
  fire (inst: VrrpInstance, state: NotifyState, priority: number): void {
    this.#start(inst.name, state, notifyCommands(inst, state, priority))
  }

  /** Starts a sync group's notify scripts; returns at once. */
  fireGroup (group: VrrpSyncGroup, state: NotifyState): void {
    if (state === 'DELETED') return
    this.#start(group.name, state, groupNotifyCommands(group, state))
  }

  #start (name: string, state: NotifyState, commands: readonly string[][]): void {
    for (const argv of commands) {
      const started = this.#run(argv, { timeoutMs: this.#timeoutMs, ...this.#policy(), killWithParent: false })
      started.then(r => {
        const fields = { instance: name, state, command: argv.join(' '),
          output: r.output === '' ? undefined : r.output }
        if (r.ok) this.#log.info(fields, 'notify script done')
        else this.#log.warn({ ...fields, result: describeResult(r, this.#timeoutMs) }, 'notify script failed')
      }, (err: unknown) => {
        this.#log.warn({ instance: name, state, err: err instanceof Error ? err.message : String(err) },
          'notify script failed')
      })
    }
  }
}
