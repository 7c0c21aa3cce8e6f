/**
 * This host as operators look at it: CPUs and memory read with systeminformation; the network
 * interfaces from /sys/class/net (systeminformation lists only interfaces that have an address,
 * so a down one without any would look missing) with every address from node:os.
 * `hostWarnings` is pure: it compares a configuration with those facts.
 */
import { BlockList, isIPv4 } from 'node:net'
import { readdir, readFile } from 'node:fs/promises'
import { loadavg, networkInterfaces as osInterfaces } from 'node:os'
import { cpu, mem } from 'systeminformation'
import type { Diagnostic } from '../util/errors.ts'
import type { Config } from '../config/model.ts'

export interface HostInterface {
  readonly name: string
  /** The kernel's operstate: up, down, unknown (loopback, dummy), lowerlayerdown... */
  readonly state: string
  readonly mac: string
  /** Every address with its prefix, e.g. 198.18.0.11/24. */
  readonly addresses: readonly string[]
}

export interface HostFacts {
  readonly cpus: number
  /** 1, 5 and 15 minute load averages. */
  readonly load: readonly number[]
  readonly memoryTotal: number
  readonly memoryAvailable: number
  readonly interfaces: readonly HostInterface[]
}

export async function gatherHostFacts (): Promise<HostFacts> {
  const [c, m, interfaces] = await Promise.all([cpu(), mem(), readInterfaces()])
  return {
    cpus: c.cores,
    load: loadavg().map(n => Math.round(n * 100) / 100),
    memoryTotal: m.total,
    memoryAvailable: m.available,
    interfaces
  }
}

const SYS_NET = '/sys/class/net'

async function readInterfaces (): Promise<HostInterface[]> {
  const addresses = osInterfaces()
  const names = await readdir(SYS_NET).catch(() => [])
  const read = async (name: string, file: string): Promise<string> => (await readFile(`${SYS_NET}/${name}/${file}`,
    'utf8').catch(() => '')).trim()
  const withIndex = await Promise.all(names.map(async name => ({
    index: Number(await read(name, 'ifindex')),
    name,
    state: await read(name, 'operstate'),
    mac: await read(name, 'address'),
    addresses: (addresses[name] ?? []).map(a => a.cidr ?? `${a.address}/${a.family === 'IPv4' ? 32 : 128}`)
  })))
  return withIndex.sort((a, b) => a.index - b.index).map(({ name, state, mac, addresses }) => ({ name, state, mac,
    addresses }))
}

/** Interfaces that are usable: up, or 'unknown' as loopback and dummy interfaces report. */
function isUp (i: HostInterface): boolean {
  return i.state === 'up' || i.state === 'unknown'
}

/** What on this host would keep the configuration from working as written (warnings, with the line they concern). */
export function hostWarnings (config: Config, host: HostFacts): Diagnostic[] {
  const out: Diagnostic[] = []
  const warn = (loc: { file: string, line: number }, message: string): void => { out.push({ severity: 'warning',
    file: loc.file, line: loc.line, message }) }
  const vips = new Set(config.vrrpInstances.flatMap(v => v.virtualAddresses.map(a => a.address)))
  for (const v of config.vrrpInstances) {
    const ifaces = new Set([v.interface, ...v.virtualAddresses.map(a => a.dev)].filter((x): x is string => x !==
      undefined))
    for (const name of ifaces) {
      const i = host.interfaces.find(x => x.name === name)
      if (i === undefined) warn(v.loc,
        (`vrrp_instance '${v.name}': interface '${name}' does not exist on this host (it has ` +
          `${host.interfaces.map(x => x.name).join(', ')})`))
      else if (!isUp(i)) warn(v.loc, `vrrp_instance '${v.name}': interface '${name}' is ${i.state}`)
    }
    for (const a of v.virtualAddresses) {
      const i = host.interfaces.find(x => x.name === (a.dev ?? v.interface))
      // A down interface is warned about above, and its addresses are not listed (libuv skips them).
      if (i === undefined || !isUp(i)) continue
      // The VIP itself, added while this node is master, is not a subnet it can live in.
      const subnets = i.addresses.filter(s => !vips.has(s.split('/')[0] ?? '') && isIPv4(s.split('/')[0] ?? '') === (
        a.family === 4))
      if (!subnets.some(s => inSubnet(a.address, s))) {
        warn(a.loc,
          `VIP ${a.address} is outside every subnet of interface '${i.name}' ` +
          `(${subnets.length === 0 ? 'it has no address' : subnets.join(', ')}): ` +
          'neighbours will not reach it without a route')
      }
    }
  }
  const threads = config.global.nbthread
  if (threads !== undefined && threads > host.cpus) {
    warn({ file: config.files[0] ?? '', line: 0 }, `nbthread ${threads} is more than this host's ${host.cpus} CPUs`)
  }
  return out
}

function inSubnet (address: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/')
  if (net === undefined || bits === undefined) return false
  const type = isIPv4(net) ? 'ipv4' : 'ipv6'
  if ((type === 'ipv4') !== isIPv4(address)) return false
  const list = new BlockList()
  list.addSubnet(net, Number(bits), type)
  return list.check(address, type)
}
