/**
 * The peers part of `tslb status`: the sessions live in the proxy workers, so the supervisor asks
 * each generation (src/ipc/query.ts) and the CLI prints the answers.
 * @module
 */
import type { PeersStatus } from '../peers/peers-manager.ts'
import { statusName } from '../peers/handshake.ts'
import { describe } from '../util/errors.ts'
import type { WorkerQueries } from '../ipc/query.ts'

export const PEERS_QUERY_TIMEOUT_MS = 1000

/** A generation's peers sessions: `peers` (null: it runs no peers section), or `peersError`. */
export interface WorkerPeers {
  readonly peers?: PeersStatus | null
  readonly peersError?: string
}

export async function queryWorkerPeers (w: { readonly queries: WorkerQueries },
  timeoutMs = PEERS_QUERY_TIMEOUT_MS): Promise<WorkerPeers> {
  try {
    const result = await w.queries.ask('peers', timeoutMs)
    return { peers: (result ?? null) as PeersStatus | null }
  } catch (err) {
    return { peersError: describe(err) }
  }
}

function ago (ms: number | undefined): string {
  if (ms === undefined) return 'never'
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s ago` : `${Math.round(ms / 1000)} s ago`
}

/** Text lines for one generation, indented under its `worker` line. */
export function formatWorkerPeers (w: WorkerPeers, indent = '  '): string[] {
  if (w.peersError !== undefined) return [`${indent}peers: not available (${w.peersError})`]
  const p = w.peers
  if (p === undefined || p === null || p.sections.length === 0) return []
  const out: string[] = []
  for (const s of p.sections) {
    const tables = s.tables.map(t => `${t.name} ${t.entries} entries`).join(', ')
    out.push(
      (`${indent}peers ${s.name} (local peer ${p.localPeer}): learning ` +
        `${s.state}${s.localSync === undefined || s.localSync === 'none' ? '' : (`, from the previous generation: ` +
          `${s.localSync}`)}`) +
      `${s.retired ? ', retired' : ''}, listening ${s.listening ?? 'no'}${tables === '' ? '' : `; tables: ${tables}`}`)
    for (const peer of s.peers) {
      const c = peer.counters
      // The local peer is only busy during a reload (the next generation learning from this one).
      if (peer.local && peer.state === 'idle' && c.sessions === 0) continue
      const status = peer.lastStatus === 0 ? 'none' : `${peer.lastStatus} ${statusName(peer.lastStatus)}`
      out.push(
        `${indent}  ${peer.name}${peer.local && !peer.name.includes('(') ? (' (next ' +
          'generation)') : ''} ${peer.address}: ${peer.state}${peer.role === undefined ? '' :
            ` (${peer.role})`}, last status ${status}, handshake ${ago(peer.lastHandshakeAgoMs)}`)
      out.push(
        (`${indent}    updates sent ${c.updatesSent} received ` +
          (`${c.updatesReceived}${c.updatesRejected > 0 ? ` rejected ${c.updatesRejected}` : ''}, acks sent ` +
            `${c.acksSent} received ${c.acksReceived}, `)) +
        `resyncs requested ${c.resyncsRequested} taught ${c.resyncsTaught} learned ${c.resyncsLearned}, ` +
        `connects ${c.newConn} sessions ${c.sessions}, heartbeats sent ${c.txHeartbeats} received ${c.rxHeartbeats}, ` +
        `silent ${c.noHeartbeat} protocol errors ${c.protocolErrors} collisions ${c.collisions}`)
      if (peer.lastError !== undefined) out.push(
        `${indent}    last error: ${peer.lastError.reason}: ${peer.lastError.detail} (${ago(peer.lastError.agoMs)})`)
    }
  }
  return out
}
