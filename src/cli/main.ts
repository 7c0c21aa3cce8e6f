#!/usr/bin/env node
/**
 * The `tslb` command: run, check, reload, status, convert.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { parseArgs } from 'node:util'
import { ConfigError, ConfigReadError, formatDiagnostic, TslbError, UsageError } from '../util/errors.ts'
import { createLogger } from '../util/log.ts'
import { loadConfig, parseConfig } from '../config/parser.ts'
import { controlRequest, DEFAULT_CONTROL_SOCKET } from '../supervisor/control-socket.ts'
import { Supervisor, type SupervisorStatus } from '../supervisor/supervisor.ts'
import { formatWorkerPeers } from '../supervisor/peers-status.ts'
import { formatVrrpStatusLine } from '../vrrp/show-vrrp.ts'
import { convertKeepalived } from '../vrrp/convert.ts'
import { haproxyMain } from './haproxy.ts'
import { DEFAULT_STRATEGY, isStrategyName, STRATEGY_NAMES } from '../reload/strategy.ts'

export const DEFAULT_CONFIG = '/etc/tslb/tslb.cfg'

const USAGE = `Usage: tslb COMMAND [options]

Commands:
  run -f FILE [-L LOCALPEER] [-p PIDFILE] [-S CTLSOCK]
                        run the supervisor in the foreground (what systemd starts)
  check -f FILE [-L LOCALPEER]
                        validate a configuration: exit 0 if valid, 1 if not (like haproxy -c)
  reload [--seamless] [--strategy handoff|syn-drop|tc-plug|iptables-flip] [-S CTLSOCK]
                        make the running node re-read its configuration file
  status [-S CTLSOCK] [--json]
                        show the running node's state
  convert FILE [-o OUT] print tslb vrrp sections for a keepalived.conf (exit 1 if they
                        would not pass 'tslb check')
  haproxy ARGS...       HAProxy's command line (-f -c -cc -d -D -W -S -p -L -q -v -vv), see docs/conformance.md

Options:
  -f, --config FILE     configuration file (default ${DEFAULT_CONFIG})
  -L, --local-peer NAME local peer name (default: the host name)
  -p, --pidfile FILE    write the supervisor's pid there
  -S, --socket PATH     control socket (default ${DEFAULT_CONTROL_SOCKET})
  -o, --output FILE     convert: write there instead of standard output
  -h, --help            this help
  -v, --version         print the version

Environment: TSLB_LOG_LEVEL=trace|debug|info|warn|error, TSLB_LOG_FORMAT=json|pretty
`


function version (): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

function parse (argv: string[]): ReturnType<typeof parseArgs<{ options: typeof OPTIONS, allowPositionals: true,
  strict: true }>> {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
}

const OPTIONS = {
  config: { type: 'string', short: 'f' },
  'local-peer': { type: 'string', short: 'L' },
  pidfile: { type: 'string', short: 'p' },
  socket: { type: 'string', short: 'S' },
  seamless: { type: 'boolean' },
  strategy: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  quiet: { type: 'boolean', short: 'q' },
  output: { type: 'string', short: 'o' }
} as const

export async function main (argv: string[]): Promise<number> {
  // HAProxy's command line is not tslb's: everything after `haproxy` is handed over untouched.
  if (argv[0] === 'haproxy') return await haproxyMain(argv.slice(1))
  const { values, positionals } = parse(argv)
  if (values.version === true) {
    process.stdout.write(`tslb ${version()} (node ${process.version})\n`)
    return 0
  }
  const [command, ...rest] = positionals
  if (values.help === true || command === undefined || command === 'help') {
    process.stdout.write(USAGE)
    return command === undefined && values.help !== true ? 2 : 0
  }
  const configFile = values.config ?? DEFAULT_CONFIG
  const socket = values.socket ?? DEFAULT_CONTROL_SOCKET
  switch (command) {
    case 'check': {
      noExtra(command, rest)
      return await check(configFile, values['local-peer'] ?? hostname(), values.quiet === true)
    }
    case 'run':
      noExtra(command, rest)
      return await run(configFile, values['local-peer'], values.pidfile, socket)
    case 'reload': {
      noExtra(command, rest)
      const strategy = values.strategy ?? DEFAULT_STRATEGY
      if (!isStrategyName(strategy)) throw new UsageError(
        `unknown reload strategy '${strategy}' (one of: ${STRATEGY_NAMES.join(', ')})`)
      const reply = await controlRequest(socket, { cmd: 'reload', strategy, seamless: values.seamless === true },
        step => {
        process.stdout.write(`${step}\n`)
      })
      if (!reply.ok) {
        process.stderr.write(`tslb reload: ${reply.error ?? 'failed'}\n`)
        return 1
      }
      process.stdout.write('reload done\n')
      return 0
    }
    case 'status': {
      noExtra(command, rest)
      const reply = await controlRequest(socket, { cmd: 'status' })
      if (!reply.ok) {
        process.stderr.write(`tslb status: ${reply.error ?? 'failed'}\n`)
        return 1
      }
      const status = reply.status as SupervisorStatus
      process.stdout.write(values.json === true ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status))
      return 0
    }
    case 'convert': {
      const [file, ...extra] = rest
      if (file === undefined) throw new UsageError("'tslb convert' expects a keepalived.conf file")
      noExtra(command, extra)
      let text: string
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8')
      } catch (err) {
        throw new ConfigReadError(file, err)
      }
      const result = convertKeepalived(text, file === '-' ? 'standard input' : file)
      const out = values.output
      if (out === undefined || out === '-') process.stdout.write(result.text)
      else writeFileSync(out, result.text)
      if (result.warnings > 0 && values.quiet !== true) process.stderr.write(
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
      throw new UsageError(`unknown command '${command}' (run 'tslb --help')`)
  }
}

function noExtra (command: string, rest: string[]): void {
  if (rest.length > 0) throw new UsageError(`'tslb ${command}': unexpected argument '${rest.join(' ')}'`)
}

async function check (file: string, localPeer: string, quiet: boolean): Promise<number> {
  try {
    const { diagnostics } = await loadConfig(file, { localPeer })
    for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`)
    if (!quiet) process.stdout.write('Configuration file is valid\n')
    return 0
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const d of err.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`)
      const n = err.diagnostics.filter(d => d.severity === 'error').length
      process.stderr.write(`${file}: ${n} error(s): configuration not valid\n`)
      return 1
    }
    throw err
  }
}

async function run (configFile: string, localPeer: string | undefined, pidFile: string | undefined,
  controlSocket: string): Promise<number> {
  const log = createLogger()
  const supervisor = new Supervisor({ configFile, localPeer, pidFile, controlSocket, log })
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

function formatStatus (s: SupervisorStatus): string {
  const lines = [
    `node ${s.node} (pid ${s.pid}), config ${s.configFile}`,
    `started ${s.startedAt}, ${s.reloads} reload(s)${s.lastReload === undefined ? '' : `, last ${s.lastReload}`}`,
    `proxies: ${s.proxies.length === 0 ? 'none' : s.proxies.map(p => `${p.kind} ${p.name}`).join(', ')}`,
    `vrrp:${s.vrrpInstances.length === 0 ? ' none' : ''}`,
    ...s.vrrpInstances.map(v =>
      `  ${v.runtime === undefined ? (`${v.name}: not running, vrid ${v.vrid ?? '?'}, configured ` +
        `${v.configuredState}, priority ${v.priority}`) : formatVrrpStatusLine(v.runtime)}`),
    `peers: ${s.peers.length === 0 ? 'none' : s.peers.map(p => `${p.name} (${p.peers.join(', ')})`).join(', ')}`,
    ...s.workers.flatMap(w => [`worker generation ${w.generation} (pid ${w.pid ?? '?'}): ${w.state}`,
      ...formatWorkerPeers(w)])
  ]
  return `${lines.join('\n')}\n`
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => {
    if (err instanceof TslbError) {
      process.stderr.write(`tslb: ${err.message}\n`)
      process.exitCode = err instanceof UsageError ? 2 : 1
    } else {
      process.stderr.write(`tslb: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
      process.exitCode = 70
    }
  })
}
