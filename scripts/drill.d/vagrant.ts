/**
 * The drill's cluster on the Vagrant lab (vagrant/Vagrantfile), run from the host in vagrant/:
 * commands reach the VMs over ssh with the configuration `vagrant ssh-config` prints (what
 * `vagrant ssh` does, without starting Vagrant for each command).
 *
 * The crash: `systemctl kill -s KILL tslb` on the VM, then `vagrant halt --force` — the
 * provider's power-off, a real power cut. The restart: `vagrant up NODE` (boot; tslb is enabled).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DrillCluster, DrillNode } from './drill.ts'
import { run } from './netns.ts'

/** One word for a POSIX shell. */
export function shellQuote (word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}

/** The ssh argv that runs argv as root on node (ssh joins its words into one command line). */
export function sshArgv (sshConfig: string, node: DrillNode, argv: readonly string[]): string[] {
  return ['-F', sshConfig, '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5', '-o', 'BatchMode=yes', node, '--', 'sudo', ...argv.map(shellQuote)]
}

async function vagrant (args: readonly string[], timeoutMs: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile('vagrant', [...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`vagrant ${args.join(' ')}: ${err.message}\n${stderr}`))
      else resolve(stdout)
    })
  })
}

export async function vagrantCluster (net: string): Promise<DrillCluster> {
  const config = join(mkdtempSync(join(tmpdir(), 'tslb-drill-')), 'ssh-config')
  // Written again after a VM boots: its forwarded port (VirtualBox) or address (libvirt) may change.
  const writeSshConfig = async (): Promise<void> => { writeFileSync(config, await vagrant(['ssh-config', 'client', 'lb1', 'lb2', 'lb3'], 120_000)) }
  await writeSshConfig()
  const exec = async (node: DrillNode, argv: readonly string[], timeoutMs = 30_000): ReturnType<typeof run> => await run('ssh', sshArgv(config, node, argv), timeoutMs)
  return {
    vips: [`${net}.100`, `${net}.101`],
    exec,
    spawnClient: (argv): ChildProcess => spawn('ssh', sshArgv(config, 'client', argv), { stdio: ['ignore', 'pipe', 'pipe'] }),
    crash: async (node) => {
      await exec(node, ['systemctl', 'kill', '-s', 'KILL', 'tslb'])
      await vagrant(['halt', '--force', node], 300_000)
      return `systemctl kill -s KILL tslb, then vagrant halt --force ${node} (the provider's power-off)`
    },
    restart: async (node) => {
      await vagrant(['up', node], 900_000)
      await writeSshConfig()
      const a = await exec(node, ['systemctl', 'is-active', 'tslb'])
      return `vagrant up ${node}: booted, tslb ${a.stdout.trim()}`
    }
  }
}
