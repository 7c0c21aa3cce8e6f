/**
 * Stick counters in the configuration: the `track-sc*`, `sc-inc-gpc*` and `sc-set-gpt*` actions
 * parsed into specs, and, once every proxy is known, the tables their fetches, converters and
 * actions name checked (HAProxy's `smp_resolve_args()` / `check_trk_action()`): a table argument
 * left out is the proxy's own table, written into the arguments so that the proxy need not know
 * where a sample was written.
 */
import type { Diagnostics } from './context.ts'
import { ValueError } from './errors.ts'
import type { ActionSpec, Config, ConverterCall, Location, Proxy, SampleExpr } from './model.ts'
import { parseSampleChain } from './acl.ts'
import { counterFetch, STICK_COUNTER_SLOTS, TABLE_CONVERTERS, TABLE_FETCHES } from './counter-fetches.ts'

/** Largest `gpc(N)` / `gpt(N)` array (HAProxy: 100). */
const MAX_ARRAY = 100

function slotNumber (text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) >= STICK_COUNTER_SLOTS) throw new ValueError(
    `${what}: invalid stick counter '${text ?? ''}' (0 to ${STICK_COUNTER_SLOTS - 1})`)
  return Number(text)
}

function arrayIndex (text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) >= MAX_ARRAY) throw new ValueError(
    `${what}: invalid array index '${text ?? ''}' (0 to ${MAX_ARRAY - 1})`)
  return Number(text)
}

function sampleExpr (text: string, what: string): SampleExpr {
  try {
    const f = parseSampleChain(text, false)
    return { fetch: f.fetch, args: f.args, ...(f.converters.length > 0 ? { converters: f.converters } : {}) }
  } catch (err) {
    if (err instanceof ValueError) throw new ValueError(`${what}: ${err.message}`)
    throw err
  }
}

/** `sc-inc-gpc0`, `sc-inc-gpc1(2)`, `sc-inc-gpc(5,1)`, `sc-set-gpt0(1)`, `sc-set-gpt(3,0)`: the index and counter. */
function counterArgs (word: string, base: 'sc-inc-gpc' | 'sc-set-gpt', what: string):
  { idx: number, slot: number, array: boolean } {
  const rest = word.slice(base.length)
  const arr = /^\(([^,()]*),([^,()]*)\)$/.exec(rest)
  if (arr !== null) return { idx: arrayIndex(arr[1], what), slot: slotNumber(arr[2], what), array: true }
  const m = /^([01])(?:\(([^()]*)\))?$/.exec(rest)
  if (m === null || (base === 'sc-set-gpt' && m[1] !== '0')) throw new ValueError(
    `${what}: expects ${base}${base === 'sc-inc-gpc' ? '0|1' : '0'}[(SC)] or ${base}(IDX,SC), got '${word}'`)
  return { idx: Number(m[1]), slot: m[2] === undefined ? 0 : slotNumber(m[2], what), array: false }
}

/**
 * The spec of a stick-counter action (`word` is the action as written, `args` what follows it), or undefined when
 * `word` is not one. Throws ValueError for bad arguments.
 */
export function parseCounterAction (word: string, args: readonly string[], what: string): ActionSpec | undefined {
  const track = /^track-sc(\d+)$/.exec(word)
  if (track !== null) {
    const slot = slotNumber(track[1], what)
    const [key, kw, table, ...extra] = args
    if (key === undefined) throw new ValueError(`${what} expects a sample expression (the key to track)`)
    if (kw !== undefined && (kw !== 'table' || table === undefined || extra.length > 0)) throw new ValueError(
      `${what} expects KEY [table TABLE], got '${args.join(' ')}'`)
    return { type: 'track-sc', slot, key: sampleExpr(key, what), table }
  }
  if (word.startsWith('sc-inc-gpc')) {
    if (args.length > 0) throw new ValueError(`${what} takes no argument, got '${args.join(' ')}'`)
    return { type: 'sc-inc-gpc', ...counterArgs(word, 'sc-inc-gpc', what) }
  }
  if (word.startsWith('sc-set-gpt')) {
    const c = counterArgs(word, 'sc-set-gpt', what)
    if (args.length !== 1) throw new ValueError(`${what} expects one value (an integer or a sample expression)`)
    const text = args[0] as string
    const value = /^[-+]?\d+$/.test(text) ? Number(text) : sampleExpr(text, what)
    return { type: 'sc-set-gpt', ...c, value }
  }
  return undefined
}

