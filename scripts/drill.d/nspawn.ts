/**
 * The drill's cluster on the systemd lab (scripts/lab-systemd): lb1..lb3 are systemd-nspawn
 * containers running tslb under its unit, in the namespace lab's lb namespaces; the client is the
 * lab's client namespace.
 *
 * The crash: `systemctl kill -s KILL tslb` (every process of the unit's cgroup: supervisor,
 * worker, VIP reaper) and the container's eth0 down in the same command — the power cut — then
 * the container powered off (SIGRTMIN+4 to its systemd, as `machinectl poweroff`). The network
 * namespace outlives the container and the SIGKILLed reaper removed nothing, so the restart
 * removes the VIPs first (a machine powers on without them), brings eth0 up and boots the
 * container: systemd starts tslb.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { DrillCluster, DrillNode } from './drill.ts'
import { ROOT, run } from './netns.ts'

const LAB_SYSTEMD = join(ROOT, 'scripts/lab-systemd')

export function nspawnCluster (prefix: string, net: string): DrillCluster {
  const vips: readonly [string, string] = [`${net}.100`, `${net}.101`]
  const env = { ...process.env, TSLB_LAB_PREFIX: prefix, TSLB_LAB_NET: net }
  const labSystemd = async (args: readonly string[], timeoutMs = 30_000): ReturnType<typeof run> => await run(LAB_SYSTEMD, args, timeoutMs, env)
  const ns = (node: DrillNode): string => `${prefix}${node}`
  let poweredOff: ReturnType<typeof run> | undefined
  return {
    vips,
    exec: async (node, argv, timeoutMs = 30_000) => node === 'client'
      ? await run('ip', ['netns', 'exec', ns(node), ...argv], timeoutMs)
      : await labSystemd(['exec', node, '--', ...argv], timeoutMs),
    spawnClient: (argv): ChildProcess => spawn('ip', ['netns', 'exec', ns('client'), ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env }),
    crash: async (node) => {
      const k = await labSystemd(['exec', node, '--', 'sh', '-c', 'systemctl kill -s KILL tslb; ip link set dev eth0 down'])
      if (k.code !== 0) throw new Error(`systemctl kill on ${node}: ${k.stdout}${k.stderr}`)
      // The node is dead from here; its container shuts down while the drill watches the VIP move.
      poweredOff = labSystemd(['poweroff', node], 60_000)
      return 'systemctl kill -s KILL tslb and eth0 down in one command, then the container powered off (SIGRTMIN+4 to its systemd)'
    },
    restart: async (node) => {
      const p = await poweredOff
      if (p !== undefined && p.code !== 0) throw new Error(`scripts/lab-systemd poweroff ${node}: ${p.stdout}${p.stderr}`)
      for (const vip of vips) await run('ip', ['-n', ns(node), 'addr', 'del', `${vip}/24`, 'dev', 'eth0'])
      const up = await run('ip', ['-n', ns(node), 'link', 'set', 'dev', 'eth0', 'up'])
      if (up.code !== 0) throw new Error(`ip link set eth0 up in ${ns(node)}: ${up.stderr}`)
      const b = await labSystemd(['boot', node], 180_000)
      if (b.code !== 0) throw new Error(`scripts/lab-systemd boot ${node}: ${b.stdout}${b.stderr}`)
      const a = await labSystemd(['exec', node, '--', 'systemctl', 'is-active', 'tslb'])
      return `the VIPs a power cycle drops removed, eth0 up, container booted, tslb ${a.stdout.trim()}`
    }
  }
}
