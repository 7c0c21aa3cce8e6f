/**
 * syn-drop, the classic recipe: drop new connections' SYNs, really restart the listeners, remove
 * the rule. A client whose SYN was dropped retransmits after its RTO (1 s on Linux): that second
 * is the cost this strategy shows.
 */
import type { Config } from '../config/model.ts'
import { restartBehindGate } from './gated-restart.ts'
import { nftApply, nftDeleteTable, nftTableExists } from './nft.ts'
import { SYN_DROP_TABLE, synDropScript } from './rules.ts'
import type { ReloadContext, ReloadStrategy } from './strategy.ts'

export const synDrop: ReloadStrategy = {
  name: 'syn-drop',
  preflight: async () => {},
  reload: async (ctx: ReloadContext, config: Config) => {
    if (await nftTableExists(SYN_DROP_TABLE)) {
      ctx.step(`removing the syn-drop rule an earlier run left behind (nft table inet ${SYN_DROP_TABLE})`)
      await nftDeleteTable(SYN_DROP_TABLE)
    }
    await restartBehindGate(ctx, config, {
      closing: 'dropping SYNs to the listeners (clients retransmit after ~1 s)',
      opening: 'removing the syn-drop rule',
      close: async specs => { await nftApply('installing the syn-drop rule', synDropScript(specs)) },
      open: async () => { await nftDeleteTable(SYN_DROP_TABLE) }
    })
  }
}
