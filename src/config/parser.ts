/**
 * Reads a configuration text into the typed model, collecting every problem as a `FILE:LINE:` diagnostic.
 */
import { readFile } from 'node:fs/promises'
import { configFiles } from './files.ts'
import { ConfigError, ConfigReadError, type Diagnostic } from '../util/errors.ts'
import { Diagnostics, type KeywordContext, type Line } from './context.ts'
import type { Config, HttpErrorsSection, PeersSection, Proxy, ProxyKind, UserlistSection, VrrpInstance, VrrpScript,
  VrrpSyncGroup,
  VrrpTrackFile, VrrpTrackProcess } from './model.ts'
import { newProxy, UNSUPPORTED_SECTIONS } from './sections.ts'
import { type Environment, expandEnvironment, tokenizeLine } from './tokenizer.ts'
import { LineSyntaxError, ValueError } from './errors.ts'
import { checkName, parseAddress } from './values.ts'
import { applyGlobal } from './keywords/global.ts'
import { allowedIn, applyNo, PROXY_KEYWORDS, REMOVED_KEYWORDS } from './keywords/proxy.ts'
import { applyPeersKeyword, applyUserlistKeyword } from './keywords/peers.ts'
import { applyHttpErrorsKeyword } from './keywords/errors.ts'
import {
  applyVrrpSyncGroupKeyword, applyVrrpTrackFileKeyword, applyVrrpTrackProcessKeyword, newVrrpSyncGroup,
    newVrrpTrackFile, newVrrpTrackProcess
} from './keywords/vrrp-tracking.ts'
import { applyVrrpInstanceKeyword, applyVrrpScriptKeyword, newVrrpInstance, newVrrpScript } from './keywords/vrrp.ts'
import { validate } from './validate.ts'
import { GLOBAL_NOT_ENFORCED, notEnforcedMessage, PROXY_KEYWORD_STATUS } from './enforcement.ts'
import { type FileReader, loadAclFiles } from './acl-files.ts'
import { type Lookup, resolveHostNames } from './resolve.ts'
import { loadTlsFiles } from './tls-files.ts'
import { DEFAULTS_RULE_KEYWORDS, inheritDefaultsRules } from './defaults-rules.ts'
import { loadErrorReplies } from './error-replies.ts'
import { braceMessage, isBraceLine, outsideSectionHint, unknownKeywordHint, withoutBraces } from './hints.ts'

export interface ParseOptions {
  readonly env?: Environment
  /** Local peer name (`-L`), used to check peers sections. */
  readonly localPeer?: string
  /** How loadConfig resolves server host names (default: the system resolver). */
  readonly lookup?: Lookup
  /** How `acl … -f FILE` files are read (default: from disk). */
  readonly readFile?: FileReader
}

export interface ParseResult {
  readonly config: Config
  readonly diagnostics: Diagnostic[]
}

type Section =
  | { readonly kind: 'global' }
  | { readonly kind: 'proxy', readonly proxy: Proxy }
  | { readonly kind: 'peers', readonly peers: PeersSection }
  | { readonly kind: 'userlist', readonly userlist: UserlistSection }
  | { readonly kind: 'http-errors', readonly section: HttpErrorsSection }
  | { readonly kind: 'vrrp_script', readonly script: VrrpScript }
  | { readonly kind: 'vrrp_instance', readonly instance: VrrpInstance }
  | { readonly kind: 'vrrp_sync_group', readonly group: VrrpSyncGroup }
  | { readonly kind: 'vrrp_track_file', readonly file: VrrpTrackFile }
  | { readonly kind: 'vrrp_track_process', readonly process: VrrpTrackProcess }
  | { readonly kind: 'unsupported' }

const PROXY_SECTIONS = new Set(['defaults', 'frontend', 'backend', 'listen'])
export const SECTION_KEYWORDS = ['global', 'defaults', 'frontend', 'backend', 'listen', 'peers', 'userlist',
  'http-errors',
  'vrrp_script', 'vrrp_instance', 'vrrp_sync_group', 'vrrp_track_file', 'vrrp_track_process']

export function emptyConfig (files: string[]): Config {
  return {
    files,
    global: { logs: [], statsSockets: [], tune: {} },
    proxies: [],
    peers: [],
    userlists: [],
    httpErrors: [],
    vrrpScripts: [],
    vrrpInstances: [],
    vrrpSyncGroups: [],
    vrrpTrackFiles: [],
    vrrpTrackProcesses: []
  }
}

