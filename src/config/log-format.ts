/**
 * HAProxy's custom log format strings (`log-format`, `unique-id-format`; configuration.txt
 * §8.2.6), parsed once at load into nodes: text, a separator (a run of spaces, merged into one),
 * `%VAR` with optional `%{+Q,-X,...}` flags, and `%[sample expression]`.
 */
import { parseSampleChain } from './acl.ts'
import { ValueError } from './errors.ts'
import type { SampleExpr } from './model.ts'

export interface LogFormatFlags {
  /** +Q: the value in double quotes. */
  readonly quote: boolean
  /** +X: addresses, ports and counters in hexadecimal. */
  readonly hex: boolean
  /** +E: `"`, `\` and `]` escaped with a backslash (RFC 5424 structured data). */
  readonly escape: boolean
}

export type LogFormatNode =
  | { readonly kind: 'text', readonly text: string }
  | { readonly kind: 'separator' }
  | { readonly kind: 'var', readonly name: string, readonly flags: LogFormatFlags }
  | { readonly kind: 'sample', readonly expr: SampleExpr, readonly flags: LogFormatFlags }

/** The variables tslb knows, `true` for those of HTTP mode only. */
export const LOG_FORMAT_VARIABLES: Readonly<Record<string, boolean>> = {
  B: false, CC: true, CS: true, H: false, HM: true, HP: true, HPO: true, HQ: true, HU: true, HV: true, ID: false,
  ST: false, T: false, Ta: true, Tc: false, Td: false, Tl: false, Th: false, Ti: true, Tq: true, TR: true, Tr: true,
  Ts: false, Tt: false, Tu: false, Tw: false, U: false, ac: false, b: false, bc: false, bi: false, bp: false, bq: false,
  ci: false, cp: false, f: false, fc: false, fi: false, fp: false, ft: false, lc: false, hr: false, hrl: false,
  hs: false, hsl: false, ms: false, pid: false, r: true, rc: false, rt: false, s: false, sc: false, si: false,
  sp: false, sq: false, sslc: false, sslv: false, t: false, tr: true, trg: true, trl: true, ts: false, tsc: true
}

const REQUEST_HEADERS = ['path', 'pathq', 'url', 'base', 'query', 'method', 'hdr', 'req.hdr', 'req.fhdr', 'hdr_val',
  'hdr_ip', 'req.hdr_ip', 'hdr_cnt', 'req.hdr_cnt', 'req.cook', 'cook', 'req.cook_cnt', 'cook_cnt', 'req.cook_val',
  'cook_val', 'url_param', 'urlp', 'req.ver', 'req_ver', 'http_auth', 'http_auth_group', 'req.body_param']
const RESPONSE_HEADERS = ['res.hdr', 'res.fhdr', 'res.hdr_cnt', 'shdr', 'res.cook', 'scook', 'status']
const REQUEST_CONTENTS = ['req.len', 'req_len', 'req.payload']

/** What a fetch needs that is gone once the session ends (a log line is written then). */
const GONE_AT_LOG_TIME: ReadonlyMap<string, string> = new Map([
  ...REQUEST_HEADERS.map(f => [f, 'HTTP request headers'] as const),
  ...RESPONSE_HEADERS.map(f => [f, 'HTTP response headers'] as const),
  ...REQUEST_CONTENTS.map(f => [f, 'request buffer contents'] as const)
])

const NO_FLAGS: LogFormatFlags = { quote: false, hex: false, escape: false }

function applyFlags (base: LogFormatFlags, arg: string, where: string): LogFormatFlags {
  let flags = base
  for (const item of arg.split(',')) {
    if (item === '') continue
    const m = /^([+-])([MQXE])$/.exec(item)
    if (m === null) throw new ValueError(`${where}: unknown log-format flag '${item}' (+Q, +X, +E, +M, with + or -)`)
    const on = m[1] === '+'
    if (m[2] === 'Q') flags = { ...flags, quote: on }
    else if (m[2] === 'X') flags = { ...flags, hex: on }
    else if (m[2] === 'E') flags = { ...flags, escape: on }
  }
  return flags
}

/** `%[expr]`: the expression ends at the `]` outside parentheses and quotes. */
function sampleEnd (text: string, start: number): number {
  let depth = 0
  let quote = ''
  for (let i = start; i < text.length; i++) {
    const c = text[i]
    if (quote !== '') { if (c === quote) quote = ''; continue }
    if (c === "'" || c === '"') quote = c
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === ']' && depth === 0) return i
  }
  return -1
}

/**
 * Parses `text` for a proxy in `mode`. `where` names the keyword in error messages. HTTP-only
 * variables in a tcp-mode proxy are an error, as in HAProxy; so is a `%[…]` over the request or
 * response in a log line (`atLogTime`), which is written once they are gone (a unique id is made
 * while the request is there).
 */
export function parseLogFormat (text: string, mode: 'http' | 'tcp', where: string, atLogTime = true): LogFormatNode[] {
  const nodes: LogFormatNode[] = []
  let defaults = NO_FLAGS
  let buf = ''
  const flush = (): void => { if (buf !== '') nodes.push({ kind: 'text', text: buf }); buf = '' }
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (c === ' ') {
      flush()
      while (text[i + 1] === ' ') i++
      nodes.push({ kind: 'separator' })
      continue
    }
    if (c !== '%') { buf += c; continue }
    if (text[i + 1] === '%') { buf += '%'; i++; continue }
    let j = i + 1
    let flags = defaults
    if (text[j] === '{') {
      const close = text.indexOf('}', j)
      if (close < 0) throw new ValueError(`${where}: missing '}' after '%{' in '${text}'`)
      flags = applyFlags(defaults, text.slice(j + 1, close), where)
      j = close + 1
    }
    if (text[j] === '[') {
      const end = sampleEnd(text, j + 1)
      if (end < 0) throw new ValueError(`${where}: missing ']' after '%[' in '${text}'`)
      const chain = parseWithContext(text.slice(j + 1, end), where)
      const gone = atLogTime ? GONE_AT_LOG_TIME.get(chain.fetch) : undefined
      if (gone !== undefined) throw new ValueError(`${where}: sample fetch <${text.slice(j + 1, end)}> may not be ` +
        `reliably used here because it needs '${gone}' which is not available here`)
      flush()
      nodes.push({ kind: 'sample', expr: chain, flags })
      i = end
      continue
    }
    let k = j
    while (k < text.length && /[A-Za-z0-9]/.test(text[k] as string)) k++
    const name = text.slice(j, k)
    if (name === '') throw new ValueError(`${where}: unexpected character after '%' at position ${i} of '${text}'; ` +
      "write '%%' for a '%'")
    if (name === 'o') { defaults = flags; i = k - 1; continue }
    const httpOnly = LOG_FORMAT_VARIABLES[name]
    if (httpOnly === undefined) throw new ValueError(`${where}: no such format variable '${name}'. If you wanted to ` +
      "emit the '%' character verbatim, you need to use '%%'")
    if (httpOnly && mode !== 'http') throw new ValueError(
      `${where}: format variable '${name}' is reserved for HTTP mode`)
    flush()
    nodes.push({ kind: 'var', name, flags })
    i = k - 1
  }
  flush()
  return nodes
}

function parseWithContext (text: string, where: string): SampleExpr {
  try {
    const f = parseSampleChain(text, false)
    return { fetch: f.fetch, args: f.args, ...(f.converters.length > 0 ? { converters: f.converters } : {}) }
  } catch (err) {
    if (err instanceof ValueError) throw new ValueError(`${where}: ${err.message}`)
    throw err
  }
}
