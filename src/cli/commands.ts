/**
 * The command line as data: each command, its options and their help. The argument parser,
 * `--help`, the tslb(1) man page and the bash completion are all made from this one table.
 */
import { DEFAULT_CONTROL_SOCKET } from '../supervisor/control-socket.ts'
import { STRATEGY_NAMES } from '../reload/strategy.ts'

export const DEFAULT_CONFIG = '/etc/tslb/tslb.cfg'

/** What the shell completes an option's value with. */
export type ValueCompletion = 'file' | 'directory' | 'file-or-directory' | 'words' | 'none'

export interface OptionSpec {
  readonly name: string
  readonly short?: string
  readonly type: 'string' | 'boolean'
  readonly multiple?: boolean
  /** The value's placeholder in help, e.g. FILE. */
  readonly value?: string
  readonly help: string
  readonly complete?: ValueCompletion
  readonly words?: readonly string[]
}

export interface CommandSpec {
  readonly name: string
  /** Positional arguments, as written in the synopsis. */
  readonly args?: string
  readonly summary: string
  /** Paragraphs for `--help` and the man page. */
  readonly description: readonly string[]
  readonly options: readonly OptionSpec[]
}

const CONFIG: OptionSpec = {
  name: 'config', short: 'f', type: 'string', multiple: true, value: 'FILE|DIR', complete: 'file-or-directory',
  help: (`configuration file, or a directory whose *.cfg files are read in lexical order; repeat to load several in ` +
    `order as one configuration (default ${DEFAULT_CONFIG})`)
}
const LOCAL_PEER: OptionSpec = { name: 'local-peer', short: 'L', type: 'string', value: 'NAME', complete: 'none',
  help: 'local peer name, as HAProxy\'s -L (default: the host name)' }
const SOCKET: OptionSpec = { name: 'socket', short: 'S', type: 'string', value: 'PATH', complete: 'file',
  help: `the supervisor's control socket (default ${DEFAULT_CONTROL_SOCKET})` }
const JSON_OUT: OptionSpec = { name: 'json', type: 'boolean', help: 'print JSON instead of text' }
const QUIET: OptionSpec = { name: 'quiet', short: 'q', type: 'boolean',
  help: 'print nothing on success (errors and warnings still go to stderr)' }
