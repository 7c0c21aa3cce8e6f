/**
 * What the parser accepts and whether the proxy does it: every rule action, sample fetch, ACL match
 * method and flag, predefined ACL and proxy keyword has a status. A `not-enforced` entry is a warning
 * in `tslb check`, or an error when access control depends on it (`guard`): accepting a `deny` that
 * lets traffic through is worse than refusing the file.
 */
import { ERROR_PAGE_KEYWORD_STATUS } from './keywords/errors.ts'

import { HELLO_FETCHES, TLS_FETCHES } from './tls-fetches.ts'
import { COUNTER_FETCH_NAMES, TABLE_CONVERTERS } from './counter-fetches.ts'

export type Status = 'enforced' | 'not-enforced'

export interface Entry {
  readonly status: Status
  /** Access control depends on it: refused while it is not enforced. */
  readonly guard?: boolean
}

const ON: Entry = { status: 'enforced' }
const OFF: Entry = { status: 'not-enforced' }
const GUARD_OFF: Entry = { status: 'not-enforced', guard: true }
const GUARD_ON: Entry = { status: 'enforced', guard: true }

/**
 * `http-request` actions. Guards: the actions that stop or admit a request, and those that change
 * what later access rules look at (addresses, counters).
 */
export const HTTP_REQUEST_ACTIONS: Readonly<Record<string, Entry>> = {
  allow: GUARD_ON, deny: GUARD_ON, tarpit: GUARD_ON, auth: GUARD_ON, reject: GUARD_ON, 'silent-drop': GUARD_ON,
  redirect: ON, return: ON,
  'add-header': ON, 'set-header': ON, 'del-header': ON, 'replace-header': ON, 'replace-value': ON,
  'replace-path': ON, 'replace-pathq': ON, 'replace-uri': ON, 'set-path': ON, 'set-pathq': ON, 'set-uri': ON,
  'set-query': ON, 'set-method': ON, 'set-var': ON, 'unset-var': ON, 'set-log-level': OFF, capture: OFF,
  'track-sc0': GUARD_ON, 'track-sc1': GUARD_ON, 'track-sc2': GUARD_ON, 'sc-inc-gpc0': GUARD_ON,
  'sc-inc-gpc1': GUARD_ON, 'sc-inc-gpc': GUARD_ON, 'sc-set-gpt0': GUARD_ON, 'sc-set-gpt': GUARD_ON,
  'use-service': ON,
  'set-src': GUARD_ON, 'set-dst': GUARD_OFF, 'set-dst-port': GUARD_OFF,
  'early-hint': OFF, 'normalize-uri': OFF, 'set-timeout': OFF
}

export const HTTP_RESPONSE_ACTIONS: Readonly<Record<string, Entry>> = {
  allow: GUARD_ON, deny: GUARD_ON, 'silent-drop': GUARD_ON,
  'add-header': ON, 'set-header': ON, 'del-header': ON, 'replace-header': ON, 'replace-value': ON,
  'set-status': ON, 'set-var': ON, 'unset-var': ON, 'set-log-level': OFF, capture: OFF, redirect: ON,
  return: ON, 'track-sc0': GUARD_ON, 'track-sc1': GUARD_ON, 'track-sc2': GUARD_ON, 'sc-inc-gpc0': GUARD_ON,
  'sc-inc-gpc1': GUARD_ON, 'sc-inc-gpc': GUARD_ON, 'sc-set-gpt0': GUARD_ON, 'sc-set-gpt': GUARD_ON
}

/** `http-after-response`: on every response, the server's and those the rules generate. */
export const HTTP_AFTER_RESPONSE_ACTIONS: Readonly<Record<string, Entry>> = {
  allow: ON, 'add-header': ON, 'set-header': ON, 'del-header': ON, 'replace-header': ON, 'replace-value': ON,
  'set-status': ON, 'set-var': ON, 'unset-var': ON, 'set-log-level': OFF, capture: OFF
}

/** `tcp-request connection|session|content` actions (one list for the three). */
export const TCP_REQUEST_ACTIONS: Readonly<Record<string, Entry>> = {
  accept: GUARD_ON, reject: GUARD_ON, 'silent-drop': GUARD_ON,
  'track-sc0': GUARD_ON, 'track-sc1': GUARD_ON, 'track-sc2': GUARD_ON, 'sc-inc-gpc0': GUARD_ON,
  'sc-inc-gpc1': GUARD_ON, 'sc-inc-gpc': GUARD_ON, 'sc-set-gpt0': GUARD_ON, 'sc-set-gpt': GUARD_ON,
  // Without it `src` is the relay's address, which every source-based rule would then see.
  'expect-proxy': GUARD_OFF,
  // A variable it does not set would be read as unset by an enforced deny through var().
  'set-var': GUARD_OFF,
  'inspect-delay': OFF, capture: OFF
}

