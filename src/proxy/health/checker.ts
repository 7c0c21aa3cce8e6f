/**
 * Active health checks of a backend's servers, as HAProxy 2.6 runs them (src/check.c,
 * src/server.c, src/tcpcheck.c).
 *
 * State machine (set_server_check_status, check_notify_*): each checked server has a health
 * counter in 0..rise+fall-1. It is UP while health >= rise. A failure decrements it, and once it
 * drops below `rise` it falls to 0: the server goes DOWN. A success increments it, and once it
 * reaches `rise` it jumps to rise+fall-1: the server goes UP. HAProxy starts every checked server
 * UP with health = rise ("up, but will fall down at first failure", srv_settings_cpy): a server
 * that fails its very first check goes DOWN at once, while a server that has passed one check
 * needs `fall` consecutive failures.
 *
 * Schedule (srv_getinter, start_checks, process_chk_conn): `inter` while fully UP, `downinter`
 * while fully DOWN, `fastinter` in between (and before the first verdict); each interval counts
 * from the end of the previous check and gets ±spread-checks% of random noise. The first checks
 * are spread over the smallest interval by the server's position (HAProxy is deterministic
 * here, not random). One check at most is in flight per server.
 *
 * On a state change the checker sets `server.healthy`, calls `backend.refresh()` and logs
 * HAProxy's lines (srv_update_status, set_backend_down). `http-check disable-on-404` puts a
 * server in HAProxy's NOLB (stopping) state: `server.stopping`, which takes it out of load
 * balancing while persistence may still send clients to it.
 *
 * Integration (worker): one checker per backend/listen proxy that has servers with `check`;
 * `HealthChecker.startAll(checkers)` once the engine is up (one start-up spread over all of
 * them, as one HAProxy process), `stop()` on each when the worker drains or exits. Pass
 * `spreadChecks: config.global.spreadChecks`, `node: config.global.node`, and a `log` that
 * writes through the backend's log targets with the given syslog `severity`. The runtime
 * API calls `notifyAdminChange(server)` after changing `server.admin`, and reads `status()` /
 * `statuses()` for `show stat` and `show servers state`.
 * @module
 */
import { checkProxyHeader } from '../proxy-protocol/send.ts'
import { hostname } from 'node:os'
import type { ServerState } from '../server-state.ts'
import type { Backend } from '../backend.ts'
import { buildHttpRequest, compileExpects, type CompiledExpect } from './http-check.ts'
import { type CheckClock, type ProbeKind, type ProbeOutcome, type ProbeSpec, type RunningProbe, startProbe,
  systemClock } from './probe.ts'
import { appendStatus, type CheckReport, type CheckStatusCode, MAX_DESC_LENGTH, statusDescription, statusResult,
  type TransitionCounts } from './status.ts'
import { EXCHANGE_NAMES, type ExchangeName, newExchange } from './exchanges.ts'
import type { ConnectionOptions } from 'node:tls'
import type { Server } from '../../config/model.ts'
import { serverTlsOptions } from '../tls/client.ts'
import { compileTcpCheck, type CompiledTcpCheck } from './tcp-check.ts'
import { effectiveTcpCheckRules } from '../../config/sections.ts'
import { startTcpCheckProbe } from './tcp-check-probe.ts'

export type { CheckClock } from './probe.ts'
export type { CheckStatusCode } from './status.ts'

/** Syslog severity HAProxy gives the line (send_log); `level` is its pino equivalent. */
export type CheckLogSeverity = 'emerg' | 'alert' | 'warning' | 'notice'
export type CheckLogLevel = 'info' | 'warn' | 'error'

export interface HealthCheckerOptions {
  /** One call per log line, without trailing newline; `severity` is HAProxy's syslog level for it. */
  readonly log: (level: CheckLogLevel, line: string, severity: CheckLogSeverity) => void
  /** Injectable for tests; defaults to Date.now and the global timers. */
  readonly clock?: CheckClock
  /** `spread-checks` (global, 0..50 %). */
  readonly spreadChecks?: number
  /** Random source in [0, 1) for spread-checks; default Math.random. */
  readonly random?: () => number
  /** `node` (global) for `http-check send-state`; default the host name, as HAProxy. */
  readonly node?: string
  /** Called after every server state change (UP, DOWN, NOLB), once the backend was refreshed. */
  readonly onChange?: (server: ServerState, status: ServerCheckStatus) => void
}

