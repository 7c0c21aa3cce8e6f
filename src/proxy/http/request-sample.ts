/**
 * What the sample fetches of one HTTP request read (ACLs, balance hashes, stick rules): one
 * object per request, its lookups done on demand.
 */
import { isIP } from 'node:net'
import type { SampleSource } from '../acl/sample.ts'
import { getHeaderValues, type RequestHead, type ResponseHead } from './codec.ts'
import type { TlsFacts } from '../tls/facts.ts'
import { requestCookieValue, responseCookieValue, splitCookieHeader } from './cookie.ts'
import type { StickCounters } from '../stick-counters.ts'

export interface SampleOrigin {
  /** The client's address; `http-request set-src` changes it for the rest of the connection. */
  srcIp: string
  readonly srcPort: number
  readonly dstIp: string
  readonly dstPort: number
  nbsrv: (backend: string) => number | undefined
  readonly tls?: TlsFacts
  proxyState?: (fetch: string, arg: string) => string | undefined
  readonly frontendName?: string
  readonly frontendId?: number
  readonly listener?: { readonly id: number, readonly name?: string }
  /** The client's HTTP version when not HTTP/1.x (`2.0`: an HTTP/2 stream). */
  readonly httpVersion?: string
  /** `sess.` variables: they live as long as the client connection. */
  sessionVars?: Map<string, string>
}

/** `proc.` variables: one set per worker process. */
const PROC_VARS = new Map<string, string>()

export class RequestSample implements SampleSource {
  readonly srcPort: number
  readonly dst: string
  readonly dstPort: number
  readonly tls: TlsFacts | undefined
  private readonly head: RequestHead
  private readonly origin: SampleOrigin
  /** The server chosen for the request (`srv_name`, `srv_id`). */
  server: { readonly name: string, readonly id: number } | undefined
  /** The first request of its client connection (`http_first_req`). */
  firstRequest = true
  /** The process's request counter when this one began (`%rt`). */
  requestNumber = 0
  /** Makes the unique id (`unique-id-format`), once. */
  uniqueIdMaker: (() => string) | undefined
  private madeId: string | undefined

  uniqueId (): string | undefined {
    if (this.madeId === undefined && this.uniqueIdMaker !== undefined) this.madeId = this.uniqueIdMaker()
    return this.madeId
  }
  /** The server's answer, once there is one (`stick store-response`). */
  response: ResponseHead | undefined
  readonly counters: StickCounters | undefined

  constructor (head: RequestHead, origin: SampleOrigin, counters?: StickCounters) {
    this.counters = counters
    this.srcPort = origin.srcPort
    this.dst = origin.dstIp
    this.dstPort = origin.dstPort
    this.tls = origin.tls
    this.head = head
    this.origin = origin
    this.backendName = origin.frontendName
    this.backendId = origin.frontendId
  }

  get versionMinor (): number {
    return this.head.versionMinor
  }

  /** Until the backend is chosen, the frontend (HAProxy's stream backend starts as the frontend). */
  backendName: string | undefined
  backendId: number | undefined

  get frontendId (): number | undefined {
    return this.origin.frontendId
  }

  get httpVersion (): string | undefined {
    return this.origin.httpVersion
  }

  get frontendName (): string | undefined {
    return this.origin.frontendName
  }

  get listener (): { readonly id: number, readonly name?: string } | undefined {
    return this.origin.listener
  }

  responseStatus (): string | undefined {
    return this.response === undefined ? undefined : String(this.response.status)
  }

  get src (): string {
    return this.origin.srcIp
  }

  /** `http-request set-src`: an address, else nothing changes. */
  setSource (address: string): void {
    if (isIP(address) !== 0) this.origin.srcIp = address
  }

  /** Read from the head each time: rules may have rewritten it. */
  get method (): string {
    return this.head.method
  }

  get url (): string {
    return this.head.target
  }

  /** Variables of this request (`txn.`, `req.`, `res.` scopes) and of its connection (`sess.`). */
  readonly vars = new Map<string, string>()

  variable (name: string): string | undefined {
    return name.startsWith('sess.') ? this.origin.sessionVars?.get(name) : name.startsWith('proc.')
      ? PROC_VARS.get(name) : this.vars.get(name)
  }

  setVariable (name: string, value: string | undefined): void {
    const map = name.startsWith('sess.') ? (this.origin.sessionVars ??= new Map()) : name.startsWith('proc.')
      ? PROC_VARS : this.vars
    if (value === undefined) map.delete(name)
    else map.set(name, value)
  }

  headerValues (name: string): string[] {
    return getHeaderValues(this.head, name)
  }

  /** Every occurrence of cookie `name`, in order; every cookie for an empty name. */
  cookieValues (name: string): string[] {
    const out: string[] = []
    for (const h of getHeaderValues(this.head, 'cookie')) {
      for (const c of splitCookieHeader(h)) if (c.name === name || name === '') out.push(c.value)
    }
    return out
  }

  cookie (name: string): string | undefined {
    return requestCookieValue(getHeaderValues(this.head, 'cookie'), name)
  }

  proxyState (fetch: string, arg: string): string | undefined {
    return this.origin.proxyState?.(fetch, arg)
  }

  nbsrv (backend: string): number | undefined {
    return this.origin.nbsrv(backend)
  }

  responseHeaderValues (name: string): string[] {
    return this.response === undefined ? [] : getHeaderValues(this.response, name)
  }

  responseCookie (name: string): string | undefined {
    return this.response === undefined ? undefined : responseCookieValue(getHeaderValues(this.response, 'set-cookie'),
      name)
  }
}