const HELP: OptionSpec = { name: 'help', short: 'h', type: 'boolean', help: 'this help' }

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run',
    summary: 'run the supervisor in the foreground (what systemd starts)',
    description: [
      ('Loads the configuration, opens the listening sockets, starts the proxy workers, the VRRP speaker and the ' +
        ('control socket, and serves until SIGTERM or SIGINT. SIGHUP and SIGUSR2 reload, re-reading the same -f ' +
          'files and directories.')),
      'A configuration with errors is refused: nothing starts and the exit status is 1.',
      ('One supervisor per node: it takes an exclusive lock (the control socket path plus .lock) before it touches ' +
        'anything; a second tslb run with the same control socket exits 1 naming the pid that holds it, and the ' +
        'running node is left as it was.'),
      ('Log lines that cannot be written (stdout closed or full) are dropped and counted (tslb status); the node ' +
        'keeps serving.'),
      ('While a worker generation serves, the next one\'s process is forked and booted ahead of time (the standby, ' +
        'shown by tslb status): a reload or a restart hands it the configuration instead of starting a new process ' +
        '(a reload is then a few tens of milliseconds of the supervisor\'s work instead of most of a second). It ' +
        'costs one idle process, about 25 MiB of memory of its own (and each of its nbthread - 1 spare threads about ' +
          '30 MiB more); --no-standby saves it.')
    ],
    options: [
      CONFIG, LOCAL_PEER,
      { name: 'no-standby', type: 'boolean',
        help: 'do not boot the next worker generation ahead of time (less memory, slower reloads and restarts)' },
      { name: 'pidfile', short: 'p', type: 'string', value: 'FILE', complete: 'file',
        help: ("write the supervisor's pid there (a new file renamed over FILE; refused in a directory every " +
          'user may write to without the sticky bit)') },
      SOCKET, HELP
    ]
  },
  {
    name: 'check',
    summary: 'validate a configuration: exit 0 if valid, 1 if not (like haproxy -c)',
    description: [
      ('Reports every problem as FILE:LINE: message in one pass, across all the -f files. Warnings do not fail the ' +
        'check.'),
      ('With -L NODE the check also looks at this host as that node: a vrrp_instance interface that does not exist ' +
        ('or is down, a VIP outside every subnet of its interface, nbthread above the CPU count (warnings). Without ' +
          '-L (in CI, say) only the files are checked.')),
      ('With --json the result is one JSON object on stdout: {"valid": BOOLEAN, "files": [...], "errors": N, ' +
        '"warnings": N, "diagnostics": [{"severity", "file", "line", "message"}]}.')
    ],
    options: [CONFIG, LOCAL_PEER, JSON_OUT, QUIET, HELP]
  },
  {
    name: 'reload',
    summary: "make the running node re-read its configuration and replace its worker generation",
    description: [
      ('Asks the supervisor over its control socket to re-read the -f files and directories it was started with, ' +
        'printing each step. A configuration with errors is refused and the running one keeps serving (exit 1).')
    ],
    options: [
      { name: 'seamless', type: 'boolean', help:
        'hand the listening sockets over (the default strategy, written out for scripts that say it)' },
      { name: 'strategy', type: 'string', value: 'NAME', complete: 'words', words: STRATEGY_NAMES,
        help: `reload strategy: ${STRATEGY_NAMES.join(', ')} (default handoff)` },
      SOCKET, QUIET, HELP
    ]
  },
  {
    name: 'status',
    summary: "show the running node's state",
    description: [
      ('The node, its configuration files, worker generations, VRRP instances, peers sessions, and this host (CPUs, ' +
        'load, memory, each VRRP interface with its state and MAC address).'),
      ('With --cluster: the cluster as this node sees it, from the VRRP adverts it receives and its peers sessions ' +
        ('— each node, each vrrp_instance with the node holding its VIPs, each node\'s state where it is known (a ' +
          ('backup sends no adverts: from another node it cannot be told from a stopped one), each peer\'s session, ' +
            'and the serving generation. No other node is asked.')))
    ],
    options: [SOCKET, JSON_OUT, { name: 'cluster', type: 'boolean',
      help: 'the cluster as this node sees it (VRRP adverts, peers sessions)' }, HELP]
  },
  {
    name: 'convert',
    args: 'KEEPALIVED.CONF',
    summary: "print tslb vrrp sections for a keepalived.conf ('-' reads standard input)",
    description: [
      ('Translates vrrp_script and vrrp_instance blocks into tslb sections. What cannot be carried over is written ' +
        'as # warning: comments.'),
      "Exit 1 when the output would not pass 'tslb check' (each problem on stderr); it is written all the same."
    ],
    options: [
      { name: 'output', short: 'o', type: 'string', value: 'FILE', complete: 'file',
        help: "write the sections there instead of standard output ('-': standard output)" },
      QUIET, HELP
    ]
  },
  {
    name: 'haproxy',
    args: 'HAPROXY-ARGS...',
    summary: "HAProxy's command line: -f -c -cc -d -D -W -S -p -L -q -v -vv (also as bin/tslb-haproxy)",
    description: [
      ('Everything after the word haproxy is read as haproxy(1) reads its arguments, with its exit codes and its ' +
        'master/worker behaviour, so tools that drive HAProxy (VTest, init scripts) drive tslb. See ' +
        'docs/conformance.md.'),
      "'tslb haproxy --help' (or -h) alone prints this page."
    ],
    options: [HELP]
  }
]

/** Options taken before any command. */
export const TOP_OPTIONS: readonly OptionSpec[] = [
  HELP,
  { name: 'version', short: 'v', type: 'boolean', multiple: true,
    help: 'print the version; -vv prints the build: Node.js, OpenSSL, native addons, features' }
]

export const ENVIRONMENT: readonly (readonly [string, string])[] = [
  ['TSLB_LOG_LEVEL', 'trace, debug, info (default), warn or error'],
  ['TSLB_LOG_FORMAT', 'json (default when not on a terminal) or pretty']
]

export function findCommand (name: string): CommandSpec | undefined {
  return COMMANDS.find(c => c.name === name)
}