/** HAProxy's server operational states (SRV_ST_*): STOPPING is NOLB. */
type OperState = 'RUNNING' | 'STOPPING' | 'STOPPED'

/** Per-server check state, as the stats page and the runtime API show it. */
export interface ServerCheckStatus {
  readonly server: string
  /**
   * The stats `status` column: 'UP', 'UP 1/3' (going down), 'DOWN', 'DOWN 1/2' (going up),
   * 'NOLB', 'NOLB 1/3', 'DRAIN', 'DRAIN 1/3', 'MAINT', 'no check'.
   */
  readonly status: string
  /** NOLB: UP for persistent traffic only (`http-check disable-on-404` got a 404). */
  readonly nolb: boolean
  /** Health checks run for this server (`check` and a port to check). */
  readonly checked: boolean
  /** `check_status`: INI before the first verdict; undefined without checks. */
  readonly lastCheck: CheckStatusCode | undefined
  /** `check_desc`: the description of lastCheck ("Layer7 wrong status"). */
  readonly lastCheckDescription: string | undefined
  /** `last_chk`: the check's info text ("Connection refused", "Internal Server Error"). */
  readonly lastCheckDesc: string
  /** `check_code`: the HTTP status of an L7 result. */
  readonly checkCode: number | undefined
  /** `check_duration` in ms, once a check finished. */
  readonly checkDuration: number | undefined
  /** A check is running (the stats prefix check_status with "* "). */
  readonly inProgress: boolean
  /** The health counter, 0..rise+fall-1 (`check_health` in `show servers state`). */
  readonly health: number
  readonly rise: number
  readonly fall: number
  /** `chkfail`: failed checks while the server was not fully DOWN. */
  readonly failedChecks: number
  /** `chkdown`: UP → DOWN transitions. */
  readonly downTransitions: number
  /** Clock time (ms) of the last state change (`lastchg` is now - lastChange, in seconds). */
  readonly lastChange: number
  /** `downtime` in ms, including the current DOWN period. */
  readonly downtime: number
  /** Clock time (ms) the next check is due, when one is scheduled. */
  readonly nextCheckAt: number | undefined
  /** Where the checks go. */
  readonly checkAddress: string | undefined
  readonly checkPort: number | undefined
}

const DEFAULT_INTER = 2000
const DEFAULT_RISE = 2
const DEFAULT_FALL = 3
/** SRV_CHK_INTER_THRES: servers checked more often than this do not set the start-up spread. */
const INTER_THRESHOLD = 1000
/** Check options HAProxy has that tslb does not run yet: such proxies get a TCP check. */
const UNSUPPORTED_CHECK_OPTIONS = ['external-check']

function isExchange (name: string): name is ExchangeName {
  return (EXCHANGE_NAMES as readonly string[]).includes(name)
}

interface Tracked {
  readonly server: ServerState
  readonly checked: boolean
  readonly host: string
  readonly port: number | undefined
  /** A unix socket server checked on its socket (no `addr` or `port` for the check). */
  readonly path: string | undefined
  readonly rise: number
  readonly fall: number
  readonly inter: number
  readonly fastinter: number
  readonly downinter: number
  health: number
  state: OperState
  /** Checks paused by maintenance (CHK_ST_PAUSED). */
  paused: boolean
  status: CheckStatusCode
  desc: string
  code: number
  duration: number | undefined
  probe: RunningProbe | undefined
  checkStart: number
  timer: unknown
  nextCheckAt: number | undefined
  failedChecks: number
  downTransitions: number
  lastChange: number
  downTime: number
}

const SEVERITY_LEVEL: Readonly<Record<CheckLogSeverity, CheckLogLevel>> = { emerg: 'error', alert: 'error',
  warning: 'warn', notice: 'info' }

