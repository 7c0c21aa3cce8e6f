/**
 * The HAProxy runtime API (`stats socket PATH [mode M] [level L]`) on a unix socket, answering
 * the commands users script with socat, in HAProxy 2.6's formats and messages.
 *
 * Protocol (HAProxy's cli.c): the client sends command lines; commands end at a newline or at a
 * `;` not escaped by a backslash. Each answer is followed by an empty line. Without `prompt`, the
 * connection closes once the received commands are answered; `prompt` toggles the interactive
 * mode where each answer ends with "\n> " and the connection stays open until `quit`, the client
 * closing, or `stats timeout` (10 s) of silence. A line ending with `<<` starts a payload that
 * ends at an empty line. A line longer than the buffer (tune.bufsize, 16 kB) closes the
 * connection without an answer, as HAProxy does. A command and its payload together must fit the
 * buffer too (HAProxy gathers both in one tune.bufsize chunk): past it the command is refused with
 * TOO_BIG and the connection closed, so no client holds more than one buffer of memory.
 */
import { chmod, rename, stat, unlink } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import type { Backend } from '../backend.ts'
import type { Engine } from '../engine.ts'
import type { ServerState } from '../server-state.ts'
import { usageMessage, type UsageEntry } from './cli-usage.ts'
import { changesPatterns, patternCommand, type PatternVerb } from './runtime-api-maps.ts'
import { listSslCerts, showSslCert, sslCertCommand, type SslCertVerb } from './runtime-api-ssl.ts'
import { CertStore } from '../tls/cert-store.ts'
import { countersOf } from '../counters.ts'
import { refreshBackend, samplerFor } from './sampler.ts'
import { FIELD_INDEX } from './fields.ts'
import { infoValues, renderCsv, renderInfo, renderJson, renderTyped, type InfoFormat } from './format.ts'
import { proxyRows, proxyViews, productVersion, type ProxyView, type StatRow } from './model.ts'
import { LEVEL_RANK, type CliLevel, type StatsProviders, type TableAction } from './providers.ts'
import { adminChangedAtRuntime, CHECK_STATUS_NUMBER, checkResult, isConfigMaint, serverStatus } from './status.ts'

export const PERMISSION_DENIED = 'Permission denied\n'
/** HAProxy's answer to a command (with its payload) that does not fit tune.bufsize (2.6 closes without it). */
export const TOO_BIG = 'The command is too big for the buffer size. Please change tune.bufsize in the configuration ' +
  'to use a bigger command.\n'

/** HAProxy's tune.bufsize: the longest command line accepted. */
const DEFAULT_MAX_LINE = 16384
/** HAProxy's `stats maxconn` default. */
const DEFAULT_MAX_CONNECTIONS = 10
/** HAProxy's `stats timeout` default. */
const DEFAULT_TIMEOUT_MS = 10_000
/** HAProxy's MAX_CLI_ARGS. */
const MAX_CLI_ARGS = 64

/** The state of one CLI connection. */
export interface CliSession {
  /** The socket's configured level (what `show stat` legends depend on). */
  readonly socketLevel: CliLevel
  /** The current level (`operator` / `user` lower it). */
  level: CliLevel
  prompt: boolean
  /** Set by `quit`: close after this command. */
  quit: boolean
  /** `user -` / `operator -`: no newline after this answer. */
  noLf: boolean
}

export function newSession (level: CliLevel): CliSession {
  return { socketLevel: level, level, prompt: false, quit: false, noLf: false }
}

type Handler = (args: readonly string[], session: CliSession, payload: string | undefined) => string

interface Keyword extends UsageEntry {
  readonly run: Handler
}

/**
 * Splits a command line into words as HAProxy does: blanks separate words, a backslash keeps the
 * next character (escaped blanks and semicolons stay in the word, `\\` is one backslash).
 */
export function splitArgs (line: string): { args: string[], payloadMarker: boolean } {
  const args: string[] = []
  let i = 0
  const n = line.length
  let payloadMarker = false
  while (args.length < MAX_CLI_ARGS && i < n) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++
    if (i >= n) break
    if (line.slice(i) === '<<') {
      payloadMarker = true
      break
    }
    let word = ''
    while (i < n && line[i] !== ' ' && line[i] !== '\t') {
      const c = line[i] as string
      if (c === '\\') {
        const next = line[i + 1]
        if (next === undefined) { i++; break }
        word += next
        i += 2
        continue
      }
      word += c
      i++
    }
    args.push(word)
  }
  return { args, payloadMarker }
}

