/**
 * Rules in named `defaults` sections (HAProxy 2.5+): `acl`, `http-request`, `http-response`,
 * `http-after-response` and `tcp-request` there are evaluated before the rules of each proxy
 * that uses the section, as one list (an `allow` among them ends the proxy's rules too). They
 * are copied in front of the proxy's own, their ACLs under `DEFAULTS/NAME` so that neither side
 * sees the other's (HAProxy: "ACLs defined in a defaults section are not visible from other
 * sections using it").
 */
import { ValueError } from './errors.ts'
import { PREDEFINED_ACLS } from './acl.ts'
import type { AclTerm, Condition, HttpRule, Proxy } from './model.ts'

/** Keywords a named `defaults` section may hold for the proxies using it. */
export const DEFAULTS_RULE_KEYWORDS: ReadonlySet<string> = new Set(['acl', 'http-request', 'http-response',
  'http-after-response', 'tcp-request'])

export function hasRules (d: Proxy): boolean {
  return d.httpRules.length > 0 || d.tcpRules.length > 0
}

function renameCondition (cond: Condition | undefined, rename: (name: string) => string): Condition | undefined {
  if (cond === undefined) return undefined
  const term = (t: AclTerm): AclTerm => typeof t.acl === 'string' ? { ...t, acl: rename(t.acl) } : t
  return { ...cond, terms: cond.terms.map(and => and.map(term)) }
}

/** Which capability first used each defaults section holding rules: a frontend's and a backend's may not share one. */
const usedBy = new WeakMap<Proxy, { kind: 'frontend' | 'backend', name: string }>()

/**
 * Copies the rules of `defaults` (if it has any) in front of `proxy`'s, which is empty yet. Throws
 * for a listen, and for a section already used by a proxy of the other capability.
 */
export function inheritDefaultsRules (proxy: Proxy, defaults: Proxy | undefined): void {
  if (defaults === undefined || !hasRules(defaults)) return
  const label = `defaults section '${defaults.name}'`
  if (proxy.kind === 'defaults') throw new ValueError(`${label} holds rules: another defaults section cannot be ` +
    'made from it')
  if (proxy.kind === 'listen') throw new ValueError(
    `listen '${proxy.name}' cannot use ${label}: it holds rules, which ` +
    'a section with both frontend and backend capabilities may not inherit')
  const first = usedBy.get(defaults)
  if (first !== undefined && first.kind !== proxy.kind) throw new ValueError(`${proxy.kind} '${proxy.name}' cannot ` +
    `use ${label}: it holds rules and ${first.kind} '${first.name}' uses it already (one defaults section with rules ` +
    'serves frontends or backends, not both)')
  if (first === undefined) usedBy.set(defaults, { kind: proxy.kind, name: proxy.name })
  const early = defaults.tcpRules.find(r => r.action.startsWith('connection ') || r.action.startsWith('session '))
  if (proxy.kind === 'backend' && early !== undefined) throw new ValueError(`backend '${proxy.name}' cannot use ` +
    `${label}: its 'tcp-request ${early.action.split(' ')[0] ?? ''}' rules apply to frontends only`)
  const own = new Set(defaults.acls.map(a => a.name))
  const rename = (name: string): string => own.has(name) && !PREDEFINED_ACLS.has(name) ? `${defaults.name}/${name}`
    : name
  const copy = (r: HttpRule): HttpRule => ({ ...r, cond: renameCondition(r.cond, rename) })
  proxy.acls.push(...defaults.acls.map(a => ({ ...a, name: rename(a.name) })))
  proxy.httpRules.push(...defaults.httpRules.map(copy))
  proxy.tcpRules.push(...defaults.tcpRules.map(copy))
}