export class HealthChecker {
  readonly backend: Backend
  private readonly opts: HealthCheckerOptions
  private readonly clock: CheckClock
  private readonly random: () => number
  private readonly tracked: Tracked[]
  private readonly kind: ProbeKind
  private readonly exchange: { readonly name: ExchangeName, readonly args: readonly string[] } | undefined
  private readonly expect: readonly CompiledExpect[]
  private readonly staticRequest: Buffer | undefined
  private readonly logHealthChecks: boolean
  private readonly disableOn404: boolean
  private readonly sendState: boolean
  /** `option tcp-check` with `tcp-check` rules. */
  private readonly tcpCheck: CompiledTcpCheck | undefined
  private running = false

  constructor (backend: Backend, opts: HealthCheckerOptions) {
    this.backend = backend
    this.opts = opts
    this.clock = opts.clock ?? systemClock
    this.random = opts.random ?? Math.random
    const px = backend.config
    this.logHealthChecks = px.options['log-health-checks'] === true
    this.disableOn404 = px.options['http-check disable-on-404'] === true
    this.sendState = px.options['http-check send-state'] === true
    // HAProxy keeps one check type per proxy, the last option written. The model does not keep
    // their order: an HTTP check wins, then ssl-hello-chk, then tcp-check.
    if (px.httpCheck !== undefined) this.kind = 'http'
    else if (px.checkOption !== undefined && isExchange(px.checkOption.name)) {
      this.kind = 'exchange'
      this.exchange = { name: px.checkOption.name, args: px.checkOption.args }
    } else if (px.options['ssl-hello-chk'] === true) this.kind = 'ssl-hello'
    else if (px.options['tcp-check'] === true) this.kind = 'tcp-check'
    else this.kind = 'tcp'
    const tcpCheckRules = effectiveTcpCheckRules(px) ?? []
    this.tcpCheck = this.kind === 'tcp-check' && tcpCheckRules.length > 0 ? compileTcpCheck(tcpCheckRules) : undefined
    this.expect = compileExpects(px.httpCheck?.expects)
    this.staticRequest = px.httpCheck !== undefined && !this.sendState ? buildHttpRequest(px.httpCheck) : undefined

    const now = this.clock.now()
    const anyCheck = backend.servers.some(s => s.config.check === true)
    if (anyCheck && this.kind === 'tcp') {
      const other = UNSUPPORTED_CHECK_OPTIONS.find(o => px.options[o] === true)
      if (other !== undefined) this.emit('warning',
        (`config: ${this.proxyType()} '${backend.name}': 'option ${other}' is not supported by tslb yet; servers ` +
          `get a TCP connect check.`))
    }
    this.tracked = backend.servers.map((server): Tracked => {
      const cfg = server.config
      const rise = cfg.rise ?? DEFAULT_RISE
      const fall = cfg.fall ?? DEFAULT_FALL
      const inter = cfg.inter ?? DEFAULT_INTER
      const port = cfg.port ?? server.port
      let checked = cfg.check === true && px.disabled !== true
      const path = cfg.addr === undefined && cfg.port === undefined ? server.path : undefined
      if (checked && port === undefined && path === undefined) {
        // HAProxy 2.6 refuses such a configuration (init_srv_check); tslb runs without the check.
        this.emit('warning',
          (`config: ${this.proxyType()} '${backend.name}': server '${server.name}' has neither service port nor ` +
            `check port. Check has been disabled.`))
        checked = false
      }
      const maint = server.admin === 'maint'
      return {
        server,
        checked,
        host: cfg.addr ?? server.host,
        port,
        path,
        rise,
        fall,
        inter,
        fastinter: cfg.fastinter ?? inter,
        downinter: cfg.downinter ?? inter,
        // A `disabled` server starts in maintenance with health 0 (srv_parse_disabled).
        health: checked && !maint ? rise : 0,
        state: checked && maint ? 'STOPPED' : 'RUNNING',
        paused: checked && maint,
        status: 'INI',
        desc: '',
        code: 0,
        duration: undefined,
        probe: undefined,
        checkStart: 0,
        timer: undefined,
        nextCheckAt: undefined,
        failedChecks: 0,
        downTransitions: 0,
        lastChange: now,
        downTime: 0
      }
    })
  }

  /** Starts checking. The first checks are spread over the smallest check interval. */
  start (): void {
    HealthChecker.startAll([this])
  }

