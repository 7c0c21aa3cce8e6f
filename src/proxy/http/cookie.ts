/**
 * Cookie-based persistence (`cookie NAME insert|rewrite|prefix ...`): reading the persistence
 * cookie from a request, and the request and response header edits each mode makes.
 */
import type { CookieSettings } from '../../config/model.ts'

export interface RequestCookie {
  /** The server cookie value the client presented (prefix mode: the part before `~`). */
  readonly serverValue: string
  /** Cookie header values to send to the server instead, or undefined to leave them unchanged. */
  readonly rewritten: string[] | undefined
}

interface Pair { readonly name: string, readonly value: string, readonly raw: string }

export function splitCookieHeader (value: string): Pair[] {
  const pairs: Pair[] = []
  for (const part of value.split(';')) {
    const raw = part.trim()
    if (raw === '') continue
    const eq = raw.indexOf('=')
    pairs.push(eq < 0 ? { name: raw, value: '', raw } : { name: raw.slice(0, eq).trim(),
      value: raw.slice(eq + 1).trim(), raw })
  }
  return pairs
}

/** The value of cookie `name` in a request's Cookie lines (req.cook). */
export function requestCookieValue (cookieHeaders: readonly string[], name: string): string | undefined {
  for (const h of cookieHeaders) {
    const found = splitCookieHeader(h).find(p => p.name === name)
    if (found !== undefined) return found.value
  }
  return undefined
}

/** The value a response's Set-Cookie lines give cookie `name` (res.cook). */
export function responseCookieValue (setCookies: readonly string[], name: string): string | undefined {
  for (const sc of setCookies) {
    const eq = sc.indexOf('=')
    if (eq < 0 || setCookieName(sc) !== name) continue
    const semi = sc.indexOf(';')
    return (semi < 0 ? sc : sc.slice(0, semi)).slice(eq + 1).trim()
  }
  return undefined
}

/** Finds the persistence cookie in the request's Cookie header lines. */
export function readRequestCookie (settings: CookieSettings,
  cookieHeaders: readonly string[]): RequestCookie | undefined {
  for (let i = 0; i < cookieHeaders.length; i++) {
    const pairs = splitCookieHeader(cookieHeaders[i] as string)
    const at = pairs.findIndex(p => p.name === settings.name)
    if (at < 0) continue
    const found = pairs[at] as Pair
    let serverValue = found.value
    let replacement: Pair | undefined = found
    if (settings.mode === 'prefix') {
      const tilde = found.value.indexOf('~')
      if (tilde < 0) return undefined
      serverValue = found.value.slice(0, tilde)
      const appValue = found.value.slice(tilde + 1)
      replacement = { name: found.name, value: appValue, raw: `${found.name}=${appValue}` }
    } else if (settings.mode === 'insert' && settings.indirect) {
      replacement = undefined
    } else {
      return { serverValue, rewritten: undefined }
    }
    const kept = pairs.flatMap((p, j) => j !== at ? [p.raw] : replacement === undefined ? [] : [replacement.raw])
    const rewritten = cookieHeaders.flatMap((h, j) => j !== i ? [h] : kept.length === 0 ? [] : [kept.join('; ')])
    return { serverValue, rewritten }
  }
  return undefined
}

/** The Set-Cookie value `insert` mode adds. */
export function insertedCookie (settings: CookieSettings, serverValue: string): string {
  let c = `${settings.name}=${serverValue}; path=/`
  for (const d of settings.domains) c += `; domain=${d}`
  if (settings.httponly) c += '; HttpOnly'
  if (settings.secure) c += '; Secure'
  for (const a of settings.attrs) c += `; ${a}`
  return c
}

function setCookieName (value: string): string {
  const eq = value.indexOf('=')
  return (eq < 0 ? value : value.slice(0, eq)).trim()
}

export interface ResponseCookieEdit {
  /** Set-Cookie values to send instead of the server's (undefined: unchanged). */
  readonly setCookies: string[] | undefined
  /** The server set the persistence cookie itself. */
  readonly serverSetIt: boolean
}

/**
 * Rewrites the server's Set-Cookie lines for `prefix` (NAME=v → NAME=SRV~v) and `rewrite`
 * (NAME=v → NAME=SRV), and drops its own NAME cookie in `insert indirect` mode unless `preserve`.
 */
export function editResponseCookies (settings: CookieSettings, serverValue: string,
  setCookies: readonly string[]): ResponseCookieEdit {
  let serverSetIt = false
  let changed = false
  const out: string[] = []
  for (const sc of setCookies) {
    if (setCookieName(sc) !== settings.name) {
      out.push(sc)
      continue
    }
    serverSetIt = true
    const eq = sc.indexOf('=')
    const rest = sc.slice(eq + 1)
    if (settings.mode === 'prefix') {
      out.push(`${settings.name}=${serverValue}~${rest.trimStart()}`)
      changed = true
    } else if (settings.mode === 'rewrite') {
      const semi = rest.indexOf(';')
      out.push(`${settings.name}=${serverValue}${semi < 0 ? '' : rest.slice(semi)}`)
      changed = true
    } else if (settings.mode === 'insert' && settings.indirect && !settings.preserve) {
      changed = true
    } else {
      out.push(sc)
    }
  }
  return { setCookies: changed ? out : undefined, serverSetIt }
}
