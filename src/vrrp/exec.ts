/**
 * Running the external commands of VRRP: track scripts and notify scripts, with execa. Commands
 * are split into words as keepalived does (util/command-words.ts). Every script gets
 * COMMAND_ENV as its whole environment, runs as its user (`user` of the vrrp_script, else the
 * global `script_user`, else tslb's own) with only that user's primary or configured group, and
 * without tslb's ambient capabilities unless `script_ambient_capabilities` is set.
 */
import type { GlobalSettings } from '../config/model.ts'
import { COMMAND_ENV, lookupGroup, lookupUser, ownCapabilities, scriptArgv } from '../util/script-env.ts'

export interface CommandResult {
  /** Exit status 0. */
  readonly ok: boolean
  readonly exitCode: number | undefined
  readonly signal: string | undefined
  readonly timedOut: boolean
  /** Spawn failure (ENOENT, EACCES...). */
  readonly error: string | undefined
  /** The first bytes of stdout and stderr, for the log. */
  readonly output: string
  readonly durationMs: number
}

export interface RunOptions {
  readonly timeoutMs: number
  readonly user?: string
  /** With `user`: the group (default: the user's primary group). */
  readonly group?: string
  /** Let the script keep tslb's ambient capabilities (global `script_ambient_capabilities`). */
  readonly keepAmbientCapabilities?: boolean
  /** Kill the command if tslb exits first (track scripts: yes; notify scripts: no). */
  readonly killWithParent: boolean
}

/** Who scripts run as and what they keep, from the `global` section (the same for every script). */
export type ScriptPolicy = Pick<RunOptions, 'user' | 'group' | 'keepAmbientCapabilities'>

export function scriptPolicy (g: GlobalSettings): ScriptPolicy {
  return { user: g.scriptUser?.user, group: g.scriptUser?.group,
    keepAmbientCapabilities: g.scriptAmbientCapabilities === true }
}

/** Runs argv; never rejects. */
export type CommandRunner = (argv: readonly string[], opts: RunOptions) => Promise<CommandResult>

const MAX_OUTPUT = 2000

export const runCommand: CommandRunner = async (argv, opts) => {
  const started = performance.now()
  const fail = (error: string): CommandResult => ({ ok: false, exitCode: undefined, signal: undefined, timedOut: false,
    error, output: '', durationMs: performance.now() - started })
  if (argv.length === 0) return fail('empty command')
  let ids: { uid: number, gid: number } | undefined
  if (opts.user !== undefined) {
    const user = lookupUser(opts.user)
    if (user === undefined) return fail(`unknown user '${opts.user}'`)
    const gid = opts.group === undefined ? user.gid : lookupGroup(opts.group)
    if (gid === undefined) return fail(`unknown group '${opts.group ?? ''}'`)
    ids = { uid: user.uid, gid }
  }
  const [file, ...args] = scriptArgv(argv, ownCapabilities(), opts.keepAmbientCapabilities === true)
  try {
    // Loaded when the first script runs: a node without VRRP scripts never pays for execa.
    const { execa } = await import('execa')
    const r = await execa(file as string, args, {
      reject: false,
      timeout: opts.timeoutMs,
      forceKillAfterDelay: 2000,
      cleanup: opts.killWithParent,
      stdin: 'ignore',
      all: true,
      maxBuffer: 64 * 1024,
      stripFinalNewline: true,
      env: COMMAND_ENV,
      extendEnv: false,
      ...(ids === undefined ? {} : { uid: ids.uid, gid: ids.gid })
    })
    const output = typeof r.all === 'string' ? r.all.slice(0, MAX_OUTPUT) : ''
    const spawnError = r.exitCode === undefined && r.signal === undefined && !r.timedOut ? (r.cause instanceof Error ?
      r.cause.message : r.shortMessage) : undefined
    return {
      ok: r.exitCode === 0 && !r.timedOut,
      exitCode: r.exitCode,
      signal: r.signal,
      timedOut: r.timedOut,
      error: spawnError,
      output,
      durationMs: performance.now() - started
    }
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err))
  }
}

/** "exit 1", "timed out after 2 s", "killed by SIGKILL", "ENOENT..." */
export function describeResult (r: CommandResult, timeoutMs?: number): string {
  if (r.timedOut) return `timed out${timeoutMs === undefined ? '' : ` after ${timeoutMs / 1000} s`}`
  if (r.error !== undefined) return r.error
  if (r.signal !== undefined) return `killed by ${r.signal}`
  return `exit ${r.exitCode ?? '?'}`
}