function hasLevel (session: CliSession, level: CliLevel): boolean {
  return LEVEL_RANK[session.level] >= LEVEL_RANK[level]
}

interface Found {
  readonly backend: Backend
  readonly server: ServerState
}

/** HAProxy's proxy_be_by_name: a backend by name, or by `#id`. */
function findBackend (engine: Engine, views: readonly ProxyView[], name: string): Backend | undefined {
  if (name.startsWith('#')) {
    const id = Number.parseInt(name.slice(1), 10)
    return views.find(v => v.backend !== undefined && v.id === id)?.backend
  }
  return engine.backends.get(name)
}

/** A server by name, or by `#id` (HAProxy's get_backend_server). */
function findServer (be: Backend, name: string): ServerState | undefined {
  if (name.startsWith('#')) {
    const id = Number.parseInt(name.slice(1), 10)
    return be.servers.find(s => s.id === id)
  }
  return be.serverByName(name)
}

/** C's strtol on a decimal string: the value and where parsing stopped. */
function strtol (s: string): { value: number, end: number } {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s)
  if (m === null) return { value: 0, end: 0 }
  return { value: Number.parseInt(m[1] as string, 10), end: m[0].length }
}

const TABLE_USAGE: Record<'clear' | 'set', string> = {
  clear: 'Required arguments: <table> "data.<store_data_type>" <operator> <value> or <table> key <key>\n',
  set: 'Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n'
}

const SET_SERVER_UNSUPPORTED = new Set(['addr', 'agent', 'agent-addr', 'agent-port', 'agent-send', 'check-addr',
  'check-port', 'fqdn', 'ssl'])

/** Options of the runtime API listener. */
export interface RuntimeApiOptions extends StatsProviders {
  /** Concurrent CLI connections (HAProxy's `stats maxconn`, default 10); more are refused. */
  readonly maxConnections?: number
  /** Idle timeout in ms (HAProxy's `stats timeout`; default the config's, else 10 s). */
  readonly timeoutMs?: number
  /** Longest command line in bytes (default 16384, HAProxy's tune.bufsize). */
  readonly maxLineLength?: number
  /**
   * Called after a command changed a server (its backend is already refreshed): to log it as
   * HAProxy does, and to tell the health checks about admin changes (maintenance pauses them).
   */
  readonly onServerChange?: (backend: Backend, server: ServerState, change: 'admin' | 'weight' | 'health') => void
  /** Called after a certificate-changing command ran (`nbthread`: the other proxy threads run it on their store). */
  readonly onSslCert?: (verb: SslCertVerb, name: string, payload: string | undefined) => void
  /** Called after a map/ACL-changing command ran (`nbthread`: the other proxy threads run it on their store). */
  readonly onPatterns?: (verb: PatternVerb, map: boolean, args: readonly string[], payload: string | undefined) => void
}

export class RuntimeApi {
  readonly engine: Engine
  readonly options: RuntimeApiOptions
  private readonly keywords: readonly Keyword[]
  private readonly certs: CertStore

  constructor (engine: Engine, options: RuntimeApiOptions = {}) {
    this.engine = engine
    this.options = options
    this.certs = options.certs ?? new CertStore([])
    samplerFor(engine)
    this.keywords = this.buildKeywords()
  }

  /** Executes one command (a line without its delimiter); returns the answer without the trailing prompt. */
  execute (line: string, session: CliSession, payload?: string): string {
    const nul = line.indexOf('\0')
    const { args } = splitArgs(nul >= 0 ? line.slice(0, nul) : line)
    const kw = this.find(args)
    if (kw === undefined) return usageMessage(this.keywords, args)
    try {
      return kw.run(args, session, payload)
    } catch (err) {
      return `Internal error: ${err instanceof Error ? err.message : String(err)}\n`
    }
  }

  /** The help text (`help`). */
  help (): string {
    return usageMessage(this.keywords, ['help'])
  }

  private find (args: readonly string[]): Keyword | undefined {
    for (const kw of this.keywords) {
      if (kw.words.every((w, i) => args[i] === w)) return kw
    }
    return undefined
  }

