/**
 * Reports what a configuration uses that the proxy does not do (statuses in `enforcement.ts`):
 * a warning each, or an error for an access-control construct, and for anything a rule that
 * admits or stops traffic depends on (an ACL over a fetch that yields nothing would make
 * `deny if …` never fire and `allow unless …` always fire).
 */
import type { Diagnostics } from './context.ts'
import type { AclDefinition, Condition, Config, HttpRule, Location, Proxy } from './model.ts'
import { ACL_FLAGS, type Entry, FETCHES, HTTP_AFTER_RESPONSE_ACTIONS, HTTP_REQUEST_ACTIONS, HTTP_RESPONSE_ACTIONS,
  MATCH_METHODS,
  LAYER4_FETCHES, LAYER4_PREDEFINED, notEnforcedMessage, PREDEFINED_ACLS, refusedMessage, supportedPasswordHash,
    TCP_INSPECT_DELAY,
  TCP_REQUEST_ACTIONS } from './enforcement.ts'
import { parseFetch } from './acl.ts'
import { HELLO_FETCHES, inspectDelay, INSPECT_FETCHES, PAYLOAD_FETCHES } from './tls-fetches.ts'
import { ValueError } from './errors.ts'
import { counterMatch } from './counter-fetches.ts'

interface Use {
  readonly what: string
  readonly entry: Entry
}

/** The registry entry of a rule's action, and how it is named in messages. */
export function ruleEntry (rule: HttpRule, keyword: 'http' | 'tcp'): Use | undefined {
  if (keyword === 'tcp') {
    if (rule.action === 'inspect-delay') return { what: 'tcp-request inspect-delay', entry: TCP_INSPECT_DELAY }
    const [where, action] = rule.action.split(' ') as [string, string]
    const entry = TCP_REQUEST_ACTIONS[action]
    return entry === undefined ? undefined : { what: `tcp-request ${where} ${action}`, entry }
  }
  const table = rule.phase === 'request' ? HTTP_REQUEST_ACTIONS : rule.phase === 'response' ? HTTP_RESPONSE_ACTIONS
    : HTTP_AFTER_RESPONSE_ACTIONS
  const entry = table[rule.action]
  return entry === undefined ? undefined : { what: `http-${rule.phase} ${rule.action}`, entry }
}

/**
 * What an ACL uses that is not enforced. `inspected`: in a `mode tcp` proxy's content rules or routing while it waits
 * for the first bytes (`tcp-request inspect-delay`), where `req.len` and `req.payload` have their values.
 */
function aclGaps (acl: AclDefinition, inspected: boolean): Use[] {
  const gaps: Use[] = []
  const fetch = FETCHES[acl.fetch]
  if (fetch !== undefined && fetch.status !== 'enforced' && !(inspected && acl.fetch in PAYLOAD_FETCHES)) {
    gaps.push({ what: acl.fetch, entry: fetch })
  }
  const method = acl.flags.match === undefined ? undefined : MATCH_METHODS[acl.flags.match]
  if (method !== undefined && method.status !== 'enforced') gaps.push({ what: `-m ${acl.flags.match ?? ''}`,
    entry: method })
  const files = ACL_FLAGS['-f'] as Entry
  if (acl.flags.files.length > 0 && files.status !== 'enforced') gaps.push({ what: 'acl -f', entry: files })
  for (const flag of acl.flags.ignoredFlags ?? []) {
    const entry = ACL_FLAGS[flag]
    if (entry !== undefined && entry.status !== 'enforced') gaps.push({ what: `acl ${flag}`, entry })
  }
  return gaps
}

class Reporter {
  private readonly seen = new Set<string>()
  private readonly diag: Diagnostics

  constructor (diag: Diagnostics) {
    this.diag = diag
  }

  /** `guarded`: a rule that admits or stops traffic depends on it. */
  report (loc: Location, use: Use, guarded: boolean, dependant?: string): void {
    const error = use.entry.guard === true || guarded
    const because = dependant !== undefined && use.entry.guard !== true ? ` (${dependant} depends on it)` : ''
    const message = error ? refusedMessage(use.what) + because : notEnforcedMessage(use.what)
    const key = `${loc.file}:${loc.line}:${use.what}`
    if (this.seen.has(key)) return
    this.seen.add(key)
    if (error) this.diag.error(loc, message)
    else this.diag.warn(loc, message)
  }
}

function checkCondition (p: Proxy, cond: Condition | undefined, loc: Location, out: Reporter,
  dependant: string | undefined, inspected = false): void {
  if (cond === undefined) return
  const guarded = dependant !== undefined
  for (const term of cond.terms.flat()) {
    if (typeof term.acl !== 'string') {
      for (const g of aclGaps(term.acl, inspected)) out.report(loc, g, guarded, dependant)
      continue
    }
    const predefined = PREDEFINED_ACLS[term.acl]
    const named = p.acls.filter(a => a.name === term.acl)
    if (named.length === 0 && predefined !== undefined && predefined.status !== 'enforced') {
      out.report(loc, { what: term.acl, entry: predefined }, guarded, dependant)
    }
    for (const a of named) for (const g of aclGaps(a, inspected)) out.report(a.loc, g, guarded, dependant)
  }
}

