/**
 * The systemd lab (scripts/lab-systemd) for node:test suites: the namespace lab with lb1..lb3 as
 * systemd-nspawn containers running tslb under systemd. The first run builds the cached
 * container root (a few minutes); later ones take about 20 s.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { after, before } from 'node:test'
import { assertRoot, isRoot, labHandle, netForPrefix, uniquePrefix, type ExecResult, type Lab, type LabNode } from './lab.ts'

export const LAB_SYSTEMD_SCRIPT: string = fileURLToPath(new URL('../../scripts/lab-systemd', import.meta.url))

/** Up to the first build of the cached root: debootstrap and the first npm install. */
const UP_TIMEOUT_MS = 15 * 60_000

export interface SystemdLab {
  readonly lab: Lab
  /** runs argv inside the node (inside the container for lb1..lb3); never rejects on an exit status */
  exec: (node: LabNode, argv: readonly string[], timeoutMs?: number) => Promise<ExecResult>
}

async function script (prefix: string, net: string, args: readonly string[], timeoutMs: number): Promise<ExecResult> {
  return await new Promise((resolve, reject) => {
    execFile(LAB_SYSTEMD_SCRIPT, [...args], {
      encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, TSLB_LAB_PREFIX: prefix, TSLB_LAB_NET: net }
    }, (err, stdout, stderr) => {
      if (err === null) { resolve({ stdout, stderr, code: 0, signal: null }); return }
      if (typeof err.code === 'number') { resolve({ stdout, stderr, code: err.code, signal: null }); return }
      if (err.signal !== null && err.signal !== undefined) { resolve({ stdout, stderr, code: 128, signal: err.signal }); return }
      reject(new Error(`scripts/lab-systemd: ${err.message}`, { cause: err }))
    })
  })
}

export function useSystemdLab (prefix: string = uniquePrefix(), net: string = netForPrefix(prefix)): SystemdLab {
  const lab = labHandle(prefix, net)
  const run = async (args: readonly string[], timeoutMs: number): Promise<void> => {
    const r = await script(prefix, net, args, timeoutMs)
    if (r.code !== 0) throw new Error(`scripts/lab-systemd ${args.join(' ')} failed (exit ${r.code})\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`)
  }
  before(async () => {
    assertRoot()
    await run(['down'], 120_000)
    await run(['up'], UP_TIMEOUT_MS)
  }, { timeout: UP_TIMEOUT_MS + 180_000 })
  after(async () => {
    if (process.env['TSLB_LAB_KEEP'] === '1') {
      process.stderr.write(`TSLB_LAB_KEEP=1: leaving the systemd lab ${prefix} up; TSLB_LAB_PREFIX=${prefix} TSLB_LAB_NET=${net} scripts/lab-systemd down\n`)
      return
    }
    if (isRoot()) await run(['down'], 120_000)
  }, { timeout: 180_000 })
  return {
    lab,
    exec: async (node, argv, timeoutMs = 60_000) => await script(prefix, net, ['exec', node, '--', ...argv], timeoutMs)
  }
}
