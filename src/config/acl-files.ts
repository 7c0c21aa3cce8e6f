/**
 * `acl … -f FILE`: the patterns of each file, read once at load and appended to the ACL's values
 * (one pattern per line; leading blanks, empty lines and `#` comments skipped, as HAProxy reads
 * them). Problems are reported at the ACL's line.
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { Diagnostics } from './context.ts'
import type { AclDefinition, Condition, Config, ConverterCall, HttpRule, Location, ReplySpec } from './model.ts'
import { parseFormat } from './rule-actions.ts'
import { ValueError } from './errors.ts'

export type FileReader = (path: string) => string

export function readPatterns (text: string): string[] {
  const out: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').replace(/^[ \t]+/, '')
    if (line === '' || line.startsWith('#')) continue
    out.push(line)
  }
  return out
}

function invalidPattern (acl: AclDefinition, p: string): string | undefined {
  const match = acl.flags.match ?? (acl.fetch === 'src' || acl.fetch === 'dst' ? 'ip' : undefined)
  if (match === 'reg') {
    try { new RegExp(p) } catch { return 'an invalid regular expression' }
  }
  if (match === 'ip') {
    const [addr, len] = p.split('/')
    const family = isIP(addr ?? '')
    if (family === 0) return 'not an IP address or network'
    const max = family === 4 ? 32 : 128
    if (len !== undefined && isIP(len) !== 4 && !(/^\d+$/.test(len) && Number(len) <= max)) return 'a bad prefix length'
  }
  return undefined
}

function load (acl: AclDefinition, diag: Diagnostics, read: FileReader, done: Set<AclDefinition>): void {
  if (acl.flags.files.length === 0 || done.has(acl)) return
  done.add(acl)
  for (const file of acl.flags.files) {
    let text: string
    try {
      text = read(file)
    } catch (err) {
      diag.error(acl.loc,
        `ACL '${acl.name}': cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
      continue
    }
    // -M: the file is a map; its keys are the patterns.
    const asMap = acl.flags.ignoredFlags?.includes('-M') === true
    const fileValues: string[] = []
    for (const line of readPatterns(text)) {
      const p = asMap ? line.split(/[ \t]+/)[0] as string : line
      const bad = invalidPattern(acl, p)
      if (bad !== undefined) diag.error(acl.loc, `ACL '${acl.name}': '${p}' in '${file}' is ${bad}`)
      else { acl.values.push(p); fileValues.push(p) }
    }
    acl.filePatterns = [...(acl.filePatterns ?? []), { file, values: fileValues }]
  }
}

function anonymous (cond: Condition | undefined): AclDefinition[] {
  return (cond?.terms.flat() ?? []).flatMap(t => typeof t.acl === 'string' ? [] : [t.acl])
}

/** `map*` converter files: `KEY VALUE` lines (the value is the rest of the line). */
function loadMap (call: ConverterCall, loc: Location, diag: Diagnostics, read: FileReader): void {
  if (!call.name.startsWith('map') || call.entries !== undefined) return
  const file = call.args[0] ?? ''
  let text: string
  try {
    text = read(file)
  } catch (err) {
    diag.error(loc, `converter '${call.name}': cannot read '${file}': ${(err as NodeJS.ErrnoException).code ??
      String(err)}`)
    call.entries = []
    return
  }
  call.entries = readPatterns(text).map(line => {
    const m = /^(\S+)[ \t]*(.*)$/.exec(line) as RegExpExecArray
    return [m[1] as string, (m[2] as string).replace(/[ \t]+$/, '')]
  })
  if (call.name === 'map_reg' || call.name === 'map_regm') {
    for (const [k] of call.entries) {
      try { new RegExp(k) } catch { diag.error(loc, `converter 'map_reg': '${k}' in '${file}' is an invalid regex`) }
    }
  }
}

/** Every converter call under `value` (rule specs, ACLs), with the location of what holds it. */
export function eachConverter (value: unknown, loc: Location, fn: (c: ConverterCall, loc: Location) => void): void {
  if (Array.isArray(value)) { for (const v of value) eachConverter(v, loc, fn); return }
  if (value === null || typeof value !== 'object') return
  const o = value as Record<string, unknown>
  const here = typeof o.loc === 'object' && o.loc !== null ? o.loc as Location : loc
  if (Array.isArray(o.converters)) for (const c of o.converters as ConverterCall[]) fn(c, here)
  for (const [k, v] of Object.entries(o)) if (k !== 'converters' && k !== 'loc') eachConverter(v, here, fn)
}

/** `return`/`deny` bodies given as `file` / `lf-file`: read at load into `string` / `lf-string`. */
function loadReplyFiles (rule: HttpRule, diag: Diagnostics, read: FileReader): void {
  const spec = rule.spec as { reply?: ReplySpec } | undefined
  const body = spec?.reply?.body
  if (spec?.reply === undefined || body === undefined || (body.kind !== 'file' && body.kind !== 'lf-file')) return
  let text: string
  try {
    text = read(body.path)
  } catch (err) {
    diag.error(rule.loc, `'${body.kind} ${body.path}': cannot read it: ${(err as NodeJS.ErrnoException).code ??
      String(err)}`)
    return
  }
  let loaded: ReplySpec['body']
  try {
    loaded = body.kind === 'file' ? { kind: 'string', text } : { kind: 'lf-string', format: parseFormat(text,
      `'lf-file ${body.path}'`, true) }
  } catch (err) {
    if (!(err instanceof ValueError)) throw err
    diag.error(rule.loc, err.message)
    return
  }
  spec.reply = { ...spec.reply, body: loaded, ...(text === '' ? { contentType: undefined } : {}) }
}

/** Reads the `-f` files of every ACL, named or anonymous, and the files of `map*` converters. */
export function loadAclFiles (config: Config, diag: Diagnostics, read: FileReader = f => readFileSync(f, 'utf8')):
  void {
  const done = new Set<AclDefinition>()
  for (const p of config.proxies) {
    const conds = [...p.useBackends.map(u => u.cond), ...p.httpRules.map(r => r.cond), ...p.tcpRules.map(r => r.cond),
      ...p.stickRules.map(r => r.cond), ...p.monitorFail, p.stats.adminCond]
    for (const acl of [...p.acls, ...conds.flatMap(anonymous)]) load(acl, diag, read, done)
    for (const r of p.httpRules) loadReplyFiles(r, diag, read)
    eachConverter([p.acls, p.httpRules, p.tcpRules, p.useBackends, p.stickRules, p.monitorFail], p.loc,
      (c, loc) => { loadMap(c, loc, diag, read) })
  }
}
