/**
 * Header and request-target edits of `http-request` / `http-response` rules, on a parsed head
 * (flat `[name, value, …]` list). A head edited here is serialized from its fields, not its raw bytes.
 */
import type { HttpHead, RequestHead } from '../http/codec.ts'

function matches (name: string, lower: string): boolean {
  return name.length === lower.length && name.toLowerCase() === lower
}

function edited (head: HttpHead): void {
  head.rawExact = false
}

/** A field value a rule may write: no CR, LF or NUL (no header injection), one byte per character. */
export function validValue (value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === 0x0d || c === 0x0a || c === 0 || c > 0xff) return false
  }
  return true
}

/** False (nothing changed) when the value cannot be written: the rewrite failed. */
export function addHeader (head: HttpHead, name: string, value: string): boolean {
  if (!validValue(value)) return false
  head.headers.push(name, value)
  edited(head)
  return true
}

export function setHeader (head: HttpHead, name: string, value: string): boolean {
  if (!validValue(value)) return false
  deleteHeaders(head, n => matches(n, name.toLowerCase()))
  return addHeader(head, name, value)
}

/** Removes the fields whose name satisfies `test`; true when one was removed. */
export function deleteHeaders (head: HttpHead, test: (name: string) => boolean): boolean {
  const h = head.headers
  let w = 0
  for (let r = 0; r < h.length; r += 2) {
    if (test(h[r] as string)) continue
    h[w++] = h[r] as string
    h[w++] = h[r + 1] as string
  }
  const removed = w < h.length
  h.length = w
  if (removed) edited(head)
  return removed
}

/** HAProxy's `del-header NAME [-m str|beg|end|sub|reg]`, case-insensitive except for `reg`. */
export function headerNameTest (name: string, method: 'str' | 'beg' | 'end' | 'sub' | 'reg'): (n: string) => boolean {
  const lower = name.toLowerCase()
  switch (method) {
    case 'beg': return n => n.toLowerCase().startsWith(lower)
    case 'end': return n => n.toLowerCase().endsWith(lower)
    case 'sub': return n => n.toLowerCase().includes(lower)
    case 'reg': { const re = new RegExp(name); return n => re.test(n) }
    default: return n => matches(n, lower)
  }
}

/** Rewrites the value of each field named `name` with `edit` (undefined: unchanged); false when one is invalid. */
export function editHeaderValues (head: HttpHead, name: string, edit: (value: string) => string | undefined): boolean {
  const lower = name.toLowerCase()
  const h = head.headers
  for (let i = 0; i < h.length; i += 2) {
    if (!matches(h[i] as string, lower)) continue
    const v = edit(h[i + 1] as string)
    if (v === undefined) continue
    if (!validValue(v)) return false
    h[i + 1] = v
    edited(head)
  }
  return true
}

/**
 * `replace-value`: each comma-separated element edited on its own; an edited element loses the
 * blanks before it (HAProxy 2.6 rewrites `v1, v2` into `w1,w2`).
 */
export function editEachValue (edit: (value: string) => string | undefined): (value: string) => string | undefined {
  return value => {
    let changed = false
    const out = value.split(',').map(part => {
      const lead = /^[ \t]*/.exec(part)?.[0] ?? ''
      const v = edit(part.slice(lead.length))
      if (v === undefined) return part
      changed = true
      return v
    })
    return changed ? out.join(',') : undefined
  }
}

/** Where the path starts in a request target (after `scheme://authority` for the absolute form). */
function pathStart (target: string): number {
  if (target.startsWith('/') || target === '*') return 0
  const as = target.indexOf('://')
  if (as < 0) return 0
  const p = target.indexOf('/', as + 3)
  const q = target.indexOf('?', as + 3)
  if (p < 0) return q < 0 ? target.length : q
  return q < 0 ? p : Math.min(p, q)
}

export interface TargetParts {
  /** `scheme://authority` of an absolute-form target, else ''. */
  readonly prefix: string
  readonly path: string
  /** The query without '?', undefined when there is no '?'. */
  readonly query: string | undefined
}

export function splitTarget (target: string): TargetParts {
  const start = pathStart(target)
  const rest = target.slice(start)
  const q = rest.indexOf('?')
  return { prefix: target.slice(0, start), path: q < 0 ? rest : rest.slice(0, q), query: q < 0 ? undefined :
    rest.slice(q + 1) }
}

export function joinTarget (p: TargetParts): string {
  return p.prefix + p.path + (p.query === undefined ? '' : `?${p.query}`)
}

/** A new request target; refused (false) when it would not be a valid one (empty, spaces, controls). */
export function setTarget (head: RequestHead, target: string): boolean {
  if (target.length === 0) return false
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i)
    if (c <= 0x20 || c >= 0x7f) return false
  }
  head.target = target
  edited(head)
  return true
}

export function setMethod (head: RequestHead, method: string): boolean {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method)) return false
  head.method = method
  edited(head)
  return true
}
