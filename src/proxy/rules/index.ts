/**
 * The rule engine's entry: each proxy's rules compiled once per configuration load
 * (`prepareRules`, called by the engine), looked up by the sessions per request.
 */
import type { Config, HttpRule, Proxy } from '../../config/model.ts'
import { HTTP_REQUEST_ACTIONS, HTTP_RESPONSE_ACTIONS } from '../../config/enforcement.ts'
import { compileHttpRules, type HttpRuleSet } from './http-rules.ts'
import { setUserlists } from './userlists.ts'
import { compileAcl, type Predicate } from '../acl/matcher.ts'

export { runRules, type RuleTarget, type Verdict } from './http-rules.ts'

const compiled = new WeakMap<Proxy, HttpRuleSet>()
const forwardFor = new WeakMap<Proxy, Predicate | undefined>()

/** `option forwardfor except NET` of `proxy`, compiled once. */
export function forwardForExcept (proxy: Proxy): Predicate | undefined {
  if (forwardFor.has(proxy)) return forwardFor.get(proxy)
  const except = proxy.forwardFor?.except
  const p = except === undefined ? undefined : compileAcl({ name: 'forwardfor-except', fetch: 'src', fetchArgs: [],
    flags: { ignoreCase: false, files: [], noDns: false }, values: [except], loc: proxy.loc })
  forwardFor.set(proxy, p)
  return p
}

function enforced (r: HttpRule): boolean {
  const table = r.phase === 'request' ? HTTP_REQUEST_ACTIONS : HTTP_RESPONSE_ACTIONS
  return table[r.action]?.status === 'enforced'
}

/** The proxy's compiled rules (compiled on first use when `prepareRules` did not see the proxy). */
export function rulesOf (proxy: Proxy): HttpRuleSet {
  let r = compiled.get(proxy)
  if (r === undefined) {
    r = compileHttpRules(proxy, enforced)
    compiled.set(proxy, r)
  }
  return r
}

/** Compiles every proxy's rules and installs the userlists: once per configuration load. */
export function prepareRules (config: Config): void {
  setUserlists(config.userlists)
  for (const p of config.proxies) {
    rulesOf(p)
    forwardForExcept(p)
  }
}
