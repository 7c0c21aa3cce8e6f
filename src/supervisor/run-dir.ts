/** What the supervisor keeps in its run directory (the control socket's) besides the control socket. */
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

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
