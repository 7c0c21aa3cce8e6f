/**
 * `tcp-request connection|session|content accept|reject|silent-drop` of a frontend, compiled once
 * at load and run when a connection is accepted, before its session starts. Each phase's list
 * stops at its first matching rule (`accept` lets the next phase run); a reject closes the
 * connection. Content rules run at once: tslb enforces them only over layer-4 fetches
 * (`config/enforcement-check.ts`), whose values are known at accept time.
 */
import type { Proxy } from '../../config/model.ts'
import { compileCondition, type Predicate } from '../acl/matcher.ts'
import type { SampleSource } from '../acl/sample.ts'

interface TcpRule {
  readonly when: Predicate
  readonly accept: boolean
}

export type TcpRuleSet = readonly (readonly TcpRule[])[]

const PHASES = ['connection', 'session', 'content'] as const
const ACTIONS: Readonly<Record<string, boolean>> = { accept: true, reject: false, 'silent-drop': false }

export function compileTcpRules (proxy: Proxy): TcpRuleSet | undefined {
  const phases = PHASES.map(phase => proxy.tcpRules.flatMap(r => {
    const [where, action] = r.action.split(' ')
    const accept = ACTIONS[action ?? '']
    return where !== phase || accept === undefined ? [] : [{ when: compileCondition(r.cond, proxy.acls), accept }]
  }))
  return phases.some(p => p.length > 0) ? phases : undefined
}

/**
 * False when a rule rejects the connection. `from`/`to`: the phases to run (0 connection, 1 session,
 * 2 content; `to` excluded), for `accept-proxy`, whose header comes between connection and session.
 */
export function tcpAccepts (rules: TcpRuleSet, s: SampleSource, from = 0, to = rules.length): boolean {
  for (const phase of rules.slice(from, to)) {
    const rule = phase.find(r => r.when(s))
    if (rule !== undefined && !rule.accept) return false
  }
  return true
}
