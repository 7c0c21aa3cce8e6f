/**
 * The VRRP speaker's text output (keepalived's vrrp_print.c has the same role): `show vrrp` of
 * the runtime API, and the one line per instance of `tslb status`.
 */
import type { VrrpCounters, VrrpInstanceStatus } from './instance-runner.ts'
import type { ScriptStatus, TrackState } from './track.ts'
import { DROP_REASONS } from './validate.ts'

export interface VrrpSpeakerStatus {
  readonly instances: readonly VrrpInstanceStatus[]
  readonly scripts: readonly ScriptStatus[]
  readonly files?: readonly { readonly name: string, readonly file: string, readonly value: number,
    readonly weight: number }[]
  readonly processes?: readonly { readonly name: string, readonly process: string, readonly count: number,
    readonly state: TrackState }[]
  readonly groups?: readonly { readonly name: string, readonly state: string, readonly members: readonly string[] }[]
}

function countersText (c: VrrpCounters): string {
  return (`adverts sent ${c.advertsSent} received ${c.advertsReceived}, became master ${c.becameMaster}, released ` +
    (`master ${c.releasedMaster}, priority-0 sent ${c.priorityZeroSent} received ${c.priorityZeroReceived}, ` +
      `gratuitous ARP/NA sent ${c.garpsSent}, send errors ${c.sendErrors}`))
}

function dropsText (c: VrrpCounters): string | undefined {
  const parts = DROP_REASONS.filter(r => (c.drops[r] ?? 0) > 0).map(r => `${r} ${c.drops[r] ?? 0}`)
  return parts.length === 0 ? undefined : parts.join(', ')
}

function trackText (t: VrrpInstanceStatus['tracking'][number]): string {
  if (t.kind === 'interface') return t.state === 'ok' ? 'up' : 'down'
  if (t.kind === 'file') return `= ${t.value ?? 0}`
  return t.state
}

/** `show vrrp` of the runtime API: one block per instance, then the scripts. */
export function formatShowVrrp (s: VrrpSpeakerStatus): string {
  if (s.instances.length === 0) return 'no VRRP instance\n'
  const out: string[] = []
  for (const i of s.instances) {
    const master = i.state === 'MASTER' ? `${i.masterAddress ?? '?'} (this node)` : i.masterAddress ?? '-'
    out.push(`vrrp_instance ${i.name}`)
    out.push(`  state ${i.state} since ${i.since}`)
    out.push(
      (`  vrid ${i.vrid ?? '?'} on ${i.interface ?? '?'}, version ${i.version}, advert_int ` +
        `${i.advertIntervalMs / 1000}s, ${i.unicastPeers.length > 0 ? (`unicast to ` +
          `${i.unicastPeers.join(' ')}`) : 'multicast'}, source ${i.localAddress ?? '-'}`))
    out.push(`  priority ${i.basePriority}, effective ${i.effectivePriority}`)
    out.push(`  master ${master}${i.masterPriority === undefined ? '' : ` priority ${i.masterPriority}`}`)
    out.push(`  virtual_ipaddress ${i.vips.join(' ')} (${i.vipsHeld ? 'held' : 'not held'})`)
    if (i.syncGroup !== undefined) out.push(`  vrrp_sync_group ${i.syncGroup}`)
    if (i.tracking.length > 0) out.push(
      `  tracking ${i.tracking.map(t => `${t.kind} ${t.name} ${trackText(t)}${t.weight === undefined || t.weight === 0 ?
        '' : ` weight ${t.weight}`}`).join(', ')}`)
    if (i.faultReasons.length > 0) out.push(`  fault ${i.faultReasons.join(', ')}`)
    out.push(`  ${countersText(i.counters)}`)
    const drops = dropsText(i.counters)
    if (drops !== undefined) out.push(`  dropped ${drops}`)
  }
  for (const sc of s.scripts) {
    out.push(
      (`vrrp_script ${sc.name}: ${sc.state}, weight ${sc.weight}, ${sc.runs} run(s), ` +
        `${sc.failures} failure(s)${sc.lastResult === undefined ? '' : `, last ${sc.lastResult}`}`))
  }
  for (const f of s.files ?? []) out.push(`vrrp_track_file ${f.name}: ${f.file} = ${f.value}, weight ${f.weight}`)
  for (const p of s.processes ?? []) out.push(`vrrp_track_process ${p.name}: ${p.process} x${p.count}, ${p.state}`)
  for (const g of s.groups ?? []) out.push(`vrrp_sync_group ${g.name}: ${g.state}, ${g.members.join(' ')}`)
  return `${out.join('\n')}\n`
}

/** One line per instance, for `tslb status`. */
export function formatVrrpStatusLine (i: VrrpInstanceStatus): string {
  const c = i.counters
  const master = i.state === 'MASTER' ? 'this node' : i.masterAddress ?? '-'
  const drops = Object.values(c.drops).reduce((a, b) => a + (b ?? 0), 0)
  return (`${i.name}: ${i.state}, vrid ${i.vrid ?? '?'} on ${i.interface ?? '?'} v${i.version}, priority ` +
    (`${i.effectivePriority}/${i.basePriority}, master ${master}, VIPs ${i.vipsHeld ? 'held' : 'not held'}; adverts ` +
      (`tx ${c.advertsSent} rx ${c.advertsReceived}, master ${c.becameMaster}x, released ${c.releasedMaster}x, garp ` +
        `${c.garpsSent}, dropped ${drops}${i.faultReasons.length > 0 ? `; fault: ${i.faultReasons.join(', ')}` : ''}`)))
}
