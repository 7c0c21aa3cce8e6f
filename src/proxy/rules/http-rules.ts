/**
 * `http-request` and `http-response` rules of one proxy, compiled once at load into closures
 * (conditions, formats, regexes) and run in order on each message: the first final action
 * (allow, deny, tarpit, auth, return, redirect, reject, silent-drop, use-service) stops the list.
 */
import type { ActionSpec, HttpRule, Proxy, ReplySpec } from '../../config/model.ts'
import { compileCondition, type Predicate } from '../acl/matcher.ts'
import type { SampleSource } from '../acl/sample.ts'
import type { HttpHead, RequestHead, ResponseHead } from '../http/codec.ts'
import { compileFormat, compileSample, regexReplace, type Compiled } from './format.ts'
import { addHeader, deleteHeaders, editEachValue, editHeaderValues, headerNameTest, joinTarget, setHeader, setMethod,
  setTarget, splitTarget, validValue } from './head-edit.ts'
import { customReply, defaultPage, reasonPhrase, redirectReply } from './reply.ts'
import { compileCounterAction } from './counter-actions.ts'

/** What a rule sees: the message it edits and the sample fetches of its transaction. */
export interface RuleTarget {
  readonly request: RequestHead
  readonly response?: ResponseHead
  readonly sample: SampleSource & { setVariable?: (name: string, value: string | undefined) => void,
    backendName?: string, backendId?: number, setSource?: (address: string) => void, response?: ResponseHead }
}

/** How a final rule ends the message's analysis. */
export type Verdict =
  | { readonly kind: 'allow' }
  /** Answer with `bytes`; `denied` counts it as a denial, else an interception (return, redirect). */
  | { readonly kind: 'reply', readonly bytes: Buffer, readonly status: number, readonly denied: boolean,
    readonly termination: string,
    /** `auth`: an HTTP error on the stick counters, as a deny. */
    readonly auth?: boolean }
  | { readonly kind: 'tarpit', readonly bytes: Buffer, readonly status: number }
  /** Close without an answer (reject, silent-drop). */
  | { readonly kind: 'drop' }
  /** `use-service`: the proxy answers (the session finds which service). */
  | { readonly kind: 'service' }

type Run = (t: RuleTarget) => Verdict | undefined

interface CompiledRule {
  readonly when: Predicate
  readonly run: Run
}

export interface HttpRuleSet {
  readonly request: readonly CompiledRule[]
  readonly response: readonly CompiledRule[]
  readonly afterResponse: readonly CompiledRule[]
}

/** Runs `rules` in order; the verdict of the first final action, or undefined when none applied. */
export function runRules (rules: readonly CompiledRule[], t: RuleTarget): Verdict | undefined {
  for (const r of rules) {
    if (!r.when(t.sample)) continue
    const v = r.run(t)
    if (v !== undefined) return v
  }
  return undefined
}

/**
 * A rewrite that cannot be done (a value with CR or LF, an invalid target): HAProxy's default
 * `strict-mode on` aborts the transaction with a 500.
 */
const FAILED_PAGE = defaultPage(500)
const REWRITE_FAILED: Verdict = { kind: 'reply', bytes: FAILED_PAGE, status: 500, denied: false, termination: 'PR' }

/** Replies whose fields a sample filled: refused (500) rather than let a CR or LF split them. */
function safeReply (make: (s: SampleSource) => Buffer | undefined): (s: SampleSource) => Buffer {
  return s => make(s) ?? FAILED_PAGE
}

function compileReply (reply: ReplySpec): (s: SampleSource) => Buffer {
  const headers = reply.headers.map(([n, f]) => [n, compileFormat(f)] as const)
  const body = reply.body
  // `file` and `lf-file` bodies were read into `string` and `lf-string` at load.
  const text: Compiled | undefined = body === undefined ? undefined : body.kind === 'string'
    ? () => body.text : body.kind === 'lf-string' ? compileFormat(body.format) : () => ''
  return safeReply(s => {
    const fields = headers.map(([n, f]) => [n, f(s)] as const)
    return fields.every(([, v]) => validValue(v)) ? customReply(reply.status, fields, reply.contentType, text?.(s))
      : undefined
  })
}

