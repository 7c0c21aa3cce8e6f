/**
 * The typed configuration model: what the parser produces and every subsystem consumes.
 * Times are milliseconds, sizes bytes; `undefined` means "not set" (the subsystem's default).
 */

import type { CpuMapLine } from './cpu-map.ts'
import type { BindTls, GlobalTls, ServerTls } from './tls-model.ts'

export interface Location {
  readonly file: string
  readonly line: number
}

export type ProxyMode = 'http' | 'tcp' | 'health'
export type ProxyKind = 'defaults' | 'frontend' | 'backend' | 'listen'

export interface Address {
  /** IPv4/IPv6 literal, or '' for any address. */
  readonly host: string
  readonly family: 4 | 6 | 0
  readonly port: number | undefined
  /** Last port of a range `80-85`; equals `port` for a single port. */
  readonly portEnd: number | undefined
  /** A server's host name as written, until config/resolve.ts replaces `host` by its address. */
  readonly hostName?: string
  /** `fd@N`: a listening socket inherited from the parent process (host '' and no port). */
  readonly fd?: number
  /**
   * A server on a unix stream socket (`/path`, `unix@/path`; `abns@NAME`: the abstract name, NUL
   * first): host '' and no port.
   */
  readonly path?: string
}

export interface Bind {
  readonly addresses: Address[]
  readonly options: Record<string, string | true>
  /** `ssl` and its options (the certificates are read at load time). */
  readonly ssl?: BindTls
  readonly loc: Location
}

export interface ServerOptions {
  check?: boolean
  inter?: number
  fastinter?: number
  downinter?: number
  rise?: number
  fall?: number
  port?: number
  addr?: string
  cookie?: string
  weight?: number
  backup?: boolean
  maxconn?: number
  /** `pool-max-conn N`: idle keep-alive connections kept to this server; -1 = no limit, 0 = none. */
  poolMaxConn?: number
  minconn?: number
  maxqueue?: number
  slowstart?: number
  disabled?: boolean
  id?: number
  source?: string
  redir?: string
  track?: string
  /** `send-proxy` / `send-proxy-v2`: the PROXY protocol header version sent to this server (last one wins). */
  sendProxy?: boolean
  sendProxyV2?: boolean
  /** `check-send-proxy`: health checks start with a PROXY protocol header too. */
  checkSendProxy?: boolean
  agentCheck?: boolean
  agentPort?: number
  observe?: string
  onError?: string
  errorLimit?: number
  checkSsl?: boolean
  ssl?: boolean
  /** `server … ssl` options (ca-file, verify, sni, crt, …). */
  tls?: ServerTls
  init?: string
  resolvers?: string
}

export interface Server extends ServerOptions {
  readonly name: string
  readonly address: Address
  readonly loc: Location
}

export interface Timeouts {
  client?: number
  server?: number
  connect?: number
  httpRequest?: number
  httpKeepAlive?: number
  queue?: number
  tunnel?: number
  check?: number
  clientFin?: number
  serverFin?: number
  tarpit?: number
}

export type Balance =
  | { readonly algorithm: 'roundrobin' | 'static-rr' | 'leastconn' | 'first' | 'source' | 'random' }
  | {
    readonly algorithm: 'uri', readonly whole: boolean, readonly len?: number, readonly depth?: number,
    /** `path-only`: the key starts at the path (an absolute URI's scheme and authority skipped). */
    readonly pathOnly?: boolean
  }
  | { readonly algorithm: 'url_param', readonly param: string, readonly checkPost?: number }
  | { readonly algorithm: 'hdr', readonly header: string, readonly useDomainOnly: boolean }
  | { readonly algorithm: 'rdp-cookie', readonly cookie: string }

export interface HashType {
  readonly method: 'map-based' | 'consistent'
  readonly function: 'sdbm' | 'djb2' | 'wt6' | 'crc32'
  readonly avalanche: boolean
}

export type CookieMode = 'insert' | 'rewrite' | 'prefix'

export interface CookieSettings {
  readonly name: string
  readonly mode: CookieMode | undefined
  readonly indirect: boolean
  readonly nocache: boolean
  readonly postonly: boolean
  readonly preserve: boolean
  readonly httponly: boolean
  readonly secure: boolean
  readonly domains: string[]
  readonly maxidle?: number
  readonly maxlife?: number
  readonly dynamic: boolean
  readonly attrs: string[]
}

