/**
 * Head serialization: the bytes to send on from a parsed head, with the proxy's edits (hop-by-hop
 * fields dropped, fields added, target rewritten). Field names keep their case and order. With no
 * effective edit the received bytes are reused as they are (a view, no copy).
 * @module
 */
import { Buffer } from 'node:buffer'
import { isToken, stringEqualLower, writeLatin1 } from './chars.ts'
import type { HttpHead, RequestHead, ResponseHead } from './head.ts'

export interface HeadEdits {
  /**
   * Drop the hop-by-hop fields (RFC 9110 §7.6.1): Connection, Keep-Alive, Proxy-Connection, TE,
   * Upgrade (unless `keepUpgrade`) and every field the Connection header names — except
   * Content-Length, Transfer-Encoding and Host, which a client must not be able to strip from a
   * message whose body the proxy forwards as framed.
   */
  removeHopByHop?: boolean
  /** Keep Upgrade (a protocol switch the proxy lets through). */
  keepUpgrade?: boolean
  /** More fields to drop, by name, case-insensitive. */
  remove?: readonly string[]
  /** Fields to append after the kept ones, in order. Names must be tokens; values may not hold CR, LF or NUL. */
  add?: readonly (readonly [string, string])[]
  /** Request only: a new request-target (e.g. `toOriginForm(head)` for an absolute-form request). */
  target?: string
}

const PROTECTED = ['content-length', 'transfer-encoding', 'host']
const NO_EDITS: HeadEdits = {}

function inList (name: string, lowerList: readonly string[]): boolean {
  for (let i = 0; i < lowerList.length; i++) {
    if (stringEqualLower(name, lowerList[i] as string)) return true
  }
  return false
}

/** Connection, Keep-Alive, Proxy-Connection, TE, Upgrade: one length switch for most names. */
function isHopByHop (name: string, keepUpgrade: boolean): boolean {
  switch (name.length) {
    case 2: return stringEqualLower(name, 'te')
    case 7: return !keepUpgrade && stringEqualLower(name, 'upgrade')
    case 10: return stringEqualLower(name, 'connection') || stringEqualLower(name, 'keep-alive')
    case 16: return stringEqualLower(name, 'proxy-connection')
  }
  return false
}

/** The decision for each field. */
function dropped (name: string, hop: boolean, keepUpgrade: boolean, tokens: readonly string[] | undefined,
  remove: readonly string[] | undefined): boolean {
  if (hop) {
    if (isHopByHop(name, keepUpgrade)) return true
    if (tokens !== undefined && inList(name, tokens) && !inList(name, PROTECTED)) return true
  }
  return remove !== undefined && inList(name, remove)
}

function checkAdded (add: readonly (readonly [string, string])[]): void {
  for (let k = 0; k < add.length; k++) {
    const [name, value] = add[k] as readonly [string, string]
    if (!isToken(name)) throw new TypeError(`invalid header name to add: ${JSON.stringify(name)}`)
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i)
      if (c === 0x0d || c === 0x0a || c === 0 || c > 0xff) throw new TypeError(
        `invalid value for header ${name}: ${JSON.stringify(value)}`)
    }
  }
}

/** Per-field drop decisions of the current build (reused; serialization is synchronous). */
const mask: boolean[] = []

