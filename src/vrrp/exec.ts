/**
 * Running the external commands of VRRP: track scripts and notify scripts, with execa.
 * Commands are split into words as keepalived does (no shell: `script "killall -0 haproxy"` runs
 * killall with two arguments; single and double quotes group words, backslash escapes).
 */
import { readFileSync } from 'node:fs'
import { execa } from 'execa'

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
  /** Kill the command if tslb exits first (track scripts: yes; notify scripts: no). */
  readonly killWithParent: boolean
}

/** Runs argv; never rejects. */
export type CommandRunner = (argv: readonly string[], opts: RunOptions) => Promise<CommandResult>

const MAX_OUTPUT = 2000

/** keepalived's word splitting of a script line. */
export function splitCommand (command: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let quote: '"' | "'" | undefined
  for (let i = 0; i < command.length; i++) {
    const c = command[i] as string
    if (quote !== undefined) {
      if (c === quote) quote = undefined
      else if (c === '\\' && quote === '"' && i + 1 < command.length) word += command[++i] as string
      else word += c
      continue
    }
    if (c === ' ' || c === '\t') {
      if (inWord) { words.push(word); word = ''; inWord = false }
      continue
    }
    inWord = true
    if (c === '"' || c === "'") quote = c
    else if (c === '\\' && i + 1 < command.length) word += command[++i] as string
    else word += c
  }
  if (inWord) words.push(word)
  return words
}

/** uid/gid of a user name (or numeric uid) from /etc/passwd; undefined when unknown. */
export function lookupUser (user: string): { readonly uid: number, readonly gid: number } | undefined {
  let passwd: string
  try {
    passwd = readFileSync('/etc/passwd', 'utf8')
  } catch {
    return undefined
  }
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':')
    if (name === undefined || uid === undefined || gid === undefined) continue
    if (name === user || uid === user) return { uid: Number(uid), gid: Number(gid) }
  }
  return undefined
}

export const runCommand: CommandRunner = async (argv, opts) => {
  const started = performance.now()
  const [file, ...args] = argv
  const fail = (error: string): CommandResult => ({ ok: false, exitCode: undefined, signal: undefined, timedOut: false, error, output: '', durationMs: performance.now() - started })
  if (file === undefined) return fail('empty command')
  let ids: { uid: number, gid: number } | undefined
  if (opts.user !== undefined) {
    ids = lookupUser(opts.user)
    if (ids === undefined) return fail(`unknown user '${opts.user}'`)
  }
  try {
    const r = await execa(file, args, {
      reject: false,
      timeout: opts.timeoutMs,
      forceKillAfterDelay: 2000,
      cleanup: opts.killWithParent,
      stdin: 'ignore',
      all: true,
      maxBuffer: 64 * 1024,
      stripFinalNewline: true,
      ...(ids === undefined ? {} : { uid: ids.uid, gid: ids.gid })
    })
    const output = typeof r.all === 'string' ? r.all.slice(0, MAX_OUTPUT) : ''
    const spawnError = r.exitCode === undefined && r.signal === undefined && !r.timedOut ? (r.cause instanceof Error ? r.cause.message : r.shortMessage) : undefined
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