  /**
   * Starts several checkers with HAProxy's start-up spread computed over all of their servers
   * (start_checks: position × min interval / number of checks), as one HAProxy process does.
   */
  static startAll (checkers: readonly HealthChecker[]): void {
    const all: { checker: HealthChecker, t: Tracked }[] = []
    for (const checker of checkers) {
      if (checker.running) continue
      checker.running = true
      for (const t of checker.tracked) if (t.checked) all.push({ checker, t })
    }
    let minInter = 0
    for (const { checker, t } of all) {
      const inter = checker.interval(t)
      if (inter >= INTER_THRESHOLD && (minInter === 0 || inter < minInter)) minInter = inter
    }
    all.forEach(({ checker, t }, position) => {
      const spread = Math.max(minInter, checker.interval(t))
      checker.schedule(t, Math.floor(spread * position / all.length))
    })
  }

  /** Cancels every timer and check in flight; sockets are destroyed. start() resumes. */
  stop (): void {
    this.running = false
    for (const t of this.tracked) {
      if (t.timer !== undefined) this.clock.clearTimeout(t.timer)
      t.timer = undefined
      t.nextCheckAt = undefined
      t.probe?.cancel()
      t.probe = undefined
    }
  }

  /**
   * Tells the checker that a server's admin state changed (runtime API): entering maintenance
   * pauses its checks (health 0); leaving it resumes them at once with health = rise, the server
   * UP (srv_update_status). Without this call the change is noticed at the next scheduled tick.
   */
  notifyAdminChange (server: ServerState): void {
    const t = this.tracked.find(x => x.server === server)
    if (t === undefined || !t.checked) return
    if (server.admin === 'maint' && !t.paused) this.enterMaint(t)
    else if (server.admin !== 'maint' && t.paused) {
      this.leaveMaint(t)
      if (this.running && t.probe === undefined) this.schedule(t, 0)
    }
  }

  status (name: string): ServerCheckStatus | undefined {
    const t = this.tracked.find(x => x.server.name === name)
    return t === undefined ? undefined : this.snapshot(t)
  }

  statuses (): ServerCheckStatus[] {
    return this.tracked.map(t => this.snapshot(t))
  }

  // --- scheduling -------------------------------------------------------------------------

  /** srv_getinter(). */
  private interval (t: Tracked): number {
    if (t.health === t.rise + t.fall - 1) return t.inter
    if (t.state === 'STOPPED' && t.health === 0) return t.downinter
    return t.fastinter
  }

  private schedule (t: Tracked, delay: number): void {
    if (t.timer !== undefined) this.clock.clearTimeout(t.timer)
    t.nextCheckAt = this.clock.now() + delay
    t.timer = this.clock.setTimeout(() => {
      t.timer = undefined
      t.nextCheckAt = undefined
      this.run(t)
    }, delay)
  }

  /** The delay after a check: the interval for the new state, ± spread-checks % (process_chk_conn). */
  private nextDelay (t: Tracked): number {
    const inter = this.interval(t)
    const spread = this.opts.spreadChecks ?? 0
    let rv = 0
    if (spread > 0) {
      rv = Math.trunc(inter * spread / 100)
      rv -= Math.trunc(2 * rv * this.random())
    }
    return inter + rv
  }

  private run (t: Tracked): void {
    if (!this.running || t.probe !== undefined) return
    if (t.server.admin === 'maint') {
      if (!t.paused) this.enterMaint(t)
      // A paused check wakes up every `inter` and does nothing.
      this.schedule(t, t.inter)
      return
    }
    if (t.paused) this.leaveMaint(t)
    t.checkStart = this.clock.now()
    const onOutcome = (outcome: ProbeOutcome): void => {
      t.probe = undefined
      if (!this.running) return
      this.complete(t, outcome)
      this.schedule(t, this.nextDelay(t))
    }
    t.probe = this.tcpCheck === undefined ? startProbe(this.probeSpec(t), this.clock, onOutcome)
      : startTcpCheckProbe(this.probeSpec(t), this.tcpCheck, this.clock, onOutcome)
  }

