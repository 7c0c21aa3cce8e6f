/**
 * keepalived 2.2.7's script security (lib/notify.c check_script_secure / check_security): a
 * script that runs as root (uid or gid 0) must not be replaceable by anyone else. Every
 * component of its path, from `/` to the file, and of the path it resolves to, must be owned by
 * root, and a directory without the sticky bit, or the file, must be writable by neither a
 * non-root group nor others. With `enable_script_security` such a script is refused; without,
 * keepalived only logs "Unsafe permissions found for script".
 */
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs'
import { COMMAND_ENV } from './script-env.ts'

/** What lstat() tells of one path component. */
export interface PathEntry {
  readonly uid: number
  readonly gid: number
  readonly mode: number
  readonly kind: 'dir' | 'file' | 'symlink' | 'other'
}

export type Lstat = (path: string) => PathEntry | undefined

const S_ISVTX = 0o1000
const S_IWGRP = 0o020
const S_IWOTH = 0o002

function entryOf (s: Stats): PathEntry {
  const kind = s.isDirectory() ? 'dir' : s.isFile() ? 'file' : s.isSymbolicLink() ? 'symlink' : 'other'
  return { uid: s.uid, gid: s.gid, mode: s.mode & 0o7777, kind }
}

export const systemLstat: Lstat = path => {
  try { return entryOf(lstatSync(path)) } catch { return undefined }
}

/** `/a/b/c` → `/`, `/a`, `/a/b`, `/a/b/c`. */
export function pathComponents (path: string): string[] {
  const parts = path.split('/').filter(p => p !== '')
  const out = ['/']
  for (let i = 0; i < parts.length; i++) out.push(`/${parts.slice(0, i + 1).join('/')}`)
  return out
}

/** The first reason `path` is unsafe for a root script (keepalived's check_security), or undefined. */
export function unsafePathReason (path: string, lstat: Lstat = systemLstat): string | undefined {
  const components = pathComponents(path)
  for (let i = 0; i < components.length; i++) {
    const p = components[i] as string
    const last = i === components.length - 1
    const e = lstat(p)
    if (e === undefined) return `${p} does not exist`
    if (!last && e.kind !== 'dir') return `${p} is not a directory`
    if (last && e.kind !== 'file' && e.kind !== 'symlink') return `${p} is not a file`
    if (e.uid !== 0) return `${p} is owned by uid ${e.uid}, not root`
    const guarded = (e.kind === 'dir' && (e.mode & S_ISVTX) === 0) || e.kind === 'file'
    if (guarded && e.gid !== 0 && (e.mode & S_IWGRP) !== 0) return `${p} is writable by group ${e.gid}`
    if (guarded && (e.mode & S_IWOTH) !== 0) return `${p} is writable by everyone`
  }
  return undefined
}

/** A bare command name found along COMMAND_ENV's PATH (keepalived's find_path), or undefined. */
function isRegularFile (p: string): boolean {
  try { return statSync(p).isFile() } catch { return false }
}

export function findInPath (name: string, isFile: (p: string) => boolean = isRegularFile): string | undefined {
  for (const dir of (COMMAND_ENV.PATH as string).split(':')) {
    const p = `${dir}/${name}`
    if (isFile(p)) return p
  }
  return undefined
}

/**
 * Why the script `command0` (argv[0]) is unsafe to run as root, or undefined when it is safe;
 * 'missing' when it does not exist. As keepalived, what is checked is what will run: the
 * directory part resolved (a symlinked /bin is /usr/bin), the file itself (a symlink is allowed
 * there, in a safe directory), and the file a final symlink points to.
 */
export function unsafeScriptReason (
  command0: string,
  lstat: Lstat = systemLstat,
  realpath: (p: string) => string = realpathSync
): string | undefined {
  const path = command0.includes('/') ? command0 : findInPath(command0)
  if (path === undefined) return 'missing'
  if (!path.startsWith('/')) return `'${command0}' is a relative path`
  const slash = path.lastIndexOf('/')
  let dir: string
  try { dir = realpath(path.slice(0, slash) === '' ? '/' : path.slice(0, slash)) } catch { return 'missing' }
  const file = `${dir === '/' ? '' : dir}${path.slice(slash)}`
  const entry = lstat(file)
  if (entry === undefined) return 'missing'
  const reason = unsafePathReason(file, lstat)
  if (reason !== undefined || entry.kind !== 'symlink') return reason
  let target: string
  try { target = realpath(file) } catch { return 'missing' }
  return unsafePathReason(target, lstat)
}
