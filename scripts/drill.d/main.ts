/**
 * Entry point of the drill (see drill.ts):
 *
 *   main.ts demo --prefix P --net N --run DIR [--traffic S]
 *       scripts/demo on a namespace lab that is up: tslb on lb1..lb3 (left running), then the drill
 *   main.ts drill --lab nspawn --prefix P --net N [--traffic S]
 *       scripts/lab-systemd drill: the drill on the systemd lab (up)
 *   main.ts drill --lab vagrant [--traffic S]
 *       vagrant/drill: the drill on the Vagrant lab (up), from the host, in vagrant/
 *
 * Exit status: 0 when the drill passed (see verdict() in drill.ts); 1 otherwise (the failover line
 * is printed last either way once measured).
 */
import { runDrill, verdict, type DrillCluster } from './drill.ts'
import { netnsCluster, startCluster, type NetnsLab } from './netns.ts'
import { nspawnCluster } from './nspawn.ts'
import { vagrantCluster } from './vagrant.ts'

function opt (args: readonly string[], name: string, dflt?: string): string {
  const i = args.indexOf(name)
  const v = i >= 0 ? args[i + 1] : dflt
  if (v === undefined) throw new Error(`missing ${name}`)
  return v
}

async function demo (args: readonly string[]): Promise<DrillCluster> {
  const lab: NetnsLab = { prefix: opt(args, '--prefix'), net: opt(args, '--net'), runDir: opt(args, '--run') }
  await startCluster(lab, s => { process.stdout.write(`${s}\n`) })
  process.stdout.write(`(the lab and tslb stay up after the drill: scripts/lab exec client curl -s http://${lab.net}.100/ — scripts/demo down removes everything)\n`)
  return netnsCluster(lab)
}

async function main (argv: readonly string[]): Promise<number> {
  const [mode, ...args] = argv
  const traffic = Number(opt(args, '--traffic', '5'))
  let cluster: DrillCluster
  let restartTimeoutMs = 60_000
  if (mode === 'demo') {
    cluster = await demo(args)
  } else if (mode === 'drill') {
    const lab = opt(args, '--lab')
    if (lab === 'nspawn') cluster = nspawnCluster(opt(args, '--prefix'), opt(args, '--net'))
    else if (lab === 'vagrant') {
      cluster = await vagrantCluster(opt(args, '--net', '198.18.0'))
      restartTimeoutMs = 600_000
    } else throw new Error(`unknown lab '${lab}' (nspawn, vagrant)`)
  } else {
    process.stderr.write('usage: main.ts demo --prefix P --net N --run DIR | drill --lab nspawn|vagrant ...\n')
    return 2
  }
  const result = await runDrill(cluster, { trafficSeconds: traffic, tableSessions: 8, prefixSessions: 4, out: process.stdout, restartTimeoutMs })
  return verdict(result).length === 0 ? 0 : 1
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => {
    process.stderr.write(`drill: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