function deny (spec: { readonly reply: ReplySpec | undefined, readonly status: number }): (s: SampleSource) => Buffer {
  if (spec.reply !== undefined) return compileReply(spec.reply)
  const page = defaultPage(spec.status)
  return () => page
}

function messageOf (t: RuleTarget): HttpHead {
  return t.response ?? t.request
}

function compileRedirect (spec: Extract<ActionSpec, { type: 'redirect' }>): Run {
  const value = compileFormat(spec.value)
  return t => {
    const v = value(t.sample)
    const parts = splitTarget(t.request.target)
    const path = parts.path
    const query = spec.dropQuery || parts.query === undefined ? '' : `?${parts.query}`
    let location: string
    if (spec.mode === 'location') location = v
    else if (spec.mode === 'prefix') location = (v === '/' ? '' : v) + path + query
    else location = `${v}://${t.request.host ?? ''}${path}${query}`
    // As HAProxy 2.6: after the query string too, when there is one (meant for drop-query).
    if (spec.appendSlash && !location.endsWith('/')) location += '/'
    if (!validValue(location)) return REWRITE_FAILED
    return { kind: 'reply', bytes: redirectReply(spec.code, location), status: spec.code, denied: false,
      termination: 'LR' }
  }
}

function compileTargetEdit (spec: ActionSpec): Run | undefined {
  switch (spec.type) {
    case 'set-path': case 'set-pathq': case 'set-uri': case 'set-query': case 'set-method': {
      const value = compileFormat(spec.value)
      const type = spec.type
      return t => {
        const v = value(t.sample)
        const r = t.request
        const p = splitTarget(r.target)
        let ok: boolean
        if (type === 'set-method') ok = setMethod(r, v)
        else if (type === 'set-uri') ok = setTarget(r, v)
        else if (type === 'set-path') ok = setTarget(r, joinTarget({ ...p, path: v }))
        else if (type === 'set-query') ok = setTarget(r, joinTarget({ ...p,
          query: v.startsWith('?') ? v.slice(1) : v }))
        else {
          const q = v.indexOf('?')
          ok = setTarget(r, joinTarget({ prefix: p.prefix, path: q < 0 ? v : v.slice(0, q), query: q < 0 ? undefined :
            v.slice(q + 1) }))
        }
        return ok ? undefined : REWRITE_FAILED
      }
    }
    case 'replace-path': case 'replace-pathq': case 'replace-uri': {
      const re = new RegExp(spec.regex)
      const replace = compileFormat(spec.replace)
      const type = spec.type
      return t => {
        const r = t.request
        const p = splitTarget(r.target)
        const subject = type === 'replace-uri' ? r.target : type === 'replace-path' ? p.path
          : p.path + (p.query === undefined ? '' : `?${p.query}`)
        const out = regexReplace(subject, re, replace(t.sample))
        if (out === undefined) return undefined
        let ok: boolean
        if (type === 'replace-uri') ok = setTarget(r, out)
        else if (type === 'replace-path') ok = setTarget(r, joinTarget({ ...p, path: out }))
        else {
          const q = out.indexOf('?')
          ok = setTarget(r, joinTarget({ prefix: p.prefix, path: q < 0 ? out : out.slice(0, q),
            query: q < 0 ? undefined :
            out.slice(q + 1) }))
        }
        return ok ? undefined : REWRITE_FAILED
      }
    }
    default: return undefined
  }
}

function compileHeaderEdit (spec: ActionSpec): Run | undefined {
  switch (spec.type) {
    case 'set-header': case 'add-header': {
      const { name } = spec
      const value = compileFormat(spec.value)
      const op = spec.type === 'set-header' ? setHeader : addHeader
      return t => op(messageOf(t), name, value(t.sample)) ? undefined : REWRITE_FAILED
    }
    case 'del-header': {
      const test = headerNameTest(spec.name, spec.match)
      return t => { deleteHeaders(messageOf(t), test); return undefined }
    }
    case 'replace-header': case 'replace-value': {
      const re = new RegExp(spec.regex)
      const replace = compileFormat(spec.replace)
      const { name } = spec
      const each = spec.type === 'replace-value'
      return t => {
        const template = replace(t.sample)
        const one = (v: string): string | undefined => regexReplace(v, re, template)
        return editHeaderValues(messageOf(t), name, each ? editEachValue(one) : one) ? undefined : REWRITE_FAILED
      }
    }
    case 'set-status': {
      const { status, reason } = spec
      return t => {
        const res = t.response
        if (res !== undefined) {
          res.status = status
          res.reason = reason ?? reasonPhrase(status)
          res.rawExact = false
        }
        return undefined
      }
    }
    default: return undefined
  }
}

