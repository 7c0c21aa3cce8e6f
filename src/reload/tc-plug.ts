/**
 * tc-plug (Yelp, 2015): SYNs of local clients are held in a plug qdisc on `lo` while the
 * listeners really restart, then released, so they wait for the restart instead of a
 * retransmit. Qdiscs act on egress only, so remote clients are not buffered: their SYNs are
 * dropped as syn-drop does. Needs sch_plug, sch_prio and cls_fw; where the kernel lacks one the
 * reload is refused before anything is touched (probed in a throwaway network namespace).
 * The branch that installs the plug has not run on the development kernel, which lacks them.
 */
import type { Config } from '../config/model.ts'
import type { Logger } from '../util/log.ts'
import { ReloadStrategyUnavailableError } from './errors.ts'
import { restartBehindGate } from './gated-restart.ts'
import { nftApply, nftDeleteTable } from './nft.ts'
import { PLUG_MARK_TABLE, plugMarkScript, SYN_DROP_TABLE, synDropScript } from './rules.ts'
import type { ReloadContext, ReloadStrategy } from './strategy.ts'
import { installPlug, loopbackRootTaken, plugInstalled, probePlugSupport, removePlug, setPlug } from './tc.ts'

async function preflight (log: Logger): Promise<void> {
  const probe = await probePlugSupport()
  if (!probe.supported) {
    log.warn({ reason: probe.reason }, 'tc-plug unavailable')
    throw new ReloadStrategyUnavailableError(
      (`tc-plug is not available: ${probe.reason} (kernel modules cannot be loaded here); nothing was changed. Use ` +
        `--strategy handoff: it keeps the listening sockets open and loses no connection`))
  }
  if (await loopbackRootTaken()) throw new ReloadStrategyUnavailableError(
    ('tc-plug is not available: lo already has a root qdisc that tslb did not create; nothing was changed. Use ' +
      '--strategy handoff'))
}

/** Releases what the plug holds and removes the qdisc and rules: whatever exists, all of it tried. */
async function openGate (): Promise<void> {
  const errors: unknown[] = []
  const attempt = async (action: () => Promise<void>): Promise<void> => {
    try {
      await action()
    } catch (err) {
      errors.push(err)
    }
  }
  if (await plugInstalled()) {
    await attempt(async () => { await setPlug('release_indefinite') })
    await attempt(removePlug)
  }
  await attempt(async () => { await nftDeleteTable(PLUG_MARK_TABLE) })
  await attempt(async () => { await nftDeleteTable(SYN_DROP_TABLE) })
  if (errors.length > 0) throw errors[0]
}

export const tcPlug: ReloadStrategy = {
  name: 'tc-plug',
  preflight,
  reload: async (ctx: ReloadContext, config: Config) => {
    if (await plugInstalled()) {
      ctx.step('removing the plug qdisc an earlier run left on lo')
      await openGate()
    }
    await restartBehindGate(ctx, config, {
      closing: 'holding local clients\' SYNs in the plug qdisc on lo, dropping remote ones',
      opening: 'releasing the plug and removing the qdisc and rules',
      close: async specs => {
        try {
          await installPlug()
          await nftApply('marking SYNs for the plug', plugMarkScript(specs))
          await nftApply('installing the syn-drop rule for remote clients', synDropScript(specs,
            { exceptLoopback: true }))
          await setPlug('block')
        } catch (err) {
          await openGate().catch(() => {})
          throw err
        }
      },
      open: openGate
    })
  }
}
