/**
 * What tslb does with each of HAProxy's generic `bind` options (TLS options: ssl.ts; `proto`,
 * `accept-proxy`: their own checks). An option that is not enforced is said so by `tslb check`:
 * an error where exposure depends on it (which interface, namespace or address family a socket
 * listens on), a warning otherwise.
 */
import { ValueError } from '../errors.ts'

type Treatment =
  | { readonly kind: 'enforced' }
  | { readonly kind: 'ignored', readonly why: string }
  | { readonly kind: 'refused', readonly why: string }

const ENFORCED: Treatment = { kind: 'enforced' }
const NOT_YET: Treatment = { kind: 'ignored', why: 'is parsed but not enforced yet' }
const UNIX_ONLY: Treatment = { kind: 'ignored', why: 'applies to unix sockets only: no effect on a TCP bind' }

export const BIND_OPTION_TREATMENT: Readonly<Record<string, Treatment>> = {
  backlog: ENFORCED,
  /** Names the listener in the logs of refused PROXY protocol headers. */
  name: ENFORCED,
  /** The listening socket's id (`so_id`). */
  id: ENFORCED,
  maxconn: { kind: 'ignored', why: "is parsed but not enforced yet (the frontend's maxconn applies)" },
  mode: UNIX_ONLY,
  uid: UNIX_ONLY,
  gid: UNIX_ONLY,
  user: UNIX_ONLY,
  group: UNIX_ONLY,
  interface: { kind: 'refused', why: 'is not supported by tslb yet: the socket would listen on every interface' },
  namespace: { kind: 'refused', why: 'is not supported by tslb yet: the socket would listen in tslb\'s own ' +
    'network namespace' },
  v6only: { kind: 'refused', why: 'is not supported by tslb yet: an IPv6 wildcard socket would take IPv4 too' },
  v4v6: { kind: 'ignored', why: 'is the default: an IPv6 wildcard socket takes IPv4 too' },
  transparent: NOT_YET,
  'defer-accept': NOT_YET,
  tfo: NOT_YET,
  mss: NOT_YET,
  'tcp-ut': NOT_YET,
  nice: NOT_YET,
  process: { kind: 'ignored', why: 'has no effect: one worker process serves every bind' },
  thread: { kind: 'ignored', why: 'has no effect: every proxy thread serves every bind' },
  label: NOT_YET,
  level: { kind: 'ignored', why: "applies to 'stats socket' lines only" },
  'severity-output': { kind: 'ignored', why: "applies to 'stats socket' lines only" }
}

/** Warns about (or refuses) the options of one `bind` line that tslb does not enforce. */
export function checkBindOptions (options: Readonly<Record<string, string | true>>, warn: (m: string) => void): void {
  for (const name of Object.keys(options)) {
    const t = BIND_OPTION_TREATMENT[name]
    if (t === undefined || t.kind === 'enforced') continue
    if (t.kind === 'refused') throw new ValueError(`bind option '${name}' ${t.why}`)
    warn(`bind option '${name}' ${t.why}`)
  }
}