function compileAction (spec: ActionSpec, proxy: Proxy, phase: HttpRule['phase']): Run {
  switch (spec.type) {
    case 'allow': return () => ({ kind: 'allow' })
    case 'reject': case 'silent-drop': return () => ({ kind: 'drop' })
    case 'use-service': return () => ({ kind: 'service' })
    case 'deny': {
      const bytes = deny(spec)
      return t => {
        const b = bytes(t.sample)
        return b === FAILED_PAGE ? REWRITE_FAILED : { kind: 'reply', bytes: b, status: spec.status, denied: true,
          termination: 'PR' }
      }
    }
    case 'tarpit': {
      const bytes = deny(spec)
      return t => ({ kind: 'tarpit', bytes: bytes(t.sample), status: spec.status })
    }
    case 'auth': {
      const realm = (spec.realm ?? proxy.name).replace(/["\\]/g, '\\$&')
      const page = defaultPage(401, [['www-authenticate', `Basic realm="${realm}"`]])
      return () => ({ kind: 'reply', bytes: page, status: 401, denied: false, termination: 'PR', auth: true })
    }
    case 'return': {
      const bytes = compileReply(spec.reply)
      const status = spec.reply.status
      return t => {
        const b = bytes(t.sample)
        return b === FAILED_PAGE ? REWRITE_FAILED : { kind: 'reply', bytes: b, status, denied: false,
          termination: 'LR' }
      }
    }
    case 'redirect': return compileRedirect(spec)
    case 'set-var': {
      const sample = compileSample(spec.expr)
      const name = `${spec.scope}.${spec.name}`
      // As HAProxy: an expression without a sample leaves the variable as it was.
      return t => {
        const v = sample(t.sample)
        if (v !== undefined) t.sample.setVariable?.(name, v)
        return undefined
      }
    }
    case 'set-src': {
      const sample = compileSample(spec.expr)
      return t => {
        const v = sample(t.sample)
        if (v !== undefined) t.sample.setSource?.(v)
        return undefined
      }
    }
    case 'unset-var': {
      const name = `${spec.scope}.${spec.name}`
      return t => { t.sample.setVariable?.(name, undefined); return undefined }
    }
    default: {
      const counter = compileCounterAction(spec, proxy, phase === 'request' ? 'http-request' : 'http-response')
      if (counter !== undefined) return t => { counter(t.sample, t.response?.status); return undefined }
      return compileTargetEdit(spec) ?? compileHeaderEdit(spec) ?? (() => undefined)
    }
  }
}

function compileList (rules: readonly HttpRule[], proxy: Proxy, isEnforced: (r: HttpRule) => boolean):
  CompiledRule[] {
  return rules.filter(r => r.spec !== undefined && isEnforced(r)).map(r => ({
    when: compileCondition(r.cond, proxy.acls),
    run: compileAction(r.spec as ActionSpec, proxy, r.phase)
  }))
}

/**
 * Compiles the proxy's rules; `isEnforced` says which actions the registry lets run (the others
 * were reported by `tslb check` and are skipped).
 */
export function compileHttpRules (proxy: Proxy, isEnforced: (r: HttpRule) => boolean): HttpRuleSet {
  return {
    request: compileList(proxy.httpRules.filter(r => r.phase === 'request'), proxy, isEnforced),
    response: compileList(proxy.httpRules.filter(r => r.phase === 'response'), proxy, isEnforced),
    afterResponse: compileList(proxy.httpRules.filter(r => r.phase === 'after-response'), proxy, isEnforced)
  }
}
