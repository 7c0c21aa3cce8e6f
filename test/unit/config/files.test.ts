import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../../src/config/parser.ts'
import { configFiles } from '../../../src/config/files.ts'
import { ConfigError, ConfigReadError, formatDiagnostic } from '../../../src/util/errors.ts'

const dir = mkdtempSync(join(tmpdir(), 'tslb-files-'))
const DEFAULTS = 'defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n'

async function errorsOf (paths: string[]): Promise<string[]> {
  try {
    await loadConfig(paths, { env: {} })
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic)
    throw err
  }
  return []
}

test('a directory is its *.cfg files in byte order; hidden files, other names and subdirectories are skipped', async () => {
  const d = join(dir, 'conf.d')
  mkdirSync(join(d, 'sub.cfg'), { recursive: true })
  for (const name of ['20-b.cfg', 'a.cfg', '10-a.cfg', 'B.cfg', '.hidden.cfg', 'notes.txt', '10-a.cfg~']) writeFileSync(join(d, name), '')
  // Byte order as HAProxy's alphasort in the C locale: 'B' before 'a'.
  assert.deepEqual(await configFiles([d]), ['10-a.cfg', '20-b.cfg', 'B.cfg', 'a.cfg'].map(n => join(d, n)))
})

test('repeated paths load in order as one configuration: defaults carry over, each file starts outside any section', async () => {
  const a = join(dir, 'a.cfg')
  const b = join(dir, 'b.cfg')
  const c = join(dir, 'c.cfg')
  writeFileSync(a, `${DEFAULTS}  balance leastconn\nbackend app\n  server s1 198.18.0.21:80\n`)
  writeFileSync(b, 'backend other\n  server s2 198.18.0.22:80\n')
  writeFileSync(c, '  server s3 198.18.0.23:80\n')
  const { config } = await loadConfig([a, b], { env: {} })
  assert.deepEqual(config.files, [a, b])
  assert.deepEqual(config.proxies.map(p => `${p.kind} ${p.name} ${p.balance?.algorithm ?? '-'} ${p.loc.file}`), [
    `backend app leastconn ${a}`, `backend other leastconn ${b}`
  ])
  // As `haproxy -f a.cfg -f c.cfg`: c.cfg's first line is not in a.cfg's backend.
  assert.deepEqual(await errorsOf([a, c]), [
    `${c}:1: 'server' is outside any section ('server' belongs in a defaults/frontend/backend/listen or peers section; each configuration file starts outside any section, as in HAProxy)`
  ])
})

test('problems are reported per file and line, in the order the files load; cross-file references resolve', async () => {
  const d = join(dir, 'mixed.d')
  mkdirSync(d)
  writeFileSync(join(d, '10-defaults.cfg'), `${DEFAULTS}  balanc roundrobin\n`)
  writeFileSync(join(d, '20-front.cfg'), 'frontend fe\n  bind 127.0.0.1:8080\n  default_backend app\n')
  writeFileSync(join(d, '30-back.cfg'), 'backend app\n  server s1 198.18.0.21:80 weight 999\n')
  assert.deepEqual(await errorsOf([d]), [
    `${join(d, '10-defaults.cfg')}:6: unknown keyword 'balanc' in defaults section (did you mean 'balance'?)`,
    `${join(d, '30-back.cfg')}:2: weight: 999 is out of range (0..256)`
  ])
})

test('a missing path and a directory without *.cfg are errors naming the path', async () => {
  await assert.rejects(loadConfig([join(dir, 'nope.cfg')]), (err: unknown) => err instanceof ConfigReadError && err.file === join(dir, 'nope.cfg') && /ENOENT/.test(err.message))
  const empty = join(dir, 'empty.d')
  mkdirSync(empty)
  assert.deepEqual(await errorsOf([empty]), [`${empty}: no configuration file to load (a directory is read for its *.cfg files)`])
})
