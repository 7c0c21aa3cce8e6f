/**
 * The runtime API's stick-table commands, with HAProxy 2.6's exact output
 * (`cli_parse_table_req()`, `table_process_entry_per_key()`, `cli_io_handler_table()`,
 * `table_dump_head_to_buffer()`, `table_dump_entry_to_buffer()` in src/stick_table.c), checked
 * against captures of a real HAProxy 2.6.12 (test/unit/stick/fixtures/haproxy-2.6-cli.json):
 *
 *   show table                        one header line per table
 *   show table NAME [data.TYPE OP VALUE]{0..4} | [key KEY]
 *   clear table NAME [data.TYPE OP VALUE]{0..4} | [key KEY]
 *   set table NAME key KEY [data.TYPE VALUE]*
 *
 * Every function returns the command's output without the empty line the CLI adds after each
 * response (the stats socket appends it, as HAProxy's CLI does in non-interactive mode).
 *
 * One deliberate difference: HAProxy 2.6 runs `set table NAME` without a key as the table
 * walker with no filter, which deletes every entry (a bug: it behaves like `clear table NAME`);
 * tslb answers with the usage message instead and changes nothing.
 * @module
 */
import { stickDataType } from './data-types.ts'
import { inetaddrHost, parseIPv6, strl2llrc, strtoulKey } from './keys.ts'
import type { StickCounterName, StickEntry, StickRateName, StickTable, StoredDataType } from './table.ts'

export type CliAccessLevel = 'user' | 'operator' | 'admin'
export type FilterOperator = 'eq' | 'ne' | 'le' | 'lt' | 'ge' | 'gt'

/** `data.<type> <op> <value>`: compares element 0 of the stored value (rates: read at `now`; server_key: 0). */
export interface DataFilter {
  readonly stored: StoredDataType
  readonly op: FilterOperator
  readonly value: bigint
}

/** At most four filters, as HAProxy's STKTABLE_FILTER_LEN. */
export const MAX_DATA_FILTERS = 4

const OPS: readonly string[] = ['eq', 'ne', 'le', 'lt', 'ge', 'gt']

/** `# table: NAME, type: TYPE, size:SIZE, used:USED` and a newline. */
export function formatTableHeader (table: StickTable): string {
  return `# table: ${table.name}, type: ${table.type}, size:${table.capacity}, used:${table.size}\n`
}

/** One `show table` line: `PTR: key=K use=N exp=MS name=value...` and a newline; `use`: its trackers. */
export function formatTableEntry (table: StickTable, entry: StickEntry, now: number, use = 0): string {
  let out = `${entry.pointer}: key=${entry.keyText} use=${use} exp=${entry.expiresIn(now)}`
  for (const l of table.stored) {
    const t = l.type
    if (t.isArray) {
      // gpc_rate prints as gpc0_rate(period)=, gpt as gpt0=: index before the first '_'
      const us = t.name.indexOf('_')
      const pfx = us === -1 ? t.name : t.name.slice(0, us)
      const sfx = us === -1 ? '' : t.name.slice(us)
      for (let i = 0; i < l.count; i++) {
        out += t.std === 'frqp'
          ? ` ${pfx}${i}${sfx}(${l.period})=${entry.rate(t.name as StickRateName, now, i)}`
          : ` ${pfx}${i}${sfx}=${entry.get(t.name as StickCounterName, i)}`
      }
      continue
    }
    if (t.std === 'frqp') out += ` ${t.name}(${l.period})=${entry.rate(t.name as StickRateName, now)}`
    else if (t.std === 'dict') out += ` ${t.name}=${entry.serverKey ?? '-'}`
    else out += ` ${t.name}=${entry.get(t.name as StickCounterName)}`
  }
  return out + '\n'
}

/** The value a filter compares (HAProxy's `long long data`). */
function filterData (entry: StickEntry, l: StoredDataType, now: number): bigint {
  switch (l.type.std) {
    case 'frqp': return BigInt(entry.rate(l.type.name as StickRateName, now))
    case 'dict': return 0n
    default: return BigInt(entry.get(l.type.name as StickCounterName))
  }
}

