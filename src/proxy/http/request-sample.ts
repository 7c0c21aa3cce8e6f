/**
 * What the sample fetches of one HTTP request read (ACLs, balance hashes, stick rules): one
 * object per request, its lookups done on demand.
 */
import type { SampleSource } from '../acl/sample.ts'
import { getHeaderValues, type RequestHead, type ResponseHead } from './codec.ts'
import { requestCookieValue, responseCookieValue, splitCookieHeader } from './cookie.ts'

export interface SampleOrigin {
  readonly srcIp: string
  readonly srcPort: number
  readonly dstIp: string
  readonly dstPort: number
  nbsrv: (backend: string) => number | undefined
  proxyState?: (fetch: string, arg: string) => string | undefined
  readonly frontendName?: string
  /** The client's HTTP version when not HTTP/1.x (`2.0`: an HTTP/2 stream). */
  readonly httpVersion?: string
  /** `sess.` variables: they live as long as the client connection. */
  sessionVars?: Map<string, string>
}

/** `proc.` variables: one set per worker process. */
const PROC_VARS = new Map<string, string>()

export class RequestSample implements SampleSource {
  readonly src: string
  readonly srcPort: number
  readonly dst: string
  readonly dstPort: number
  private readonly head: RequestHead
  private readonly origin: SampleOrigin
  /** The server's answer, once there is one (`stick store-response`). */
  response: ResponseHead | undefined

  constructor (head: RequestHead, origin: SampleOrigin) {
    this.src = origin.srcIp
    this.srcPort = origin.srcPort
    this.dst = origin.dstIp
    this.dstPort = origin.dstPort
    this.head = head
    this.origin = origin
  }

  get versionMinor (): number {
    return this.head.versionMinor
  }

  get httpVersion (): string | undefined {
    return this.origin.httpVersion
  }

  get frontendName (): string | undefined {
    return this.origin.frontendName
  }

  responseStatus (): string | undefined {
    return this.response === undefined ? undefined : String(this.response.status)
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

  /** Every occurrence of cookie `name`, in order. */
  cookieValues (name: string): string[] {
    const out: string[] = []
    for (const h of getHeaderValues(this.head, 'cookie')) {
      for (const c of splitCookieHeader(h)) if (c.name === name) out.push(c.value)
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
