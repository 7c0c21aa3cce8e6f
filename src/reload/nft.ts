/**
 * Runs `nft` in the supervisor's network namespace. Scripts go through `nft -f -`, which applies
 * a whole script as one transaction (all of it or nothing).
 */
import { runTool } from '../util/run-tool.ts'
import { COMMAND_ENV } from '../util/script-env.ts'
import { FirewallRulesError } from './errors.ts'
import { deleteTableScript } from './rules.ts'

export async function nftApply (what: string, script: string): Promise<void> {
  const r = await runTool('nft', ['-f', '-'], { input: script, env: COMMAND_ENV })
  if (r.exitCode !== 0) throw new FirewallRulesError(what, r.stderr.trim() !== '' ? r.stderr.trim() : r.message ??
    'failed')
}

/** Whether the `inet` table exists (false as well when nft cannot be run). */
export async function nftTableExists (table: string): Promise<boolean> {
  const r = await runTool('nft', ['list', 'table', 'inet', table], { env: COMMAND_ENV })
  return r.exitCode === 0
}

export async function nftDeleteTable (table: string): Promise<void> {
  await nftApply(`removing nft table inet ${table}`, deleteTableScript(table))
}
