/**
 * keepalived 2.2's vrrp_track_process (keepalived/core/track_process.c): how many running
 * processes match a name (and parameters), against a quorum. keepalived is told of every fork
 * and exit by the kernel's process-events connector; tslb reads /proc every `interval` (1 s by
 * default), which gives the same answer with up to that much delay.
 */
import { EventEmitter } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import type { VrrpTrackProcess } from '../config/model.ts'
import type { Logger } from '../util/log.ts'
import type { TrackState } from './track.ts'

/** One process as /proc shows it: the `comm` of /proc/PID/stat, its state letter, and (when read) its argv. */
export interface ProcEntry {
  readonly comm: string
  readonly state: string
  readonly argv?: readonly string[]
}

/** keepalived's match: exact name (comm, or argv[0] with full_command), then the parameters. */
export type ProcessMatch = Pick<VrrpTrackProcess, 'process' | 'params' | 'paramMatch' | 'fullCommand'>

export function processMatches (spec: ProcessMatch, p: ProcEntry): boolean {
  if (p.state === 'Z') return false
  if (!spec.fullCommand) return p.comm === spec.process
  const argv = p.argv ?? []
  if (argv[0] !== spec.process) return false
  const have = argv.slice(1)
  const want = spec.params
  switch (spec.paramMatch) {
    case 'none': return true
    case 'exact': return have.length === want.length && want.every((w, i) => have[i] === w)
    case 'partial': return have.length >= want.length && want.every((w, i) => have[i] === w)
    case 'initial': {
      const last = want.length - 1
      return have.length >= want.length && want.every((w, i) => i === last ? (have[i] as string).startsWith(w) : have[
        i] === w)
    }
  }
}

/** `comm` and state from the text of /proc/PID/stat ("1234 (name) S …"; the name may hold ')' or spaces). */
export function parseStat (text: string): { readonly comm: string, readonly state: string } | undefined {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) return undefined
  return { comm: text.slice(open + 1, close), state: text.slice(close + 2, close + 3) }
}

/**
 * Quorum with keepalived's fork_delay / terminate_delay: quorum gained counts after fork_delay,
 * lost after terminate_delay; the first reading decides at once. Pure: `now` comes in.
 */
export class Quorum {
  readonly #spec: Pick<VrrpTrackProcess, 'quorum' | 'quorumMax' | 'forkDelay' | 'terminateDelay'>
  #state: TrackState = 'init'
  #pendingSince: number | undefined

  constructor (spec: Pick<VrrpTrackProcess, 'quorum' | 'quorumMax' | 'forkDelay' | 'terminateDelay'>) {
    this.#spec = spec
  }

  get state (): TrackState { return this.#state }

  /** Records a count; true when the state changed. */
  update (now: number, count: number): boolean {
    const up = count >= this.#spec.quorum && count <= this.#spec.quorumMax
    const target: TrackState = up ? 'ok' : 'fail'
    if (this.#state === 'init') { this.#state = target; return true }
    if (target === this.#state) { this.#pendingSince = undefined; return false }
    this.#pendingSince ??= now
    if (now - this.#pendingSince < (up ? this.#spec.forkDelay : this.#spec.terminateDelay)) return false
    this.#state = target
    this.#pendingSince = undefined
    return true
  }
}

/** Every process of /proc; argv only when asked (reading cmdline can page a process in). */
export function readProcs (withArgv: boolean, procDir = '/proc'): ProcEntry[] {
  const out: ProcEntry[] = []
  let names: string[]
  try { names = readdirSync(procDir) } catch { return out }
  for (const pid of names) {
    if (!/^[1-9][0-9]*$/.test(pid)) continue
    try {
      const stat = parseStat(readFileSync(`${procDir}/${pid}/stat`, 'latin1'))
      if (stat === undefined) continue
      const argv = withArgv ? readFileSync(`${procDir}/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1) : undefined
      out.push({ ...stat, argv })
    } catch { /* the process is gone */ }
  }
  return out
}

export interface ProcessTrackerDeps {
  readonly now?: () => number
  readonly procs?: (withArgv: boolean) => readonly ProcEntry[]
}

/** One vrrp_track_process, shared by the instances tracking it. Emits `change` with the new state. */
export class ProcessTracker extends EventEmitter<{ change: [TrackState] }> {
  readonly spec: VrrpTrackProcess
  readonly #log: Logger
  readonly #quorum: Quorum
  readonly #now: () => number
  readonly #procs: (withArgv: boolean) => readonly ProcEntry[]
  #count = 0
  #timer: NodeJS.Timeout | undefined

  constructor (spec: VrrpTrackProcess, log: Logger, deps: ProcessTrackerDeps = {}) {
    super()
    this.spec = spec
    this.#log = log
    this.#quorum = new Quorum(spec)
    this.#now = deps.now ?? (() => performance.now())
    this.#procs = deps.procs ?? readProcs
  }

  get state (): TrackState { return this.#quorum.state }

  start (): void {
    this.#check()
    this.#timer = setInterval(() => { this.#check() }, this.spec.interval)
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  status (): { readonly name: string, readonly process: string, readonly count: number, readonly state: TrackState } {
    return { name: this.spec.name, process: this.spec.process as string, count: this.#count, state: this.#quorum.state }
  }

  #check (): void {
    this.#count = this.#procs(this.spec.fullCommand).filter(p => processMatches(this.spec, p)).length
    if (!this.#quorum.update(this.#now(), this.#count)) return
    const s = this.#quorum.state
    const what = `Quorum ${s === 'ok' ? 'gained' : 'lost'} for tracked process ${this.spec.name}`
    this.#log.info({ process: this.spec.process, count: this.#count }, what)
    this.emit('change', s)
  }
}