/** Fetches known when a connection is accepted: the only ones `tcp-request` rules are enforced over. */
export const LAYER4_FETCHES: ReadonlySet<string> = new Set(['src', 'dst', 'src_port', 'dst_port', 'always_true',
  'always_false', 'env'])

/** Predefined ACLs that need no request: usable in `tcp-request` rules. */
export const LAYER4_PREDEFINED: ReadonlySet<string> = new Set(['TRUE', 'FALSE', 'LOCALHOST'])

/** `tcp-request inspect-delay TIME` */
export const TCP_INSPECT_DELAY: Entry = OFF

export interface FetchEntry extends Entry {
  /** Takes `(ARG[,ARG…])`. */
  readonly args: boolean
}

const f = (args: boolean, e: Entry): FetchEntry => ({ ...e, args })

/** Sample fetches usable in ACLs, stick rules and balance. */
export const FETCHES: Readonly<Record<string, FetchEntry>> = {
  path: f(false, ON), pathq: f(false, ON), url: f(false, ON), base: f(false, ON), query: f(false, ON), method: f(false,
    ON),
  'req.ver': f(false, ON), req_ver: f(false, ON), fe_name: f(false, ON), be_name: f(false, ON),
  hdr: f(true, ON), 'req.hdr': f(true, ON), 'res.hdr': f(true, ON), 'res.fhdr': f(true, ON), 'res.hdr_cnt': f(true, ON),
    shdr: f(true, ON), hdr_cnt: f(true, ON),
  hdr_val: f(true, ON), hdr_ip: f(true, ON), 'req.hdr_ip': f(true, ON), 'req.fhdr': f(true, ON), 'req.hdr_cnt': f(true,
    ON),
  'req.cook': f(true, ON), cook: f(true, ON), 'res.cook': f(true, ON), scook: f(true, ON),
  'req.cook_cnt': f(true, ON), cook_cnt: f(true, ON), 'req.cook_val': f(true, ON), cook_val: f(true, ON),
  srv_name: f(false, ON), srv_id: f(false, ON), 'unique-id': f(false, ON), http_first_req: f(false, ON), bin: f(true,
    ON),
  url_param: f(true, ON), urlp: f(true, ON), url_ip: f(false, OFF), url_port: f(false, OFF),
  src: f(false, ON), dst: f(false, ON), src_port: f(false, ON), dst_port: f(false, ON),
  so_id: f(false, ON), so_name: f(false, ON), fe_id: f(false, ON), be_id: f(false, ON),
  status: f(false, ON), nbsrv: f(true, ON), srv_is_up: f(true, ON), srv_conn: f(true, ON), connslots: f(true, OFF),
  queue: f(true, ON), avg_queue: f(true, ON), be_conn: f(true, ON), fe_conn: f(true, ON),
  // Stick counters (sc_*, sc0_*…sc2_*, src_*): config/counter-fetches.ts.
  ...Object.fromEntries(COUNTER_FETCH_NAMES.map(name => [name, f(true, ON)])),
  'req.len': f(false, OFF), req_len: f(false, OFF), 'req.payload': f(true, OFF),
  http_auth: f(true, ON), http_auth_group: f(true, ON),
  always_true: f(false, ON), always_false: f(false, ON), str: f(true, ON), int: f(true, ON), date: f(true, ON),
    rand: f(true, ON), uuid: f(true, ON), thread: f(false, ON),
  'capture.req.hdr': f(true, OFF), 'capture.res.hdr': f(true, OFF), 'req.body_param': f(true, OFF),
  env: f(true, ON), var: f(true, ON),
  // ssl_fc*, ssl_c_* (src/proxy/tls/facts.ts) and req.ssl_* (mode tcp, before routing).
  ...Object.fromEntries(Object.entries({ ...TLS_FETCHES, ...HELLO_FETCHES }).map(([name, spec]) => [name,
    f(spec.args, ON)]))
}

export interface ConverterEntry extends Entry {
  /** Least and most arguments. */
  readonly args: readonly [number, number]
  /** Arguments that must be integers (by position). */
  readonly ints?: readonly number[]
}

