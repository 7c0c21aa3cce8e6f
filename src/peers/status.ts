/**
 * `tslb status` for the peers: each section's learning state and each peer's session and
 * counters, read from the sections (nothing here writes them).
 * @module
 */
import type { PeersSection } from './section.ts'
import type { LearnResult } from './sync.ts'
import { targetText } from './transport.ts'

/** Counters and states of every section, `now` on the peers clock. */
export function peersStatus (localName: string, sections: readonly PeersSection[], now: number): PeersStatus {
  return {
    localPeer: localName,
    sections: sections.map(s => ({
      name: s.name,
      state: s.sync.resyncState,
      flags: s.sync.flags,
      localSync: s.localResult,
      listening: s.listener?.address,
      retired: s.retired,
      peers: [...[...s.peers].reverse(), ...(s.previous.session === undefined && s.learnFrom === undefined ? [] : [
        s.previous])].map(p => ({
        name: p === s.previous ? `${p.name} (previous generation)` : p.name,
        local: p.local,
        address: p.target === undefined ? p.configuredAddress : targetText(p.target),
        state: p.session === undefined ? 'idle' : p.session.state,
        role: p.session?.role,
        lastStatus: p.statuscode,
        lastHandshakeAgoMs: p.lastHandshake === undefined ? undefined : now - p.lastHandshake,
        lastError: p.lastError === undefined ? undefined : { reason: p.lastError.reason, detail: p.lastError.detail,
          agoMs: now - p.lastError.at },
        counters: {
          newConn: p.newConn,
          sessions: p.sessions,
          txHeartbeats: p.txHbt,
          rxHeartbeats: p.rxHbt,
          noHeartbeat: p.noHbt,
          protocolErrors: p.protoErr,
          collisions: p.coll,
          updatesSent: p.tables.reduce((n, t) => n + t.pushed + t.taught, 0),
          updatesReceived: p.tables.reduce((n, t) => n + t.received, 0),
          updatesRejected: p.tables.reduce((n, t) => n + t.rejected, 0),
          acksSent: p.acksSent,
          acksReceived: p.acksReceived,
          resyncsRequested: p.resyncsRequested,
          resyncsTaught: p.resyncsTaught,
          resyncsLearned: p.resyncsLearned,
          bytesIn: p.session?.bytesIn ?? 0,
          bytesOut: p.session?.bytesOut ?? 0
        }
      })),
      tables: s.sync.tables.map(t => ({ name: t.name, wireName: t.wireName, id: t.localId, entries: t.table.size,
        localUpdate: t.table.localUpdate }))
    }))
  }
}

export interface PeersStatus {
  readonly localPeer: string
  readonly sections: readonly {
    readonly name: string
    readonly state: 'from-local' | 'from-remote' | 'finished'
    readonly flags: number
    readonly localSync: LearnResult | undefined
    readonly listening: string | undefined
    readonly retired: boolean
    readonly peers: readonly {
      readonly name: string
      readonly local: boolean
      readonly address: string
      readonly state: string
      readonly role: 'connect' | 'accept' | undefined
      readonly lastStatus: number
      readonly lastHandshakeAgoMs: number | undefined
      readonly lastError: { readonly reason: string, readonly detail: string, readonly agoMs: number } | undefined
      readonly counters: PeerCounters
    }[]
    readonly tables: readonly { readonly name: string, readonly wireName: string, readonly id: number,
      readonly entries: number, readonly localUpdate: number }[]
  }[]
}

export interface PeerCounters {
  /** Connection attempts (HAProxy's new_conn). */
  readonly newConn: number
  /** Sessions established. */
  readonly sessions: number
  readonly txHeartbeats: number
  readonly rxHeartbeats: number
  /** Sessions closed for silence (no_hbt). */
  readonly noHeartbeat: number
  readonly protocolErrors: number
  readonly collisions: number
  /** Updates pushed and taught. */
  readonly updatesSent: number
  readonly updatesReceived: number
  readonly updatesRejected: number
  readonly acksSent: number
  readonly acksReceived: number
  readonly resyncsRequested: number
  readonly resyncsTaught: number
  readonly resyncsLearned: number
  /** Of the current session. */
  readonly bytesIn: number
  readonly bytesOut: number
}
