#!/usr/bin/env node
/**
 * The `tslb` command: run, check, reload, status, convert. The commands and their options are
 * the table in commands.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { ConfigError, ConfigReadError, formatDiagnostic, TslbError, UsageError } from '../util/errors.ts'
import { controlRequest, DEFAULT_CONTROL_SOCKET } from '../supervisor/control-socket.ts'
import type { SupervisorStatus } from '../supervisor/status.ts'
import { DEFAULT_STRATEGY, isStrategyName, STRATEGY_NAMES } from '../reload/strategy.ts'
import { flag, parseCommandArgs, type ParsedArgs, stringValue, stringValues } from './args.ts'
import { COMMANDS, DEFAULT_CONFIG, findCommand, TOP_OPTIONS } from './commands.ts'
import { commandHelp, topHelp } from './help.ts'
// A command loads only what it uses (`await import`): `tslb reload` and `tslb status` start in a fraction of the time
// the supervisor's, the parser's and the HAProxy entry's modules take to load.

export { DEFAULT_CONFIG }

// Each command loads what only it uses when it runs: `tslb run` keeps the supervisor's memory for its whole life, and
// the short commands start faster.

export async function main (argv: string[]): Promise<number> {
  // HAProxy's command line is not tslb's: everything after `haproxy` is handed over untouched.
  if (argv[0] === 'haproxy') {
    const haproxySpec = findCommand('haproxy')
    if (haproxySpec !== undefined && argv.length === 2 && (argv[1] === '--help' || argv[1] === '-h')) {
      process.stdout.write(commandHelp(haproxySpec))
      return 0
    }
    const { haproxyMain } = await import('./haproxy.ts')
    return await haproxyMain(argv.slice(1))
  }
  const at = argv.findIndex(a => !a.startsWith('-'))
  const command = at < 0 ? undefined : argv[at]
  const top = parseCommandArgs('tslb', at < 0 ? argv : argv.slice(0, at), TOP_OPTIONS, 0)
  const verbosity = stringOrFlagCount(top.values['version'])
  if (verbosity >= 2) {
    const { buildInfo } = await import('./build-info.ts')
    process.stdout.write(await buildInfo())
    return 0
  }
  if (verbosity === 1) {
    const { packageVersion } = await import('./build-info.ts')
    process.stdout.write(`tslb ${packageVersion()} (node ${process.version})\n`)
    return 0
  }
  if (command === 'help') {
    const about = argv[at + 1]
    const spec = about === undefined ? undefined : findCommand(about)
    process.stdout.write(spec === undefined ? topHelp() : commandHelp(spec))
    return 0
  }
  if (command === undefined) {
    process.stdout.write(topHelp())
    return flag(top.values['help']) ? 0 : 2
  }
  const spec = findCommand(command)
  if (spec === undefined) throw new UsageError(
    `tslb: unknown command '${command}' (one of: ${COMMANDS.map(c => c.name).join(', ')}; see 'tslb --help')`)
  const args = parseCommandArgs(`tslb ${command}`, argv.slice(at + 1), spec.options, spec.args === undefined ? 0 : 1)
  if (flag(top.values['help']) || flag(args.values['help'])) {
    process.stdout.write(commandHelp(spec))
    return 0
  }
  return await runCommand(command, args)
}

function stringOrFlagCount (v: ParsedArgs['values'][string]): number {
  return Array.isArray(v) ? v.length : v === true ? 1 : 0
}

async function runCommand (command: string, { values, positionals }: ParsedArgs): Promise<number> {
  const paths = stringValues(values['config'])
  const configPaths = paths.length === 0 ? [DEFAULT_CONFIG] : paths
  const socket = stringValue(values['socket']) ?? DEFAULT_CONTROL_SOCKET
  const quiet = flag(values['quiet'])
  switch (command) {
    case 'check': {
      const opts = { paths: configPaths, localPeer: stringValue(values['local-peer']), defaultLocalPeer: hostname(),
        json: flag(values['json']), quiet }
      const { checkConfig, printCheck } = await import('./check.ts')
      return printCheck(await checkConfig(opts), opts)
    }
    case 'run':
      return await run(configPaths, stringValue(values['local-peer']), stringValue(values['pidfile']), socket,
        !flag(values['no-standby']))
    case 'reload': {
      const strategy = stringValue(values['strategy']) ?? DEFAULT_STRATEGY
      if (!isStrategyName(strategy)) throw new UsageError(
        `tslb reload: unknown reload strategy '${strategy}' (one of: ${STRATEGY_NAMES.join(', ')})`)
      const reply = await controlRequest(socket, { cmd: 'reload', strategy, seamless: flag(values['seamless']) },
        step => {
        if (!quiet) process.stdout.write(`${step}\n`)
      })
      if (!reply.ok) {
        process.stderr.write(`tslb reload: ${reply.error ?? 'failed'}\n`)
        return 1
      }
      if (!quiet) process.stdout.write('reload done\n')
      return 0
    }
    case 'status': {
      const reply = await controlRequest(socket, { cmd: 'status' })
      if (!reply.ok) {
        process.stderr.write(`tslb status: ${reply.error ?? 'failed'}\n`)
        return 1
      }
      const status = reply.status as SupervisorStatus
      if (flag(values['cluster'])) {
        const { clusterView, formatCluster } = await import('./cluster.ts')
        const view = clusterView(status)
        process.stdout.write(flag(values['json']) ? `${JSON.stringify(view, null, 2)}\n` : formatCluster(view))
        return 0
      }
      const [{ gatherHostFacts }, { formatStatus, hostStatus }] = await Promise.all([import('./host.ts'),
        import('./status.ts')])
      const host = hostStatus(await gatherHostFacts(), status)
      process.stdout.write(flag(values['json']) ? `${JSON.stringify({ ...status, host }, null, 2)}\n` : formatStatus(
        status, host))
      return 0
    }
    case 'convert': {
      const file = positionals[0]
      if (file === undefined) throw new UsageError(
        "tslb convert: expects a keepalived.conf file (see 'tslb convert --help')")
      let text: string
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8')
      } catch (err) {
        throw new ConfigReadError(file, err)
      }
      const [{ convertKeepalived }, { parseConfig }] = await Promise.all([import('../vrrp/convert.ts'),
        import('../config/parser.ts')])
      const result = convertKeepalived(text, file === '-' ? 'standard input' : file)
      const out = stringValue(values['output'])
      if (out === undefined || out === '-') process.stdout.write(result.text)
      else writeFileSync(out, result.text)
      if (result.warnings > 0 && !quiet) process.stderr.write(
        `tslb convert: ${result.warnings} warning(s), written as '# warning:' comments\n`)
      // The output must load as it is: `tslb check` on it, here.
      const errors = parseConfig(result.text, out ?? 'converted.cfg',
        { env: {} }).diagnostics.filter(d => d.severity === 'error')
      if (errors.length === 0) return 0
      for (const d of errors) process.stderr.write(
        `tslb convert: the output would not pass 'tslb check': ${formatDiagnostic(d)}\n`)
      return 1
    }
    default:
      throw new UsageError(`tslb: unknown command '${command}'`)
  }
}

async function run (configFiles: readonly string[], localPeer: string | undefined, pidFile: string | undefined,
  controlSocket: string, standby: boolean): Promise<number> {
  const [{ createLogger }, { Supervisor }] = await Promise.all([import('../util/log.ts'),
    import('../supervisor/supervisor.ts')])
  const log = createLogger()
  const supervisor = new Supervisor({ configFiles, localPeer, pidFile, controlSocket, log, standby })
  try {
    await supervisor.start()
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const d of err.diagnostics) log.error(formatDiagnostic(d))
      log.error('configuration not valid: not starting')
      return 1
    }
    throw err
  }
  return await new Promise<number>(resolve => {
    const stop = (signal: NodeJS.Signals): void => {
      supervisor.stop(signal).then(() => { resolve(0) }, (err: unknown) => {
        log.error({ err }, 'error while stopping')
        resolve(1)
      })
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    for (const sig of ['SIGHUP', 'SIGUSR2'] as const) {
      process.on(sig, () => {
        supervisor.reload(step => { log.info(step) }).catch((err: unknown) => { log.error({ err }, 'reload failed') })
      })
    }
  })
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => {
    if (err instanceof UsageError) {
      // Usage messages name the command they are about ('tslb check: ...').
      process.stderr.write(`${err.message}\n`)
      process.exitCode = 2
    } else if (err instanceof TslbError) {
      process.stderr.write(`tslb: ${err.message}\n`)
      process.exitCode = 1
    } else {
      process.stderr.write(`tslb: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
      process.exitCode = 70
    }
  })
}
