/**
 * The restart syn-drop and tc-plug share: a gate holds back new connections (drops or buffers
 * their SYNs), the running generation stops and every listening socket is closed, new sockets
 * are bound and the next generation starts on them, then the gate opens again. The gate is
 * always opened, whatever fails; if the next generation cannot start, the previous
 * configuration is started again on fresh sockets.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Config } from '../config/model.ts'
import { BindError, EADDRINUSE } from '../net/errors.ts'
import type { TcpHandle } from '../net/listen-handle.ts'
import { type ListenerRegistry, type ListenerSpec, listenerSpecs } from '../supervisor/listeners.ts'
import { describe } from '../util/errors.ts'
import { RebindError } from './errors.ts'
import { nftDeleteTable } from './nft.ts'
import { describeListeners, uniqueListeners } from './ports.ts'
import { FLIP_TABLE } from './rules.ts'
import type { ReloadContext, Serving } from './strategy.ts'
import { HANDSHAKE_SETTLE_MS } from './timing.ts'

/** The old generation's process holds its copy of a socket until its event loop closes it. */
const REBIND_TIMEOUT_MS = 5000
const REBIND_RETRY_MS = 10

export interface SynGate {
  /** Step line when the gate closes, e.g. what clients will see. */
  readonly closing: string
  readonly opening: string
  close: (specs: readonly ListenerSpec[]) => Promise<void>
  open: () => Promise<void>
}

export async function restartBehindGate (ctx: ReloadContext, config: Config, gate: SynGate): Promise<void> {
  const previous = ctx.serving
  const gated = uniqueListeners([...listenerSpecs(config), ...(previous === undefined ? [] : listenerSpecs(
    previous.config))])
  ctx.step(`${gate.closing}: ${describeListeners(gated)}`)
  await gate.close(gated)
  try {
    await sleep(HANDSHAKE_SETTLE_MS)
    if (previous !== undefined) await stop(ctx, previous)
    try {
      await startOnFreshSockets(ctx, config)
    } catch (err) {
      if (previous === undefined) throw err
      ctx.step(`${describe(err)}: starting the previous configuration again`)
      await startOnFreshSockets(ctx, previous.config)
      throw err
    }
  } finally {
    ctx.step(gate.opening)
    await gate.open()
  }
}

async function stop (ctx: ReloadContext, previous: Serving): Promise<void> {
  ctx.step(
    `stopping worker generation ${previous.worker.generation}: its listening sockets close, its connections drain`)
  ctx.retire(previous)
  if (previous.slot !== undefined) {
    ctx.step('removing the iptables-flip NAT rules')
    await nftDeleteTable(FLIP_TABLE)
  }
}

async function startOnFreshSockets (ctx: ReloadContext, config: Config): Promise<void> {
  ctx.listeners.closeAll()
  const specs = listenerSpecs(config)
  ctx.step(`binding ${describeListeners(specs)}`)
  const handles = await rebind(ctx.listeners, specs)
  const worker = await ctx.startWorker(config, handles)
  ctx.activate({ worker, config, handles })
}

/** Binds `specs`, retrying while the stopped generation still holds a socket on the same port. */
async function rebind (listeners: ListenerRegistry, specs: readonly ListenerSpec[]): Promise<Map<string, TcpHandle>> {
  const deadline = Date.now() + REBIND_TIMEOUT_MS
  for (;;) {
    try {
      return listeners.acquire(specs)
    } catch (err) {
      if (!(err instanceof BindError && err.errno === EADDRINUSE)) throw err
      if (Date.now() > deadline) throw new RebindError(
        `${err.message} (still in use ${REBIND_TIMEOUT_MS / 1000} s after the previous generation stopped)`,
          { cause: err })
      await sleep(REBIND_RETRY_MS)
    }
  }
}
