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
import { deleteHeaders } from '../rules/head-edit.ts'
import { parseResponseHead, serializeResponseHead } from './codec.ts'

export type RequestOutcome =
  | { readonly kind: 'forward', readonly backend: Backend | undefined, readonly service: boolean }
  /** `backend`: set when the backend's rules answered (its `http-after-response` rules apply too). */
  | (Exclude<Verdict, { kind: 'allow' } | { kind: 'service' }> & { readonly backend?: Backend })

function final (v: Verdict | undefined): v is Exclude<Verdict, { kind: 'allow' } | { kind: 'service' }> {
  return v !== undefined && v.kind !== 'allow' && v.kind !== 'service'
}

const FORBIDDEN: Verdict = { kind: 'reply', bytes: defaultPage(403), status: 403, denied: true, termination: 'PR' }
const PLAIN_NAME = /^[A-Za-z0-9-]+$/

/**
 * `option http-restrict-req-hdr-names`, after the proxy's own rules: header names outside
 * [A-Za-z0-9-] (`X_Forwarded-For`, which FastCGI and some servers read as `X-Forwarded-For`)
 * deleted, or the request refused with a 403.
 */
function restrictNames (p: Proxy, t: RuleTarget): Verdict | undefined {
  const policy = p.restrictHeaderNames
  if (policy === undefined || policy === 'preserve') return undefined
  const headers = t.request.headers
  let odd = false
  for (let i = 0; i < headers.length; i += 2) if (!PLAIN_NAME.test(headers[i] as string)) odd = true
  if (!odd) return undefined
  if (policy === 'reject') return FORBIDDEN
  deleteHeaders(t.request, name => !PLAIN_NAME.test(name))
  return undefined
}

export function analyseRequest (fe: RoutingFrontend & { readonly config: Proxy }, t: RuleTarget): RequestOutcome {
  const first = runRules(rulesOf(fe.config).request, t)
  if (final(first)) return first
  const refused = restrictNames(fe.config, t)
  if (final(refused)) return refused
  if (first?.kind === 'service') {
    const chosen = fe.route(t.sample)
    if (chosen !== undefined) { t.sample.backendName = chosen.name; t.sample.backendId = chosen.proxyId }
    return { kind: 'forward', backend: chosen, service: true }
  }
  const backend = fe.route(t.sample)
  if (backend !== undefined) { t.sample.backendName = backend.name; t.sample.backendId = backend.proxyId }
  if (backend !== undefined && backend.config !== fe.config) {
    const second = runRules(rulesOf(backend.config).request, t)
    if (final(second)) return { ...second, backend }
    const refusedByBackend = restrictNames(backend.config, t)
    if (final(refusedByBackend)) return { ...refusedByBackend, backend }
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

function afterProxies (fe: Proxy, backend: Proxy | undefined): Proxy[] {
  return backend === undefined || backend === fe ? [fe] : [backend, fe]
}

/** `http-after-response` on a server's response head: the backend's rules, then the frontend's. */
export function analyseAfterResponse (fe: Proxy, backend: Proxy | undefined, t: RuleTarget): void {
  // A rewrite that fails leaves the response as it is.
  for (const p of afterProxies(fe, backend)) runRules(rulesOf(p).afterResponse, t)
}

/** `http-after-response` on an answer the rules generated (deny, return, redirect…): edited and re-serialised. */
export function afterResponseOnReply (fe: Proxy, backend: Proxy | undefined, t: RuleTarget, bytes: Buffer): Buffer {
  const proxies = afterProxies(fe, backend)
  if (proxies.every(p => rulesOf(p).afterResponse.length === 0)) return bytes
  const head = parseResponseHead(bytes, bytes.length, t.request.method)
  if (head === null) return bytes
  // The `status` and `res.*` fetches read the answer being edited.
  const before = t.sample.response
  t.sample.response = head
  analyseAfterResponse(fe, backend, { ...t, response: head })
  t.sample.response = before
  return Buffer.concat([serializeResponseHead(head), bytes.subarray(head.headLength)])
}
