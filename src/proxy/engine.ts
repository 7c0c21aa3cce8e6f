/**
 * The proxy engine a worker hosts: backends and frontends built from the configuration,
 * listening on handles the supervisor bound.
 */
import { h2Settings } from './h2/connection.ts'
import type { Socket } from 'node:net'
import type { Config, GlobalSettings, Proxy, StickTableSpec } from '../config/model.ts'
import type { HttpServices } from './frontend-context.ts'
import { HealthChecker, type HealthCheckerOptions } from './health/checker.ts'
import { addressKey, groupOf } from '../ipc/messages.ts'
import { Backend } from './backend.ts'
import { Frontend } from './frontend.ts'
import { StickTable, type StickTableHandle } from '../stick/index.ts'
import { AcceptGate } from './accept-gate.ts'
import type { LogLine } from './log/sink.ts'
import { LEVELS } from '../config/keywords/log.ts'
import { prepareRules } from './rules/index.ts'
import { setStickTables } from './stick-counters.ts'
import { CertStore } from './tls/cert-store.ts'
import { PatternStore } from './acl/patterns.ts'
import { replaceClientCertificate } from './tls/client.ts'
import { listenerIds } from '../config/listener-ids.ts'
import { proxyIds } from '../config/proxy-ids.ts'

const EXPIRY_SWEEP_MS = 1000

export interface EngineOptions {
  /** The traffic log function of a proxy (its `log` lines). */
  readonly logFor: (proxy: Proxy) => LogLine
  /**
   * Proxy threads 2..N: thread 1's stick tables, attached (one table per node); thread 1 alone sweeps their expired
   * entries.
   */
  readonly tables?: ReadonlyMap<string, StickTableHandle>
}

export class Engine {
  services: HttpServices | undefined
  /** Stick tables by proxy name, and `PEERS/TABLE` for tables declared in peers sections. */
  readonly tables = new Map<string, StickTable>()
  readonly backends = new Map<string, Backend>()
  /** Health checkers by backend name (backends with at least one `check` server). */
  readonly checkers = new Map<string, HealthChecker>()
  readonly frontends: Frontend[] = []
  /** The certificates of the `bind … ssl` lines and `server … crt`, by file (`show/set/commit ssl cert`). */
  readonly certs: CertStore
  /** Map and ACL files, changed by the runtime API. */
  readonly patterns: PatternStore
  private connections = 0
  private idleWaiters: (() => void)[] = []
  /** Frontend and global `maxconn`: connections over a limit wait here. */
  readonly gate: AcceptGate
  /**
   * The node's connection count when proxy threads share it (threads/node-state.ts): what global `maxconn` counts;
   * `closed` wakes the threads whose connections wait for a slot.
   */
  nodeConnections: { add (d: number): number, read (): number, closed (): void } | undefined

  private readonly expiryTimer: NodeJS.Timeout

  private readonly logFor: (proxy: Proxy) => LogLine

  constructor (config: Config, opts: EngineOptions) {
    this.patterns = PatternStore.fromConfig(config)
    prepareRules(config)
    this.logFor = opts.logFor
    const targeted = new Set(config.proxies.flatMap(p => p.stickRules.map(r => r.table ?? p.name)))
    const shared = opts.tables
    const table = (name: string, spec: StickTableSpec): StickTable => {
      const handle = shared?.get(name)
      return handle === undefined ? new StickTable(name, spec, { stickRules: targeted.has(name) })
        : StickTable.attach(handle)
    }
    for (const p of config.proxies) if (p.stickTable !== undefined) this.tables.set(p.name, table(p.name, p.stickTable))
    for (const ps of config.peers) {
      for (const t of ps.tables) this.tables.set(`${ps.name}/${t.name}`, table(`${ps.name}/${t.name}`, t))
    }
    setStickTables(this.tables)
    // Expiry costs O(expired entries): the tables keep entries in expiry order.
    this.expiryTimer = setInterval(() => {
      if (shared === undefined) for (const t of this.tables.values()) t.expire(Date.now())
    }, EXPIRY_SWEEP_MS)
    this.expiryTimer.unref()
    // The ids the stats show (`iid`), for the fe_id and be_id fetches.
    const ids = proxyIds(config.proxies.filter(p => p.kind !== 'defaults'), config.global.statsSockets.length > 0)
    for (const p of config.proxies) {
      if (p.kind !== 'backend' && p.kind !== 'listen') continue
      const be = new Backend(p, this.tables)
      be.proxyId = ids.get(p) ?? 0
      this.backends.set(p.name, be)
    }
    this.certs = CertStore.fromConfig(config)
    this.certs.onCommit(file => {
      const c = this.certs.get(file)
      if (c?.cert === undefined || c.key === undefined) return
      for (const b of this.backends.values()) {
        for (const s of b.servers) {
          const t = s.config.tls
          if (t?.crtFile === file) replaceClientCertificate(t, c.cert, c.key)
        }
      }
    })
    this.gate = new AcceptGate(config.global.maxconn, () => this.nodeConnections?.read() ?? this.connections)
    const hooks = {
      logFor: opts.logFor,
      globalConnections: () => this.nodeConnections?.read() ?? this.connections,
      services: () => this.services,
      offer: (fe: Frontend, socket: Socket) => { this.gate.offer(fe, socket) },
      connectionDelta: (d: number) => {
        this.connections += d
        this.nodeConnections?.add(d)
        if (d < 0) {
          this.gate.serve()
          this.nodeConnections?.closed()
        }
        if (this.connections === 0 && this.gate.waiting === 0) for (const w of this.idleWaiters.splice(0)) w()
      }
    }
    for (const p of config.proxies) {
      if (p.kind !== 'frontend' && p.kind !== 'listen') continue
      const fe = new Frontend(p, this.backends, hooks)
      fe.proxyId = ids.get(p) ?? 0
      if (config.global.closeSpreadTime !== undefined) fe.closeSpreadMs = config.global.closeSpreadTime
      fe.tlsGlobal = config.global.tls
      fe.certs = this.certs
      const bufsize = config.global.tune['tune.bufsize']
      if (bufsize !== undefined) fe.maxHead = bufsize
      fe.h2 = h2Settings(config.global.tune)
      this.frontends.push(fe)
    }
  }

