/**
 * `cpu-map [auto:]<process-set>[/<thread-set>] <cpu-set>...` (HAProxy 2.6): which CPUs each proxy thread may run
 * on. tslb has one process: the process set must include process 1. Without a thread set the line binds every
 * thread; without `auto:` each thread of the set gets the whole CPU set; with `auto:` the threads and the CPUs are
 * paired in order (the two sets must be as large).
 */
import { ValueError } from './errors.ts'

export interface CpuMapLine {
  /** 1-based thread numbers; undefined: every thread. */
  readonly threads: readonly number[] | undefined
  readonly cpus: readonly number[]
  readonly auto: boolean
}

const MAX = 4096

/** A set as HAProxy writes it: `all`, `odd`, `even`, `N` or `N-M` (within 1..limit for threads, 0.. for CPUs). */
function parseSet (text: string, what: string, first: number): number[] | 'all' | 'odd' | 'even' {
  if (text === 'all' || text === 'odd' || text === 'even') return text
  const m = /^(\d+)(?:-(\d+))?$/.exec(text)
  if (m === null) throw new ValueError(`'cpu-map': invalid ${what} '${text}'`)
  const lo = Number(m[1])
  const hi = m[2] === undefined ? lo : Number(m[2])
  if (lo < first || hi < lo || hi >= MAX) throw new ValueError(`'cpu-map': invalid ${what} '${text}'`)
  return Array.from({ length: hi - lo + 1 }, (_v, i) => lo + i)
}

export function parseCpuMap (args: readonly string[]): CpuMapLine {
  const [spec, ...cpuArgs] = args
  if (spec === undefined || cpuArgs.length === 0) {
    throw new ValueError("'cpu-map' expects a thread set and a CPU set, e.g. 'cpu-map 1/1-4 0-3'")
  }
  const auto = spec.startsWith('auto:')
  const [proc = '', thr] = (auto ? spec.slice(5) : spec).split('/')
  const procs = parseSet(proc, 'process set', 1)
  if (procs !== 'all' && procs !== 'odd' && (procs === 'even' || !procs.includes(1))) {
    throw new ValueError(`'cpu-map': process set '${proc}' does not include tslb's one process (1)`)
  }
  const threadSet = thr === undefined ? 'all' : parseSet(thr, 'thread set', 1)
  const cpus = cpuArgs.flatMap(c => {
    const s = parseSet(c, 'CPU set', 0)
    if (typeof s === 'string') throw new ValueError(`'cpu-map': invalid CPU set '${c}'`)
    return s
  })
  if (auto && Array.isArray(threadSet) && threadSet.length !== cpus.length) {
    throw new ValueError(
      `'cpu-map auto:' pairs threads with CPUs: ${threadSet.length} thread(s), ${cpus.length} CPU(s)`)
  }
  return { threads: typeof threadSet === 'string' ? (threadSet === 'all' ? undefined : oddEven(threadSet)) : threadSet,
    cpus, auto }
}

function oddEven (which: 'odd' | 'even'): number[] {
  return Array.from({ length: 32 }, (_v, i) => 2 * i + (which === 'odd' ? 1 : 2))
}

/** The CPUs thread `tid` (1-based) may run on, from the lines in order (a later line wins); undefined: not mapped. */
export function cpusOfThread (lines: readonly CpuMapLine[], tid: number, threads: number): readonly number[] |
undefined {
  let out: readonly number[] | undefined
  for (const l of lines) {
    const set = (l.threads ?? Array.from({ length: threads }, (_v, i) => i + 1)).filter(t => t <= threads)
    const at = set.indexOf(tid)
    if (at < 0) continue
    out = l.auto ? [l.cpus[at % l.cpus.length] ?? 0] : l.cpus
  }
  return out
}