  private views (): ProxyView[] {
    return proxyViews(this.engine, this.options)
  }

  private changed (be: Backend, server: ServerState, change: 'admin' | 'weight' | 'health'): void {
    be.refresh()
    refreshBackend(be)
    this.options.onServerChange?.(be, server, change)
  }

  /** cli_find_server: "backend/server" or an error text. */
  private lookupServer (arg: string | undefined): Found | string {
    const a = arg ?? ''
    const slash = a.indexOf('/')
    const bk = slash < 0 ? a : a.slice(0, slash)
    const sv = slash < 0 ? '' : a.slice(slash + 1)
    if (sv === '' || bk === '') return "Require 'backend/server'.\n"
    const backend = findBackend(this.engine, this.views(), bk)
    if (backend === undefined) return 'No such backend.\n'
    const server = findServer(backend, sv)
    if (server === undefined) return 'No such server.\n'
    if (backend.config.disabled === true) return 'Proxy is disabled.\n'
    return { backend, server }
  }

  /** HAProxy's server_parse_weight_change_request. */
  private setWeight (f: Found, text: string | undefined): string {
    const s = f.server
    if (text === undefined || text === '') return 'Require <weight> or <weight%>.\n'
    const { value, end } = strtol(text)
    let w = value
    const rest = text.slice(end)
    if (end === 0) return 'Empty weight string empty or preceded by garbage'
    if (rest === '%') {
      if (w < 0) return 'Relative weight must be positive.\n'
      w = Math.min(w, 25600)
      w = Math.min(Math.trunc(s.initialWeight * w / 100), 256)
    } else if (w < 0 || w > 256) {
      return 'Absolute weight can only be between 0 and 256 inclusive.\n'
    } else if (rest !== '') {
      return 'Trailing garbage in weight string'
    }
    if (w !== 0 && w !== s.initialWeight && !f.backend.balancer.dynamic) {
      return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
    }
    s.weight = w
    this.changed(f.backend, s, 'weight')
    return ''
  }

  private setAdmin (f: Found, admin: 'ready' | 'drain' | 'maint'): void {
    f.server.admin = admin
    adminChangedAtRuntime.add(f.server)
    this.changed(f.backend, f.server, 'admin')
  }

  private showStat (args: readonly string[], session: CliSession): string {
    let a = 2
    if (args[a] === 'domain') {
      a++
      if (args[a] === 'proxy') a++
      else if (args[a] === 'resolvers') return ''
      else return 'Invalid statistics domain.\n'
    }
    const views = this.views()
    let iid = -1
    let typeMask = -1
    let sid = -1
    const nonEmpty = (i: number): boolean => (args[i] ?? '') !== ''
    if (nonEmpty(a) && nonEmpty(a + 1) && nonEmpty(a + 2)) {
      const name = args[a] as string
      const byName = views.find(v => v.name === name)
      iid = byName !== undefined ? byName.id : Number.parseInt(name, 10) || 0
      if (iid === 0) return 'No such proxy.\n'
      typeMask = Number.parseInt(args[a + 1] as string, 10) || 0
      sid = Number.parseInt(args[a + 2] as string, 10) || 0
      a += 3
    }
    let format: 'csv' | 'typed' | 'json' = 'csv'
    let desc = false
    let hideMaint = false
    let hideDown = false
    for (; a < args.length; a++) {
      const w = args[a]
      if (w === 'typed') format = 'typed'
      else if (w === 'json') format = 'json'
      else if (w === 'desc') desc = true
      else if (w === 'no-maint') hideMaint = true
      else if (w === 'up') hideDown = true
    }
    const opts = { legends: LEVEL_RANK[session.socketLevel] >= LEVEL_RANK.operator }
    samplerFor(this.engine).refresh()
    const rows: StatRow[] = []
    for (const v of views) {
      if (iid !== -1 && v.id !== iid) continue
      for (const row of proxyRows(v, this.options, opts)) {
        if (typeMask !== -1) {
          const bit = row.kind === 'F' ? 1 : row.kind === 'B' ? 2 : 4
          if ((typeMask & bit) === 0) continue
          if (row.kind === 'S' && sid !== -1 && row.sid !== sid) continue
        }
        if (row.kind === 'S' && row.server !== undefined) {
          const s = row.server
          if (hideMaint && s.admin === 'maint') continue
          if (hideDown && (s.admin === 'maint' || (!s.healthy && (row.check === undefined || row.check.health ===
            0)))) continue
        }
        if (row.kind === 'B' && (hideMaint || hideDown) && v.backend !== undefined) {
          const be = v.backend
          const up = be.servers.filter(s => s.healthy && s.admin !== 'maint').length
          const i = FIELD_INDEX.get('status') ?? 0
          const values = [...row.values]
          values[i] = `${String(values[i])} (${up}/${be.servers.length})`
          rows.push({ ...row, values })
          continue
        }
        rows.push(row)
      }
    }
    if (format === 'typed') return renderTyped(rows, desc)
    if (format === 'json') return renderJson(rows)
    return renderCsv(rows)
  }

