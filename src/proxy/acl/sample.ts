/**
 * What a sample fetch reads: the connection's addresses and, in HTTP mode, the request head.
 * Fetches return strings (or undefined when the sample does not exist).
 */
import { randomUUID } from 'node:crypto'
import { helloSamples, payloadSamples, tlsSamples, type TlsFacts } from '../tls/facts.ts'
import { isIP } from 'node:net'
import { threadPosition } from '../threads/current.ts'
import { authenticate, authenticatedUser } from '../rules/userlists.ts'
import { leadingInt } from './converter.ts'
import { counterSamples } from './counter-samples.ts'
import type { StickCounters } from '../stick-counters.ts'

export interface SampleSource {
  readonly src: string
  readonly srcPort: number
  readonly dst: string
  readonly dstPort: number
  readonly method?: string
  /** Request target as received: path and query. */
  readonly url?: string
  /** Every field value of a request header, as received (case-insensitive name). */
  headerValues? (name: string): string[]
  /** HTTP minor version of the request (0 or 1). */
  readonly versionMinor?: number
  /** The request's version when the client did not speak HTTP/1.x (`2.0` for an HTTP/2 stream). */
  readonly httpVersion?: string
  /** The listening socket that accepted the connection (`so_id`, `so_name`). */
  readonly listener?: { readonly id: number, readonly name?: string }
  /** The name of the frontend that accepted the connection. */
  readonly frontendName?: string
  /** The backend chosen for the request, once `use_backend` / `default_backend` chose it. */
  readonly backendName?: string
  /** The proxy ids (HAProxy's, as the stats show them) of the frontend and of the chosen backend. */
  readonly frontendId?: number
  readonly backendId?: number
  /** Values of a request cookie. */
  cookie? (name: string): string | undefined
  /** Every occurrence of a request cookie (ACLs match each; a value context takes the last). */
  cookieValues? (name: string): string[]
  /** First value of a response header / cookie (store-response). */
  responseHeaderValues? (name: string): string[]
  responseCookie? (name: string): string | undefined
  /** The server the request went to, once chosen (`srv_name`, `srv_id`). */
  readonly server?: { readonly name: string, readonly id: number } | undefined
  /** The request's `unique-id-format` value, made when first asked for (`unique-id`). */
  uniqueId? (): string | undefined
  /** The request is the first of its client connection (`http_first_req`). */
  readonly firstRequest?: boolean
  /** The response's status, once there is one. */
  responseStatus? (): string | undefined
  /** A variable (`txn.name`, …) set by `set-var`. */
  variable? (name: string): string | undefined
  /** be_conn, fe_conn, queue, avg_queue, srv_is_up, srv_conn: what the proxy knows of itself. */
  proxyState? (fetch: string, arg: string): string | undefined
  /** Usable servers of a backend (nbsrv), undefined for an unknown backend. */
  nbsrv? (backend: string): number | undefined
  /** The client connection's TLS facts (`ssl_fc*`, `ssl_c_*`); undefined without TLS. */
  readonly tls?: TlsFacts
  /** `mode tcp` with `tcp-request inspect-delay`: the bytes received before routing (`req.ssl_sni`). */
  readonly payload?: Uint8Array
  /** The stick counters the session and this request track (`track-sc*`; the `sc*_` fetches). */
  readonly counters?: StickCounters
}

/** The path of a request target; for the absolute form (`http://h/p?q`) the part after the authority. */
export function pathOf (url: string): string {
  let start = 0
  if (url.charCodeAt(0) !== 0x2f) {
    const as = url.indexOf('://')
    if (as >= 0) {
      const slash = url.indexOf('/', as + 3)
      const q = url.indexOf('?', as + 3)
      start = slash < 0 || (q >= 0 && q < slash) ? (q < 0 ? url.length : q) : slash
    }
  }
  const q = url.indexOf('?', start)
  return q < 0 ? url.slice(start) : url.slice(start, q)
}

/** The values of header fields as hdr() counts them: split on commas, blanks around each trimmed. */
function splitValues (lines: readonly string[]): string[] {
  const out: string[] = []
  for (const line of lines) for (const v of line.split(',')) out.push(v.trim())
  return out
}

export function queryOf (url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? '' : url.slice(q + 1)
}

export function urlParam (url: string, name: string): string | undefined {
  const query = queryOf(url)
  if (query === '') return undefined
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=')
    if ((eq < 0 ? pair : pair.slice(0, eq)) === name) return eq < 0 ? '' : pair.slice(eq + 1)
  }
  return undefined
}

