/** Files a worker generation leaves that the supervisor removes once it is gone. */
import { readdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Config } from '../config/model.ts'

/**
 * Removes the peers hand-off sockets (`peers.gN.SECTION.sock`, src/peers/section.ts) of generation `generation`, or of
 * every generation; returns the paths removed.
 */
export async function removeHandoffSockets (dir: string, generation?: number): Promise<string[]> {
  const gen = generation === undefined ? '\\d+' : String(generation)
  const prefix = new RegExp(`^peers\\.g${gen}\\..+\\.sock$`)
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names.filter(n => prefix.test(n))) {
    await rm(join(dir, name), { force: true })
    removed.push(join(dir, name))
  }
  return removed
}

/**
 * Removes the stats sockets a worker bound under temporary names and never moved onto their paths
 * (`.tslb.PID.RANDOM` beside each path, src/proxy/stats/runtime-api.ts): it was killed before it served.
 */
export async function removeStatsTemporaries (config: Config, pid: number): Promise<void> {
  const dirs = new Set(config.global.statsSockets.filter(s => s.address === undefined).map(s => dirname(s.path)))
  for (const dir of dirs) {
    let names: string[]
    try {
      names = await readdir(dir)
    } catch {
      continue
    }
    for (const n of names.filter(x => x.startsWith(`.tslb.${pid}.`))) await rm(join(dir, n), { force: true })
  }
}