/** Whether `entry` passes every filter. */
export function matchesFilters (entry: StickEntry, filters: readonly DataFilter[], now: number): boolean {
  for (const f of filters) {
    const data = filterData(entry, f.stored, now)
    const v = f.value
    const op = f.op
    if ((data < v && (op === 'eq' || op === 'gt' || op === 'ge')) ||
      (data === v && (op === 'ne' || op === 'gt' || op === 'lt')) ||
      (data > v && (op === 'eq' || op === 'lt' || op === 'le'))) return false
  }
  return true
}

/**
 * `show table NAME [filters]` for one table: the header, then the entries passing the filters
 * in key order (below operator level: the header and a line saying the contents are withheld).
 */
export function formatShowTable (table: StickTable, now: number, filters: readonly DataFilter[] = [],
  level: CliAccessLevel = 'admin'): string {
  let out = formatTableHeader(table)
  if (level === 'user') return out + '# contents not dumped due to insufficient privileges\n'
  for (const e of table.sortedEntries()) {
    if (matchesFilters(e, filters, now)) out += formatTableEntry(table, e, now)
  }
  return out
}

/**
 * Parses `data.TYPE OP VALUE` triplets starting at `words[0]` (the words after the table name),
 * as `table_prepare_data_request()`: the filters, or the error message HAProxy prints.
 */
export function parseDataFilters (table: StickTable, words: readonly string[]): DataFilter[] | string {
  const w = (i: number): string => words[i] ?? ''
  const filters: DataFilter[] = []
  let i = 0
  for (; i < MAX_DATA_FILTERS; i++) {
    if (i > 0 && w(3 * i) === '') break
    // HAProxy skips five characters without checking they are "data."
    const word = w(3 * i)
    const t = word.length >= 5 ? stickDataType(word.slice(5)) : undefined
    if (t === undefined) return `Filter entry #${i + 1}: Unknown data type\n`
    const stored = table.storedType(t.name)
    if (stored === undefined) return `Filter entry #${i + 1}: Data type not stored in this table\n`
    const op = w(3 * i + 1)
    if (!OPS.includes(
      op)) return `Filter entry #${i + 1}: Require and operator among "eq", "ne", "le", "ge", "lt", "gt"\n`
    const value = strl2llrc(w(3 * i + 2))
    if (value === undefined) return `Filter entry #${i + 1}: Require a valid integer value to compare against\n`
    filters.push({ stored, op: op as FilterOperator, value })
  }
  if (w(3 * i) !==
    '') return `Detected extra data in filter, ${3 * i + 3 + 1}th word of input, after '${w(3 * i - 1)}'\n`
  return filters
}

export interface TableCommandContext {
  /** Every table, in configuration order (`show table` lists them in reverse, as HAProxy 2.6 does). */
  readonly tables: readonly StickTable[]
  /** The socket's `level`. */
  readonly level: CliAccessLevel
  /** The tables' clock (ms). */
  readonly now: number
  /** How many stick counters track an entry (`use=`, HAProxy's ref_cnt); 0 when not given. */
  readonly uses?: (table: StickTable, entry: StickEntry) => number
}

export type TableAction = 'show' | 'clear' | 'set'

const USAGE: Readonly<Record<TableAction, string>> = {
  show: 'Optional argument only supports "data.<store_data_type>" <operator> <value> and key <key>\n',
  clear: 'Required arguments: <table> "data.<store_data_type>" <operator> <value> or <table> key <key>\n',
  set: 'Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n'
}

/**
 * Runs `show table`, `clear table` or `set table`; `args` are the words after "table". Returns
 * the output (see the module comment about the final empty line). `clear` and `set` change the
 * tables; `show` of a table also removes the expired entries it walked over, as HAProxy does.
 */
