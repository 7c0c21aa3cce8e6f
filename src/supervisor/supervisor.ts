/**
 * The long-lived supervisor `tslb run` starts: holds the loaded configuration, answers the control
 * socket (status, reload), writes the pid file and stops cleanly on SIGTERM/SIGINT.
 * The proxy worker, the VRRP speaker and the peers sync attach here as they are built.
 */
import type { Server } from 'node:net'
import { hostname } from 'node:os'
import type { Config } from '../config/model.ts'
import { loadConfig } from '../config/parser.ts'
import { ConfigError, formatDiagnostic, TslbError } from '../util/errors.ts'
import type { Logger } from '../util/log.ts'
import { type ControlReply, type ControlRequest, listenControlSocket } from './control-socket.ts'
import { removePidFile, writePidFile } from './pidfile.ts'

export interface SupervisorOptions {
  readonly configFile: string
  readonly localPeer: string | undefined
  readonly pidFile: string | undefined
  readonly controlSocket: string
  readonly log: Logger
}

export interface SupervisorStatus {
  readonly node: string
  readonly pid: number
  readonly configFile: string
  readonly startedAt: string
  readonly reloads: number
  readonly lastReload: string | undefined
  readonly proxies: { readonly name: string, readonly kind: string }[]
  readonly vrrpInstances: { readonly name: string, readonly vrid: number | undefined, readonly configuredState: string, readonly priority: number }[]
  readonly peers: { readonly name: string, readonly peers: string[] }[]
}

export class Supervisor {
  private config: Config | undefined
  private control: Server | undefined
  private readonly startedAt = new Date()
  private reloads = 0
  private lastReload: Date | undefined
  private reloading: Promise<ControlReply> | undefined
  private stopping = false
  private readonly opts: SupervisorOptions

  constructor (opts: SupervisorOptions) {
    this.opts = opts
  }

  get node (): string {
    return this.opts.localPeer ?? hostname()
  }

  async start (): Promise<void> {
    const { config, diagnostics } = await loadConfig(this.opts.configFile, { localPeer: this.node })
    for (const d of diagnostics) this.opts.log.warn(formatDiagnostic(d))
    this.config = config
    this.control = await listenControlSocket(this.opts.controlSocket, async (req, step) => await this.handle(req, step))
    if (this.opts.pidFile !== undefined) await writePidFile(this.opts.pidFile)
    this.opts.log.info({ config: this.opts.configFile, node: this.node, control: this.opts.controlSocket }, 'supervisor started')
  }

  status (): SupervisorStatus {
    const c = this.config
    return {
      node: this.node,
      pid: process.pid,
      configFile: this.opts.configFile,
      startedAt: this.startedAt.toISOString(),
      reloads: this.reloads,
      lastReload: this.lastReload?.toISOString(),
      proxies: c?.proxies.map(p => ({ name: p.name, kind: p.kind })) ?? [],
      vrrpInstances: c?.vrrpInstances.map(v => ({ name: v.name, vrid: v.virtualRouterId, configuredState: v.state, priority: v.priority })) ?? [],
      peers: c?.peers.map(p => ({ name: p.name, peers: p.peers.map(x => x.name) })) ?? []
    }
  }

  private async handle (req: ControlRequest, step: (m: string) => void): Promise<ControlReply> {
    switch (req.cmd) {
      case 'status': return { ok: true, status: this.status() }
      case 'reload': {
        // Reloads are serialized: a request during a reload waits for it, then runs its own.
        const previous = this.reloading ?? Promise.resolve({ ok: true })
        const next = previous.then(async () => await this.reload(step))
        this.reloading = next
        return await next
      }
      default: return { ok: false, error: `unknown command '${req.cmd}'` }
    }
  }

  /** Re-reads the configuration file; a file with errors is refused and the running one kept. */
  async reload (step: (m: string) => void = () => {}): Promise<ControlReply> {
    step(`reading ${this.opts.configFile}`)
    try {
      const { config, diagnostics } = await loadConfig(this.opts.configFile, { localPeer: this.node })
      for (const d of diagnostics) step(formatDiagnostic(d))
      step(`configuration valid: ${config.proxies.length} proxies, ${config.vrrpInstances.length} VRRP instances, ${config.peers.length} peers sections`)
      this.config = config
      this.reloads++
      this.lastReload = new Date()
      step('new configuration active')
      this.opts.log.info({ reloads: this.reloads }, 'configuration reloaded')
      return { ok: true }
    } catch (err) {
      if (!(err instanceof TslbError)) throw err
      const lines = err instanceof ConfigError ? err.diagnostics.map(formatDiagnostic) : [err.message]
      for (const l of lines) step(l)
      this.opts.log.error({ code: err.code }, 'reload refused: the running configuration is kept')
      return { ok: false, error: 'reload refused: the new configuration has errors; the running one is kept' }
    }
  }

  async stop (signal: string): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.opts.log.info({ signal }, 'stopping')
    await new Promise<void>(resolve => {
      if (this.control === undefined) resolve()
      else this.control.close(() => { resolve() })
    })
    if (this.opts.pidFile !== undefined) await removePidFile(this.opts.pidFile)
    this.opts.log.info('stopped')
  }
}
