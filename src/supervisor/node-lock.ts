/**
 * One supervisor per node: an exclusive flock(2) on a lock file beside the control socket, taken before the supervisor
 * touches anything (sockets, firewall rules, qdiscs, pid file). Node has no flock(): `flock(1)` is run on a copy of the
 * lock file's descriptor, which locks the open file description this process keeps; the kernel releases it when the
 * process ends, however it ends (the descriptor is close-on-exec, so workers and scripts do not hold it).
 */
import { spawnSync } from 'node:child_process'
import { constants, closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { COMMAND_ENV } from '../util/script-env.ts'
import { NodeLockError, NodeLockedError } from './errors.ts'

const FLOCK = '/usr/bin/flock'
const HELD = 75

export interface NodeLock {
  readonly path: string
  release (): void
}

export function lockPathFor (controlSocket: string): string {
  return `${controlSocket}.lock`
}

export async function lockNode (controlSocket: string, pid = process.pid): Promise<NodeLock> {
  const path = lockPathFor(controlSocket)
  let fd: number
  try {
    await mkdir(dirname(controlSocket), { recursive: true, mode: 0o700 })
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)
  } catch (err) {
    throw new NodeLockError(path, err instanceof Error ? err.message : String(err), err)
  }
  const r = spawnSync(FLOCK, ['--nonblock', '--conflict-exit-code', String(HELD), '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd], env: COMMAND_ENV, encoding: 'utf8' })
  if (r.status !== 0) {
    closeSync(fd)
    if (r.status === HELD) throw new NodeLockedError(path, holder(path))
    throw new NodeLockError(path, r.error?.message ?? (r.stderr.trim() || `flock exited with ${r.status ?? r.signal}`))
  }
  ftruncateSync(fd, 0)
  writeSync(fd, `${pid}\n`, 0)
  return { path, release: () => { closeSync(fd) } }
}

/** The pid the holder wrote in the lock file (it may not have written it yet). */
function holder (path: string): number | undefined {
  try {
    const text = readFileSync(path, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW }).trim()
    return /^\d+$/.test(text) ? Number(text) : undefined
  } catch {
    return undefined
  }
}
