/**
 * `tslb haproxy ARGS...` (and the `tslb-haproxy` executable): tslb behind HAProxy's command
 * line, so tools that drive `haproxy` (VTest and HAProxy's reg-tests, scripts, `-c` checks) drive
 * tslb unchanged. Contract (HAProxy 2.6, as VTest's vtc_haproxy.c relies on it):
 * - `-c`: check, print "Configuration file is valid", exit 0; errors on stderr, exit 1.
 * - `-cc EXPR`: exit 0 when the condition holds, 1 when not, 2 when it cannot be evaluated.
 * - `-d` (or no mode flag): foreground; SIGINT/SIGTERM stop at once (HAProxy's hard stop), exit 0.
 * - `-W`: master-worker in the foreground: same, but the exit status is 128 + the signal number.
 * - `-D`: daemon: the serving process is detached (stdio on /dev/null); the command exits 0 once it
 *   has written its pid file, 1 if it failed to start.
 * - `-p FILE`: the pid of the process that serves (the supervisor: the master in `-W`).
 * - `-S ADDR`: the master CLI (master-cli.ts).
 * Log lines sent to `log` targets carry the pid of the process started, as HAProxy's single
 * process does in `-d` mode; with `-W` they carry the worker's pid, as HAProxy's worker does.
 */
import { spawn } from 'node:child_process'
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, type Diagnostic, TslbError, UsageError } from '../util/errors.ts'
import { createLogger } from '../util/log.ts'
import { loadConfig } from '../config/parser.ts'
import { Supervisor } from '../supervisor/supervisor.ts'
import { writePidFile } from '../supervisor/pidfile.ts'
import { ConditionError, evaluateCondition } from './haproxy-condition.ts'
import { type HaproxyArgs, parseHaproxyArgs } from './haproxy-args.ts'
import { listenMasterCli, type MasterCli } from './master-cli.ts'

/** The HAProxy release whose configuration language and command line tslb follows. */
export const HAPROXY_COMPAT_VERSION = '2.6.0'
/** HAProxy build features tslb has (the `Feature list` of `-vv`, what `feature(NAME)` tests). */
export const HAPROXY_FEATURES: ReadonlySet<string> = new Set(['EPOLL', 'GETADDRINFO', 'PROMEX'])
/** Set in a `-D` child so it does not daemonize again. */
const DAEMON_CHILD_ENV = 'TSLB_HAPROXY_DAEMON_CHILD'

function tslbVersion (): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

function versionLine (): string {
  return (`HAProxy version ${HAPROXY_COMPAT_VERSION}-tslb-${tslbVersion()} - tslb ${tslbVersion()} on node ` +
    `${process.version}, HAProxy 2.6 compatible command line\n`)
}

function buildInfo (): string {
  return (`${versionLine()}Build options :\n  TARGET  = linux-glibc\n\nFeature list : ` +
    `${[...HAPROXY_FEATURES].map(f => `+${f}`).join(' ')}\n\nAvailable services : prometheus-exporter\n`)
}

function alert (d: Diagnostic): string {
  const where = d.line > 0 ? `parsing [${d.file}:${d.line}] : ` : ''
  return `[${d.severity === 'error' ? 'ALERT' : 'WARNING'}]  (${process.pid}) : config : ${where}${d.message}\n`
}

export async function haproxyMain (argv: readonly string[]): Promise<number> {
  let args: HaproxyArgs
  try {
    args = parseHaproxyArgs(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`tslb ${err.message}\n`)
    return 1
  }
  if (args.chdir !== undefined) process.chdir(args.chdir)
  switch (args.mode) {
    case 'version': process.stdout.write(versionLine()); return 0
    case 'build-info': process.stdout.write(buildInfo()); return 0
    case 'condition': {
      try {
        return evaluateCondition(args.condition ?? '', { version: HAPROXY_COMPAT_VERSION, features: HAPROXY_FEATURES,
          env: process.env }) ? 0 : 1
      } catch (err) {
        if (!(err instanceof ConditionError)) throw err
        process.stderr.write(`[ALERT]    (${process.pid}) : config : Failed to evaluate condition: ${err.message}\n`)
        return 2
      }
    }
    case 'check': return await check(args)
    case 'run': break
  }
  if (!args.quiet && args.ignored.length > 0) process.stderr.write(
    (`[NOTICE]   (${process.pid}) : tslb: HAProxy debug/tuning flag(s) without effect in tslb: ` +
      `${args.ignored.join(' ')}\n`))
  if (args.daemon && process.env[DAEMON_CHILD_ENV] === undefined) return await daemonize(argv, args)
  return await serve(args)
}

async function check (args: HaproxyArgs): Promise<number> {
  try {
    const { diagnostics } = await loadConfig(args.files,
      args.localPeer === undefined ? {} : { localPeer: args.localPeer })
    if (!args.quiet) for (const d of diagnostics) process.stderr.write(alert(d))
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const d of err.diagnostics) process.stderr.write(alert(d))
      process.stderr.write(`[ALERT]    (${process.pid}) : config : Fatal errors found in configuration.\n`)
    } else if (err instanceof TslbError) {
      process.stderr.write(`[ALERT]    (${process.pid}) : config : ${err.message}\n`)
    } else {
      throw err
    }
    return 1
  }
  if (!args.quiet) process.stdout.write('Configuration file is valid\n')
  return 0
}

