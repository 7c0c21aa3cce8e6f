/**
 * `stick on|match|store-request|store-response` for one backend: the server a key was stored
 * with (server_id, as HAProxy stores it) sends the client back to that server.
 */
import type { Proxy } from '../config/model.ts'
import type { StickTable } from '../stick/index.ts'
import { parseFetch } from '../config/acl.ts'
import { compileCondition, type Predicate } from './acl/matcher.ts'
import { fetchSamples, type SampleSource } from './acl/sample.ts'
import type { ServerState } from './server-state.ts'

interface CompiledRule {
  readonly match: boolean
  readonly store: 'request' | 'response' | undefined
  readonly fetch: string
  readonly args: string[]
  readonly table: StickTable
  readonly when: Predicate
}

export class StickRules {
  private readonly rules: CompiledRule[]
  private readonly servers: readonly ServerState[]

  constructor (proxy: Proxy, servers: readonly ServerState[], tables: ReadonlyMap<string, StickTable>) {
    this.servers = servers
    this.rules = proxy.stickRules.flatMap(r => {
      const table = tables.get(r.table ?? proxy.name)
      if (table === undefined) return []
      const f = parseFetch(r.pattern, false)
      return [{
        match: r.kind === 'on' || r.kind === 'match',
        store: r.kind === 'on' || r.kind === 'store-request' ? 'request' as const : r.kind === 'store-response' ?
          'response' as const : undefined,
        fetch: f.fetch,
        args: f.args,
        table,
        when: compileCondition(r.cond, proxy.acls)
      }]
    })
  }

  get empty (): boolean {
    return this.rules.length === 0
  }

  get storesResponses (): boolean {
    return this.rules.some(r => r.store === 'response')
  }

  /** The first matching rule's stored server, when it still exists (usable or not: the caller decides). */
  match (s: SampleSource, now: number): ServerState | undefined {
    for (const r of this.rules) {
      if (!r.match || !r.when(s)) continue
      const key = fetchSamples(r.fetch, r.args, s)[0]
      if (key === undefined) continue
      const entry = r.table.lookup(key, now)
      if (entry === undefined || r.table.storedType('server_id') === undefined) continue
      const id = entry.get('server_id')
      const server = this.servers.find(x => x.id === id)
      if (server !== undefined) {
        r.table.touchLocal(entry, now)
        return server
      }
    }
    return undefined
  }

  /** Stores `server` under each store-request (or store-response) rule's key. */
  store (phase: 'request' | 'response', s: SampleSource, server: ServerState, now: number): void {
    for (const r of this.rules) {
      if (r.store !== phase || !r.when(s)) continue
      const key = fetchSamples(r.fetch, r.args, s)[0]
      if (key === undefined || key === '') continue
      r.table.update(key, e => {
        if (r.table.storedType('server_id') !== undefined) e.set('server_id', server.id)
        if (r.table.storedType('server_key') !== undefined) e.serverKey = server.name
      }, now)
    }
  }
}