/** One file's text, as read. */
export interface ConfigSource {
  readonly file: string
  readonly text: string
}

/** Parses `text`; never throws for bad input — problems are in `diagnostics`. */
export function parseConfig (text: string, file: string, options: ParseOptions = {}): ParseResult {
  return parseConfigSources([{ file, text }], options)
}

/**
 * Parses several files in order as one configuration, as HAProxy does with repeated `-f`:
 * each file starts outside any section, and `defaults` carry over from one file to the next.
 */
export function parseConfigSources (sources: readonly ConfigSource[], options: ParseOptions = {}): ParseResult {
  const env = options.env ?? process.env
  const diag = new Diagnostics()
  const config = emptyConfig(sources.map(s => s.file))
  const parser = new SectionParser(config, diag, env)
  for (const { file, text } of sources) {
    parser.startFile()
    const lines = text.split('\n')
    for (let i = 0; i < lines.length; i++) {
      const loc = { file, line: i + 1 }
      let words: string[]
      try {
        const t = tokenizeLine(lines[i] as string, env)
        for (const w of t.warnings) diag.warn(loc, w)
        words = t.words
      } catch (err) {
        if (!(err instanceof LineSyntaxError)) throw err
        diag.error(loc, err.message)
        continue
      }
      if (words.length === 0) continue
      parser.line({ words, loc })
    }
  }
  loadAclFiles(config, diag, options.readFile)
  validate(config, diag, options.localPeer)
  const fileOrder = new Map(sources.map((s, i) => [s.file, i]))
  // By file, then line; whole-configuration problems (line 0) last.
  const order = (d: Diagnostic): [number, number] =>
    d.line === 0 ? [sources.length, 0] : [fileOrder.get(d.file) ?? sources.length, d.line]
  const diagnostics = [...diag.list].sort((a, b) => {
    const [fa, la] = order(a)
    const [fb, lb] = order(b)
    return fa - fb || la - lb
  })
  return { config, diagnostics }
}

/**
 * Reads and parses the configuration: each path a file, or a directory whose `*.cfg` files are
 * read in lexical order (as HAProxy's `-f DIR`). Throws ConfigError when any error was found.
 */
export async function loadConfig (paths: string | readonly string[], options: ParseOptions = {}): Promise<ParseResult> {
  const sources: ConfigSource[] = []
  for (const file of await configFiles(typeof paths === 'string' ? [paths] : paths)) {
    try {
      sources.push({ file, text: await readFile(file, 'utf8') })
    } catch (err) {
      throw new ConfigReadError(file, err)
    }
  }
  if (sources.length === 0) {
    throw new ConfigError([{ severity: 'error', file: [...paths].join(' '), line: 0,
      message: 'no configuration file to load (a directory is read for its *.cfg files)' }])
  }
  const parsed = parseConfigSources(sources, options)
  if (parsed.diagnostics.some(d => d.severity === 'error')) throw new ConfigError(parsed.diagnostics)
  const result = { ...parsed, diagnostics: [...parsed.diagnostics, ...await resolveHostNames(parsed.config,
    options.lookup), ...await loadErrorReplies(parsed.config), ...await loadTlsFiles(parsed.config)] }
  if (result.diagnostics.some(d => d.severity === 'error')) throw new ConfigError(result.diagnostics)
  return result
}

class SectionParser {
  private section: Section | undefined
  private braceReported = false
  private currentDefaults: Proxy | undefined
  private readonly namedDefaults = new Map<string, Proxy>()
  private readonly config: Config
  private readonly diag: Diagnostics

  private readonly env: Environment

  constructor (config: Config, diag: Diagnostics, env: Environment) {
    this.config = config
    this.diag = diag
    this.env = env
  }

  /** A new file starts outside any section; the current `defaults` stays in effect. */
  startFile (): void {
    this.section = undefined
    this.braceReported = false
  }

