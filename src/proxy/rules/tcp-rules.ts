/**
 * `tcp-request connection|session|content accept|reject|silent-drop` of a frontend, compiled once
 * at load and run when a connection is accepted, before its session starts. Each phase's list
 * stops at its first matching rule (`accept` lets the next phase run); a reject closes the
 * connection; the stick-counter actions (`track-sc*`, `sc-inc-gpc*`, `sc-set-gpt*`) act and the list goes on.
 * In `mode http` the content rules run on each request (a stream in HAProxy), before its `http-request` rules.
 * Content rules run at once: tslb enforces them only over layer-4 fetches
 * (`config/enforcement-check.ts`), whose values are known at accept time, and over `req.ssl_*`,
 * `req.len` and `req.payload` in a proxy that waits for the first bytes (`inspectDelay`):
 * then they run once they can be decided (`contentDecided`) or the delay is over.
 */
import type { Condition, Proxy } from '../../config/model.ts'
import { PAYLOAD_FETCHES } from '../../config/tls-fetches.ts'
import { compileCondition, type Predicate } from '../acl/matcher.ts'
import type { SampleSource } from '../acl/sample.ts'
import { compileCounterAction, type CounterAction } from './counter-actions.ts'

interface TcpRule {
  readonly when: Predicate
  /** A final action: accept (true) or reject; undefined for an action the list goes on after (`act`). */
  readonly accept: boolean | undefined
  /** `track-sc*`, `sc-inc-gpc*`, `sc-set-gpt*`. */
  readonly act?: CounterAction
  /** Its condition reads the bytes still arriving (`req.len`, `req.payload`): false may turn true later. */
  readonly mayChange: boolean
}

export type TcpRuleSet = readonly (readonly TcpRule[])[]

const PHASES = ['connection', 'session', 'content'] as const
const CONTENT = PHASES.indexOf('content')
const ACTIONS: Readonly<Record<string, boolean>> = { accept: true, reject: false, 'silent-drop': false }

export function compileTcpRules (proxy: Proxy): TcpRuleSet | undefined {
  const phases = PHASES.map(phase => proxy.tcpRules.flatMap((r): TcpRule[] => {
    const [where, action] = r.action.split(' ')
    if (where !== phase) return []
    const accept = ACTIONS[action ?? '']
    const act = r.spec === undefined ? undefined : compileCounterAction(r.spec, proxy, phase === 'content' ? 'content'
      : 'session')
    if (accept === undefined && act === undefined) return []
    return [{ when: compileCondition(r.cond, proxy.acls), accept, ...(act === undefined ? {} : { act }),
      mayChange: readsPayload(proxy, r.cond) }]
  }))
  return phases.some(p => p.length > 0) ? phases : undefined
}

/**
 * False when a rule rejects the connection. `from`/`to`: the phases to run (0 connection, 1 session,
 * 2 content; `to` excluded), for `accept-proxy`, whose header comes between connection and session.
 */
export function tcpAccepts (rules: TcpRuleSet, s: SampleSource, from = 0, to = rules.length): boolean {
  for (const phase of rules.slice(from, to)) {
    for (const rule of phase) {
      if (!rule.when(s)) continue
      rule.act?.(s)
      if (rule.accept === false) return false
      if (rule.accept === true) break
    }
  }
  return true
}

function readsPayload (proxy: Proxy, cond: Condition | undefined): boolean {
  return (cond?.terms.flat() ?? []).some(t => (typeof t.acl === 'string' ? proxy.acls.filter(a => a.name === t.acl)
    : [t.acl]).some(a => a.fetch in PAYLOAD_FETCHES))
}

/**
 * While the first bytes arrive (`tcp-request inspect-delay`): true once the content rules can be decided, as HAProxy
 * decides them: the first rule whose condition holds acts; a rule over `req.len`/`req.payload` whose condition does
 * not hold yet makes them wait for more bytes (until the delay ends, when they run as they are).
 */
export function contentDecided (rules: TcpRuleSet, s: SampleSource): boolean {
  for (const rule of rules[CONTENT] ?? []) {
    if (rule.when(s)) {
      if (rule.accept !== undefined) return true
    } else if (rule.mayChange) return false
  }
  return true
}