export interface ForwardFor {
  readonly except?: string
  readonly header: string
  readonly ifNone: boolean
}

/** A `tcp-check` line (HAProxy 2.6 tcpcheck.c semantics); `comment` is the line's own `comment`. */
export type TcpCheckRule =
  | { readonly type: 'connect', readonly port?: number, readonly addr?: string, readonly comment?: string }
  /** `data`: the bytes to send, one character per byte (latin1). */
  | { readonly type: 'send', readonly data: string, readonly comment?: string }
  | {
    readonly type: 'expect'
    readonly negate: boolean
    readonly match: 'string' | 'rstring' | 'binary' | 'rbinary'
    /** The text for string/rstring/rbinary; the hex digits for binary. */
    readonly pattern: string
    /** Bytes to wait for before a verdict; -1: wait for a match until the end or the timeout. */
    readonly minRecv: number
    readonly okStatus?: 'L4OK' | 'L6OK' | 'L7OK' | 'L7OKC'
    readonly errorStatus?: 'L4CON' | 'L6RSP' | 'L7RSP' | 'L7STS'
    readonly toutStatus?: 'L4TOUT' | 'L6TOUT' | 'L7TOUT'
    readonly onSuccess?: string
    readonly onError?: string
    readonly comment?: string
  }
  | { readonly type: 'comment', readonly comment: string }

export interface HttpCheck {
  readonly method: string
  readonly uri: string
  readonly version: string
  readonly headers: string[]
  /** `http-check send ... body TEXT`. */
  readonly body?: string
  /** The `http-check expect` rules (and `set-var`/`unset-var` steps), run in order on the one response. */
  readonly expects?: readonly HttpCheckExpect[]
}

export type HeaderMatch = 'str' | 'beg' | 'end' | 'sub' | 'reg'

export interface HttpCheckExpect {
  readonly negate: boolean
  readonly kind: string
  readonly pattern: string
  /** `hdr`/`fhdr name [-m M] NAME [value [-m M] VALUE]`. */
  readonly header?: {
    readonly nameMatch: HeaderMatch
    readonly name: string
    readonly valueMatch?: HeaderMatch
    readonly value?: string
    /** `name-lf` / `value-lf`: the pattern is a log-format string evaluated per check. */
    readonly nameFormat?: Format
    readonly valueFormat?: Format
  }
  /** `kind` 'set-var' / 'unset-var': `http-check set-var(check.NAME) EXPR`, `unset-var(check.NAME)`. */
  readonly variable?: string
  readonly expr?: SampleExpr
}

/** ACL pattern set: `acl NAME FETCH [flags] [operator] VALUE...`. */
/** A converter applied to a sample (`FETCH,NAME(ARGS)`); `map*` converters carry their file's entries. */
export interface ConverterCall {
  readonly name: string
  readonly args: string[]
  entries?: [string, string][]
}

export interface AclDefinition {
  readonly name: string
  readonly fetch: string
  readonly fetchArgs: string[]
  readonly converters?: ConverterCall[]
  readonly flags: { readonly ignoreCase: boolean, readonly match?: string, readonly files: string[],
    readonly noDns: boolean, readonly ignoredFlags?: string[] }
  readonly operator?: string
  readonly values: string[]
  /** `-f FILE`: the patterns each file gave (also appended to `values`, after the inline ones). */
  filePatterns?: { readonly file: string, readonly values: readonly string[] }[]
  readonly loc: Location
}

/** A condition: OR of AND-terms, each term an ACL reference, possibly negated, or an anonymous ACL. */
export interface Condition {
  readonly negate: boolean
  readonly terms: AclTerm[][]
}

export interface AclTerm {
  readonly negate: boolean
  readonly acl: string | AclDefinition
}

export interface UseBackend {
  readonly backend: string
  /** A dynamic name (`%[…]`), evaluated per request. */
  readonly format?: Format
  readonly cond: Condition | undefined
  readonly loc: Location
}