  /**
   * keepalived's braces pasted into a tslb file: reported once per block; a section header is
   * still opened so its keywords are checked; a lone '}' after a reported block is not repeated.
   */
  private braces (line: Line): Line {
    const words = withoutBraces(line.words)
    const keyword = words[0] ?? ''
    const unsupported = keyword in UNSUPPORTED_SECTIONS
    const opensSection = SECTION_KEYWORDS.includes(keyword) || unsupported
    // A refused section (global_defs {) has its own error, and what is inside it is skipped.
    const inRefused = this.section?.kind === 'unsupported' && !opensSection
    if (!unsupported && !inRefused && (words.length > 0 || !this.braceReported)) this.diag.error(line.loc,
      braceMessage(line.words, opensSection))
    this.braceReported = true
    return { loc: line.loc, words: opensSection ? words : [] }
  }

  line (line: Line): void {
    if (isBraceLine(line.words)) {
      line = this.braces(line)
      if (line.words.length === 0) return
    }
    const [keyword, ...args] = line.words as [string, ...string[]]
    try {
      if (SECTION_KEYWORDS.includes(keyword) || keyword in UNSUPPORTED_SECTIONS) {
        // A refused header still opens a section, so its body is not reported line by line.
        this.section = { kind: 'unsupported' }
        this.section = this.open(keyword, args, line)
        return
      }
      if (keyword.startsWith('.')) throw new ValueError(
        `conditional blocks and directives ('${keyword}') are not supported yet`)
      if (this.section === undefined) {
        const hint = outsideSectionHint(keyword, SECTION_KEYWORDS, line.loc.file !== this.config.files[0])
        throw new ValueError(`'${keyword}' is outside any section${hint}`)
      }
      this.keyword(this.section, keyword, args, line)
    } catch (err) {
      if (!(err instanceof ValueError)) throw err
      this.diag.error(line.loc, err.message)
    }
  }

  private context (line: Line, section: string): KeywordContext {
    return {
      loc: line.loc,
      section,
      warn: (m: string) => { this.diag.warn(line.loc, m) },
      expandAddress: (text: string) => {
        try {
          return expandEnvironment(text, this.env)
        } catch (err) {
          if (err instanceof LineSyntaxError) throw new ValueError(err.message)
          throw err
        }
      }
    }
  }

  private open (keyword: string, args: readonly string[], line: Line): Section {
    const unsupported = UNSUPPORTED_SECTIONS[keyword]
    if (unsupported !== undefined) {
      this.diag.error(line.loc, `'${keyword}' sections are not supported: ${unsupported}`)
      return { kind: 'unsupported' }
    }
    const [name, ...rest] = args
    if (keyword === 'global') {
      if (args.length > 0) throw new ValueError(`'global' takes no argument, got '${args.join(' ')}'`)
      return { kind: 'global' }
    }
    if (PROXY_SECTIONS.has(keyword)) return this.openProxy(keyword as ProxyKind, name, rest, line)
    checkName(`'${keyword}'`, name)
    if (rest.length > 0) throw new ValueError(`'${keyword} ${name}': unexpected '${rest.join(' ')}'`)
    const loc = line.loc
    switch (keyword) {
      case 'peers': {
        if (this.config.peers.some(p => p.name === name)) throw new ValueError(
          `peers section '${name}' is already defined`)
        const peers: PeersSection = { name, loc, peers: [], tables: [], disabled: false }
        this.config.peers.push(peers)
        return { kind: 'peers', peers }
      }
      case 'http-errors': {
        if (this.config.httpErrors.some(h => h.name === name)) throw new ValueError(
          `http-errors section '${name}' is already defined`)
        const section: HttpErrorsSection = { name, loc, replies: {} }
        this.config.httpErrors.push(section)
        return { kind: 'http-errors', section }
      }
      case 'userlist': {
        if (this.config.userlists.some(u => u.name === name)) throw new ValueError(
          `userlist '${name}' is already defined`)
        const userlist: UserlistSection = { name, loc, groups: [], users: [] }
        this.config.userlists.push(userlist)
        return { kind: 'userlist', userlist }
      }
      case 'vrrp_script': {
        if (this.config.vrrpScripts.some(s => s.name === name)) throw new ValueError(
          `vrrp_script '${name}' is already defined`)
        const script = newVrrpScript(name, loc)
        this.config.vrrpScripts.push(script)
        return { kind: 'vrrp_script', script }
      }
      case 'vrrp_sync_group': {
        if (this.config.vrrpSyncGroups.some(s => s.name === name)) throw new ValueError(
          `vrrp_sync_group '${name}' is already defined`)
        const group = newVrrpSyncGroup(name, loc)
        this.config.vrrpSyncGroups.push(group)
        return { kind: 'vrrp_sync_group', group }
      }
      case 'vrrp_track_file': {
        if (this.config.vrrpTrackFiles.some(s => s.name === name)) throw new ValueError(
          `vrrp_track_file '${name}' is already defined`)
        const file = newVrrpTrackFile(name, loc)
        this.config.vrrpTrackFiles.push(file)
        return { kind: 'vrrp_track_file', file }
      }
      case 'vrrp_track_process': {
        if (this.config.vrrpTrackProcesses.some(s => s.name === name)) throw new ValueError(
          `vrrp_track_process '${name}' is already defined`)
        const process = newVrrpTrackProcess(name, loc)
        this.config.vrrpTrackProcesses.push(process)
        return { kind: 'vrrp_track_process', process }
      }
      default: {
        if (this.config.vrrpInstances.some(s => s.name === name)) throw new ValueError(
          `vrrp_instance '${name}' is already defined`)
        const instance = newVrrpInstance(name, loc)
        this.config.vrrpInstances.push(instance)
        return { kind: 'vrrp_instance', instance }
      }
    }
  }

