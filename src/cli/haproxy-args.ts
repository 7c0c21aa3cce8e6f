/**
 * HAProxy's command line (`haproxy -f CFG -d ...`) as `tslb haproxy` takes it. Pure: argv in,
 * options out. Debug and tuning flags of HAProxy's internals (`-dM`, `-de`, `-m 50`...) are
 * accepted and listed in `ignored`.
 */
import { UsageError } from '../util/errors.ts'

export type HaproxyMode = 'run' | 'check' | 'condition' | 'version' | 'build-info'

export interface HaproxyArgs {
  readonly mode: HaproxyMode
  readonly files: string[]
  /** -d: foreground with debug output (the default when neither -D nor -W is given). */
  readonly debug: boolean
  readonly daemon: boolean
  readonly masterWorker: boolean
  /** -S: the master CLI's address (`fd@N`, `ipv4@...`, a unix path), options after a comma dropped. */
  readonly masterCli: string | undefined
  readonly pidFile: string | undefined
  readonly localPeer: string | undefined
  readonly quiet: boolean
  readonly condition: string | undefined
  /** -C DIR: change to DIR before loading the configuration. */
  readonly chdir: string | undefined
  /** Flags accepted because they tune HAProxy internals tslb does not have. */
  readonly ignored: string[]
}

/** Flags without a value that only tune or debug HAProxy's internals. */
const IGNORED_FLAGS = /^-(d[A-Za-z]*|V|db|de|dp|dr|dS|dV|dW|dG|dt|dD|dK.*|n[sp]?|Ws)$/
/** Flags that take a value and only tune HAProxy's internals (`-m MEGS`, `-n MAXCONN`, `-N MAXPCONN`, `-x SOCKET`). */
const IGNORED_WITH_VALUE = new Set(['-m', '-n', '-N', '-x'])

export function parseHaproxyArgs (argv: readonly string[]): HaproxyArgs {
  const files: string[] = []
  const ignored: string[] = []
  let mode: HaproxyMode = 'run'
  let debug = false
  let daemon = false
  let masterWorker = false
  let masterCli: string | undefined
  let pidFile: string | undefined
  let localPeer: string | undefined
  let quiet = false
  let condition: string | undefined
  let chdir: string | undefined
  const value = (i: number, flag: string): string => {
    const v = argv[i]
    if (v === undefined) throw new UsageError(`haproxy: option '${flag}' expects a value`)
    return v
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--') {
      files.push(...argv.slice(i + 1))
      break
    }
    switch (a) {
      case '-f': files.push(value(++i, a)); continue
      case '-c': mode = 'check'; continue
      case '-cc': mode = 'condition'; condition = value(++i, a); continue
      case '-v': if (mode !== 'build-info') mode = 'version'; continue
      case '-vv': mode = 'build-info'; continue
      case '-d': debug = true; continue
      case '-D': daemon = true; continue
      case '-W': masterWorker = true; continue
      case '-S': masterCli = value(++i, a).split(',')[0]; masterWorker = true; continue
      case '-p': pidFile = value(++i, a); continue
      case '-L': localPeer = value(++i, a); continue
      case '-q': quiet = true; continue
      case '-C': chdir = value(++i, a); continue
      case '-sf': case '-st':
        // Old pids to finish: tslb reloads through its own supervisor, not by starting a new process.
        while (argv[i + 1] !== undefined && /^\d+$/.test(argv[i + 1] as string)) i++
        ignored.push(a)
        continue
    }
    if (IGNORED_WITH_VALUE.has(a)) {
      ignored.push(`${a} ${value(++i, a)}`)
      continue
    }
    if (IGNORED_FLAGS.test(a)) {
      ignored.push(a)
      continue
    }
    throw new UsageError(`haproxy: unknown option '${a}'`)
  }
  if ((mode === 'run' || mode === 'check') && files.length === 0) throw new UsageError(
    'haproxy: no configuration file (-f FILE)')
  return { mode, files, debug, daemon, masterWorker, masterCli, pidFile, localPeer, quiet, condition, chdir, ignored }
}