/** The samples a fetch yields for `source` (several for multi-valued headers). */
export function fetchSamples (fetch: string, args: readonly string[], s: SampleSource): string[] {
  const arg = args[0] ?? ''
  const one = (v: string | undefined): string[] => v === undefined ? [] : [v]
  switch (fetch) {
    case 'src': return [s.src]
    case 'dst': return [s.dst]
    case 'src_port': return [String(s.srcPort)]
    case 'dst_port': return [String(s.dstPort)]
    case 'method': return one(s.method)
    case 'path': return one(s.url === undefined ? undefined : pathOf(s.url))
    case 'url': return one(s.url)
    case 'pathq': return one(s.url === undefined ? undefined : pathOf(s.url) + (queryOf(s.url) === '' &&
      !s.url.includes('?') ? '' : `?${queryOf(s.url)}`))
    case 'query': return one(s.url === undefined ? undefined : queryOf(s.url))
    case 'base': {
      if (s.url === undefined) return []
      const host = s.headerValues?.('host')[0] ?? ''
      return [host + pathOf(s.url)]
    }
    case 'hdr': case 'req.hdr': case 'req.fhdr': case 'hdr_val': case 'hdr_ip': case 'req.hdr_ip': {
      // hdr() sees each comma-separated value as an occurrence; fhdr() the whole field line.
      const lines = s.headerValues?.(arg) ?? []
      let values = fetch === 'req.fhdr' ? lines : splitValues(lines)
      if (fetch === 'hdr_val') values = values.filter(v => /^[-+]?\d+$/.test(v)).map(v => String(Number(v)))
      if (fetch === 'hdr_ip' || fetch === 'req.hdr_ip') values = values.filter(v => isIP(v) !== 0)
      const occ = args[1]
      if (occ === undefined) return values
      const n = Number(occ)
      const v = n < 0 ? values[values.length + n] : values[n - 1]
      return one(v)
    }
    case 'hdr_cnt': case 'req.hdr_cnt': return [String(splitValues(s.headerValues?.(arg) ?? []).length)]
    case 'res.hdr': case 'shdr': return splitValues(s.responseHeaderValues?.(arg) ?? [])
    case 'res.fhdr': return s.responseHeaderValues?.(arg) ?? []
    case 'res.hdr_cnt': return [String(splitValues(s.responseHeaderValues?.(arg) ?? []).length)]
    case 'status': return one(s.responseStatus?.())
    case 'req.ver': case 'req_ver': return one(s.httpVersion ?? (s.versionMinor === undefined ? undefined
      : `1.${s.versionMinor}`))
    case 'fe_name': return one(s.frontendName)
    case 'fe_id': return one(s.frontendId === undefined ? undefined : String(s.frontendId))
    case 'be_id': return one(s.backendId === undefined ? undefined : String(s.backendId))
    case 'so_name': return one(s.listener?.name)
    case 'so_id': return one(s.listener === undefined ? undefined : String(s.listener.id))
    case 'be_name': return one(s.backendName)
    case 'req.cook': case 'cook': {
      const values = s.cookieValues?.(arg) ?? one(s.cookie?.(arg))
      return arg === '' ? values.slice(0, 1) : values
    }
    case 'req.cook_cnt': case 'cook_cnt': return [String(s.cookieValues?.(arg).length ?? 0)]
    case 'req.cook_val': case 'cook_val': {
      // The last occurrence (an empty name: the first cookie), as an integer.
      const values = s.cookieValues?.(arg) ?? []
      const v = arg === '' ? values[0] : values.at(-1)
      return v === undefined ? [] : [String(leadingInt(v))]
    }
    case 'unique-id': return one(s.uniqueId?.())
    case 'srv_name': return one(s.server?.name)
    case 'srv_id': return one(s.server === undefined ? undefined : String(s.server.id))
    case 'http_first_req': return s.firstRequest === undefined ? [] : [s.firstRequest ? '1' : '0']
    case 'bin': return /^([0-9a-fA-F]{2})*$/.test(arg) ? [Buffer.from(arg, 'hex').toString('latin1')] : []
    case 'res.cook': case 'scook': return one(s.responseCookie?.(arg))
    case 'url_param': case 'urlp': return one(s.url === undefined ? undefined : urlParam(s.url, arg))
    case 'nbsrv': {
      const n = s.nbsrv?.(arg)
      return n === undefined ? [] : [String(n)]
    }
    case 'be_conn': case 'fe_conn': case 'queue': case 'avg_queue': case 'srv_is_up': case 'srv_conn':
      return one(s.proxyState?.(fetch, arg))
    case 'str': return [args.join(',')]
    case 'date': return [String(Math.floor(Date.now() / 1000) + (arg === '' ? 0 : Number(arg)))]
    case 'rand': return [String(Math.floor(Math.random() * (arg === '' ? 0x1_0000_0000 : Number(arg))))]
    case 'uuid': return [randomUUID()]
    case 'int': return /^-?\d+$/.test(arg) ? [String(Number(arg))] : []
    case 'always_true': return ['1']
    case 'thread': return [String(threadPosition())]
    case 'always_false': return []
    case 'env': return one(process.env[arg])
    case 'var': return one(s.variable?.(arg))
    case 'http_auth_group': return one(authenticatedUser(arg, s.headerValues?.('authorization')[0])?.name)
    case 'http_auth': return s.headerValues === undefined ? [] : [authenticate(arg, s.headerValues('authorization')[0])
      ? '1' : '0']
    default: return tlsSamples(fetch, args, s.tls) ?? helloSamples(fetch, s.payload) ??
      payloadSamples(fetch, args, s.payload) ?? counterSamples(fetch, args, s) ?? []
  }
}
