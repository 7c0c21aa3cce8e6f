/**
 * What the sample fetches of one HTTP request read (ACLs, balance hashes, stick rules): one
 * object per request, its lookups done on demand.
 */
import type { SampleSource } from '../acl/sample.ts'
import { getHeaderValues, type RequestHead, type ResponseHead } from './codec.ts'
import type { TlsFacts } from '../tls/facts.ts'
import { requestCookieValue, responseCookieValue } from './cookie.ts'

export interface SampleOrigin {
  readonly srcIp: string
  readonly srcPort: number
  readonly dstIp: string
  readonly dstPort: number
  nbsrv: (backend: string) => number | undefined
  readonly tls?: TlsFacts
}

export class RequestSample implements SampleSource {
  readonly src: string
  readonly srcPort: number
  readonly dst: string
  readonly dstPort: number
  readonly method: string
  readonly url: string
  readonly tls: TlsFacts | undefined
  private readonly head: RequestHead
  private readonly origin: SampleOrigin
  /** The server's answer, once there is one (`stick store-response`). */
  response: ResponseHead | undefined

  constructor (head: RequestHead, origin: SampleOrigin) {
    this.src = origin.srcIp
    this.srcPort = origin.srcPort
    this.dst = origin.dstIp
    this.dstPort = origin.dstPort
    this.method = head.method
    this.url = head.target
    this.tls = origin.tls
    this.head = head
    this.origin = origin
  }

  headerValues (name: string): string[] {
    return getHeaderValues(this.head, name)
  }

  cookie (name: string): string | undefined {
    return requestCookieValue(getHeaderValues(this.head, 'cookie'), name)
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
