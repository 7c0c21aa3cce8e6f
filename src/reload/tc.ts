/**
 * The plug qdisc through iproute2's `tc` (it knows `plug` since 2019): probing for kernel
 * support, and the plug on `lo` that tc-plug holds SYNs in.
 */
import { runTool } from '../util/run-tool.ts'
import { COMMAND_ENV } from '../util/script-env.ts'
import { TrafficControlError } from './errors.ts'
import { PLUG_MARK } from './rules.ts'

const PRIO_HANDLE = '7c5b:'
const PLUG_CLASS = '7c5b:4'
const PLUG_HANDLE = '7c5c:'
const PLUG_LIMIT_BYTES = 1_048_576

/** The probe script (run in a throwaway network namespace) and the kernel feature each line needs. */
export const PROBE_SCRIPT: readonly { readonly command: string, readonly needs: string }[] = [
  { command: 'qdisc add dev lo root handle 1: plug limit 1000', needs: 'the plug qdisc (sch_plug)' },
  { command: 'qdisc del dev lo root', needs: '' },
  { command: 'qdisc add dev lo root handle 1: prio bands 4', needs: 'the prio qdisc (sch_prio)' },
  { command: 'qdisc add dev lo handle ffff: ingress', needs: 'the ingress qdisc (sch_ingress)' },
  { command: 'filter add dev lo parent ffff: protocol ip prio 1 handle 1 fw', needs: 'the fw classifier (cls_fw)' }
]

/** What the kernel lacks, from `tc -force -batch` output ("Command failed -:N"); pure. */
export function missingFeatures (stderr: string): string[] {
  const missing = new Set<string>()
  for (const m of stderr.matchAll(/Command failed -:(\d+)/g)) {
    const needs = PROBE_SCRIPT[Number(m[1]) - 1]?.needs
    if (needs !== undefined && needs !== '') missing.add(needs)
  }
  return [...missing]
}

export type ProbeResult = { readonly supported: true } | { readonly supported: false, readonly reason: string }

/** Tries the whole qdisc setup in a new, empty network namespace: nothing here is touched. */
export async function probePlugSupport (): Promise<ProbeResult> {
  const r = await runTool('unshare', ['--net', 'tc', '-force', '-batch', '-'],
    { input: PROBE_SCRIPT.map(l => l.command).join('\n'), env: COMMAND_ENV })
  if (r.exitCode === 0) return { supported: true }
  const missing = missingFeatures(r.stderr)
  if (missing.length > 0) return { supported: false, reason: `this kernel lacks ${missing.join(', ')}` }
  return { supported: false, reason:
    `cannot probe for the plug qdisc: ${r.stderr.trim() !== '' ? r.stderr.trim() : r.message ?? 'failed'}` }
}

async function tc (what: string, args: readonly string[]): Promise<void> {
  const r = await runTool('tc', args, { env: COMMAND_ENV })
  if (r.exitCode !== 0) throw new TrafficControlError(what, r.stderr.trim() !== '' ? r.stderr.trim() : r.message ??
    'failed')
}

/** Whether `lo` carries tslb's prio qdisc (from this run or a crashed one). */
export async function plugInstalled (): Promise<boolean> {
  const r = await runTool('tc', ['qdisc', 'show', 'dev', 'lo'], { env: COMMAND_ENV })
  return r.exitCode === 0 && r.stdout.includes(`prio ${PRIO_HANDLE}`)
}

/** Whether `lo` has a root qdisc someone else configured (installing ours would replace it). */
export async function loopbackRootTaken (): Promise<boolean> {
  const r = await runTool('tc', ['qdisc', 'show', 'dev', 'lo', 'root'], { env: COMMAND_ENV })
  return r.exitCode === 0 && r.stdout.trim() !== '' && !/^qdisc noqueue /.test(r.stdout) && !r.stdout.includes(
    `prio ${PRIO_HANDLE}`)
}

/** Yelp's setup on `lo`: prio root, the plug as band 4, SYNs carrying PLUG_MARK classified into it. */
export async function installPlug (): Promise<void> {
  await tc('adding the prio qdisc on lo', ['qdisc', 'add', 'dev', 'lo', 'root', 'handle', PRIO_HANDLE, 'prio', 'bands',
    '4'])
  await tc('adding the plug qdisc on lo', ['qdisc', 'add', 'dev', 'lo', 'parent', PLUG_CLASS, 'handle', PLUG_HANDLE,
    'plug', 'limit', String(PLUG_LIMIT_BYTES)])
  await setPlug('release_indefinite')
  for (const protocol of ['ip', 'ipv6']) {
    await tc('adding the fw filter on lo', ['filter', 'add', 'dev', 'lo', 'parent', PRIO_HANDLE, 'protocol', protocol,
      'prio', '1', 'handle', `0x${PLUG_MARK.toString(16)}`, 'fw', 'classid', PLUG_CLASS])
  }
}

export async function setPlug (mode: 'block' | 'release_indefinite'): Promise<void> {
  await tc(`plug ${mode}`, ['qdisc', 'change', 'dev', 'lo', 'parent', PLUG_CLASS, 'handle', PLUG_HANDLE, 'plug', mode])
}

/** Removes the prio qdisc, and with it the plug and the filters. */
export async function removePlug (): Promise<void> {
  await tc('removing the prio qdisc from lo', ['qdisc', 'del', 'dev', 'lo', 'root', 'handle', PRIO_HANDLE])
}
