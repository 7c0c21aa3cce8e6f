/**
 * Which files a list of `-f` paths names: a file as given, a directory as its `*.cfg` files in
 * lexical order, hidden files and anything not a regular file skipped (as HAProxy does).
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigReadError } from '../util/errors.ts'

export async function configFiles (paths: readonly string[]): Promise<string[]> {
  const files: string[] = []
  for (const path of paths) {
    let isDirectory: boolean
    try {
      isDirectory = (await stat(path)).isDirectory()
    } catch (err) {
      throw new ConfigReadError(path, err)
    }
    if (!isDirectory) {
      files.push(path)
      continue
    }
    let names: string[]
    try {
      names = await readdir(path)
    } catch (err) {
      throw new ConfigReadError(path, err)
    }
    for (const name of names.filter(n => n.endsWith('.cfg') && !n.startsWith('.')).sort(lexical)) {
      const file = join(path, name)
      if ((await stat(file).catch(() => undefined))?.isFile() === true) files.push(file)
    }
  }
  return files
}

/** Byte order, as HAProxy's alphasort in the C locale (not the locale-aware default). */
function lexical (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