const c = (min: number, max: number, ints?: readonly number[]): ConverterEntry => ({ status: 'enforced',
  args: [min, max], ...(ints === undefined ? {} : { ints }) })

/**
 * Converters (`FETCH,NAME(ARGS)`), in samples, ACLs and `%[…]`; `map*` read their file at load, the runtime API
 * changes its entries (`proxy/acl/patterns.ts`).
 */
export const CONVERTERS: Readonly<Record<string, ConverterEntry>> = {
  lower: c(0, 0), upper: c(0, 0), length: c(0, 0), field: c(2, 3, [0, 2]), word: c(2, 3, [0, 2]),
  regsub: c(2, 3), base64: c(0, 0), b64dec: c(0, 0), hex: c(0, 0), url_dec: c(0, 1), json: c(0, 1),
  ipmask: c(1, 2), bool: c(0, 0), not: c(0, 0), add: c(1, 1, [0]), sub: c(1, 1, [0]), mul: c(1, 1, [0]),
  div: c(1, 1, [0]), mod: c(1, 1, [0]), bytes: c(1, 2, [0, 1]), crc32: c(0, 1, [0]), djb2: c(0, 1, [0]),
  sdbm: c(0, 1, [0]), wt6: c(0, 1, [0]),
  map: c(1, 2), map_str: c(1, 2), map_beg: c(1, 2), map_end: c(1, 2), map_sub: c(1, 2), map_reg: c(1, 2),
  map_ip: c(1, 2), map_int: c(1, 2), map_regm: c(1, 2),
  // Their variable arguments name `txn.`/`sess.`/`proc.`/`req.`/`res.` variables.
  concat: c(0, 3), strcmp: c(1, 1), secure_memcmp: c(1, 1),
  ltime: c(1, 2, [1]), utime: c(1, 2, [1]),
  sha1: c(0, 0), sha2: c(0, 1, [0]), digest: c(1, 1), hmac: c(2, 2), be2hex: c(0, 3, [1, 2]), be2dec: c(2, 3, [1, 2]),
  url_enc: c(0, 1), ub64enc: c(0, 0), ub64dec: c(0, 0), iif: c(2, 2), add_item: c(1, 3),
  // `KEY,table_X([TABLE])`, the table defaulting to the rule's proxy; `table_gpt(IDX[,TABLE])`.
  ...Object.fromEntries(Object.entries(TABLE_CONVERTERS).map(([name, t]) => [name, t.indexed ? c(1, 2, [0])
    : c(0, 1)]))
}

/** The strftime(3) directives `ltime` and `utime` format. */
export const TIME_DIRECTIVES = 'aAbBdeHIjmMpSsyYzZ%'

/** ACL match methods: `-m NAME` and the fetch suffixes (`path_beg`); `cnt` and `val` are suffixes only. */
export const MATCH_METHODS: Readonly<Record<string, Entry>> = {
  str: ON, beg: ON, end: ON, sub: ON, reg: ON, dir: ON, dom: ON, len: ON, found: ON, bool: ON, int: ON, ip: ON,
  bin: ON, cnt: OFF, val: OFF
}

/**
 * ACL flags. `-f FILE` is read at load (`acl-files.ts`), with `-M` as a map file (its keys), and changed by the
 * runtime API (`proxy/acl/patterns.ts`); `-u` is unused.
 */
export const ACL_FLAGS: Readonly<Record<string, Entry>> = {
  '-i': ON, '-n': ON, '-m': ON, '-f': GUARD_ON, '-M': ON, '-u': OFF, '--': ON
}

export const PREDEFINED_ACLS: Readonly<Record<string, Entry>> = {
  FALSE: ON, TRUE: ON, HTTP: ON, 'HTTP_1.0': ON, 'HTTP_1.1': ON, 'HTTP_2.0': ON, HTTP_CONTENT: ON, HTTP_URL_ABS: ON,
  HTTP_URL_SLASH: ON, HTTP_URL_STAR: ON, LOCALHOST: ON, METH_CONNECT: ON, METH_DELETE: ON, METH_GET: ON,
  METH_HEAD: ON, METH_OPTIONS: ON, METH_POST: ON, METH_PUT: ON, METH_TRACE: ON, RDP_COOKIE: OFF, REQ_CONTENT: OFF,
  WAIT_END: ON
}