/** Fetches and predefined ACLs of a condition that are not known at accept time. */
function layer7Uses (p: Proxy, cond: Condition | undefined): string[] {
  const found: string[] = []
  for (const term of cond?.terms.flat() ?? []) {
    const defs = typeof term.acl === 'string' ? p.acls.filter(a => a.name === term.acl) : [term.acl]
    if (typeof term.acl === 'string' && defs.length === 0 && !LAYER4_PREDEFINED.has(term.acl)) found.push(term.acl)
    for (const a of defs) if (!layer4(a.fetch)) found.push(a.fetch)
  }
  return found
}

/** Fetches of the response: nothing to read before one. */
const RESPONSE_FETCHES: ReadonlySet<string> = new Set(['status', 'res.hdr', 'res.fhdr', 'res.hdr_cnt', 'shdr',
  'res.cook', 'scook'])

/** Known when a connection is accepted: the addresses, and the stick counters (read from the tables). */
function layer4 (fetch: string): boolean {
  return LAYER4_FETCHES.has(fetch) || counterMatch(fetch) !== undefined
}

/** The samples a `tcp-request` action itself reads (the key of `track-sc`, the value of `sc-set-gpt`). */
function actionSamples (rule: HttpRule): string[] {
  const spec = rule.spec
  if (spec?.type === 'track-sc') return [spec.key.fetch]
  if (spec?.type === 'sc-set-gpt' && typeof spec.value !== 'number') return [spec.value.fetch]
  return []
}

/** `tcp-request` rules are run by frontends at accept time: elsewhere, or over layer-7 fetches, they are refused. */
function checkTcpRule (p: Proxy, rule: HttpRule, use: Use, out: Reporter): void {
  if (use.entry.status !== 'enforced' || rule.action === 'inspect-delay') return
  if (p.kind === 'backend') {
    out.report(rule.loc, { what: `${use.what} in a backend`, entry: { status: 'not-enforced', guard: true } }, true)
    return
  }
  // A proxy that waits for the ClientHello runs its content rules once it is there: req.ssl_* are known then.
  const content = rule.action.startsWith('content ')
  const hello = inspectDelay(p) !== undefined && content
  // In mode http the content rules run on each request, whose fetches they read (not the response's, nor the raw
  // bytes: the request is parsed).
  const request = content && p.mode === 'http'
  const uses = [...layer7Uses(p, rule.cond), ...actionSamples(rule).filter(f => !layer4(f))]
  const ofRequest = (f: string): boolean => !RESPONSE_FETCHES.has(f) && !(f in HELLO_FETCHES) && !(f in PAYLOAD_FETCHES)
  for (const f of uses.filter(f => !(hello && f in INSPECT_FETCHES) && !(request && ofRequest(f)))) {
    out.report(rule.loc, { what: `${use.what} over ${f}`, entry: { status: 'not-enforced', guard: true } }, true)
  }
}

function checkProxy (p: Proxy, out: Reporter): void {
  const inspects = inspectDelay(p) !== undefined
  const rules = [
    ...p.tcpRules.map(r => ({ rule: r, use: ruleEntry(r, 'tcp') })),
    ...p.httpRules.map(r => ({ rule: r, use: ruleEntry(r, 'http') }))
  ]
  for (const r of p.tcpRules) {
    const use = ruleEntry(r, 'tcp')
    if (use !== undefined) checkTcpRule(p, r, use, out)
  }
  for (const { rule, use } of rules) {
    if (use === undefined) continue
    const waits = rule.action === 'inspect-delay' && inspectDelay(p) !== undefined
    if (use.entry.status !== 'enforced' && !waits) out.report(rule.loc, use, false)
    // A refused rule is reported once; what an enforced guard depends on must be enforced too.
    const guard = use.entry.guard === true && use.entry.status === 'enforced'
    checkCondition(p, rule.cond, rule.loc, out, guard ? `'${use.what}' at line ${rule.loc.line}` : undefined,
      inspects && rule.action.startsWith('content '))
  }
  for (const u of p.useBackends) {
    checkCondition(p, u.cond, u.loc, out, undefined, inspects)
  }
  for (const r of p.stickRules) {
    checkCondition(p, r.cond, r.loc, out, undefined)
    try {
      const fetch = parseFetch(r.pattern, false)
      const entry = FETCHES[fetch.fetch]
      if (entry !== undefined && entry.status !== 'enforced') out.report(r.loc, { what: fetch.fetch, entry }, false)
    } catch (err) {
      if (!(err instanceof ValueError)) throw err
    }
  }
  for (const c of p.monitorFail) checkCondition(p, c, p.loc, out, undefined)
  // Declared but unused ACLs are reported too: nothing accepted silently.
  for (const a of p.acls) for (const g of aclGaps(a, inspects)) out.report(a.loc, g, false)
}

export function checkEnforcement (config: Config, diag: Diagnostics): void {
  const out = new Reporter(diag)
  for (const p of config.proxies) checkProxy(p, out)
  // A hash tslb cannot check would refuse that user forever: said at load instead.
  for (const u of config.userlists) {
    for (const user of u.users) {
      if (!user.insecure && !supportedPasswordHash(user.password)) diag.error(u.loc,
        `userlist '${u.name}' user '${user.name}': this password hash format is not supported (use a SHA-crypt ` +
          "'$5$' or '$6$' hash, e.g. from 'mkpasswd -m sha-512', or insecure-password)")
    }
  }
}