/** Starts a detached copy of this command that serves; returns once it wrote its pid file (0) or died (1). */
async function daemonize (argv: readonly string[], args: HaproxyArgs): Promise<number> {
  if (args.pidFile === undefined) {
    process.stderr.write(
      `[ALERT]    (${process.pid}) : tslb haproxy: -D needs -p PIDFILE (tslb reports the daemon's pid there)\n`)
    return 1
  }
  rmSync(args.pidFile, { force: true })
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? '', 'haproxy', ...argv], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, [DAEMON_CHILD_ENV]: '1' }
  })
  const pidFile = args.pidFile
  return await new Promise<number>(resolve => {
    const timer = setInterval(() => {
      let text: string
      try { text = readFileSync(pidFile, 'utf8') } catch { return }
      if (Number(text.trim()) === child.pid) {
        clearInterval(timer)
        child.unref()
        resolve(0)
      }
    }, 20)
    child.once('exit', code => {
      clearInterval(timer)
      process.stderr.write(
        `[ALERT]    (${process.pid}) : tslb haproxy: the daemon exited (${code ?? 'signal'}) before it was ready\n`)
      resolve(1)
    })
  })
}

/** A start that failed: HAProxy's alert lines, exit status 1 (anything but a TslbError is a bug: rethrown). */
function reportStartError (err: unknown): number {
  if (err instanceof ConfigError) {
    for (const d of err.diagnostics) process.stderr.write(alert(d))
    process.stderr.write(`[ALERT]    (${process.pid}) : config : Fatal errors found in configuration.\n`)
    return 1
  }
  if (err instanceof TslbError) {
    process.stderr.write(`[ALERT]    (${process.pid}) : ${err.message}\n`)
    return 1
  }
  throw err
}

/**
 * For harnesses: when TSLB_HAPROXY_REFUSED_FILE names a file, a refused start appends the reason
 * there (VTest learns of it only when its clients time out; scripts/regtest stops at once).
 */
function noteRefusal (err: unknown): void {
  const file = process.env.TSLB_HAPROXY_REFUSED_FILE
  if (file === undefined || file === '') return
  const reason = err instanceof ConfigError ? err.diagnostics.find(d => d.severity === 'error')?.message
    : err instanceof Error ? err.message : undefined
  try { appendFileSync(file, `${reason ?? 'start refused'}\n`) } catch { /* the harness times out instead */ }
}

async function serve (args: HaproxyArgs): Promise<number> {
  const log = createLogger()
  // HAProxy's single process logs its own pid; its master-worker mode, the worker's.
  if (!args.masterWorker) process.env.TSLB_LOG_PID = String(process.pid)
  if (args.pidFile !== undefined) {
    // HAProxy's master writes its pid file once the configuration is parsed, before its workers
    // are ready (VTest gives it 3 s): the configuration is checked here first, then the file written.
    try {
      await loadConfig(args.files, args.localPeer === undefined ? {} : { localPeer: args.localPeer })
    } catch (err) {
      noteRefusal(err)
      return reportStartError(err)
    }
    await writePidFile(args.pidFile)
  }
  const runDir = mkdtempSync(join(tmpdir(), 'tslb-haproxy-'))
  const supervisor = new Supervisor({
    configFiles: args.files,
    localPeer: args.localPeer,
    pidFile: args.pidFile,
    controlSocket: join(runDir, 'master.sock'),
    log,
    cleanupReloadRules: false,
    // A standby only in master-worker mode, HAProxy's reloading one: the reg-tests start many short-lived instances
    // without it (a reload there starts a new process).
    standby: args.masterWorker
  })
  const cleanup = (): void => {
    rmSync(runDir, { recursive: true, force: true })
    if (args.pidFile !== undefined) rmSync(args.pidFile, { force: true })
  }
  try {
    await supervisor.start()
  } catch (err) {
    cleanup()
    noteRefusal(err)
    return reportStartError(err)
  }
  let masterCli: MasterCli | undefined
  if (args.masterCli !== undefined) {
    try {
      masterCli = await listenMasterCli(args.masterCli, supervisor)
    } catch (err) {
      process.stderr.write(
        (`[ALERT]    (${process.pid}) : cannot open the master CLI on ${args.masterCli}: ` +
          `${err instanceof Error ? err.message : String(err)}\n`))
      await supervisor.stop('master CLI failure', 0)
      cleanup()
      return 1
    }
  }
  return await new Promise<number>(resolve => {
    const stop = (signal: NodeJS.Signals): void => {
      void masterCli?.close()
      const status = args.masterWorker ? 128 + (signal === 'SIGINT' ? 2 : 15) : 0
      supervisor.stop(signal, 0).then(() => { cleanup(); resolve(status) }, (err: unknown) => {
        log.error({ err }, 'error while stopping')
        cleanup()
        resolve(1)
      })
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    // HAProxy: SIGUSR1 = soft stop (drain); SIGUSR2/SIGHUP in master-worker = reload.
    process.once('SIGUSR1', () => {
      void masterCli?.close()
      supervisor.stop('SIGUSR1').then(() => { cleanup(); resolve(0) }, () => { cleanup(); resolve(1) })
    })
    for (const sig of ['SIGHUP', 'SIGUSR2'] as const) {
      process.on(sig, () => {
        supervisor.reload(step => { log.info(step) }).catch((err: unknown) => { log.error({ err }, 'reload failed') })
      })
    }
  })
}