  private openProxy (kind: ProxyKind, name: string | undefined, rest: readonly string[], line: Line): Section {
    if (kind === 'defaults') {
      // Each `defaults` section starts afresh, unless it names one to copy with `from`.
      let from: Proxy | undefined
      if (rest[0] === 'from') from = this.findDefaults(rest[1])
      else if (rest.length > 0) throw new ValueError(`'defaults': unexpected '${rest.join(' ')}'`)
      if (name !== undefined) checkName("'defaults'", name)
      const d = newProxy('defaults', name ?? '', line.loc, from)
      inheritDefaultsRules(d, from)
      if (name !== undefined) this.namedDefaults.set(name, d)
      this.currentDefaults = d
      return { kind: 'proxy', proxy: d }
    }
    checkName(`'${kind}'`, name)
    let defaults = this.currentDefaults
    let extra = [...rest]
    const fromAt = extra.indexOf('from')
    if (fromAt >= 0) {
      defaults = this.findDefaults(extra[fromAt + 1])
      extra.splice(fromAt, 2)
    }
    const clash = this.config.proxies.find(p => p.name === name && (p.kind === kind || p.kind === 'listen' || kind ===
      'listen'))
    if (clash !== undefined) {
      throw new ValueError(
        (`${kind} '${name}' has the same name as ${clash.kind} '${name}' declared at ` +
          `${clash.loc.file}:${clash.loc.line}`))
    }
    const proxy = newProxy(kind, name, line.loc, defaults)
    inheritDefaultsRules(proxy, defaults)
    this.config.proxies.push(proxy)
    if (extra.length === 0 && kind !== 'backend' && /^(\*|[0-9.]*|\[[0-9a-fA-F:.]+\]):\d+(-\d+)?$/.test(name)) {
      // The 1.x architecture guide writes `listen 192.168.1.1:80`: an address where the name goes.
      this.diag.warn(line.loc,
        (`'${kind} ${name}' has an address where the name goes: it is bound to ${name}; write '${kind} NAME' and ` +
          `'bind ${name}'`))
      extra = [name]
    }
    if (extra.length > 0) {
      if (kind !== 'listen' && kind !== 'frontend') throw new ValueError(
        `'${kind} ${name}': unexpected '${extra.join(' ')}'`)
      if (extra[0] !== name) this.diag.warn(line.loc,
        `'${kind} ${name} ${extra.join(' ')}' is the 1.x form: write 'bind ${extra.join(' ')}' inside the section`)
      proxy.binds.push({ addresses: extra.join(',').split(',').filter(a => a !== '').map(a => parseAddress(a, 'bind',
        true)), options: {}, loc: line.loc })
    }
    return { kind: 'proxy', proxy }
  }

  private findDefaults (name: string | undefined): Proxy {
    const d = name === undefined ? undefined : this.namedDefaults.get(name)
    if (d === undefined) throw new ValueError(`'from': no defaults section named '${name ?? ''}'`)
    return d
  }