function build (head: HttpHead, edits: HeadEdits, startLine: string | undefined): Buffer {
  const h = head.headers
  const n = h.length >> 1
  const hop = edits.removeHopByHop === true
  const keepUpgrade = edits.keepUpgrade === true
  const tokens = head.connectionTokens
  const remove = edits.remove === undefined || edits.remove.length === 0 ? undefined : edits.remove.map(x =>
    x.toLowerCase())
  const add = edits.add
  let drops = 0
  if (hop || remove !== undefined) {
    for (let i = 0; i < n; i++) {
      const d = dropped(h[2 * i] as string, hop, keepUpgrade, tokens, remove)
      mask[i] = d
      if (d) drops++
    }
  }
  const hasAdd = add !== undefined && add.length > 0
  if (drops === 0 && !hasAdd && startLine === undefined && head.rawExact) return head.raw
  if (hasAdd) checkAdded(add)
  if (!head.rawExact) return buildFromStrings(head, drops, add, startLine)

  // Copy the kept lines from the received bytes, in runs; write only what is new.
  const raw = head.raw
  const offs = head.lineOffsets
  const first = offs[0] as number
  const emptyLine = offs[n] as number
  let total = raw.length
  if (startLine !== undefined) total += startLine.length - first
  if (drops > 0) {
    for (let i = 0; i < n; i++) if (mask[i] === true) total -= (offs[i + 1] as number) - (offs[i] as number)
  }
  if (hasAdd) {
    for (let i = 0; i < add.length; i++) {
      const a = add[i] as readonly [string, string]
      total += a[0].length + a[1].length + 4
    }
  }
  const out = Buffer.allocUnsafe(total)
  let off = 0
  let run = 0
  if (startLine !== undefined) {
    off = writeLatin1(out, startLine, 0)
    run = first
  }
  if (drops > 0) {
    for (let i = 0; i < n; i++) {
      if (mask[i] !== true) continue
      const ls = offs[i] as number
      if (ls > run) off += raw.copy(out, off, run, ls)
      run = offs[i + 1] as number
    }
  }
  if (emptyLine > run) off += raw.copy(out, off, run, emptyLine)
  if (hasAdd) {
    for (let i = 0; i < add.length; i++) {
      const a = add[i] as readonly [string, string]
      off += writeLatin1(out, a[0], off)
      out[off++] = 0x3a
      out[off++] = 0x20
      off += writeLatin1(out, a[1], off)
      out[off++] = 0x0d
      out[off++] = 0x0a
    }
  }
  out[off++] = 0x0d
  out[off] = 0x0a
  return out
}

/** For a head whose fields were normalized by the parser: rebuilt from the strings. */
function buildFromStrings (head: HttpHead, drops: number, add: HeadEdits['add'],
  startLine: string | undefined): Buffer {
  const h = head.headers
  let s = startLine ?? defaultStartLine(head)
  for (let i = 0; i < h.length; i += 2) {
    if (drops > 0 && mask[i >> 1] === true) continue
    s += `${h[i] as string}: ${h[i + 1] as string}\r\n`
  }
  if (add !== undefined) for (const [name, value] of add) s += `${name}: ${value}\r\n`
  s += '\r\n'
  return Buffer.from(s, 'latin1')
}

function defaultStartLine (head: HttpHead): string {
  if ('method' in head) {
    const r = head as RequestHead
    return `${r.method} ${r.target} HTTP/1.${r.versionMinor}\r\n`
  }
  const r = head as ResponseHead
  return `HTTP/1.${r.versionMinor} ${r.status} ${r.reason}\r\n`
}

/**
 * The request head to send to a server. Returns `head.raw` itself (no copy) when the edits change
 * nothing; otherwise a new Buffer.
 */
export function serializeRequestHead (head: RequestHead, edits: HeadEdits = NO_EDITS): Buffer {
  let startLine: string | undefined
  const target = edits.target
  if (target !== undefined && target !== head.target) {
    if (target.length === 0) throw new TypeError('empty request target')
    for (let i = 0; i < target.length; i++) {
      const c = target.charCodeAt(i)
      if (c <= 0x20 || c >= 0x7f) throw new TypeError(`invalid request target: ${JSON.stringify(target)}`)
    }
    startLine = `${head.method} ${target} HTTP/1.${head.versionMinor}\r\n`
  }
  return build(head, edits, startLine)
}

/** The response head to send to a client; `head.raw` itself when the edits change nothing. */
export function serializeResponseHead (head: ResponseHead, edits: HeadEdits = NO_EDITS): Buffer {
  return build(head, edits, undefined)
}
