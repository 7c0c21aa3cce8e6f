/**
 * The HTTP request fetches (`url`, `path`, `hdr()`…) of a `mode tcp` connection during `tcp-request inspect-delay`:
 * HAProxy parses the first bytes as an HTTP request for them (`tcp-request content track-sc0 url`). No sample until
 * they hold a whole request head, nor when they are not HTTP.
 */
import type { SampleSource } from '../acl/sample.ts'
import { requestCookieValue, splitCookieHeader } from '../http/cookie.ts'
import { HttpParseError } from '../http/errors.ts'
import { getHeaderValues, parseRequestHead, type RequestHead } from '../http/head.ts'

/** HAProxy's request buffer: the most a head may take here. */
const MAX_HEAD = 16384

function head (payload: Buffer): RequestHead | undefined {
  try {
    return parseRequestHead(payload, MAX_HEAD) ?? undefined
  } catch (err) {
    if (err instanceof HttpParseError) return undefined
    throw err
  }
}

/** `base` with the request fetches of its payload when that is a whole HTTP request head. */
export function inspectedSample (base: SampleSource & { readonly payload?: Buffer }): SampleSource {
  const h = base.payload === undefined ? undefined : head(base.payload)
  if (h === undefined) return base
  const cookies = (): string[] => getHeaderValues(h, 'cookie')
  return {
    ...base,
    method: h.method,
    url: h.target,
    versionMinor: h.versionMinor,
    headerValues: name => getHeaderValues(h, name),
    cookie: name => requestCookieValue(cookies(), name),
    cookieValues: name => cookies().flatMap(c => splitCookieHeader(c).filter(x => x.name === name).map(x => x.value))
  }
}
