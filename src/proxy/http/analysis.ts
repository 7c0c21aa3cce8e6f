/**
 * Request and response analysis of `mode http` (HAProxy's http_ana.c): the frontend's
 * `http-request` rules, the switching rules (`use_backend`), then the backend's `http-request`
 * rules; on the way back the backend's `http-response` rules, then the frontend's. The rules
 * were compiled at load (`rules/index.ts`); this runs them on one transaction.
 */
import type { Backend } from '../backend.ts'
import type { RoutingFrontend } from '../frontend-context.ts'
import type { Proxy } from '../../config/model.ts'
import { rulesOf, runRules, type RuleTarget, type Verdict } from '../rules/index.ts'
import { defaultPage } from '../rules/reply.ts'

export type RequestOutcome =
  | { readonly kind: 'forward', readonly backend: Backend | undefined, readonly service: boolean }
  | Exclude<Verdict, { kind: 'allow' } | { kind: 'service' }>

function final (v: Verdict | undefined): v is Exclude<Verdict, { kind: 'allow' } | { kind: 'service' }> {
  return v !== undefined && v.kind !== 'allow' && v.kind !== 'service'
}

export function analyseRequest (fe: RoutingFrontend & { readonly config: Proxy }, t: RuleTarget): RequestOutcome {
  const first = runRules(rulesOf(fe.config).request, t)
  if (final(first)) return first
  if (first?.kind === 'service') return { kind: 'forward', backend: fe.route(t.sample), service: true }
  const backend = fe.route(t.sample)
  if (backend !== undefined && backend.config !== fe.config) {
    const second = runRules(rulesOf(backend.config).request, t)
    if (final(second)) return second
    if (second?.kind === 'service') return { kind: 'forward', backend, service: true }
  }
  return { kind: 'forward', backend, service: false }
}

const BAD_GATEWAY = defaultPage(502)

/** The response rules; a reply replaces the server's response (`http-response deny`: 502). */
export function analyseResponse (fe: Proxy, backend: Proxy, t: RuleTarget): Verdict | undefined {
  const proxies = backend === fe ? [fe] : [backend, fe]
  for (const p of proxies) {
    const v = runRules(rulesOf(p).response, t)
    if (v === undefined || v.kind === 'allow') continue
    if (v.kind === 'reply') return { ...v, termination: v.denied ? 'PH' : v.termination }
    if (v.kind === 'drop') return v
    return { kind: 'reply', bytes: BAD_GATEWAY, status: 502, denied: true, termination: 'PH' }
  }
  return undefined
}
