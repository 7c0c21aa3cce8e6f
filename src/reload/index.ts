/**
 * Reload strategies by name, and the cleanup of what they leave in the firewall and on `lo`.
 */
import type { Logger } from '../util/log.ts'
import { describe } from '../util/errors.ts'
import { UnknownReloadStrategyError } from './errors.ts'
import { handoff } from './handoff.ts'
import { iptablesFlip } from './iptables-flip.ts'
import { nftDeleteTable, nftTableExists } from './nft.ts'
import { TSLB_TABLES } from './rules.ts'
import { type ReloadStrategy, STRATEGY_NAMES, type StrategyName } from './strategy.ts'
import { synDrop } from './syn-drop.ts'
import { plugInstalled, removePlug } from './tc.ts'
import { tcPlug } from './tc-plug.ts'

export { DEFAULT_STRATEGY, isStrategyName, type ReloadContext, type ReloadStrategy, type Serving, STRATEGY_NAMES,
  type StrategyName } from './strategy.ts'

const STRATEGIES: Readonly<Record<StrategyName, ReloadStrategy>> = {
  handoff,
  'syn-drop': synDrop,
  'tc-plug': tcPlug,
  'iptables-flip': iptablesFlip
}

export function reloadStrategy (name: string): ReloadStrategy {
  const s = (STRATEGIES as Readonly<Record<string, ReloadStrategy | undefined>>)[name]
  if (s === undefined) throw new UnknownReloadStrategyError(name, STRATEGY_NAMES)
  return s
}

/**
 * Removes every nft table and qdisc a strategy installs (at start: left by a crashed run; at
 * stop: the iptables-flip rules). Returns what was removed; failures are logged, not thrown.
 */
export async function removeReloadRules (log: Logger): Promise<string[]> {
  const removed: string[] = []
  for (const table of TSLB_TABLES) {
    try {
      if (!await nftTableExists(table)) continue
      await nftDeleteTable(table)
      removed.push(`nft table inet ${table}`)
    } catch (err) {
      log.error({ err: describe(err) }, `cannot remove nft table inet ${table}`)
    }
  }
  try {
    if (await plugInstalled()) {
      await removePlug()
      removed.push('the plug qdisc on lo')
    }
  } catch (err) {
    log.error({ err: describe(err) }, 'cannot remove the plug qdisc on lo')
  }
  return removed
}