/** Every stick table by the name rules use: the proxy's name, or `PEERS/TABLE` for a peers section's tables. */
export function tableNames (config: Config): Set<string> {
  const names = new Set(config.proxies.filter(p => p.stickTable !== undefined).map(p => p.name))
  for (const ps of config.peers) for (const t of ps.tables) names.add(`${ps.name}/${t.name}`)
  return names
}

interface Walk {
  readonly proxy: Proxy
  readonly tables: ReadonlySet<string>
  readonly diag: Diagnostics
}

/** The table argument at `i` of `args`: checked, or filled with the proxy's own table when left out. */
function tableArg (args: string[], i: number, name: string, w: Walk, loc: Location): void {
  const given = args[i]
  if (given === undefined || given === '') {
    if (!w.tables.has(w.proxy.name)) {
      w.diag.error(loc, `'${name}': proxy '${w.proxy.name}' has no stick-table (name one as the table argument)`)
      return
    }
    args[i] = w.proxy.name
    return
  }
  if (!w.tables.has(given)) w.diag.error(loc, `'${name}': unable to find table '${given}'`)
}

function intArg (args: readonly string[], i: number, name: string, w: Walk, loc: Location, max: number): boolean {
  const a = args[i]
  if (a !== undefined && /^\d+$/.test(a) && Number(a) < max) return true
  w.diag.error(loc, `'${name}': argument ${i + 1} must be an integer below ${max}, got '${a ?? ''}'`)
  return false
}

function checkFetch (fetch: string, args: string[], w: Walk, loc: Location): void {
  if (TABLE_FETCHES.includes(fetch)) {
    if (args.length > 1) w.diag.error(loc, `'${fetch}' takes at most one argument (a table)`)
    else tableArg(args, 0, fetch, w, loc)
    return
  }
  const c = counterFetch(fetch)
  if (c === undefined) return
  let i = 0
  if (c.indexed && !intArg(args, i++, fetch, w, loc, MAX_ARRAY)) return
  if (c.form === 'sc' && !intArg(args, i++, fetch, w, loc, STICK_COUNTER_SLOTS)) return
  if (args.length > i + 1) {
    w.diag.error(loc, `'${fetch}' takes at most ${i + 1} argument(s)`)
    return
  }
  // sc_*/scN_*: without a table, the tracked counter's own table.
  if (c.form === 'src' || args[i] !== undefined) tableArg(args, i, fetch, w, loc)
}

function checkConverter (call: ConverterCall, w: Walk, loc: Location): void {
  const t = TABLE_CONVERTERS[call.name]
  if (t === undefined) return
  tableArg(call.args, t.indexed ? 1 : 0, call.name, w, loc)
}

/** Every sample of `value`: ACLs (`fetch`, `fetchArgs`) and expressions (`fetch`, `args`), with their converters. */
function walk (value: unknown, loc: Location, w: Walk): void {
  if (Array.isArray(value)) {
    for (const v of value) walk(v, loc, w)
    return
  }
  if (typeof value !== 'object' || value === null) return
  const o = value as Record<string, unknown>
  const here = typeof o.loc === 'object' && o.loc !== null ? o.loc as Location : loc
  if (typeof o.fetch === 'string') {
    const args = Array.isArray(o.fetchArgs) ? o.fetchArgs as string[] : Array.isArray(o.args) ? o.args as string[]
      : undefined
    if (args !== undefined) checkFetch(o.fetch, args, w, here)
  }
  if (Array.isArray(o.converters)) for (const c of o.converters as ConverterCall[]) checkConverter(c, w, here)
  for (const [k, v] of Object.entries(o)) if (k !== 'converters' && k !== 'loc') walk(v, here, w)
}

/** Checks the tables the stick-counter samples and actions of every proxy name; fills the implicit ones. */
export function resolveStickCounters (config: Config, diag: Diagnostics): void {
  const tables = tableNames(config)
  for (const proxy of config.proxies) {
    const w = { proxy, tables, diag }
    walk([proxy.acls, proxy.httpRules, proxy.tcpRules, proxy.useBackends, proxy.monitorFail], proxy.loc, w)
    for (const r of [...proxy.httpRules, ...proxy.tcpRules]) {
      if (r.spec?.type !== 'track-sc') continue
      const name = r.spec.table ?? proxy.name
      if (!tables.has(name)) diag.error(r.loc, `unable to find table '${name}' referenced by track-sc${r.spec.slot}`)
    }
  }
}