  private showServersState (args: readonly string[]): string {
    const views = this.views()
    let only: Backend | undefined
    const name = args[3] ?? ''
    if (name !== '') {
      only = findBackend(this.engine, views, name)
      if (only === undefined) return "Can't find backend.\n"
    }
    const now = Date.now()
    let out = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight ' +
      'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state ' +
      ('bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr ' +
        'srv_agent_addr srv_agent_port\n')
    samplerFor(this.engine).refresh(now)
    for (const v of views) {
      const be = v.backend
      if (be === undefined || (only !== undefined && be !== only)) continue
      for (const s of be.servers) {
        const check = this.options.checkStatus?.(be, s)
        const st = serverStatus(s, check, isConfigMaint(s))
        const lastchg = Math.max(0, Math.floor((now - (check?.lastChangeMs ?? countersOf(s).lastChangeAt)) / 1000))
        const checkStatus = check === undefined ? 1 : CHECK_STATUS_NUMBER[check.status]
        const result = check === undefined ? 0 : checkResult(check.status)
        const health = check === undefined ? (s.healthy ? s.config.rise ?? 2 : 0) : check.health
        const checkState = check === undefined ? 0 : 0x06 | (check.inProgress === true ? 0x01 : 0) | (s.admin ===
          'maint' ? 0x08 : 0)
        const c = s.config
        out += [
          v.id, v.name, s.id, s.name, s.host === '' ? '-' : s.host, st.opState, st.adminState, s.weight,
            s.initialWeight,
          lastchg, checkStatus, result, health, checkState, c.agentCheck === true ? 0x16 : 0,
          v.config.id !== undefined ? 1 : 0, c.id !== undefined ? 1 : 0, '-', s.port ?? 0, '-', c.ssl === true ? 1 : 0,
          c.port ?? 0, c.addr ?? '-', '-', c.agentPort ?? 0
        ].join(' ') + '\n'
      }
    }
    return out
  }

  private table (action: TableAction, args: readonly string[], session: CliSession): string {
    const tables = this.options.tables
    if (tables !== undefined) return tables.run(action, args.slice(2), session.level)
    // No stick table anywhere: what HAProxy answers when none is configured.
    if ((args[2] ?? '') !== '') return 'No such table\n'
    return action === 'show' ? '' : TABLE_USAGE[action]
  }

  private sslKeywords (kw: (words: string[], usage: string | undefined, run: Handler) => Keyword,
    need: (level: CliLevel, session: CliSession) => boolean): Keyword[] {
    const change = (verb: SslCertVerb, usage: string): Keyword => kw([verb, 'ssl', 'cert'], usage, (args, session,
      payload) => {
      if (!need('admin', session)) return PERMISSION_DENIED
      const answer = sslCertCommand(this.certs, verb, args[3] ?? '', payload)
      this.options.onSslCert?.(verb, args[3] ?? '', payload)
      return answer
    })
    const crtList = (verb: string, usage: string): Keyword => kw([verb, 'ssl', 'crt-list'], usage, (_a, session) =>
      need('admin', session) ? `'${verb} ssl crt-list' is not supported by tslb.\n` : PERMISSION_DENIED)
    return [
      crtList('add', 'add ssl crt-list <list> <cert> [opts]*  : add to crt-list file <list> a line <cert> or a ' +
        'payload'),
      change('abort', 'abort ssl cert <certfile>               : abort a transaction for a certificate file'),
      change('commit', 'commit ssl cert <certfile>              : commit a certificate file'),
      crtList('del', 'del ssl crt-list <list> <cert[:line]>   : delete a line <cert> from crt-list file <list>'),
      change('del', 'del ssl cert <certfile>                 : delete an unused certificate file'),
      change('new', 'new ssl cert <certfile>                 : create a new certificate file to be used in a ' +
        'crt-list or a directory'),
      change('set', 'set ssl cert <certfile> <payload>       : replace a certificate file'),
      kw(['show', 'ssl', 'cert'], 'show ssl cert [<certfile>]              : display the SSL certificates used in ' +
        'memory, or the details of a file', (args, session) => {
        if (!need('operator', session)) return PERMISSION_DENIED
        const name = args[3] ?? ''
        return name === '' ? listSslCerts(this.certs) : showSslCert(this.certs, name)
      }),
      crtList('show', 'show ssl crt-list [-n] [<list>]         : show the list of crt-lists or the content of a ' +
        'crt-list file <list>')
    ]
  }