  get activeConnections (): number {
    return this.connections
  }

  /** Starts the health checks of every backend (one first-check spread over all, as HAProxy does). */
  startChecks (global: GlobalSettings, log: HealthCheckerOptions['log']): void {
    for (const b of this.backends.values()) {
      if (!b.servers.some(s => s.config.check === true)) continue
      // As HAProxy's send_log(proxy, ...): check results and state changes also go to the
      // backend's own log targets, at their syslog severity; configuration notes do not.
      const proxyLog = this.logFor(b.config)
      const both: HealthCheckerOptions['log'] = (level, line, severity) => {
        log(level, line, severity)
        if (!line.startsWith('config:')) proxyLog(line, LEVELS.indexOf(severity))
      }
      this.checkers.set(b.name, new HealthChecker(b, { log: both, spreadChecks: global.spreadChecks,
        node: global.node }))
    }
    HealthChecker.startAll([...this.checkers.values()])
  }

  /**
   * Listens on the supervisor's handles, keyed as memberKey(addressKey(address, port), i): every socket of a listener's
   * group given (a proxy thread is given its share). `required`: a listener without a socket is an error (the
   * threads after the first have none of a group smaller than the thread count, e.g. `fd@N`).
   */
  listen (handles: ReadonlyMap<string, object>, required = true): void {
    const groups = new Map<string, object[]>()
    for (const [member, handle] of handles) {
      const key = groupOf(member).key
      groups.set(key, [...groups.get(key) ?? [], handle])
    }
    for (const fe of this.frontends) {
      const ids = listenerIds(fe.config.binds)
      fe.config.binds.forEach((bind, b) => {
        const backlog = typeof bind.options.backlog === 'string' ? Number(bind.options.backlog) : undefined
        let socket = 0
        for (const a of bind.addresses) {
          for (let port = a.port ?? 0; port <= (a.portEnd ?? a.port ?? 0); port++) {
            const id = ids[b]?.[socket++]
            const group = groups.get(addressKey(a, port)) ?? []
            if (group.length === 0 && required) throw new Error(`no listening socket for ${addressKey(a, port)}`)
            for (const handle of group) {
              fe.listen(handle, { backlog, acceptProxy: bind.options['accept-proxy'] === true,
                name: typeof bind.options.name === 'string' ? bind.options.name : undefined, tls: bind.ssl,
                h2: bind.options.proto === 'h2', id })
            }
          }
        }
      })
    }
  }

  stopAccepting (): void {
    for (const fe of this.frontends) fe.stopAccepting()
  }

  close (): void {
    clearInterval(this.expiryTimer)
    for (const c of this.checkers.values()) c.stop()
  }

  /** Resolves when no client connection is left (in service or waiting for a slot). */
  async idle (): Promise<void> {
    if (this.connections === 0 && this.gate.waiting === 0) return
    await new Promise<void>(resolve => { this.idleWaiters.push(resolve) })
  }
}