export function runTableCommand (action: TableAction, args: readonly string[], ctx: TableCommandContext): string {
  const a = (i: number): string => args[i] ?? ''
  if (a(0) === '') {
    if (action !== 'show') return USAGE[action]
    return [...ctx.tables].reverse().map(formatTableHeader).join('')
  }
  const table = ctx.tables.find(t => t.name === a(0))
  if (table === undefined) return 'No such table\n'
  if (a(1) === 'key') return perKey(action, table, args, ctx)
  let filters: DataFilter[] = []
  if (a(1).startsWith('data.')) {
    if (action !== 'show' && action !==
      'clear') return 'content-based lookup is only supported with the "show" and "clear" actions\n'
    const parsed = parseDataFilters(table, args.slice(1))
    if (typeof parsed === 'string') return parsed
    filters = parsed
  } else if (a(1) !== '') return USAGE[action]
  else if (action === 'set') return USAGE.set // HAProxy 2.6 would delete every entry here

  const opLevel = ctx.level !== 'user'
  if (action === 'show') {
    let out = formatTableHeader(table)
    if (!opLevel) return out + '# contents not dumped due to insufficient privileges\n'
    for (const e of table.sortedEntries()) {
      if (matchesFilters(e, filters, ctx.now)) out += formatTableEntry(table, e, ctx.now, ctx.uses?.(table, e))
    }
    table.expire(ctx.now)
    return out
  }
  if (opLevel) {
    // An entry a stick counter tracks stays (HAProxy's ref_cnt).
    for (const e of table.sortedEntries()) {
      if (matchesFilters(e, filters, ctx.now) && (ctx.uses?.(table, e) ?? 0) === 0) table.remove(e)
    }
  }
  return ''
}

function perKey (action: TableAction, table: StickTable, args: readonly string[], ctx: TableCommandContext): string {
  const a = (i: number): string => args[i] ?? ''
  const text = a(2)
  if (text === '') return 'Key value expected\n'
  let key: number | Uint8Array | string
  switch (table.type) {
    case 'ip':
      key = inetaddrHost(text)
      break
    case 'ipv6': {
      const b = parseIPv6(text)
      if (b === undefined) return 'Invalid key\n'
      key = b
      break
    }
    case 'integer': {
      const v = strtoulKey(text)
      if (v === undefined) return 'Invalid key\n'
      key = v
      break
    }
    case 'string':
      key = text
      break
    default:
      switch (action) {
        case 'show':
          return 'Showing keys from tables of type other than ip, ipv6, string and integer is not supported\n'
        case 'clear':
          return 'Removing keys from tables of type other than ip, ipv6, string and integer is not supported\n'
        case 'set':
          return 'Inserting keys into tables of type other than ip, ipv6, string and integer is not supported\n'
      }
  }
  if (ctx.level === 'user') return 'Permission denied\n'

  if (action === 'show') {
    const e = table.lookup(key)
    return e === undefined ? '' : formatTableHeader(table) + formatTableEntry(table, e, ctx.now, ctx.uses?.(table, e))
  }
  if (action === 'clear') {
    const e = table.lookup(key)
    if (e !== undefined && (ctx.uses?.(table, e) ?? 0) > 0) return 'Entry currently in use, cannot remove\n'
    if (e !== undefined) table.remove(e)
    return ''
  }
  const e = table.getOrCreate(key, ctx.now)
  if (e === undefined) return 'Unable to allocate a new entry\n'
  let out = ''
  for (let i = 3; a(i) !== ''; i += 2) {
    const word = a(i)
    if (!word.startsWith('data.')) { out = '"data.<type>" followed by a value expected\n'; break }
    const t = stickDataType(word.slice(5))
    if (t === undefined) { out = 'Unknown data type\n'; break }
    const l = table.storedType(t.name)
    if (l === undefined) { out = 'Data type not stored in this table\n'; break }
    const value = a(i + 1) === '' ? undefined : strl2llrc(a(i + 1))
    if (value === undefined) { out = 'Require a valid integer value to store\n'; break }
    switch (t.std) {
      case 'sint':
      case 'uint':
        e.set(t.name as StickCounterName, Number(BigInt.asUintN(32, value)))
        break
      case 'ull':
        e.set(t.name as StickCounterName, Number(BigInt.asUintN(64, value)))
        break
      case 'frqp':
        e.setRate(t.name as StickRateName, Number(BigInt.asUintN(32, value)), ctx.now)
        break
      case 'dict':
        break
    }
  }
  table.touchLocal(e, ctx.now)
  return out
}