  private patternKeywords (kw: (words: string[], usage: string | undefined, run: Handler) => Keyword,
    need: (level: CliLevel, session: CliSession) => boolean): Keyword[] {
    const cmd = (verb: PatternVerb, what: 'map' | 'acl', usage: string): Keyword => kw([verb, what], usage,
      (args, session, payload) => {
        if (changesPatterns(verb) && !need('admin', session)) return PERMISSION_DENIED
        const answer = patternCommand(this.engine.patterns, verb, what === 'map', args.slice(2), payload)
        if (changesPatterns(verb)) this.options.onPatterns?.(verb, what === 'map', args.slice(2), payload)
        return answer
      })
    const versions = (verb: string, what: string, usage: string): Keyword => kw([verb, what], usage, (_a, session) =>
      need('operator', session) ? `'${verb} ${what}' is not supported by tslb (no versioned updates).\n`
        : PERMISSION_DENIED)
    return [
      cmd('add', 'acl', 'add acl [@<ver>] <acl> <pattern>        : add an acl entry'),
      cmd('add', 'map', 'add map [@<ver>] <map> <key> <val>      : add a map entry (payload supported instead of ' +
        'key/val)'),
      cmd('clear', 'acl', 'clear acl [@<ver>] <acl>                : clear the contents of this acl'),
      cmd('clear', 'map', 'clear map [@<ver>] <map>                : clear the contents of this map'),
      versions('commit', 'acl', 'commit acl @<ver> <acl>                 : commit the ACL at this version'),
      versions('commit', 'map', 'commit map @<ver> <map>                 : commit the map at this version'),
      cmd('del', 'acl', 'del acl <acl> [<key>|#<ref>]            : delete acl entries matching <key>'),
      cmd('del', 'map', 'del map <map> [<key>|#<ref>]            : delete map entries matching <key>'),
      cmd('get', 'acl', 'get acl <acl> <value>                   : report the patterns matching a sample for an ACL'),
      cmd('get', 'map', 'get map <acl> <value>                   : report the keys and values matching a sample for ' +
        'a map'),
      versions('prepare', 'acl', 'prepare acl <acl>                       : prepare a new version for atomic ACL ' +
        'replacement'),
      versions('prepare', 'map', 'prepare map <acl>                       : prepare a new version for atomic map ' +
        'replacement'),
      cmd('set', 'map', 'set map <map> [<key>|#<ref>] <value>    : modify a map entry'),
      cmd('show', 'acl', "show acl [@<ver>] <acl>]                : report available acls or dump an acl's contents"),
      cmd('show', 'map', "show map [@ver] [map]                   : report available maps or dump a map's contents")
    ]
  }