  private keyword (section: Section, keyword: string, args: readonly string[], line: Line): void {
    switch (section.kind) {
      case 'unsupported':
        return
      case 'global': {
        const ctx = this.context(line, "'global' section")
        if (!applyGlobal(this.config.global, keyword, args, ctx)) {
          throw new ValueError(
            `unknown keyword '${keyword}' in 'global' section${unknownKeywordHint(keyword, args, 'global')}`)
        }
        const why = GLOBAL_NOT_ENFORCED[keyword]
        if (why !== undefined) ctx.warn(`${notEnforcedMessage(keyword)} (${why})`)
        return
      }
      case 'proxy': {
        const p = section.proxy
        const label = p.kind === 'defaults' ? "'defaults' section" : `${p.kind} '${p.name}'`
        const ctx = this.context(line, label)
        if (keyword === 'no') {
          applyNo(p, args, ctx)
          return
        }
        const kw = PROXY_KEYWORDS[keyword]
        if (kw === undefined) {
          const removed = REMOVED_KEYWORDS[keyword]
          if (removed !== undefined) throw new ValueError(
            `'${keyword}' was removed in HAProxy 2.x and is not supported: ${removed}`)
          throw new ValueError(
            `unknown keyword '${keyword}' in ${p.kind} section${unknownKeywordHint(keyword, args, 'proxy')}`)
        }
        if (!allowedIn(kw, p)) throw new ValueError(`'${keyword}' is not allowed in a '${p.kind}' section`)
        if (p.kind === 'defaults' && p.name === '' && DEFAULTS_RULE_KEYWORDS.has(keyword)) throw new ValueError(
          `'${keyword}' is not allowed in an anonymous 'defaults' section: name it ('defaults NAME') and use it ` +
          "with 'from NAME' (or as the last defaults before the proxies)")
        kw.parse(p, args, ctx)
        if (PROXY_KEYWORD_STATUS[keyword] !== 'enforced') ctx.warn(notEnforcedMessage(keyword))
        return
      }
      case 'peers':
        if (!applyPeersKeyword(section.peers, keyword, args, this.context(line, `peers '${section.peers.name}'`))) {
          throw new ValueError(
            `unknown keyword '${keyword}' in 'peers' section${unknownKeywordHint(keyword, args, 'peers')}`)
        }
        return
      case 'http-errors':
        if (!applyHttpErrorsKeyword(section.section, keyword, args, line.loc)) {
          throw new ValueError(`unknown keyword '${keyword}' in 'http-errors' section (only 'errorfile')`)
        }
        return
      case 'userlist':
        if (!applyUserlistKeyword(section.userlist, keyword, args)) {
          throw new ValueError(
            `unknown keyword '${keyword}' in 'userlist' section${unknownKeywordHint(keyword, args, 'userlist')}`)
        }
        return
      case 'vrrp_script':
        if (!applyVrrpScriptKeyword(section.script, keyword, args)) {
          throw new ValueError(
            `unknown keyword '${keyword}' in 'vrrp_script' section${unknownKeywordHint(keyword, args, 'vrrp_script')}`)
        }
        return
      case 'vrrp_instance':
        if (!applyVrrpInstanceKeyword(section.instance, keyword, args, this.context(line,
          `vrrp_instance '${section.instance.name}'`))) {
          throw new ValueError(
            (`unknown keyword '${keyword}' in 'vrrp_instance' ` +
              `section${unknownKeywordHint(keyword, args, 'vrrp_instance')}`))
        }
        return
      case 'vrrp_sync_group':
        if (!applyVrrpSyncGroupKeyword(section.group, keyword, args)) {
          throw new ValueError(
            (`unknown keyword '${keyword}' in 'vrrp_sync_group' ` +
              `section${unknownKeywordHint(keyword, args, 'vrrp_sync_group')}`))
        }
        return
      case 'vrrp_track_file':
        if (!applyVrrpTrackFileKeyword(section.file, keyword, args)) {
          throw new ValueError(
            (`unknown keyword '${keyword}' in 'vrrp_track_file' ` +
              `section${unknownKeywordHint(keyword, args, 'vrrp_track_file')}`))
        }
        return
      case 'vrrp_track_process':
        if (!applyVrrpTrackProcessKeyword(section.process, keyword, args)) {
          throw new ValueError(
            (`unknown keyword '${keyword}' in 'vrrp_track_process' ` +
              `section${unknownKeywordHint(keyword, args, 'vrrp_track_process')}`))
        }
    }
  }
}
