/**
 * `capture request|response header NAME len N` as HAProxy 2.6 logs them (`%hr`, `%hs` of the
 * httplog format): the last occurrence of each header, cut to N bytes, in declaration order
 * between braces and separated by `|`; a missing header is empty; control characters, bytes from
 * 127 and `"#{|}` written `#XX` (src/log.c hdr_encode_map).
 */
import { getHeaderValues } from '../http/head.ts'

export interface Capture {
  readonly kind: 'request' | 'response'
  readonly header: string
  readonly len: number
}

const HEADER_SPECIALS: ReadonlySet<string> = new Set(['"', '#', '{', '|', '}'])

/**
 * HAProxy's log escaping: control characters, bytes from 127 and `specials` written `#XX` (src/log.c: the header
 * map, `"#{|}`, and the URL map of `%r`, `"#`).
 */
export function hashEncode (value: string, specials: ReadonlySet<string> = HEADER_SPECIALS): string {
  let out = ''
  for (const c of value) {
    const code = c.charCodeAt(0)
    out += code < 32 || code >= 127 || specials.has(c) ? `#${code.toString(16).toUpperCase().padStart(2, '0')}` : c
  }
  return out
}

/** The `{…}` block's contents, or undefined when no header of this kind is captured (no block at all). */
export function captureBlock (captures: readonly Capture[], kind: Capture['kind'],
  head: { readonly headers: readonly string[] } | undefined): string | undefined {
  const wanted = captures.filter(c => c.kind === kind)
  if (wanted.length === 0) return undefined
  return wanted.map(c => {
    const value = head === undefined ? undefined : getHeaderValues(head, c.header).at(-1)
    return value === undefined ? '' : hashEncode(Buffer.from(value, 'latin1').subarray(0, c.len).toString('latin1'))
  }).join('|')
}