  private buildKeywords (): Keyword[] {
    const need = (level: CliLevel, session: CliSession): boolean => hasLevel(session, level)
    const kw = (words: string[], usage: string | undefined, run: Handler): Keyword => ({ words, usage, run })
    const serverCmd = (level: CliLevel, fn: (f: Found, args: readonly string[]) => string): Handler => (args,
      session) => {
      if (!need(level, session)) return PERMISSION_DENIED
      const f = this.lookupServer(args[2])
      return typeof f === 'string' ? f : fn(f, args)
    }
    return [
      kw(['help'], undefined, args => usageMessage(this.keywords, args)),
      kw(['prompt'], undefined, (_a, session) => { session.prompt = !session.prompt; return '' }),
      kw(['quit'], undefined, (_a, session) => { session.quit = true; return '' }),
      kw(['operator'],
        'operator                                : lower the level of the current CLI session to operator', (args,
          session) => {
        if (args[1] === '-') session.noLf = true
        if (!need('operator', session)) return PERMISSION_DENIED
        session.level = 'operator'
        return ''
      }),
      kw(['user'], 'user                                    : lower the level of the current CLI session to user',
        (args, session) => {
        if (args[1] === '-') session.noLf = true
        session.level = 'user'
        return ''
      }),
      kw(['show', 'cli', 'level'],
        'show cli level                          : display the level of the current CLI session', (_a,
          session) => `${session.level}\n`),
      kw(['show', 'version'], 'show version                            : show version of the current process',
        () => `${productVersion(this.options)}\n`),
      kw(['show', 'info'], 'show info [desc|json|typed|float]*      : report information about the running process',
        args => {
        let format: InfoFormat = 'plain'
        let desc = false
        for (const w of args.slice(2)) {
          if (w === 'typed') format = 'typed'
          else if (w === 'json') format = 'json'
          else if (w === 'desc') desc = true
        }
        return renderInfo(infoValues(this.engine, this.options), format, desc)
      }),
      kw(['show', 'stat'], 'show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server', (args,
        session) => this.showStat(args, session)),
      kw(['show', 'servers', 'state'],
        'show servers state [<backend>]          : dump volatile server information (all or for a single backend)',
          args => this.showServersState(args)),
      kw(['show', 'backend'], 'show backend                            : list backends in the current running config',
        () => {
        return '# name\n' + this.views().filter(v => v.backend !== undefined).map(v => v.name + '\n').join('')
      }),
      kw(['show', 'table'],
        ('show table <table> [<filter>]*          : report table usage stats or dump this table\'s contents ' +
          '(filter: data/key)'), (args, session) => this.table('show', args, session)),
      kw(['clear', 'table'],
        'clear table <table> [<filter>]*         : remove an entry from a table (filter: data/key)', (args,
          session) => this.table('clear', args, session)),
      kw(['set', 'table'], "set table <table> key <k> [data.* <v>]* : update or create a table entry's data", (args,
        session) => this.table('set', args, session)),
      kw(['show', 'peers'],
        'show peers [dict|-] [section]           : dump some information about all the peers or this peers section',
          args => {
        let i = 2
        let dict = false
        if (args[i] === 'dict') { dict = true; i++ } else if (args[i] === '-') i++
        const section = (args[i] ?? '') === '' ? undefined : args[i]
        if (this.options.peers === undefined) return section === undefined ? '' : 'No such peers\n'
        return this.options.peers(section, dict) ?? 'No such peers\n'
      }),
      ...this.sslKeywords(kw, need),
      ...this.patternKeywords(kw, need),
      kw(['show', 'vrrp'], 'show vrrp                               : report the state of the VRRP instances (tslb)',
        () => this.options.vrrp?.() ?? ''),
      kw(['disable', 'server'],
        "disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)",
          serverCmd('admin', f => {
        this.setAdmin(f, 'maint')
        return ''
      })),
      kw(['enable', 'server'],
        "enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)",
          serverCmd('admin', f => {
        this.setAdmin(f, 'ready')
        return ''
      })),
      kw(['get', 'weight'], "get weight <bk>/<srv>                   : report a server's current weight", args => {
        const a = args[2] ?? ''
        const slash = a.indexOf('/')
        if (slash < 0 || slash === a.length - 1) return "Require 'backend/server'.\n"
        const be = findBackend(this.engine, this.views(), a.slice(0, slash))
        if (be === undefined) return 'No such backend.\n'
        const s = findServer(be, a.slice(slash + 1))
        if (s === undefined) return 'No such server.\n'
        return `${s.weight} (initial ${s.initialWeight})\n`
      }),
      kw(['set', 'weight'],
        "set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)",
          serverCmd('admin', (f, args) => this.setWeight(f, args[3]))),
      kw(['set', 'server'], "set server <bk>/<srv> [opts]            : change a server's state, weight or health",
        serverCmd('admin', (f, args) => {
        const what = args[3] ?? ''
        const value = args[4] ?? ''
        if (what === 'weight') return this.setWeight(f, value)
        if (what === 'state') {
          if (value === 'ready' || value === 'drain' || value === 'maint') {
            this.setAdmin(f, value)
            return ''
          }
          return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n"
        }
        if (what === 'health') {
          if (value === 'up' || value === 'down') {
            f.server.healthy = value === 'up'
            this.changed(f.backend, f.server, 'health')
            return ''
          }
          if (value === 'stopping') return "'set server <srv> health stopping' is not supported by tslb.\n"
          return "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n"
        }
        if (SET_SERVER_UNSUPPORTED.has(what)) return `'set server <srv> ${what}' is not supported by tslb.\n`
        return 'usage: set server <backend>/<server> health | state | weight\n'
      }))
    ]
  }
}

