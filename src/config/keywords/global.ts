/**
 * The `global` section's keywords.
 */
import type { KeywordContext } from '../context.ts'
import type { GlobalSettings } from '../model.ts'
import { parseInteger, parseListenAddress, parseSize, parseTime } from '../values.ts'
import { ValueError } from '../errors.ts'
import { parseLogTarget } from './log.ts'
import { GLOBAL_TLS_KEYWORDS } from './ssl.ts'
import { parseCpuMap } from '../cpu-map.ts'

type GlobalHandler = (g: GlobalSettings, args: readonly string[], ctx: KeywordContext) => void

function one (kw: string, args: readonly string[]): string {
  if (args.length !== 1) throw new ValueError(`'${kw}' expects exactly one argument`)
  return args[0] as string
}

function none (kw: string, args: readonly string[]): void {
  if (args.length > 0) throw new ValueError(`'${kw}' takes no argument`)
}

const TUNE_SIZES = new Set(['tune.bufsize', 'tune.maxrewrite', 'tune.http.maxhdr', 'tune.maxaccept',
  'tune.maxpollevents', 'tune.rcvbuf.client', 'tune.rcvbuf.server', 'tune.sndbuf.client', 'tune.sndbuf.server',
    'tune.peers.max-updates-at-once', 'tune.pipesize', 'tune.idletimer'])

/** HAProxy 2.6's HTTP/2 settings and their ranges (RFC 9113 §6.5.2). */
const TUNE_H2: Readonly<Record<string, readonly [number, number]>> = {
  'tune.h2.max-concurrent-streams': [1, 2_147_483_647],
  'tune.h2.initial-window-size': [0, 2_147_483_647],
  'tune.h2.header-table-size': [0, 65_536],
  'tune.h2.max-frame-size': [16_384, 16_777_215]
}

function parseStatsSocket (g: GlobalSettings, args: readonly string[], ctx: KeywordContext): void {
  const [path, ...rest] = args
  if (path === undefined) throw new ValueError("'stats socket' expects a path")
  const unix = path.startsWith('/') || path.startsWith('unix@')
  const address = unix ? undefined : parseListenAddress(ctx.expandAddress(path), 'stats socket')
  if (address !== undefined && address.portEnd !== address.port) throw new ValueError(
    `'stats socket': a port range is not allowed, got '${path}'`)
  let mode: number | undefined
  let level: 'user' | 'operator' | 'admin' = 'operator'
  let exposeFdListeners = false
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]
    if (w === 'mode') {
      const m = rest[++i] ?? ''
      if (!/^[0-7]{3,4}$/.test(m)) throw new ValueError(
        `'stats socket mode' expects an octal mode such as 600, got '${m}'`)
      mode = parseInt(m, 8)
    } else if (w === 'level') {
      const l = rest[++i]
      if (l !== 'user' && l !== 'operator' && l !== 'admin') throw new ValueError(
        `'stats socket level' expects user, operator or admin, got '${l ?? ''}'`)
      level = l
    } else if (w === 'expose-fd') {
      if (rest[++i] !== 'listeners') throw new ValueError("'stats socket expose-fd' expects 'listeners'")
      exposeFdListeners = true
    } else if (w === 'user' || w === 'group' || w === 'uid' || w === 'gid' || w === 'process' || w === 'name') {
      if (rest[++i] === undefined) throw new ValueError(`'stats socket ${w}' expects a value`)
    } else {
      throw new ValueError(
        `'stats socket': unknown option '${w ?? ''}' (expected mode, level, expose-fd, user, group, uid, gid)`)
    }
  }
  if (mode !== undefined && (mode & 0o077) !== 0) ctx.warn(
    `stats socket '${path}' mode ${mode.toString(8)} lets other users reach the runtime API; 600 is recommended`)
  g.statsSockets.push({ path: unix ? path.replace(/^unix@/, '') : '', ...(address === undefined ? {} : { address }),
    mode, level, exposeFdListeners, loc: ctx.loc })
}

