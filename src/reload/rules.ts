/**
 * nft rule text for the strategies that use the firewall (pure: specs in, script text out).
 * Each strategy owns one `inet` table whose name and comment mark it as tslb's, so a table left
 * by a crashed run is recognised and removed, and replacing or deleting a table is one atomic
 * nft transaction.
 */
import type { ListenerSpec } from '../supervisor/listeners.ts'

export const SYN_DROP_TABLE = 'tslb_syn_drop'
export const FLIP_TABLE = 'tslb_flip'
export const PLUG_MARK_TABLE = 'tslb_plug'
export const TSLB_TABLES = [SYN_DROP_TABLE, FLIP_TABLE, PLUG_MARK_TABLE] as const

/** The packet mark tc-plug's `fw` filter sends to the plug qdisc. */
export const PLUG_MARK = 0x7c5b

/** Where a listener receives packets, per IP family (a dual-stack `::` socket receives both). */
export interface Destination {
  readonly family: 'ip' | 'ip6'
  /** undefined: any address of the host. */
  readonly address: string | undefined
  readonly port: number
}

export function destinations (spec: ListenerSpec): Destination[] {
  const { host, port } = spec
  if (host === '' && spec.family !== 6) return [{ family: 'ip', address: undefined, port }]
  if (host === '' || host === '::') return [{ family: 'ip', address: undefined, port }, { family: 'ip6',
    address: undefined, port }]
  return [{ family: host.includes(':') ? 'ip6' : 'ip', address: host, port }]
}

/**
 * A wildcard listener matches only packets addressed to this host: without `fib daddr type
 * local`, the worker's own connections to backends on the same port (output) and forwarded
 * traffic (prerouting) would match too.
 */
function match (d: Destination): string {
  const addr = d.address === undefined ? `fib daddr type local meta nfproto ${d.family === 'ip' ? 'ipv4' : 'ipv6'}` :
    `${d.family} daddr ${d.address}`
  return `${addr} tcp dport ${d.port}`
}

const NEW_CONNECTION = 'tcp flags & (syn | ack) == syn'

/** An nft script that creates `table` with `body`, replacing any table of that name, in one transaction. */
export function replaceTableScript (table: string, comment: string, body: readonly string[]): string {
  return [
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    `  comment ${JSON.stringify(comment)}`,
    ...body.map(l => `  ${l}`),
    '}',
    ''
  ].join('\n')
}

/** An nft script that deletes `table` whether or not it exists. */
export function deleteTableScript (table: string): string {
  return `table inet ${table}\ndelete table inet ${table}\n`
}

/**
 * syn-drop: new connections to the listeners are dropped before conntrack and NAT see them
 * (priority raw, so the public port is matched even while iptables-flip rules exist). Only on
 * the receiving side: a SYN dropped in the output hook would fail a local client's connect()
 * with EPERM instead of making it retransmit (loopback packets pass prerouting too).
 * `exceptLoopback`: remote clients only (tc-plug buffers the local ones).
 */
export function synDropScript (specs: readonly ListenerSpec[], opts: { exceptLoopback?: boolean } = {}): string {
  const from = opts.exceptLoopback === true ? 'iifname != "lo" ' : ''
  const rules = specs.flatMap(destinations).map(d =>
    `    ${from}${match(d)} ${NEW_CONNECTION} drop comment "tslb syn-drop"`)
  return replaceTableScript(SYN_DROP_TABLE, 'tslb syn-drop: new connections dropped while the listeners restart', [
    'chain prerouting {',
    '    type filter hook prerouting priority raw; policy accept;',
    ...rules,
    '  }'
  ])
}

/** One public listener and the internal port its slot socket is bound to (same address). */
export interface SlotMapping {
  readonly spec: ListenerSpec
  readonly slotPort: number
}

function dnatTarget (d: Destination, slotPort: number): string {
  if (d.address === undefined) return `${d.family} daddr:${slotPort}`
  return d.family === 'ip6' ? `[${d.address}]:${slotPort}` : `${d.address}:${slotPort}`
}

/**
 * iptables-flip: new connections to each public port are DNATed to the active slot's port on the
 * same address; prerouting for remote clients, output for local ones. NAT rules are consulted
 * only for a connection's first packet, so a flip leaves established flows where they are. Only
 * a SYN is DNATed: a connection made before conntrack watched this namespace (the first flip
 * loads it) is picked up mid-stream by its next packet, which must not be sent to a slot that
 * never saw the connection (it would answer with a reset).
 */
export function flipScript (slot: string, mappings: readonly SlotMapping[]): string {
  const rules = mappings.flatMap(m => destinations(m.spec).map(d =>
    `    ${match(d)} ${NEW_CONNECTION} dnat ${d.family} to ${dnatTarget(d, m.slotPort)} comment "tslb slot ${slot}"`))
  return replaceTableScript(FLIP_TABLE, `tslb iptables-flip: public ports to worker slot ${slot}`, [
    'chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...rules,
    '  }',
    'chain output {',
    '    type nat hook output priority -100; policy accept;',
    ...rules,
    '  }'
  ])
}

/** tc-plug: marks local clients' SYNs to the listeners so the `fw` filter classifies them into the plug. */
export function plugMarkScript (specs: readonly ListenerSpec[]): string {
  const rules = specs.flatMap(destinations).map(d =>
    `    ${match(d)} ${NEW_CONNECTION} meta mark set 0x${PLUG_MARK.toString(16)} comment "tslb tc-plug"`)
  return replaceTableScript(PLUG_MARK_TABLE, 'tslb tc-plug: marks SYNs of local clients for the plug qdisc', [
    'chain output {',
    '    type filter hook output priority mangle; policy accept;',
    ...rules,
    '  }'
  ])
}
