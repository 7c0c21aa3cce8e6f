/**
 * iptables-flip (Unbounce's "IP tableflip"): two worker slots, each on its own internal sockets;
 * a NAT rule sends new connections on the public ports to the active slot. A reload starts the
 * next generation on the idle slot, waits until it serves, rewrites the rule in one nft
 * transaction, and drains the previous slot (established flows keep their conntrack mapping).
 * With two slots, a reload while the idle slot still drains waits for it, then is refused.
 * The public sockets stay bound in the supervisor: they reserve the ports and let handoff take
 * them back.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Config } from '../config/model.ts'
import { listenerSpecs } from '../supervisor/listeners.ts'
import { SlotBusyError } from './errors.ts'
import { nftApply } from './nft.ts'
import { describeListeners } from './ports.ts'
import { flipScript } from './rules.ts'
import { bindSlot, nextSlot, type SlotName } from './slots.ts'
import type { ReloadContext, ReloadStrategy } from './strategy.ts'
import { HANDSHAKE_SETTLE_MS } from './timing.ts'

export const SLOT_WAIT_MS = 30_000
const SLOT_POLL_MS = 50

async function waitForSlot (ctx: ReloadContext, slot: SlotName): Promise<void> {
  const holder = (): number | undefined => ctx.draining().find(s => s.slot?.name === slot)?.worker.generation
  const first = holder()
  if (first === undefined) return
  ctx.step(`slot ${slot} is still draining worker generation ${first}: waiting up to ${SLOT_WAIT_MS / 1000} s`)
  const deadline = Date.now() + SLOT_WAIT_MS
  while (Date.now() < deadline) {
    await sleep(SLOT_POLL_MS)
    if (holder() === undefined) return
  }
  throw new SlotBusyError(
    (`slot ${slot} is still draining worker generation ${holder() ?? first} after ${SLOT_WAIT_MS / 1000} s; nothing ` +
      `was changed (retry later, or use --strategy handoff, which needs no free slot)`))
}

export const iptablesFlip: ReloadStrategy = {
  name: 'iptables-flip',
  preflight: async () => {},
  reload: async (ctx: ReloadContext, config: Config) => {
    const previous = ctx.serving
    const name = nextSlot(previous?.slot?.name)
    await waitForSlot(ctx, name)
    const specs = listenerSpecs(config)
    ctx.listeners.acquire(specs)
    const slot = bindSlot(name, specs)
    ctx.step(
      `slot ${name}: ${slot.mappings.map(m => `${describeListeners([m.spec])} -> port ${m.slotPort}`).join(', ')}`)
    let worker
    try {
      worker = await ctx.startWorker(config, slot.handles)
    } catch (err) {
      slot.close()
      throw err
    }
    ctx.step(`flipping the NAT rule: new connections go to slot ${name}`)
    try {
      await nftApply('flipping the NAT rule', flipScript(name, slot.mappings))
    } catch (err) {
      worker.kill()
      slot.close()
      throw err
    }
    ctx.activate({ worker, config, handles: slot.handles, slot })
    if (previous === undefined) return
    await sleep(HANDSHAKE_SETTLE_MS)
    ctx.retire(previous)
  }
}
