/**
 * `tslb convert keepalived.conf`: keepalived's brace syntax → tslb's `vrrp_script` and
 * `vrrp_instance` sections (same keyword names, one keyword per line, HAProxy quoting).
 * Whatever has no tslb equivalent is kept out and reported as a `# warning:` comment at the
 * place it would have gone, so the output still passes `tslb check`.
 *
 * Pure: text in, text out.
 */
import { ConvertError } from './errors.ts'

interface Word {
  readonly text: string
  /** Written in quotes in the source. */
  readonly quoted: boolean
}

/** One keepalived statement: the words of a line, and the block that followed it, if any. */
export interface Statement {
  readonly words: readonly Word[]
  readonly line: number
  readonly block: Statement[] | undefined
}

type Token = { readonly kind: 'word', readonly word: Word, readonly line: number } | { readonly kind: '{' | '}' | 'eol',
  readonly line: number }

/** keepalived's lexing: `#` and `!` start comments (outside quotes), braces are tokens. */
function tokenize (text: string): Token[] {
  const tokens: Token[] = []
  const lines = text.split(/\r?\n/)
  lines.forEach((raw, idx) => {
    const line = idx + 1
    let i = 0
    while (i < raw.length) {
      const c = raw[i] as string
      if (c === ' ' || c === '\t' || c === '\u00a0') { i++; continue }
      if (c === '#' || c === '!') break
      if (c === '{' || c === '}') { tokens.push({ kind: c, line }); i++; continue }
      if (c === '"' || c === "'") {
        const end = raw.indexOf(c, i + 1)
        if (end < 0) throw new ConvertError(`line ${line}: unterminated quoted string`)
        tokens.push({ kind: 'word', word: { text: raw.slice(i + 1, end), quoted: true }, line })
        i = end + 1
        continue
      }
      let j = i
      while (j < raw.length && !/[\s{}]/.test(raw[j] as string) && raw[j] !== '\u00a0') j++
      tokens.push({ kind: 'word', word: { text: raw.slice(i, j), quoted: false }, line })
      i = j
    }
    tokens.push({ kind: 'eol', line })
  })
  return tokens
}

/** Parses keepalived.conf text into nested statements. Throws ConvertError on unbalanced braces. */
export function parseKeepalived (text: string): Statement[] {
  const tokens = tokenize(text)
  let pos = 0
  const block = (depth: number, openLine: number): Statement[] => {
    const out: Statement[] = []
    let words: Word[] = []
    let line = 0
    const flush = (b?: Statement[]): void => {
      if (words.length > 0 || b !== undefined) out.push({ words, line: line || openLine, block: b })
      words = []
      line = 0
    }
    while (pos < tokens.length) {
      const t = tokens[pos++] as Token
      if (t.kind === 'word') {
        if (words.length === 0) line = t.line
        words.push(t.word)
      } else if (t.kind === 'eol') {
        flush()
      } else if (t.kind === '{') {
        if (line === 0) line = t.line
        // keepalived takes `vrrp_instance NAME` with the `{` alone on the next line.
        const previous = out[out.length - 1]
        if (words.length === 0 && previous !== undefined && previous.block === undefined && previous.words.length > 0) {
          out.pop()
          words = [...previous.words]
          line = previous.line
        }
        const stmtWords = words
        const stmtLine = line
        words = []
        line = 0
        const inner = block(depth + 1, t.line)
        out.push({ words: stmtWords, line: stmtLine, block: inner })
      } else {
        if (depth === 0) throw new ConvertError(`line ${t.line}: '}' without a matching '{'`)
        flush()
        return out
      }
    }
    if (depth > 0) throw new ConvertError(`line ${openLine}: '{' is never closed`)
    flush()
    return out
  }
  return block(0, 0)
}