/** A listening runtime API socket. */
export interface RuntimeApiServer {
  readonly path: string
  readonly server: Server
  readonly api: RuntimeApi
  /** Stops listening, closes the open CLI connections, removes the socket file if it is still ours. */
  close (): Promise<void>
}

/**
 * Serves one CLI connection. Exported for tests that drive the protocol over any duplex socket.
 */
export function serveConnection (api: RuntimeApi, socket: Socket, level: CliLevel, maxLine: number,
  timeoutMs: number): void {
  const session = newSession(level)
  let buf = ''
  /** The command line ending `<<`, the payload lines so far, and the bytes both take in HAProxy's buffer. */
  let payload: { line: string, lines: string[], bytes: number } | undefined
  let ended = false
  const finish = (): void => {
    if (ended) return
    ended = true
    // Like HAProxy, the connection is closed, not just half-closed, once the answers are out.
    socket.destroySoon()
  }
  socket.setEncoding('utf8')
  socket.setTimeout(timeoutMs, () => { socket.destroy() })
  socket.on('error', () => {})
  const respond = (out: string): void => {
    let suffix = ''
    if (session.prompt) suffix = '\n> '
    else if (!session.noLf) suffix = '\n'
    session.noLf = false
    if (!socket.destroyed) socket.write(out + suffix)
  }
  const run = (line: string, payloadText?: string): boolean => {
    const out = api.execute(line, session, payloadText)
    if (session.quit) {
      finish()
      return false
    }
    respond(out)
    return true
  }
  let waiting = false
  const drain = (): void => {
    while (!ended) {
      if (socket.writableNeedDrain) {
        // The client does not read its answers: stop reading its commands until it does.
        if (!waiting) {
          waiting = true
          socket.pause()
          socket.once('drain', () => {
            waiting = false
            socket.resume()
            drain()
          })
        }
        return
      }
      if (payload !== undefined) {
        const nl = buf.indexOf('\n')
        if (nl < 0) break
        let line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (line.endsWith('\r')) line = line.slice(0, -1)
        if (line !== '') {
          payload.bytes += Buffer.byteLength(line) + 1
          if (payload.bytes >= maxLine - 1) {
            payload = undefined
            buf = ''
            respond(TOO_BIG)
            finish()
            return
          }
          payload.lines.push(line)
          if (session.prompt && !socket.destroyed) socket.write('+ ')
          continue
        }
        const p = payload
        payload = undefined
        if (!run(p.line, p.lines.join('\n'))) return
      } else {
        const end = findDelimiter(buf)
        if (end < 0) break
        if (end >= maxLine - 1) break
        let line = buf.slice(0, end)
        buf = buf.slice(end + 1)
        if (line.endsWith('\r')) line = line.slice(0, -1)
        if (line.endsWith('<<')) {
          payload = { line, lines: [], bytes: Buffer.byteLength(line) + 1 }
          if (session.prompt && !socket.destroyed) socket.write('+ ')
          continue
        }
        if (!run(line)) return
      }
      // Without prompt, the connection ends once every received command is answered.
      if (!session.prompt && payload === undefined && buf.length === 0) {
        finish()
        return
      }
    }
    if (!ended && payload !== undefined && payload.bytes + buf.length >= maxLine - 1) {
      payload = undefined
      buf = ''
      respond(TOO_BIG)
      finish()
    } else if (!ended && buf.length >= maxLine - 1) {
      // A command that does not fit HAProxy's buffer: closed without an answer.
      ended = true
      socket.destroySoon()
    }
  }
  socket.on('data', (chunk: string) => {
    // Whatever follows a refused or last command is not kept (a client that does not read its answer holds the
    // connection open until the idle timeout, not memory).
    if (ended) return
    buf += chunk
    drain()
  })
  // The client closed its side: an incomplete command is dropped, as HAProxy does.
  socket.on('end', finish)
}