  private probeSpec (t: Tracked): ProbeSpec {
    const px = this.backend.config
    const checkTimeout = px.timeouts.check
    const connectTimeout = px.timeouts.connect
    // tcpcheck_eval_connect: `inter` bounds the whole check; with `timeout check`, the connection
    // gets min(inter, timeout connect) and the rest `timeout check` from the connection on.
    const connect = checkTimeout !== undefined && connectTimeout !== undefined ? Math.min(t.inter,
      connectTimeout) : t.inter
    const spec: ProbeSpec = {
      kind: this.kind,
      host: t.host,
      port: t.port ?? 0,
      ...(t.path === undefined ? {} : { path: t.path }),
      localAddress: t.server.config.source ?? px.source,
      proxyHeader: (local, remote) => checkProxyHeader(t.server.config, local, remote),
      connectTimeout: connect,
      checkTimeout,
      tls: checkTls(t.server.config)
    }
    const exchange = this.exchange
    if (exchange !== undefined) return { ...spec, exchange: () => newExchange(exchange.name, exchange.args) }
    if (this.kind !== 'http' || px.httpCheck === undefined) return spec
    const request = this.staticRequest ?? buildHttpRequest(px.httpCheck, [['X-Haproxy-Server-State',
      this.stateHeader(t)]])
    return {
      ...spec,
      http: {
        request,
        method: px.httpCheck.method,
        expect: this.expect,
        // 404 may be accepted as "stopping" only if the server was up (tcpcheck_eval_expect_http).
        accept404AsStopping: this.disableOn404 && t.state !== 'STOPPED'
      }
    }
  }

  // --- state machine ----------------------------------------------------------------------

  /** set_server_check_status() then check_notify_failure/success/stopping(). */
  private complete (t: Tracked, outcome: ProbeOutcome): void {
    const prevStatus = t.status
    t.status = outcome.status
    t.desc = outcome.desc.length > MAX_DESC_LENGTH ? outcome.desc.slice(0, MAX_DESC_LENGTH) : outcome.desc
    t.code = outcome.code
    t.duration = Math.max(0, Math.floor(this.clock.now() - t.checkStart))
    const result = statusResult(outcome.status)
    const max = t.rise + t.fall - 1
    let report = false
    if (result === 'failed') {
      if (t.health > 0) {
        t.failedChecks++
        report = true
        t.health--
        if (t.health < t.rise) t.health = 0
      }
    } else if (result === 'passed' || result === 'condpass') {
      if (t.health < max) {
        report = true
        t.health++
        if (t.health >= t.rise) t.health = max
      }
    }

    if (this.logHealthChecks && (outcome.status !== prevStatus || report)) {
      const s = t.server
      const up = t.health >= t.rise
      const word = up ? (s.weight > 0 ? 'UP' : 'DRAIN') : 'DOWN'
      this.emit('notice',
        (`Health check for ${s.backup ? 'backup ' : ''}server ` +
          `${this.backend.name}/${s.name} ${result === 'condpass' ? ('conditionally ' +
            '') : ''}${result === 'passed' || result === 'condpass' ? 'succeeded' : 'failed'}`) +
        appendStatus(this.report(t), undefined) +
        `, status: ${up ? t.health - t.rise + 1 : t.health}/${up ? t.fall : t.rise} ${word}.`)
    }

    if (t.server.admin === 'maint') return
    // With log-health-checks the reason was already logged: the state line goes without it.
    const withCheck = !this.logHealthChecks
    if (result === 'failed') {
      if (t.health === 0 && t.state !== 'STOPPED') this.changeState(t, 'STOPPED', withCheck)
    } else if (result === 'condpass') {
      if (t.health >= t.rise && t.state !== 'STOPPING') this.changeState(t, 'STOPPING', withCheck)
    } else if (result === 'passed') {
      if (t.health >= t.rise && t.state !== 'RUNNING') this.changeState(t, 'RUNNING', withCheck)
    }
  }

  private report (t: Tracked): CheckReport {
    return { status: t.status, code: t.code, desc: t.desc, duration: t.duration ?? -1 }
  }