/**
 * Keywords of `defaults`/`frontend`/`backend`/`listen`. `http-request`, `http-response` and
 * `tcp-request` are enforced as keywords; each of their actions has its own status above.
 */
export const PROXY_KEYWORD_STATUS: Readonly<Record<string, Status>> = {
  mode: 'enforced', bind: 'enforced', server: 'enforced', 'default-server': 'enforced', balance: 'enforced',
  'hash-type': 'enforced', maxconn: 'enforced', fullconn: 'enforced', retries: 'enforced', timeout: 'enforced',
  option: 'enforced', default_backend: 'enforced', use_backend: 'enforced', acl: 'enforced', log: 'enforced',
  'log-format': 'enforced', 'unique-id-format': 'enforced', 'unique-id-header': 'enforced', description: 'enforced',
    disabled: 'enforced', enabled: 'enforced', id: 'enforced',
  source: 'enforced', cookie: 'enforced', 'http-request': 'enforced', 'http-response': 'enforced',
  'tcp-request': 'enforced', 'http-after-response': 'enforced', 'http-check': 'enforced', 'tcp-check': 'enforced',
    stats: 'enforced',
    'stick-table': 'enforced',
  stick: 'enforced', capture: 'enforced', 'monitor-uri': 'enforced',
  'monitor-net': 'enforced', monitor: 'enforced', dispatch: 'enforced', redispatch: 'enforced', grace: 'not-enforced',
  'http-reuse': 'enforced', contimeout: 'enforced', clitimeout: 'enforced', srvtimeout: 'enforced',
  ...ERROR_PAGE_KEYWORD_STATUS
}

/**
 * `global` keywords, `option` names and `server`/`default-server` options the parser accepts
 * without their effect yet, with what the user should know: `tslb check` warns on each (none of
 * them decides what traffic is let through).
 */
export const GLOBAL_NOT_ENFORCED: Readonly<Record<string, string>> = {
  pidfile: "'tslb run -p FILE' writes the pid file",
  chroot: 'tslb does not chroot itself; its systemd unit sandboxes it',
  user: 'tslb does not drop privileges itself; its systemd unit runs it as user tslb',
  group: 'tslb does not drop privileges itself; its systemd unit runs it as user tslb',
  uid: 'tslb does not drop privileges itself; its systemd unit runs it as user tslb',
  gid: 'tslb does not drop privileges itself; its systemd unit runs it as user tslb',
  'ulimit-n': "set LimitNOFILE= in the systemd unit",
  description: 'not shown anywhere yet'
}

export const OPTION_NOT_ENFORCED: Readonly<Record<string, string>> = Object.fromEntries([
  'http-pretend-keepalive', 'http-use-proxy-header', 'http-no-delay', 'checkcache', 'srvtcpka', 'clitcpka', 'tcpka',
  'nolinger', 'splice-auto', 'splice-request', 'splice-response', 'tcp-smart-accept', 'tcp-smart-connect',
  'accept-invalid-http-request', 'accept-invalid-http-response', 'prefer-last-server', 'independent-streams',
  'contstats', 'socket-stats', 'transparent', 'originalto', 'disable-h2-upgrade',
  'h1-case-adjust-bogus-client', 'h1-case-adjust-bogus-server'
].map(name => [name, 'no effect yet']))

export const SERVER_OPTION_NOT_ENFORCED: Readonly<Record<string, string>> = {
  'agent-check': 'no agent check runs', 'agent-port': 'no agent check runs', maxqueue: 'the queue is not bounded',
  slowstart: 'the weight is not ramped up', redir: 'requests are proxied, not redirected',
  track: "the server's own checks decide its health", observe: 'no passive health checking',
  'on-error': 'no passive health checking', 'error-limit': 'no passive health checking',
  'init-addr': 'addresses are resolved once at load', resolvers: 'addresses are resolved once at load'
}

/** `FILE:LINE: warning: 'X' is parsed but not enforced yet` */
export function notEnforcedMessage (what: string): string {
  return `'${what}' is parsed but not enforced yet`
}

/** The error for a guard that is not enforced. */
export function refusedMessage (what: string): string {
  return `'${what}' is not enforced yet: tslb refuses it rather than let through what it would stop`
}

/** crypt(3) formats `userlist … password` may use: SHA-256 (`$5$`) and SHA-512 (`$6$`). */
export function supportedPasswordHash (hash: string): boolean {
  return /^\$[56]\$(rounds=\d+\$)?[^$]{0,16}\$[./0-9A-Za-z]+$/.test(hash)
}