/** Position of the first newline or unescaped `;`, or -1. */
function findDelimiter (s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '\\') { i++; continue }
    if (c === '\n' || c === ';') return i
  }
  return -1
}

/** A runtime API socket bound under a temporary name: `publish` moves it onto its path, `abort` removes it. */
export interface PendingRuntimeApi {
  publish (): Promise<RuntimeApiServer>
  abort (): Promise<void>
}

/**
 * Opens the runtime API on a unix socket. The socket file gets `mode` (default 0600: tslb's policy;
 * HAProxy's default is whatever the process umask leaves) before it appears under `path`: it is
 * bound under a temporary name, chmod'ed, then renamed over `path`, so a reload's new worker
 * takes the path over atomically and an old worker's close never removes the new socket.
 */
export async function listenRuntimeApi (where: string | { readonly handle: object }, mode: number | undefined,
  level: CliLevel, engine: Engine, providers: RuntimeApiOptions = {}): Promise<RuntimeApiServer> {
  return await (await bindRuntimeApi(where, mode, level, engine, providers)).publish()
}

/**
 * The first half of `listenRuntimeApi`: the socket is bound (and serving) under a temporary name beside `path`, and
 * the path still belongs to whoever had it. A worker binds all its sockets first and publishes them once it is ready,
 * so a generation that fails to start leaves the serving one's sockets in place.
 */
export async function bindRuntimeApi (where: string | { readonly handle: object }, mode: number | undefined,
  level: CliLevel, engine: Engine, providers: RuntimeApiOptions = {}): Promise<PendingRuntimeApi> {
  const api = new RuntimeApi(engine, providers)
  const maxLine = providers.maxLineLength ?? providers.config?.global.tune['tune.bufsize'] ?? DEFAULT_MAX_LINE
  const timeoutMs = providers.timeoutMs ?? providers.config?.global.statsTimeout ?? DEFAULT_TIMEOUT_MS
  const sockets = new Set<Socket>()
  const server = createServer({ allowHalfOpen: true }, socket => {
    sockets.add(socket)
    socket.once('close', () => { sockets.delete(socket) })
    serveConnection(api, socket, level, maxLine, timeoutMs)
  })
  server.maxConnections = providers.maxConnections ?? DEFAULT_MAX_CONNECTIONS
  const closeServer = async (): Promise<void> => {
    const closed = new Promise<void>(resolve => { server.close(() => { resolve() }) })
    for (const s of sockets) s.destroy()
    await closed
  }
  if (typeof where !== 'string') {
    // A TCP or inherited (fd@) socket the supervisor owns: listen on its handle, nothing to unlink.
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(where.handle, () => { server.off('error', reject); resolve() })
    })
    server.on('error', () => {})
    const ready: RuntimeApiServer = { path: '', server, api, close: closeServer }
    return { publish: async () => await Promise.resolve(ready), abort: closeServer }
  }
  const path = where
  // HAProxy binds "PATH.PID.tmp" and renames it; a shorter name keeps within sun_path (107 bytes).
  let tmp = join(dirname(path), `.tslb.${process.pid}.${Math.random().toString(36).slice(2, 8)}`)
  if (Buffer.byteLength(tmp) > 107) tmp = path
  if (tmp === path) await unlink(path).catch(() => {})
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(tmp, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', () => {})
  const abort = async (): Promise<void> => {
    await closeServer()
    if (tmp !== path) await unlink(tmp).catch(() => {})
  }
  try {
    await chmod(tmp, mode ?? 0o600)
  } catch (err) {
    await abort()
    throw err
  }
  return {
    abort,
    async publish (): Promise<RuntimeApiServer> {
      let ino: number
      try {
        if (tmp !== path) await rename(tmp, path)
        ino = (await stat(path)).ino
      } catch (err) {
        await abort()
        throw err
      }
      return {
        path,
        server,
        api,
        async close (): Promise<void> {
          await closeServer()
          try {
            if ((await stat(path)).ino === ino) await unlink(path)
          } catch {
            // already gone
          }
        }
      }
    }
  }
}
