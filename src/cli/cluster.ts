/**
 * `tslb status --cluster`: the cluster as this node sees it, from what it already knows — the
 * VRRP adverts it receives (who is master of each instance, at what priority) and its peers
 * sessions (each other node's name, address and sync state). Nothing is asked of the other
 * nodes: a BACKUP sends no adverts, so a node that is neither this one nor a master shows as
 * `not master` (backup, fault or down cannot be told apart from here); its serving generation
 * is not known either. docs/architecture.md says why this and not a status exchange.
 */
import type { SupervisorStatus } from '../supervisor/supervisor.ts'

export interface ClusterNode {
  readonly name: string
  readonly addresses: readonly string[]
  readonly local: boolean
}

export interface ClusterInstance {
  readonly name: string
  readonly vrid: number | undefined
  readonly vips: readonly string[]
  /** The node holding the VIPs (the master), by name when its address is known. */
  readonly holder: string | undefined
  readonly masterAddress: string | undefined
  readonly masterPriority: number | undefined
  /** Per node: MASTER/BACKUP/FAULT/INIT for this node, MASTER for the one advertising, `not master` for the rest. */
  readonly states: readonly { readonly node: string, readonly state: string,
    readonly seenFrom: 'local' | 'adverts' | 'no adverts' }[]
}

export interface ClusterPeer {
  readonly section: string
  readonly node: string
  readonly address: string
  /** The session state (HAProxy's): established, connecting, idle... */
  readonly state: string
  readonly lastHandshakeAgoMs: number | undefined
}

export interface ClusterView {
  /** The node this view was gathered on. */
  readonly from: string
  readonly servingGeneration: number | undefined
  readonly nodes: readonly ClusterNode[]
  readonly instances: readonly ClusterInstance[]
  /** Each peers section's resync state on this node (`finished`: it has the whole table). */
  readonly sync: readonly { readonly section: string, readonly state: string }[]
  readonly peers: readonly ClusterPeer[]
}

function host (address: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(address)
  if (bracketed !== null) return bracketed[1] as string
  const i = address.lastIndexOf(':')
  return i > 0 && address.indexOf(':') === i ? address.slice(0, i) : address
}

export function clusterView (s: SupervisorStatus): ClusterView {
  const serving = s.workers.find(w => w.state === 'serving')
  const sections = serving?.peers?.sections ?? []
  const nodes = new Map<string, { addresses: Set<string>, local: boolean }>()
  const add = (name: string, address: string | undefined, local: boolean): void => {
    const n = nodes.get(name) ?? { addresses: new Set<string>(), local }
    if (address !== undefined) n.addresses.add(address)
    nodes.set(name, n)
  }
  add(s.node, undefined, true)
  for (const v of s.vrrpInstances) if (v.runtime?.localAddress !== undefined) add(s.node, v.runtime.localAddress, true)
  for (const section of sections) {
    for (const p of section.peers) if (!p.local) add(p.name, host(p.address), false)
  }
  const nameOf = (address: string): string | undefined => [...nodes].find(([, n]) => n.addresses.has(address))?.[0]
  for (const v of s.vrrpInstances) {
    for (const a of [...(v.runtime?.unicastPeers ?? []), v.runtime?.masterAddress]) {
      if (a !== undefined && nameOf(a) === undefined) add(a, a, false)
    }
  }
  const instances = s.vrrpInstances.map((v): ClusterInstance => {
    const r = v.runtime
    const masterAddress = r?.masterAddress
    const holder = r?.state === 'MASTER' ? s.node : masterAddress === undefined ? undefined : nameOf(masterAddress)
    const states = [...nodes].map(([name, n]) => {
      if (n.local) return { node: name, state: r?.state ?? 'not running', seenFrom: 'local' as const }
      if (name === holder) return { node: name, state: 'MASTER', seenFrom: 'adverts' as const }
      return { node: name, state: 'not master', seenFrom: 'no adverts' as const }
    })
    return { name: v.name, vrid: v.vrid, vips: r?.vips ?? [], holder, masterAddress, masterPriority: r?.masterPriority,
      states }
  })
  return {
    from: s.node,
    servingGeneration: serving?.generation,
    nodes: [...nodes].map(([name, n]) => ({ name, addresses: [...n.addresses], local: n.local })),
    instances,
    sync: sections.map(x => ({ section: x.name, state: x.state })),
    peers: sections.flatMap(x => x.peers.filter(p => !p.local).map(p => ({ section: x.name, node: p.name,
      address: p.address, state: p.state, lastHandshakeAgoMs: p.lastHandshakeAgoMs })))
  }
}

const SEEN_FROM: Readonly<Record<ClusterInstance['states'][number]['seenFrom'], string>> = {
  local: '',
  adverts: ' (its adverts)',
  'no adverts': ' (sends no adverts: backup, fault or down)'
}

export function formatCluster (c: ClusterView): string {
  const lines = [
    `cluster as seen from ${c.from} (VRRP adverts received, peers sessions; other nodes are not asked)`,
    `nodes: ${c.nodes.map(n => [n.name, ...(n.local ? ['(this node)'] : []), ...n.addresses].join(' ')).join(', ')}`,
    `serving generation on ${c.from}: ${c.servingGeneration ?? 'none'}`
  ]
  for (const i of c.instances) {
    lines.push(
      (`vrrp_instance ${i.name} (vrid ${i.vrid ?? '?'}): VIPs ${i.vips.join(' ') || 'none'} held by ` +
        `${i.holder ?? (i.masterAddress ?? 'no master seen')}`) +
      `${i.masterPriority === undefined ? '' : `, master priority ${i.masterPriority}`}`)
    for (const st of i.states) lines.push(`  ${st.node}: ${st.state}${SEEN_FROM[st.seenFrom]}`)
  }
  for (const x of c.sync) lines.push(
    `peers ${x.section}: ${c.from} ${x.state === 'finished' ? 'has the whole table' : `is learning (${x.state})`}`)
  for (const p of c.peers) {
    const ago = p.lastHandshakeAgoMs === undefined ? 'no handshake yet' :
      `handshake ${Math.round(p.lastHandshakeAgoMs / 1000)} s ago`
    lines.push(`  ${p.node} ${p.address}: ${p.state}, ${ago}`)
  }
  return `${lines.join('\n')}\n`
}