export interface HttpRule {
  readonly phase: 'request' | 'response' | 'after-response'
  readonly action: string
  readonly args: string[]
  readonly cond: Condition | undefined
  readonly loc: Location
  /** The parsed arguments of an action tslb enforces (`config/rule-actions.ts`). */
  readonly spec?: ActionSpec
}

/** A custom log format string (`log-format`, `unique-id-format`) as written, and where. */
export interface FormatString {
  readonly text: string
  readonly loc: Location
}

/** A value written as HAProxy's log-format string: text and `%[sample]` expressions. */
export type Format = readonly FormatPart[]
export type FormatPart =
  | { readonly kind: 'text', readonly text: string }
  | { readonly kind: 'sample', readonly expr: SampleExpr }

export interface SampleExpr {
  readonly fetch: string
  readonly args: string[]
  readonly converters?: ConverterCall[]
}

export interface ReplySpec {
  readonly status: number
  readonly contentType?: string
  /** `string` is literal; `lf-string` a Format. */
  readonly body?: { readonly kind: 'string', readonly text: string } | { readonly kind: 'lf-string',
    readonly format: Format } | { readonly kind: 'file' | 'lf-file', readonly path: string }
  readonly headers: readonly (readonly [string, Format])[]
}

export type ActionSpec =
  | { readonly type: 'allow' }
  | { readonly type: 'deny', readonly reply: ReplySpec | undefined, readonly status: number }
  | { readonly type: 'tarpit', readonly reply: ReplySpec | undefined, readonly status: number }
  | { readonly type: 'reject' }
  | { readonly type: 'silent-drop' }
  | { readonly type: 'auth', readonly realm: string | undefined }
  | { readonly type: 'redirect', readonly mode: 'location' | 'prefix' | 'scheme', readonly value: Format,
    readonly code: number, readonly dropQuery: boolean, readonly appendSlash: boolean }
  | { readonly type: 'return', readonly reply: ReplySpec }
  | { readonly type: 'set-header' | 'add-header', readonly name: string, readonly value: Format }
  | { readonly type: 'del-header', readonly name: string, readonly match: 'str' | 'beg' | 'end' | 'sub' | 'reg' }
  | { readonly type: 'replace-header' | 'replace-value', readonly name: string, readonly regex: string,
    readonly replace: Format }
  | { readonly type: 'set-path' | 'set-pathq' | 'set-uri' | 'set-query' | 'set-method', readonly value: Format }
  | { readonly type: 'replace-path' | 'replace-pathq' | 'replace-uri', readonly regex: string,
    readonly replace: Format }
  | { readonly type: 'set-status', readonly status: number, readonly reason: string | undefined }
  | { readonly type: 'set-var', readonly scope: VarScope, readonly name: string, readonly expr: SampleExpr }
  | { readonly type: 'unset-var', readonly scope: VarScope, readonly name: string }
  | { readonly type: 'use-service' }
  | { readonly type: 'set-src', readonly expr: SampleExpr }
  /** `track-sc0..2 KEY [table T]`: `table` undefined is the rule's own proxy's table. */
  | { readonly type: 'track-sc', readonly slot: number, readonly key: SampleExpr, readonly table: string | undefined }
  /** `sc-inc-gpc0|1[(SC)]` (`idx` 0 or 1, the gpc0/gpc1 fields) and `sc-inc-gpc(IDX,SC)` (`array`: the gpc array). */
  | { readonly type: 'sc-inc-gpc', readonly slot: number, readonly idx: number, readonly array: boolean }
  /** `sc-set-gpt0[(SC)] VALUE` and `sc-set-gpt(IDX,SC) VALUE`: an integer or a sample expression. */
  | { readonly type: 'sc-set-gpt', readonly slot: number, readonly idx: number, readonly array: boolean,
    readonly value: number | SampleExpr }

export type VarScope = 'proc' | 'sess' | 'txn' | 'req' | 'res'


export interface StickTableSpec {
  readonly type: 'ip' | 'ipv6' | 'integer' | 'string' | 'binary'
  readonly len?: number
  readonly size: number
  readonly expire?: number
  readonly nopurge: boolean
  readonly peers?: string
  readonly store: { readonly name: string, readonly period?: number, readonly count?: number }[]
  readonly loc: Location
}

export interface StickRule {
  readonly kind: 'on' | 'match' | 'store-request' | 'store-response'
  readonly pattern: string
  readonly table?: string
  readonly cond: Condition | undefined
  readonly loc: Location
}