export const GLOBAL_KEYWORDS: Readonly<Record<string, GlobalHandler>> = {
  daemon: (g, a, ctx) => { none('daemon', a); ctx.warn(
    "'daemon' is ignored: tslb runs in the foreground under systemd"); g.daemon = true },
  'master-worker': (g, a) => { none('master-worker', a) },
  quiet: (g, a) => { none('quiet', a) },
  debug: (g, a, ctx) => { none('debug', a); ctx.warn(
    "'debug' is ignored: use the TSLB_LOG_LEVEL=debug environment variable") },
  nbproc: (g, a, ctx) => { parseInteger(one('nbproc', a), 'nbproc', 1, 64);
    ctx.warn("'nbproc' is deprecated (removed in HAProxy 2.5): tslb runs one worker process per node") },
  nbthread: (g, a) => { g.nbthread = parseInteger(one('nbthread', a), 'nbthread', 1, 64) },
  'cpu-map': (g, a) => { g.cpuMap = [...g.cpuMap ?? [], parseCpuMap(a)] },
  maxconn: (g, a) => { g.maxconn = parseInteger(one('maxconn', a), 'maxconn', 1, 10_000_000) },
  pidfile: (g, a) => { g.pidfile = one('pidfile', a) },
  chroot: (g, a) => { g.chroot = one('chroot', a) },
  user: (g, a) => { g.user = one('user', a) },
  group: (g, a) => { g.group = one('group', a) },
  uid: (g, a) => { g.uid = parseInteger(one('uid', a), 'uid', 0, 4_294_967_294) },
  gid: (g, a) => { g.gid = parseInteger(one('gid', a), 'gid', 0, 4_294_967_294) },
  log: (g, a, ctx) => { g.logs.push(parseLogTarget(a, ctx.loc)) },
  'log-send-hostname': (g, a) => { g.logSendHostname = a[0] ?? '' },
  'log-tag': (g, a) => { g.logTag = one('log-tag', a) },
  'spread-checks': (g, a) => { g.spreadChecks = parseInteger(one('spread-checks', a), 'spread-checks', 0, 50) },
  'hard-stop-after': (g, a) => { g.hardStopAfter = parseTime(one('hard-stop-after', a), 'hard-stop-after') },
  'close-spread-time': (g, a) => { g.closeSpreadTime = parseTime(one('close-spread-time', a), 'close-spread-time') },
  'ulimit-n': (g, a) => { g.ulimitN = parseInteger(one('ulimit-n', a), 'ulimit-n', 1, 100_000_000) },
  node: (g, a) => { g.node = one('node', a) },
  description: (g, a) => { g.description = a.join(' ') },
  localpeer: (g, a) => { g.localpeer = one('localpeer', a) },
  stats: (g, a, ctx) => {
    const [sub, ...rest] = a
    if (sub === 'socket') parseStatsSocket(g, rest, ctx)
    else if (sub === 'timeout') g.statsTimeout = parseTime(one('stats timeout', rest), 'stats timeout')
    else if (sub === 'maxconn') parseInteger(one('stats maxconn', rest), 'stats maxconn', 1, 100_000)
    else throw new ValueError(`'stats' in 'global' expects socket, timeout or maxconn, got '${sub ?? ''}'`)
  },
  script_user: (g, a) => {
    if (a.length < 1 || a.length > 2) throw new ValueError("'script_user' expects USER [GROUP]")
    g.scriptUser = { user: a[0] as string, group: a[1] }
  },
  enable_script_security: (g, a) => { none('enable_script_security', a); g.enableScriptSecurity = true },
  script_ambient_capabilities: (g, a) => { none('script_ambient_capabilities', a); g.scriptAmbientCapabilities = true },
  ...GLOBAL_TLS_KEYWORDS,
  // Sharing idle server connections between threads: tslb's worker is one thread, so there is nothing to share.
  'tune.idle-pool.shared': (g, a) => {
    const v = one('tune.idle-pool.shared', a)
    if (v !== 'on' && v !== 'off') throw new ValueError(`'tune.idle-pool.shared' expects 'on' or 'off', got '${v}'`)
  }
}

export function applyGlobal (g: GlobalSettings, keyword: string, args: readonly string[],
  ctx: KeywordContext): boolean {
  const handler = GLOBAL_KEYWORDS[keyword]
  if (handler !== undefined) {
    handler(g, args, ctx)
    return true
  }
  const range = TUNE_H2[keyword]
  if (range !== undefined) {
    g.tune[keyword] = parseInteger(one(keyword, args), keyword, range[0], range[1])
    return true
  }
  if (TUNE_SIZES.has(keyword)) {
    g.tune[keyword] = parseSize(one(keyword, args), keyword)
    return true
  }
  return false
}

export const GLOBAL_KEYWORD_NAMES = [...Object.keys(GLOBAL_KEYWORDS), ...TUNE_SIZES, ...Object.keys(TUNE_H2)]
