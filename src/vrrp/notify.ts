/**
 * keepalived's notify scripts: `notify_master`, `notify_backup`, `notify_fault`, `notify_stop`
 * run as configured; the generic `notify` gets four more arguments, `INSTANCE NAME STATE PRIORITY`
 * (STATE is MASTER, BACKUP, FAULT, STOP or DELETED). Fire and forget: started at once, never
 * awaited by the timer path, killed after a timeout, output and status logged.
 */
import type { NotifyScript, NotifyScripts, VrrpInstance, VrrpSyncGroup } from '../config/model.ts'
import type { Logger } from '../util/log.ts'
import { type CommandRunner, describeResult, type ScriptPolicy } from './exec.ts'
import { splitCommand } from '../util/command-words.ts'

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED'

export const NOTIFY_TIMEOUT_MS = 60_000

/** A notify script to start: its argv, and the user / group it runs as when its line names them. */
export interface NotifyRun {
  readonly argv: readonly string[]
  readonly user?: string
  readonly group?: string
}

function run (script: NotifyScript, extra: readonly string[] = []): NotifyRun {
  return { argv: [...splitCommand(script.command), ...extra], user: script.user, group: script.group }
}

function ownScript (notify: NotifyScripts, state: NotifyState): NotifyScript | undefined {
  return state === 'MASTER' ? notify.master : state === 'BACKUP' ? notify.backup : state === 'FAULT' ?
    notify.fault : state === 'STOP' ? notify.stop : undefined
}

/** The scripts to run for a transition, in keepalived's order (the state's own script, then `notify`). */
export function notifyCommands (inst: VrrpInstance, state: NotifyState, priority: number): NotifyRun[] {
  const out: NotifyRun[] = []
  const own = ownScript(inst.notify, state === 'DELETED' ? 'STOP' : state)
  if (own !== undefined) out.push(run(own))
  if (inst.notify.any !== undefined) out.push(run(inst.notify.any, ['INSTANCE', inst.name, state, String(priority)]))
  return out.filter(r => r.argv.length > 0)
}

/**
 * A vrrp_sync_group's scripts for a group state change (`notify` gets `GROUP NAME STATE 0`, keepalived
 * send_group_notifies).
 */
export function groupNotifyCommands (group: VrrpSyncGroup, state: Exclude<NotifyState, 'DELETED'>): NotifyRun[] {
  const out: NotifyRun[] = []
  const own = ownScript(group.notify, state)
  if (own !== undefined) out.push(run(own))
  if (group.notify.any !== undefined) out.push(run(group.notify.any, ['GROUP', group.name, state, '0']))
  return out.filter(r => r.argv.length > 0)
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

  #start (name: string, state: NotifyState, commands: readonly NotifyRun[]): void {
    for (const { argv, user, group } of commands) {
      const policy = this.#policy()
      const runsAs = user === undefined ? { user: policy.user, group: policy.group } : { user, group }
      const started = this.#run(argv, { timeoutMs: this.#timeoutMs, ...policy, ...runsAs, killWithParent: false })
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
