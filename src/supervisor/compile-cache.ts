/**
 * V8's compile cache for the workers (NODE_COMPILE_CACHE), beside the control socket. Code loaded from it runs in every
 * worker, so it is used only when it is a real directory (not a symlink) owned by this user, with no access for
 * anyone else: created 0700 when missing, refused otherwise (the workers then start without a cache).
 */
import { execFile } from 'node:child_process'
import { accessSync, constants, lstatSync, mkdirSync, readdirSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

/** Whether `dir` is safe to use, else why not. */
export type CacheCheck = { readonly ok: true } | { readonly ok: false, readonly reason: string }

export function checkCompileCache (dir: string): CacheCheck {
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return { ok: false, reason: String(
      (err as Error).message) }
  }
  try {
    const st = lstatSync(dir)
    if (!st.isDirectory()) return { ok: false, reason: 'not a directory' }
    const uid = process.getuid?.() ?? st.uid
    if (st.uid !== uid) return { ok: false, reason: `owned by uid ${st.uid}, not by this user (${uid})` }
    if ((st.mode & 0o077) !== 0) return { ok: false, reason: `mode ${(st.mode & 0o7777).toString(8)}, not 700` }
    // Node 24 hangs at start when NODE_COMPILE_CACHE names a directory it cannot write.
    accessSync(dir, constants.W_OK)
    return { ok: true }
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) }
  }
}

const WARM_TIMEOUT_MS = 30_000

/**
 * Fills an empty cache with the compiled, type-stripped code of `entry`'s module graph, in a short-lived process that
 * loads the modules and exits (Node writes the cache at exit). A worker that finds its modules in the cache never
 * loads Node's TypeScript stripper (a WebAssembly module), which would keep about 28 MiB for the worker's life.
 * Resolves `false` when the cache already had entries (nothing done) or the warm-up failed; the worker then compiles.
 */
export async function warmCompileCache (dir: string, entry: string): Promise<boolean> {
  try {
    if (readdirSync(dir).length > 0) return false
  } catch {
    return false
  }
  // The entry goes by the environment: tools that find workers by their command line must not take this for one.
  const script = 'await import(process.env.TSLB_WARM_ENTRY)'
  return await new Promise(resolve => {
    execFile(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], {
      env: { ...process.env, NODE_COMPILE_CACHE: dir, TSLB_WARM_ENTRY: pathToFileURL(entry).href },
      timeout: WARM_TIMEOUT_MS, windowsHide: true
    }, err => { resolve(err === null) })
  })
}
