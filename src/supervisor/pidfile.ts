/**
 * The pid file: written to a fresh temporary file (O_EXCL | O_NOFOLLOW) in the same directory, then renamed over the
 * path, so a symlink planted at the path is replaced, never written through; a directory every user may write to
 * without the sticky bit (where anyone could swap the file) is refused.
 */
import { constants } from 'node:fs'
import { lstat, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { PidFileError } from './errors.ts'

const S_ISVTX = 0o1000

export async function writePidFile (path: string, pid = process.pid): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const d = await stat(dir)
  if ((d.mode & 0o002) !== 0 && (d.mode & S_ISVTX) === 0) throw new PidFileError(path,
    `${dir} is writable by every user and has no sticky bit`)
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`)
  try {
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644)
    try {
      await fh.writeFile(`${pid}\n`)
      await fh.chmod(0o644)
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    if (err instanceof PidFileError) throw err
    throw new PidFileError(path, err instanceof Error ? err.message : String(err), err)
  }
}

/** Removes the pid file if it is still a regular file naming `pid` (not another process's, not a symlink). */
export async function removePidFile (path: string, pid = process.pid): Promise<void> {
  try {
    if (!(await lstat(path)).isFile()) return
    if ((await readFile(path, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW })).trim() !==
      String(pid)) return
    await rm(path, { force: true })
  } catch {
    // already gone
  }
}