  /** srv_set_stopped/running/stopping() and srv_update_status(): apply, log, warn when none is left. */
  private changeState (t: Tracked, next: OperState, withCheck: boolean): void {
    const s = t.server
    const before = this.countAvailable()
    const wasStopping = t.state === 'STOPPING' || s.admin === 'drain'
    const prev = t.state
    const queuedBefore = this.backend.admission.queueLength
    t.state = next
    s.healthy = next !== 'STOPPED'
    s.stopping = next === 'STOPPING'
    this.backend.refresh()
    const now = this.clock.now()
    const after = this.countAvailable()
    const who = `${s.backup ? 'Backup ' : ''}Server ${this.backend.name}/${s.name}`
    const check = withCheck ? this.report(t) : undefined
    const queued = this.backend.admission.serverQueueLength(s)
    let counts: TransitionCounts
    if (next === 'STOPPED') {
      t.lastChange = now
      t.downTransitions++
      counts = { down: true, active: after.active, backup: after.backup, sessions: s.activeConnections, xferred: 0,
        queued }
      // No alert for a server that was already stopping (NOLB or drain): just a notice.
      this.emit(wasStopping ? 'notice' : 'alert', `${who} is DOWN${appendStatus(check, counts)}.`)
    } else if (next === 'STOPPING') {
      t.lastChange = now
      counts = { down: false, active: after.active, backup: after.backup, sessions: s.activeConnections, xferred: 0,
        queued }
      this.emit('notice', `${who} is stopping${appendStatus(check, counts)}.`)
    } else {
      if (prev === 'STOPPED') t.downTime += Math.max(0, now - t.lastChange)
      t.lastChange = now
      // Queued clients the server took over (pendconn_grab_from_px).
      const xferred = Math.max(0, queuedBefore - this.backend.admission.queueLength)
      counts = { down: false, active: after.active, backup: after.backup, sessions: s.activeConnections, xferred,
        queued }
      this.emit('notice', `${who} is UP${appendStatus(check, counts)}.`)
    }
    if (before.active + before.backup > 0 && after.active + after.backup === 0) {
      this.emit('emerg', `${this.proxyType()} ${this.backend.name} has no server available!`)
    }
    this.opts.onChange?.(s, this.snapshot(t))
  }

  /** srv_act / srv_bck: servers that will take new traffic (srv_willbe_usable). */
  private countAvailable (): { active: number, backup: number } {
    let active = 0
    let backup = 0
    for (const t of this.tracked) {
      const s = t.server
      if (!s.healthy || s.admin !== 'ready' || s.weight <= 0 || t.state !== 'RUNNING') continue
      if (s.backup) backup++
      else active++
    }
    return { active, backup }
  }

  private enterMaint (t: Tracked): void {
    t.paused = true
    t.health = 0
    t.server.stopping = false
    if (t.state === 'STOPPED') return
    const s = t.server
    const wasUsable = s.healthy && s.weight > 0
    if (t.state === 'RUNNING') t.lastChange = this.clock.now()
    t.state = 'STOPPED'
    // srv_update_status(): the same report as a DOWN, for maintenance (the admin change came first: the server is
    // already out of the counts).
    const after = this.countAvailable()
    const counts: TransitionCounts = { down: true, active: after.active, backup: after.backup,
      sessions: s.activeConnections, xferred: 0, queued: this.backend.admission.serverQueueLength(s) }
    this.emit('alert',
      (`${s.backup ? 'Backup ' : ''}Server ${this.backend.name}/${s.name} is going DOWN for ` +
        `maintenance${appendStatus(undefined, counts)}.`))
    if (wasUsable && after.active + after.backup === 0) this.emit('emerg',
      `${this.proxyType()} ${this.backend.name} has no server available!`)
  }

  private leaveMaint (t: Tracked): void {
    t.paused = false
    // "start OK but check immediately" (srv_update_status).
    t.health = t.rise
    if (t.state === 'STOPPED') t.downTime += Math.max(0, this.clock.now() - t.lastChange)
    t.state = 'RUNNING'
    t.lastChange = this.clock.now()
    t.server.stopping = false
    if (!t.server.healthy) {
      t.server.healthy = true
      this.backend.refresh()
    }
    this.emit('notice',
      (`${t.server.backup ? 'Backup ' : ''}Server ${this.backend.name}/${t.server.name} is ` +
        `UP/${t.server.admin === 'drain' ? 'DRAIN' : 'READY'} (leaving forced maintenance).`))
  }

  // --- reporting --------------------------------------------------------------------------