export interface LogTarget {
  readonly target: string
  readonly facility: string
  readonly level?: string
  readonly minLevel?: string
  /** `format F` (HAProxy's names); undefined: rfc3164, the host name only with `log-send-hostname`. */
  readonly format?: 'rfc3164' | 'local' | 'rfc5424' | 'priority' | 'short' | 'timed' | 'iso' | 'raw'
  /** `len N`: longest line sent, header and newline included (HAProxy: 1024). */
  readonly len?: number
  /** `sample RANGES:SIZE`: within each group of SIZE lines, the 1-based positions in RANGES are sent. */
  readonly sample?: { readonly ranges: readonly (readonly [number, number])[], readonly size: number }
  readonly loc: Location
}

/**
 * A response the proxy sends instead of its default page for a status. From `errorfile FILE` (a
 * whole HTTP response) or `http-error` (a status, headers, a content type and a body); `head` and
 * `body` are filled when the configuration is loaded (files read then).
 */
export interface HttpReply {
  /** `errorfile`: the file holding the whole response. */
  readonly file?: string
  /** `http-error`: what the response is made of. */
  readonly generated?: {
    readonly status: number
    readonly headers: readonly (readonly [string, string])[]
    readonly contentType?: string
    readonly body?: string
    /** `file F`: the body's file. */
    readonly bodyFile?: string
  }
  /** `errorloc302|303 CODE URL` (`errorloc`: 302): a redirection. */
  readonly redirect?: { readonly code: 302 | 303, readonly location: string }
  /** Status line and header lines (each ending CRLF, names lower-cased, no `connection`), latin1. */
  head?: string
  /** The body, latin1. */
  body?: string
  readonly loc: Location
}

export type ErrorDirective =
  /** `reply` undefined: back to the default page (`http-error … default-errorfiles`). */
  | { readonly kind: 'reply', readonly status: number, readonly reply: HttpReply | undefined }
  /** `errorfiles NAME [CODE…]` (no code: all of the section's), or `http-error … errorfiles NAME`. */
  | { readonly kind: 'import', readonly section: string, readonly codes: readonly number[], readonly loc: Location }

/** `http-errors NAME`: `errorfile CODE FILE` lines shared by proxies through `errorfiles NAME`. */
export interface HttpErrorsSection {
  readonly name: string
  readonly loc: Location
  readonly replies: Record<number, HttpReply>
}

export interface StatsSettings {
  enabled?: boolean
  uri?: string
  realm?: string
  auth: string[]
  refresh?: number
  hideVersion?: boolean
  showNode?: string | true
  showLegends?: boolean
  adminCond?: Condition
  scope: string[]
}

/** Settings a `defaults` section carries to the proxies declared after it. */
export interface ProxySettings {
  mode?: ProxyMode
  balance?: Balance
  hashType?: HashType
  timeouts: Timeouts
  options: Record<string, boolean>
  forwardFor?: ForwardFor
  httpCheck?: HttpCheck
  /**
   * The protocol check option last written (`option redis-check`, `smtpchk HELO x`, `pgsql-check user u`), with its
   * arguments.
   */
  checkOption?: { readonly name: string, readonly args: readonly string[] }
  /** The `tcp-check` rules in force: the proxy's own, else those of its `defaults`. */
  tcpCheckRules?: readonly TcpCheckRule[]
  cookie?: CookieSettings
  maxconn?: number
  fullconn?: number
  retries?: number
  logs: LogTarget[]
  logGlobal?: boolean
  /** `log-format`: checked against the proxy's mode once the configuration is read (config/log-format.ts). */
  logFormat?: FormatString
  /** `option http-restrict-req-hdr-names`: request header names outside [A-Za-z0-9-] kept, deleted or refused. */
  restrictHeaderNames?: 'preserve' | 'delete' | 'reject'
  /** `unique-id-format` and `unique-id-header`. */
  uniqueIdFormat?: FormatString
  uniqueIdHeader?: string
  defaultServer: ServerOptions
  monitorNets: string[]
  /** Starting with '/': compared with the request's path; else with the request target as received. */
  monitorUri?: string
  stats: StatsSettings
  /**
   * `errorfile`, `errorfiles` and `http-error` lines in the order written (the last one for a
   * status wins, as in HAProxy); resolved into `errorReplies` when the configuration is loaded.
   */
  errorfiles: ErrorDirective[]
  /** The reply per status, set by loadConfig (absent: the default page). */
  errorReplies?: Record<number, HttpReply>
  source?: string
  grace?: number
  description?: string
  disabled?: boolean
  defaultBackend?: string
}