/** A word as tslb's (HAProxy's) tokenizer reads it back. */
export function quoteWord (s: string): string {
  if (s !== '' && /^[A-Za-z0-9_.:/@%+=,^~-]+$/.test(s)) return s
  if (!/["\\$]/.test(s)) return `"${s}"`
  if (!s.includes("'")) return `'${s}'`
  return `"${s.replace(/[\\"$]/g, m => `\\${m}`)}"`
}

/** A keepalived command (script, notify): one quoted tslb word holding the command line. */
function commandWord (words: readonly Word[]): string {
  const text = words.map(w => (w.quoted && words.length > 1 && /\s/.test(w.text) ? `"${w.text}"` : w.text)).join(' ')
  return quoteWord(text)
}

/** `notify* COMMAND [USER [GROUP]]`: the command as one word, the user and group carried over. */
function emitNotify (w: Writer, line: number, kw: string, args: readonly Word[]): void {
  const [command, ...runAs] = args
  if (command === undefined) return
  w.emit(1, [`${kw} ${commandWord([command])}`, ...runAs.slice(0, 2).map(a => quoteWord(a.text))].join(' '))
  if (runAs.length > 2) w.warn(1, line, `${kw}: '${runAs.slice(2).map(a => a.text).join(' ')}' after the group ignored`)
}

const GLOBAL_INSTANCE_DEFAULTS: Readonly<Record<string, string>> = {
  vrrp_version: 'version',
  vrrp_garp_master_delay: 'garp_master_delay',
  vrrp_garp_master_repeat: 'garp_master_repeat',
  vrrp_garp_master_refresh: 'garp_master_refresh',
  vrrp_garp_master_refresh_repeat: 'garp_master_refresh_repeat'
}

const SIMPLE_INSTANCE_KEYWORDS = new Set([
  'state', 'interface', 'virtual_router_id', 'priority', 'nopreempt', 'preempt', 'preempt_delay', 'version',
  'unicast_src_ip', 'garp_master_delay', 'garp_master_repeat', 'garp_master_refresh', 'garp_master_refresh_repeat',
  'dont_track_primary', 'native_ipv6', 'check_unicast_src'
])

const NO_EQUIVALENT_INSTANCE: Readonly<Record<string, string>> = {
  mcast_src_ip: 'tslb sends multicast adverts from the interface\'s primary address',
  use_vmac: 'no VMAC (macvlan) support: tslb uses the interface MAC',
  vmac_xmit_base: 'no VMAC support',
  smtp_alert: 'no e-mail alerts: use a notify script',
  virtual_ipaddress_excluded: 'addresses that are not advertised are not supported',
  virtual_routes: 'virtual routes are not supported',
  virtual_rules: 'virtual rules are not supported',
  track_bfd: 'BFD tracking is not supported',
  strict_mode: 'strict mode is not supported',
  garp_lower_prio_delay: 'the lower-priority GARP settings follow garp_master_*',
  garp_lower_prio_repeat: 'the lower-priority GARP settings follow garp_master_*',
  lower_prio_no_advert: 'tslb answers a lower-priority advert at once (keepalived\'s default)',
  higher_prio_send_advert: 'not supported (keepalived\'s default is off)',
  unicast_fault_no_peer: 'not supported',
  skip_check_adv_addr: 'not supported: adverts must carry every VIP',
  accept: 'tslb never installs filter rules (keepalived\'s non-strict default)',
  no_accept: 'tslb never installs filter rules for the VIPs',
  lvs_sync_daemon_interface: 'no LVS',
  debug: 'use TSLB_LOG_LEVEL',
  notify_master_rx_lower_pri: 'not supported',
  notify_deleted: 'not supported',
  kernel_rx_buf_size: 'not supported',
  unicast_ttl: 'adverts always use TTL 255',
  down_timer_adverts: 'not configurable: 3 adverts as keepalived\'s default',
  vrrp_skip_check_adv_addr: 'not supported'
}

class Writer {
  readonly lines: string[] = []
  warnings = 0
  emit (indent: number, text: string): void { this.lines.push(`${'    '.repeat(indent)}${text}`) }
  warn (indent: number, line: number, text: string): void {
    this.warnings++
    this.emit(indent, `# warning: keepalived.conf line ${line}: ${text}`)
  }
}

function wordsText (s: Statement): string {
  return s.words.map(w => (w.quoted ? `"${w.text}"` : w.text)).join(' ')
}

function convertScript (s: Statement, w: Writer): void {
  const name = s.words[1]?.text
  if (name === undefined) { w.warn(0, s.line, 'vrrp_script without a name: skipped'); return }
  w.emit(0, `vrrp_script ${quoteWord(name)}`)
  for (const st of s.block ?? []) {
    const kw = st.words[0]?.text ?? ''
    const args = st.words.slice(1)
    switch (kw) {
      case 'script':
        if (args.length === 0) { w.warn(1, st.line, "'script' without a command: skipped"); break }
        w.emit(1, `script ${commandWord(args)}`)
        if (/\b(haproxy|pidof|killall)\b/.test(args.map(a => a.text).join(' '))) w.emit(1,
          "# hint: on a tslb node the proxy is tslb's own worker; 'script builtin proxy' checks that it serves")
        break
      case 'interval': case 'timeout': case 'rise': case 'fall':
        if (args.length !== 1) { w.warn(1, st.line, `'${kw}' expects one value: '${wordsText(st)}' skipped`); break }
        w.emit(1, `${kw} ${quoteWord((args[0] as Word).text)}`)
        break
      case 'weight': {
        const value = args[0]?.text
        if (value === undefined) { w.warn(1, st.line, "'weight' without a value: skipped"); break }
        w.emit(1, `weight ${quoteWord(value)}`)
        if (args[1]?.text === 'reverse') w.warn(1, st.line,
          "'weight ... reverse' is not supported: the weight is applied as written")
        break
      }
      case 'user':
        if (args[0] === undefined) break
        w.emit(1, `user ${args.slice(0, 2).map(a => quoteWord(a.text)).join(' ')}`)
        break
      case 'init_fail':
        w.warn(1, st.line, "'init_fail' has no equivalent: the first result decides the initial state")
        break
      default:
        w.warn(1, st.line, `'${wordsText(st)}' has no tslb equivalent: ignored`)
    }
  }
  w.emit(0, '')
}

function convertVip (st: Statement, indent: number, w: Writer): void {
  const [addr, ...rest] = st.words.map(x => x.text)
  if (addr === undefined) return
  const out = [quoteWord(addr)]
  const dropped: string[] = []
  for (let i = 0; i < rest.length; i++) {
    const k = rest[i] as string
    if (['dev', 'label', 'brd', 'broadcast', 'scope'].includes(k) && rest[i + 1] !== undefined) {
      out.push(k === 'broadcast' ? 'brd' : k, quoteWord(rest[++i] as string))
    } else if (['peer', 'preferred_lft', 'home', 'nodad', 'noprefixroute', 'autojoin', 'no_track', 'track_group',
      'mngtmpaddr'].includes(k)) {
      const takesValue = ['peer', 'preferred_lft', 'track_group'].includes(k)
      dropped.push(takesValue ? `${k} ${rest[i + 1] ?? ''}` : k)
      if (takesValue) i++
    } else {
      dropped.push(k)
    }
  }
  if (dropped.length > 0) w.warn(indent, st.line,
    `virtual_ipaddress ${addr}: '${dropped.join(' ')}' not supported: dropped`)
  w.emit(indent, `virtual_ipaddress ${out.join(' ')}`)
}

/** `NAME [weight W [reverse|noreverse]]` of an instance's track_file / track_process block. */
function convertTrackRef (kw: string, t: Statement, w: Writer): void {
  const [n, k, v, dir] = t.words.map(x => x.text)
  if (n === undefined) return
  if (k === undefined) { w.emit(1, `${kw} ${quoteWord(n)}`); return }
  if (k !== 'weight' || v === undefined || (dir !== undefined && dir !== 'reverse' && dir !== 'noreverse') ||
    t.words.length > 4) {
    w.warn(1, t.line, `${kw} ${n}: '${t.words.slice(1).map(x => x.text).join(' ')}' not understood: dropped`)
    w.emit(1, `${kw} ${quoteWord(n)}`)
    return
  }
  w.emit(1, `${kw} ${quoteWord(n)} weight ${quoteWord(v)}${dir === undefined ? '' : ` ${dir}`}`)
}

/** Which address family a virtual_ipaddress line is. */
function vipFamily (st: Statement): 4 | 6 {
  return (st.words[0]?.text ?? '').includes(':') ? 6 : 4
}

function vipLines (body: readonly Statement[]): Statement[] {
  return body.filter(st => st.words[0]?.text === 'virtual_ipaddress').flatMap(st => st.block ?? (st.words.length > 1 ? [
    { words: st.words.slice(1), line: st.line, block: undefined }] : []))
}

/**
 * keepalived 2.2 keeps one address family per instance (the first VIP's, or the unicast peers')
 * and ignores the other family's VIPs ("address family must match VRRP instance"). A multicast
 * instance with both is split here: NAME keeps its first family, NAME_v6 / NAME_v4 (VRRPv3,
 * same VRID: the families are separate VRRP routers) takes the others, and the two are put in a
 * vrrp_sync_group so that they still move together. A unicast instance cannot be split (its
 * peers have one family): the other family's VIPs are dropped with a warning, as keepalived does.
 */
export function splitMixedFamilies (s: Statement): { readonly parts: Statement[], readonly unicast: boolean } {
  const body = s.block ?? []
  const vips = vipLines(body)
  const first = vips[0]
  if (first === undefined || vips.every(v => vipFamily(v) === vipFamily(first))) return { parts: [s], unicast: false }
  const fam = vipFamily(first)
  const unicast = body.some(st => st.words[0]?.text === 'unicast_peer')
  const rest = body.filter(st => st.words[0]?.text !== 'virtual_ipaddress')
  const vipStmt = (list: Statement[]): Statement => ({ words: [{ text: 'virtual_ipaddress', quoted: false }],
    line: first.line, block: list })
  const main: Statement = { ...s, block: [...rest, vipStmt(vips.filter(v => vipFamily(v) === fam))] }
  if (unicast) return { parts: [main], unicast: true }
  const other = fam === 4 ? 6 : 4
  const name = `${s.words[1]?.text ?? ''}_v${other}`
  const otherBody = rest.filter(st => !(other === 6 && (st.words[0]?.text === 'version' || st.words[0]?.text ===
    'authentication')))
  if (other === 6) otherBody.push({ words: [{ text: 'version', quoted: false }, { text: '3', quoted: false }],
    line: s.line, block: undefined })
  const split: Statement = { words: [s.words[0] as Word, { text: name, quoted: false }], line: s.line,
    block: [...otherBody, vipStmt(vips.filter(v => vipFamily(v) === other))] }
  return { parts: [main, split], unicast: false }
}

function convertInstance (s: Statement, defaults: ReadonlyMap<string, string>, checkUnicastSrc: boolean, w: Writer,
  groupTracks: readonly Statement[] = []): void {
  const name = s.words[1]?.text
  if (name === undefined) { w.warn(0, s.line, 'vrrp_instance without a name: skipped'); return }
  w.emit(0, `vrrp_instance ${quoteWord(name)}`)
  const body = [...(s.block ?? []), ...groupTracks]
  const has = (kw: string): boolean => body.some(st => st.words[0]?.text === kw)
  let version = 2
  const versionSt = body.find(st => st.words[0]?.text === 'version')
  const vtext = versionSt?.words[1]?.text ?? defaults.get('version')
  if (vtext === '3') version = 3
  for (const [kw, value] of defaults) {
    if (!has(kw)) w.emit(1, `${kw} ${quoteWord(value)}   # from global_defs`)
  }
  let vipCount = 0
  for (const st of body) {
    const kw = st.words[0]?.text ?? ''
    const args = st.words.slice(1)
    if (SIMPLE_INSTANCE_KEYWORDS.has(kw) && st.block === undefined) {
      w.emit(1, [kw, ...args.map(a => quoteWord(a.text))].join(' '))
      continue
    }
    switch (kw) {
      case 'advert_int': {
        const v = args[0]?.text
        if (v === undefined) { w.warn(1, st.line, "'advert_int' without a value: skipped"); break }
        const n = Number(v)
        if (version === 2 && Number.isFinite(n) && !Number.isInteger(n)) {
          const r = Math.max(1, Math.round(n))
          w.warn(1, st.line, `VRRPv2 advert_int ${v} is rounded to ${r} s (keepalived does the same)`)
          w.emit(1, `advert_int ${r}`)
        } else {
          w.emit(1, `advert_int ${quoteWord(v)}`)
        }
        break
      }
      case 'authentication': {
        const type = st.block?.find(x => x.words[0]?.text === 'auth_type')?.words[1]?.text
        const pass = st.block?.find(x => x.words[0]?.text === 'auth_pass')?.words[1]?.text
        if (version === 3) w.warn(1, st.line,
          'authentication is ignored in VRRPv3 (keepalived ignores it too): dropped')
        else if (type === 'AH') w.warn(1, st.line,
          'auth_type AH is not supported (deprecated in keepalived): dropped; use PASS or none on every node')
        else if (type !== 'PASS' || pass === undefined) w.warn(1, st.line,
          'authentication block without auth_type PASS and auth_pass: dropped')
        else w.emit(1, `authentication PASS ${quoteWord(pass)}`)
        break
      }
      case 'virtual_ipaddress':
        for (const v of st.block ?? []) { convertVip(v, 1, w); vipCount++ }
        if (st.block === undefined && args.length > 0) { convertVip({ words: args, line: st.line, block: undefined }, 1,
          w); vipCount++ }
        break
      case 'track_file': case 'track_process':
        for (const t of st.block ?? []) convertTrackRef(kw, t, w)
        break
      case 'track_script': case 'track_interface':
        for (const t of st.block ?? []) {
          const [n, k, v] = t.words.map(x => x.text)
          if (n === undefined) continue
          if (k === 'weight' && v !== undefined) w.emit(1, `${kw} ${quoteWord(n)} weight ${quoteWord(v)}`)
          else {
            if (k !== undefined) w.warn(1, t.line,
              `${kw} ${n}: '${t.words.slice(1).map(x => x.text).join(' ')}' not supported: dropped`)
            w.emit(1, `${kw} ${quoteWord(n)}`)
          }
        }
        break
      case 'unicast_peer': {
        const peers: string[] = []
        for (const p of st.block ?? []) {
          const [ip, ...more] = p.words.map(x => x.text)
          if (ip === undefined) continue
          const ttl: string[] = []
          for (let i = 0; i < more.length; i += 2) {
            const [k, v] = [more[i], more[i + 1]]
            if ((k === 'min_ttl' || k === 'max_ttl') && v !== undefined) ttl.push(`${k} ${quoteWord(v)}`)
            else w.warn(1, p.line, `unicast_peer ${ip}: '${more.slice(i).join(' ')}' not understood: dropped`)
            if (k !== 'min_ttl' && k !== 'max_ttl') break
          }
          if (ttl.length > 0) w.emit(1, `unicast_peer ${quoteWord(ip)} ${ttl.join(' ')}`)
          else peers.push(quoteWord(ip))
        }
        if (peers.length > 0) w.emit(1, `unicast_peer ${peers.join(' ')}`)
        if (checkUnicastSrc && !has('check_unicast_src') && (st.block ?? []).length > 0) w.emit(1,
          'check_unicast_src   # from global_defs vrrp_check_unicast_src')
        break
      }
      case 'notify_master': case 'notify_backup': case 'notify_fault': case 'notify_stop': case 'notify': {
        if (args.length === 0) { w.warn(1, st.line, `'${kw}' without a command: skipped`); break }
        // keepalived: a quoted string is the whole command, then an optional user; unquoted, the first word is.
        emitNotify(w, st.line, kw, args)
        break
      }
      default: {
        const why = NO_EQUIVALENT_INSTANCE[kw]
        w.warn(1, st.line, `'${kw}' has no tslb equivalent${why === undefined ? '' : ` (${why})`}: ignored`)
      }
    }
  }
  if (vipCount === 0) w.warn(1, s.line,
    'no virtual_ipaddress: tslb needs at least one (add it before using this section)')
  w.emit(0, '')
}

const GROUP_TRACKS = new Set(['track_script', 'track_interface', 'track_file', 'track_process'])

/** A vrrp_sync_group; its track_* blocks went to each member (convertInstance), `extra`: split-off instances. */
function convertSyncGroup (s: Statement, extra: ReadonlyMap<string, string>, w: Writer): void {
  const name = s.words[1]?.text
  if (name === undefined) { w.warn(0, s.line, 'vrrp_sync_group without a name: skipped'); return }
  w.emit(0, `vrrp_sync_group ${quoteWord(name)}`)
  for (const st of s.block ?? []) {
    const kw = st.words[0]?.text ?? ''
    const args = st.words.slice(1)
    switch (kw) {
      case 'group': {
        const members = (st.block ?? []).map(x => x.words[0]?.text).filter(x => x !== undefined)
        const all = members.flatMap(m => { const e = extra.get(m); return e === undefined ? [m] : [m, e] })
        if (all.length > 0) w.emit(1, `group ${all.map(quoteWord).join(' ')}`)
        break
      }
      case 'notify_master': case 'notify_backup': case 'notify_fault': case 'notify_stop': case 'notify':
        if (args.length === 0) { w.warn(1, st.line, `'${kw}' without a command: skipped`); break }
        emitNotify(w, st.line, kw, args)
        break
      case 'sync_group_tracking_weight': w.emit(1, kw); break
      case 'global_tracking':
        w.warn(1, st.line,
          ("'global_tracking' (deprecated in keepalived) becomes 'sync_group_tracking_weight': members keep their " +
            "tracking weights"))
        w.emit(1, 'sync_group_tracking_weight')
        break
      default:
        if (GROUP_TRACKS.has(kw)) w.emit(1, `# ${kw} (line ${st.line}) moved to each member vrrp_instance`)
        else w.warn(1, st.line, `'${kw}' has no tslb equivalent: ignored`)
    }
  }
  w.emit(0, '')
}

/** `track_file NAME { … }` (or the deprecated `vrrp_track_file`) → `vrrp_track_file NAME`. */
function convertTrackFile (s: Statement, w: Writer): void {
  const name = s.words[1]?.text
  if (name === undefined) { w.warn(0, s.line, `${s.words[0]?.text ?? ''} without a name: skipped`); return }
  w.emit(0, `vrrp_track_file ${quoteWord(name)}`)
  for (const st of s.block ?? []) {
    const [kw, ...args] = st.words.map(x => x.text)
    if (kw === 'file' || kw === 'weight' || kw === 'init_file') w.emit(1, [kw, ...args.map(quoteWord)].join(' '))
    else w.warn(1, st.line, `'${wordsText(st)}' has no tslb equivalent: ignored`)
  }
  w.emit(0, '')
}

const TRACK_PROCESS_KEYWORDS = new Set(['process', 'param_match', 'weight', 'quorum', 'quorum_max', 'fork_delay',
  'terminate_delay', 'delay', 'full_command'])

function convertTrackProcess (s: Statement, w: Writer): void {
  const name = s.words[1]?.text
  if (name === undefined) { w.warn(0, s.line, 'vrrp_track_process without a name: skipped'); return }
  w.emit(0, `vrrp_track_process ${quoteWord(name)}`)
  for (const st of s.block ?? []) {
    const [kw, ...args] = st.words.map(x => x.text)
    if (kw !== undefined && TRACK_PROCESS_KEYWORDS.has(kw)) w.emit(1, [kw, ...args.map(quoteWord)].join(' '))
    else w.warn(1, st.line, `'${wordsText(st)}' has no tslb equivalent: ignored`)
  }
  w.emit(1, '# tslb reads /proc every second (interval): keepalived is told of process changes by the kernel')
  w.emit(0, '')
}

export interface ConvertResult {
  readonly text: string
  readonly warnings: number
  readonly instances: number
  readonly scripts: number
}

/** keepalived.conf text → tslb configuration text. `source` names the file in the header. */
export function convertKeepalived (text: string, source = 'keepalived.conf'): ConvertResult {
  const stmts = parseKeepalived(text)
  const w = new Writer()
  w.emit(0, `# VRRP sections converted by 'tslb convert' from ${source}`)
  w.emit(0, '# keyword names are keepalived\'s; see docs/configuration.md (vrrp_script, vrrp_instance)')
  w.emit(0, '')
  const defaults = new Map<string, string>()
  let checkUnicastSrc = false
  const globals: string[] = []
  let instances = 0
  let scripts = 0
  for (const s of stmts.filter(x => x.words[0]?.text === 'global_defs')) {
    const ignored: string[] = []
    for (const st of s.block ?? []) {
      const kw = st.words[0]?.text ?? ''
      const mapped = GLOBAL_INSTANCE_DEFAULTS[kw]
      const value = st.words[1]?.text
      if (mapped !== undefined && value !== undefined) defaults.set(mapped, value)
      else if (kw === 'vrrp_check_unicast_src') checkUnicastSrc = true
      else if (kw === 'script_user' && value !== undefined) globals.push(
        `script_user ${st.words.slice(1, 3).map(x => quoteWord(x.text)).join(' ')}`)
      else if (kw === 'enable_script_security') globals.push('enable_script_security')
      else if (kw === 'vrrp_strict') w.warn(0, st.line,
        'vrrp_strict is not supported: tslb behaves as keepalived without it')
      else if (kw !== '') ignored.push(kw)
    }
    w.emit(0,
      (`# global_defs (line ${s.line}) ignored${ignored.length > 0 ? `: ${ignored.join(', ')}` : ''} (no tslb ` +
        `equivalent)`))
    if (defaults.size > 0) w.emit(0,
      `# global_defs applied to every instance: ${[...defaults].map(([k, v]) => `${k} ${v}`).join(', ')}`)
    if (checkUnicastSrc) w.emit(0, '# global_defs vrrp_check_unicast_src: check_unicast_src on every unicast instance')
    w.emit(0, '')
  }
  if (globals.length > 0) {
    w.emit(0, 'global')
    for (const g of globals) w.emit(1, `${g}   # from global_defs`)
    w.emit(0, '')
  }
  // Sync groups first: their track_* blocks go to every member; split instances join their group.
  const groupTracks = new Map<string, Statement[]>()
  const groupOf = new Map<string, string>()
  for (const g of stmts.filter(x => x.words[0]?.text === 'vrrp_sync_group')) {
    const tracks = (g.block ?? []).filter(st => GROUP_TRACKS.has(st.words[0]?.text ?? ''))
    for (const m of (g.block ?? []).find(st => st.words[0]?.text === 'group')?.block ?? []) {
      const n = m.words[0]?.text
      if (n === undefined) continue
      groupTracks.set(n, tracks)
      groupOf.set(n, g.words[1]?.text ?? '')
    }
  }
  const splitOff = new Map<string, string>()
  for (const s of stmts.filter(x => x.words[0]?.text === 'vrrp_instance')) {
    const { parts } = splitMixedFamilies(s)
    const extra = parts[1]?.words[1]?.text
    if (extra !== undefined) splitOff.set(s.words[1]?.text ?? '', extra)
  }
  for (const s of stmts) {
    const kw = s.words[0]?.text ?? ''
    switch (kw) {
      case 'global_defs': break
      case 'vrrp_script': convertScript(s, w); scripts++; break
      case 'vrrp_instance': {
        const name = s.words[1]?.text ?? ''
        const { parts, unicast } = splitMixedFamilies(s)
        if (unicast) w.warn(0, s.line,
          (`vrrp_instance ${name} mixes IPv4 and IPv6 VIPs on unicast peers of one family: the other family's VIPs ` +
            `are dropped, as keepalived 2.2 ignores them ("address family must match VRRP instance")`))
        const extra = parts[1]?.words[1]?.text
        if (extra !== undefined) {
          w.warn(0, s.line,
            (`vrrp_instance ${name} mixes IPv4 and IPv6 VIPs: split into ${name} and ${extra} (VRRPv3), which ` +
              `${groupOf.has(name) ? `join vrrp_sync_group ${groupOf.get(name) ?? ''}` : (`move together in ` +
                `vrrp_sync_group ${name}_families`)}. keepalived 2.2 ignores the second family's VIPs: ` +
              'on a mixed cluster, convert every node'))
        }
        for (const part of parts) {
          convertInstance(part, defaults, checkUnicastSrc, w, groupTracks.get(name) ?? [])
          instances++
        }
        if (extra !== undefined && !groupOf.has(name)) {
          w.emit(0, `vrrp_sync_group ${quoteWord(`${name}_families`)}`)
          w.emit(1, `group ${quoteWord(name)} ${quoteWord(extra)}`)
          w.emit(0, '')
        }
        break
      }
      case 'vrrp_sync_group': convertSyncGroup(s, splitOff, w); break
      case 'track_file': case 'vrrp_track_file': convertTrackFile(s, w); break
      case 'vrrp_track_process': convertTrackProcess(s, w); break
      case 'virtual_server': case 'virtual_server_group':
        w.warn(0, s.line,
          `${wordsText(s)}: LVS virtual servers are not converted: use tslb frontends/backends (haproxy syntax)`)
        w.emit(0, '')
        break
      case 'include':
        w.warn(0, s.line, `'${wordsText(s)}' not followed: convert the included file too`)
        w.emit(0, '')
        break
      default:
        w.warn(0, s.line, `'${kw}' block has no tslb equivalent: ignored`)
        w.emit(0, '')
    }
  }
  if (instances === 0) w.emit(0, '# no vrrp_instance found')
  while (w.lines.length > 0 && w.lines[w.lines.length - 1] === '') w.lines.pop()
  return { text: `${w.lines.join('\n')}\n`, warnings: w.warnings, instances, scripts }
}
