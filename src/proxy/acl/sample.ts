/**
 * What a sample fetch reads: the connection's addresses and, in HTTP mode, the request head.
 * Fetches return strings (or undefined when the sample does not exist).
 */
import { helloSamples, tlsSamples, type TlsFacts } from '../tls/facts.ts'

export interface SampleSource {
  readonly src: string
  readonly srcPort: number
  readonly dst: string
  readonly dstPort: number
  readonly method?: string
  /** Request target as received: path and query. */
  readonly url?: string
  /** All values of a request header (comma-split as HAProxy's hdr() does), case-insensitive name. */
  headerValues? (name: string): string[]
  /** Values of a request cookie. */
  cookie? (name: string): string | undefined
  /** First value of a response header / cookie (store-response). */
  responseHeaderValues? (name: string): string[]
  responseCookie? (name: string): string | undefined
  /** Usable servers of a backend (nbsrv), undefined for an unknown backend. */
  nbsrv? (backend: string): number | undefined
  /** The client connection's TLS facts (`ssl_fc*`, `ssl_c_*`); undefined without TLS. */
  readonly tls?: TlsFacts
  /** `mode tcp` with `tcp-request inspect-delay`: the bytes received before routing (`req.ssl_sni`). */
  readonly payload?: Uint8Array
}

export function pathOf (url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
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
    case 'query': return one(s.url === undefined ? undefined : queryOf(s.url))
    case 'base': {
      if (s.url === undefined) return []
      const host = s.headerValues?.('host')[0] ?? ''
      return [host + pathOf(s.url)]
    }
    case 'hdr': case 'req.hdr': case 'req.fhdr': {
      const values = s.headerValues?.(arg) ?? []
      const occ = args[1]
      if (occ === undefined) return values
      const n = Number(occ)
      const v = n < 0 ? values[values.length + n] : values[n - 1]
      return one(v)
    }
    case 'hdr_cnt': case 'req.hdr_cnt': return [String(s.headerValues?.(arg).length ?? 0)]
    case 'res.hdr': case 'shdr': return s.responseHeaderValues?.(arg) ?? []
    case 'req.cook': case 'cook': return one(s.cookie?.(arg))
    case 'res.cook': case 'scook': return one(s.responseCookie?.(arg))
    case 'url_param': case 'urlp': return one(s.url === undefined ? undefined : urlParam(s.url, arg))
    case 'nbsrv': {
      const n = s.nbsrv?.(arg)
      return n === undefined ? [] : [String(n)]
    }
    case 'always_true': return ['1']
    case 'always_false': return []
    case 'req.ver': case 'req_ver': return []
    case 'env': return one(process.env[arg])
    default: return tlsSamples(fetch, args, s.tls) ?? helloSamples(fetch, s.payload) ?? []
  }
}