  private proxyType (): string {
    // proxy_cap_str(): a `listen` section is a "proxy".
    return this.backend.config.kind === 'listen' ? 'proxy' : 'backend'
  }

  private emit (severity: CheckLogSeverity, line: string): void {
    this.opts.log(SEVERITY_LEVEL[severity], line, severity)
  }

  /** The stats `status` column (stats_fill_sv_stats_computestate + ST_F_STATUS). */
  private statusText (t: Tracked): string {
    const s = t.server
    if (s.admin === 'maint') return 'MAINT'
    const max = t.rise + t.fall - 1
    const upArgs = `${t.health - t.rise + 1}/${t.fall}`
    if (t.state === 'RUNNING') {
      const goingDown = t.checked && t.health < max
      if (s.admin === 'drain') return goingDown ? `DRAIN ${upArgs}` : 'DRAIN'
      if (goingDown) return `UP ${upArgs}`
      return t.checked ? 'UP' : 'no check'
    }
    if (t.state === 'STOPPING') return !t.checked || t.health === max ? 'NOLB' : `NOLB ${upArgs}`
    if (t.checked && t.health > 0) return `DOWN ${t.health}/${t.rise}`
    return 'DOWN'
  }

  /** httpchk_build_status_header(): the X-Haproxy-Server-State value of `http-check send-state`. */
  private stateHeader (t: Tracked): string {
    const s = t.server
    const max = t.rise + t.fall - 1
    let state: string
    if (!t.checked) state = 'no check'
    else if (t.state !== 'STOPPED') {
      state = t.health === max ? 'UP' : `UP ${t.health - t.rise + 1}/${t.fall}`
      if (t.state === 'STOPPING') state = `NOLB${state.slice(2)}`
    } else state = t.health > 0 ? `DOWN ${t.health}/${t.rise}` : 'DOWN'
    let totalWeight = 0
    for (const x of this.tracked) if (x.server.usable && x.server.backup === s.backup) totalWeight += x.server.weight
    const queue = this.backend.admission.queueLength
    return (`${state}; address=${s.host}; port=${s.port ?? ''}; name=${this.backend.name}/${s.name}; ` +
      `node=${this.opts.node ?? hostname()}; `) +
      (`weight=${s.weight}/${totalWeight}; ` +
        (`scur=${s.activeConnections}/${this.backend.activeConnections - queue}; ` +
          `qcur=${this.backend.admission.serverQueueLength(s)}`))
  }

  private snapshot (t: Tracked): ServerCheckStatus {
    const now = this.clock.now()
    const finished = t.status !== 'INI' && t.status !== 'UNK'
    return {
      server: t.server.name,
      status: this.statusText(t),
      nolb: t.state === 'STOPPING',
      checked: t.checked,
      lastCheck: t.checked ? t.status : undefined,
      lastCheckDescription: t.checked ? statusDescription(t.status) : undefined,
      lastCheckDesc: t.desc,
      checkCode: t.checked && finished && (t.status === 'L7OK' || t.status === 'L7OKC' || t.status === 'L7STS') ?
        t.code : undefined,
      checkDuration: t.checked && finished ? t.duration : undefined,
      inProgress: t.probe !== undefined,
      health: t.health,
      rise: t.rise,
      fall: t.fall,
      failedChecks: t.failedChecks,
      downTransitions: t.downTransitions,
      lastChange: t.lastChange,
      downtime: t.downTime + (t.state === 'STOPPED' ? Math.max(0, now - t.lastChange) : 0),
      nextCheckAt: t.nextCheckAt,
      checkAddress: t.checked ? t.host : undefined,
      checkPort: t.checked ? t.port : undefined
    }
  }
}

/**
 * `check-ssl`, or `ssl` on a server whose checks go where its traffic goes (no check `port` or
 * `addr`): the checks run over TLS, with the server's verification and `check-sni` / `check-alpn`.
 */
function checkTls (c: Server): ConnectionOptions | undefined {
  const tls = checksOverTls(c) ? c.tls : undefined
  return tls === undefined ? undefined : serverTlsOptions(tls, tls.checkSni, tls.checkAlpn)
}

function checksOverTls (c: Server): boolean {
  return c.checkSsl ?? (c.ssl === true && c.port === undefined && c.addr === undefined)
}
