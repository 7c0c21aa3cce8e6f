/**
 * The generated files, by path in the repository: `scripts/gen-docs` writes them, a unit test
 * checks the committed ones match.
 */
import { readFileSync } from 'node:fs'
import { packageVersion } from '../build-info.ts'
import { bashCompletion } from './completion.ts'
import { tslbCfgManPage, tslbManPage } from './man.ts'
import { withEnforcementTables } from './enforcement.ts'

const ROOT = new URL('../../../', import.meta.url)

export function generatedFiles (): Record<string, string> {
  const version = packageVersion()
  const configuration = withEnforcementTables(readFileSync(new URL('docs/configuration.md', ROOT), 'utf8'))
  return {
    'docs/configuration.md': configuration,
    'man/tslb.1': tslbManPage(version),
    'man/tslb.cfg.5': tslbCfgManPage(version, configuration),
    'completion/tslb.bash': bashCompletion()
  }
}

export function rootPath (relative: string): URL {
  return new URL(relative, ROOT)
}
