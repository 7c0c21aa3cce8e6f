/** `tslb status`: the node as its supervisor reports it, and this host. */
import type { SupervisorStatus } from '../supervisor/supervisor.ts'
import { formatWorkerPeers } from '../supervisor/peers-status.ts'
import { formatVrrpStatusLine } from '../vrrp/show-vrrp.ts'
import type { HostFacts } from './host.ts'

/** The host part of `tslb status`: only the interfaces VRRP instances use are listed. */
export interface HostStatus {
  readonly cpus: number
  readonly load: readonly number[]
  readonly memoryTotal: number
  readonly memoryAvailable: number
  readonly interfaces: readonly { readonly name: string, readonly state: string, readonly mac: string,
    readonly addresses: readonly string[] }[]
}

export function hostStatus (facts: HostFacts, status: SupervisorStatus): HostStatus {
  const names = new Set(status.vrrpInstances.map(v => v.runtime?.interface ?? v.interface).filter((n): n is string =>
    n !== undefined))
  return {
    cpus: facts.cpus,
    load: facts.load,
    memoryTotal: facts.memoryTotal,
    memoryAvailable: facts.memoryAvailable,
    interfaces: [...names].map(name => facts.interfaces.find(i => i.name === name) ?? { name, state: 'missing', mac: '',
      addresses: [] })
  }
}

function mib (bytes: number): string {
  return `${Math.round(bytes / 1048576)} MiB`
}

function dropped (n: number | undefined): string {
  return n === undefined || n === 0 ? '' : `, ${n} log line(s) dropped (stdout closed or full)`
}

export function formatStatus (s: SupervisorStatus, host: HostStatus): string {
  const lines = [
    `node ${s.node} (pid ${s.pid}), config ${s.configFiles.join(' ')}`,
    `started ${s.startedAt}, ${s.reloads} reload(s)${s.lastReload === undefined ? '' : `, last ${s.lastReload}`}`,
    (`host: ${host.cpus} CPUs, load ${host.load.join(' ')}, memory ${mib(host.memoryAvailable)} available of ` +
      `${mib(host.memoryTotal)}`),
    ...host.interfaces.map(i =>
      `  interface ${[`${i.name}: ${i.state}`, ...(i.mac === '' ? [] : [`MAC ${i.mac}`]), ...i.addresses].join(', ')}`),
    `proxies: ${s.proxies.length === 0 ? 'none' : s.proxies.map(p => `${p.kind} ${p.name}`).join(', ')}`,
    `vrrp:${s.vrrpInstances.length === 0 ? ' none' : ''}`,
    ...s.vrrpInstances.map(v =>
      `  ${v.runtime === undefined ? (`${v.name}: not running, vrid ${v.vrid ?? '?'}, configured ` +
        `${v.configuredState}, priority ${v.priority}`) : formatVrrpStatusLine(v.runtime)}`),
    `peers: ${s.peers.length === 0 ? 'none' : s.peers.map(p => `${p.name} (${p.peers.join(', ')})`).join(', ')}`,
    ...s.workers.flatMap(w => [`worker generation ${w.generation} (pid ${w.pid ?? '?'}): ${w.state}${dropped(
      w.logLinesDropped)}`, ...formatWorkerPeers(w)]),
    ...(s.standby === undefined ? [] : [`standby worker (pid ${s.standby.pid ?? '?'}): ${s.standby.state === 'booted'
      ? 'booted, takes the next reload or restart' : 'booting'}`])
  ]
  if ((s.logLinesDropped ?? 0) > 0) lines.splice(2, 0,
    `log: ${s.logLinesDropped ?? 0} line(s) dropped by the supervisor (stdout closed or full)`)
  return `${lines.join('\n')}\n`
}