export interface Proxy extends ProxySettings {
  readonly kind: ProxyKind
  readonly name: string
  readonly loc: Location
  id?: number
  binds: Bind[]
  servers: Server[]
  dispatch?: Address
  acls: AclDefinition[]
  useBackends: UseBackend[]
  httpRules: HttpRule[]
  tcpRules: HttpRule[]
  stickTable?: StickTableSpec
  stickRules: StickRule[]
  monitorFail: Condition[]
  captures: { readonly kind: 'request' | 'response', readonly header: string, readonly len: number }[]
  /** The `tcp-check` lines of this section (they replace the ruleset inherited from `defaults`). */
  ownTcpCheckRules: TcpCheckRule[]
  /**
   * This section wrote `option httpchk` or an `http-check send|expect` line: its HTTP check no longer builds on the one
   * inherited from `defaults` (HAProxy: a proxy's own check ruleset replaces the inherited one).
   */
  ownHttpCheck?: boolean
}

export interface StatsSocket {
  /** The unix socket's path; '' when `address` is set. */
  readonly path: string
  /** A TCP address or inherited `fd@N` (the supervisor listens and hands it over). */
  readonly address?: Address
  readonly mode?: number
  readonly level: 'user' | 'operator' | 'admin'
  readonly exposeFdListeners: boolean
  readonly loc: Location
}

export interface GlobalSettings {
  daemon?: boolean
  maxconn?: number
  nbthread?: number
  /** `cpu-map` lines, in order. */
  cpuMap?: CpuMapLine[]
  pidfile?: string
  chroot?: string
  user?: string
  group?: string
  uid?: number
  gid?: number
  logs: LogTarget[]
  statsSockets: StatsSocket[]
  statsTimeout?: number
  spreadChecks?: number
  hardStopAfter?: number
  closeSpreadTime?: number
  ulimitN?: number
  node?: string
  description?: string
  localpeer?: string
  tune: Record<string, number>
  logSendHostname?: string
  logTag?: string
  /** keepalived `script_user USER [GROUP]`: who vrrp_script and notify scripts run as. */
  scriptUser?: { readonly user: string, readonly group?: string }
  /** keepalived `enable_script_security`: refuse root scripts an other user could replace. */
  enableScriptSecurity?: boolean
  /** `script_ambient_capabilities` (tslb): scripts keep tslb's ambient capabilities. */
  scriptAmbientCapabilities?: boolean
  /** The `ssl-*`, `crt-base`, `ca-base` and `tune.ssl.*` keywords. */
  tls?: GlobalTls
}

export interface PeerEntry {
  readonly name: string
  readonly address: Address | undefined
  readonly loc: Location
}

export interface PeersSection {
  readonly name: string
  readonly loc: Location
  peers: PeerEntry[]
  bind?: Bind
  tables: (StickTableSpec & { readonly name: string })[]
  disabled: boolean
  /**
   * tslb's `trust-peer-names`: accept a session naming a remote peer from any address, as HAProxy
   * does (NAT between the peers). Unset: only from the address of the peer's `peer` line.
   */
  trustPeerNames?: boolean
}

export interface UserlistSection {
  readonly name: string
  readonly loc: Location
  groups: { readonly name: string, readonly users: string[] }[]
  users: { readonly name: string, readonly password: string, readonly insecure: boolean, readonly groups: string[] }[]
}

export interface VrrpScript {
  readonly name: string
  readonly loc: Location
  /** argv of the script, or the builtin check it names. */
  script?: { readonly kind: 'exec', readonly command: string } | { readonly kind: 'builtin', readonly name: 'proxy' }
  interval: number
  timeout?: number
  weight: number
  rise: number
  fall: number
  user?: string
  /** `user USER GROUP`: the group (default: the user's primary group). */
  group?: string
}

