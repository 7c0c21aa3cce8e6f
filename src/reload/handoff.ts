/**
 * handoff (default): the next generation starts on the very sockets the running one accepts on,
 * and the running one drains only once the next is ready. No listening socket is ever closed,
 * so no connection is refused or delayed.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Config } from '../config/model.ts'
import { listenerSpecs } from '../supervisor/listeners.ts'
import { nftDeleteTable } from './nft.ts'
import { FLIP_TABLE } from './rules.ts'
import type { ReloadContext, ReloadStrategy } from './strategy.ts'
import { HANDSHAKE_SETTLE_MS } from './timing.ts'

export const handoff: ReloadStrategy = {
  name: 'handoff',
  preflight: async () => {},
  reload: async (ctx: ReloadContext, config: Config) => {
    const previous = ctx.serving
    const handles = ctx.listeners.acquire(listenerSpecs(config))
    const worker = await ctx.startWorker(config, handles)
    if (previous?.slot !== undefined) {
      // Coming from iptables-flip: the public sockets take new connections again.
      ctx.step('removing the iptables-flip NAT rules: new connections reach the public sockets')
      try {
        await nftDeleteTable(FLIP_TABLE)
      } catch (err) {
        worker.kill()
        throw err
      }
    }
    ctx.activate({ worker, config, handles })
    if (previous === undefined) return
    if (previous.slot !== undefined) await sleep(HANDSHAKE_SETTLE_MS)
    ctx.retire(previous)
  }
}
