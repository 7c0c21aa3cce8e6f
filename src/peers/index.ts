/**
 * HAProxy-compatible stick-table peers sync: the pure codec (varint, handshake, messages,
 * decoder), the session (session.ts), the sync engine (sync.ts) and its learning state
 * (learning.ts, the one writer of it), a section's runtime (section.ts), the manager a worker
 * runs (peers-manager.ts), `tslb status` (status.ts) and `show peers` (show-peers.ts).
 * @module
 */
export { systemClock, type PeersClock, type PeersTimer } from './clock.ts'
export { PeersConfigError, PeersListenError } from './errors.ts'
export {
  handoffSocketPath, PeersManager, PeersSection, peersListenAddress, wireTableName,
  type LocalSyncReport, type PeersLog, type PeersManagerEvents, type PeersManagerOptions, type PeersStatus,
    type StartOptions
} from './peers-manager.ts'
export { formatShowPeers, humanTime } from './show-peers.ts'
export { PeerSession, type CloseInfo, type CloseReason, type SessionOwner } from './session.ts'
export { PeerState, SectionSync, SharedTable, SyncTable, PEER_F, PEERS_F, type LearnResult } from './sync.ts'
export { NodePeersNetwork, SocketTransport, type ListenSpec, type PeerTarget, type PeerTransport, type PeersListener,
  type PeersNetwork } from './transport.ts'