export interface VirtualAddress {
  readonly address: string
  readonly prefixLength: number
  readonly family: 4 | 6
  readonly dev?: string
  readonly label?: string
  readonly broadcast?: string
  readonly scope?: string
  readonly loc: Location
}

export interface VrrpInstance {
  readonly name: string
  readonly loc: Location
  /** Initial state preference; absent: derived from the priority (255 → MASTER), as keepalived does. */
  state?: 'MASTER' | 'BACKUP'
  interface?: string
  virtualRouterId?: number
  priority: number
  /** Advertisement interval in milliseconds. */
  advertInt: number
  version: 2 | 3
  nopreempt: boolean
  preemptDelay: number
  authentication?: { readonly type: 'PASS' | 'AH', readonly password: string }
  unicastSrcIp?: string
  unicastPeers: string[]
  /** keepalived `check_unicast_src` (also implied by a peer's min_ttl / max_ttl). */
  checkUnicastSrc: boolean
  /** Peers given min_ttl / max_ttl (keepalived defaults 0 and 255 for the others). */
  unicastPeerTtl: { readonly address: string, readonly min: number, readonly max: number }[]
  virtualAddresses: VirtualAddress[]
  trackScripts: { readonly name: string, readonly weight?: number }[]
  trackInterfaces: { readonly name: string, readonly weight?: number }[]
  trackFiles: TrackRef[]
  trackProcesses: TrackRef[]
  garpMasterDelay: number
  garpMasterRepeat: number
  garpMasterRefresh: number
  garpMasterRefreshRepeat: number
  notify: NotifyScripts
  dontTrackPrimary: boolean
  nativeIpv6: boolean
}

/**
 * A notify script (keepalived: `notify_master "COMMAND ARGS" [USER [GROUP]]`): the user and group
 * it runs as, when given, win over `script_user`.
 */
export interface NotifyScript {
  readonly command: string
  readonly user?: string
  readonly group?: string
}

export interface NotifyScripts {
  master?: NotifyScript
  backup?: NotifyScript
  fault?: NotifyScript
  stop?: NotifyScript
  any?: NotifyScript
}

/** keepalived's vrrp_sync_group: its instances change state together. */
export interface VrrpSyncGroup {
  readonly name: string
  readonly loc: Location
  members: string[]
  notify: NotifyScripts
  /** `sync_group_tracking_weight`: members keep their tracking weights (otherwise a failure is FAULT). */
  trackingWeight: boolean
}

/** keepalived's track_file (section `vrrp_track_file NAME` in tslb): a number read from a file. */
export interface VrrpTrackFile {
  readonly name: string
  readonly loc: Location
  file?: string
  weight: number
  reverse: boolean
  /** `init_file [VALUE] [overwrite]`: write VALUE at start if the file is missing (or always). */
  init?: { readonly value: number, readonly overwrite: boolean }
}

/** keepalived's vrrp_track_process: how many processes of a name run. */
export interface VrrpTrackProcess {
  readonly name: string
  readonly loc: Location
  process?: string
  /** Parameters to match (with `full_command`), as `process NAME PARAM…`. */
  params: string[]
  paramMatch: 'none' | 'exact' | 'partial' | 'initial'
  fullCommand: boolean
  weight: number
  reverse: boolean
  quorum: number
  quorumMax: number
  /** Milliseconds. */
  forkDelay: number
  terminateDelay: number
  /** tslb: how often /proc is read (keepalived is told by the kernel's process events). Milliseconds. */
  interval: number
}

/** An instance's `track_file` / `track_process` line. */
export interface TrackRef {
  readonly name: string
  readonly weight?: number
  /** `reverse` / `noreverse`; undefined: the tracked object's own. */
  readonly reverse?: boolean
}

export interface Config {
  readonly files: string[]
  global: GlobalSettings
  proxies: Proxy[]
  peers: PeersSection[]
  userlists: UserlistSection[]
  httpErrors: HttpErrorsSection[]
  vrrpScripts: VrrpScript[]
  vrrpInstances: VrrpInstance[]
  vrrpSyncGroups: VrrpSyncGroup[]
  vrrpTrackFiles: VrrpTrackFile[]
  vrrpTrackProcesses: VrrpTrackProcess[]
}
