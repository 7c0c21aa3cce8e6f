import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

export async function writePidFile (path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, `${process.pid}\n`, { mode: 0o644 })
}

export async function removePidFile (path: string): Promise<void> {
  await rm(path, { force: true })
}
