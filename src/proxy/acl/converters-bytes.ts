/**
 * Converters over a sample's bytes: digests, HMAC, hex and decimal dumps, URL and base64url
 * encodings, JSON escaping, `iif` and `add_item` (HAProxy 2.6 semantics). A sample string holds
 * bytes as latin1 characters (header values, `b64dec` output); one with a character above 0xff
 * (a UTF-8 configuration string) is taken as UTF-8.
 */
import { createHash, createHmac } from 'node:crypto'
import { type Converter, leadingInt } from './converter.ts'

export function bytesOf (v: string): Buffer {
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) > 0xff) return Buffer.from(v, 'utf8')
  return Buffer.from(v, 'latin1')
}

const binary = (b: Buffer): string => b.toString('latin1')

export function digest (algorithm: string): Converter {
  return v => binary(createHash(algorithm).update(bytesOf(v)).digest())
}

/** `hmac(ALG,KEY)`: KEY is base64, written in place or held by a variable. */
export function hmac (algorithm: string, key: string): Converter {
  const isVar = /^(proc|sess|txn|req|res)\./.test(key)
  const fixed = isVar ? undefined : Buffer.from(key, 'base64')
  return (v, vars) => {
    const k = fixed ?? (() => {
      const held = vars?.(key)
      return held === undefined ? undefined : Buffer.from(held, 'base64')
    })()
    if (k === undefined || k.length === 0) return undefined
    return binary(createHmac(algorithm, k).update(bytesOf(v)).digest())
  }
}

/** Input in chunks of `size` bytes (0: one chunk), a last partial chunk dropped when `truncate`. */
function chunks (bytes: Buffer, size: number, truncate: boolean): Buffer[] {
  if (size <= 0) return bytes.length === 0 ? [] : [bytes]
  const out: Buffer[] = []
  for (let i = 0; i < bytes.length; i += size) {
    if (truncate && i + size > bytes.length) break
    out.push(bytes.subarray(i, i + size))
  }
  return out
}

export function be2hex (separator: string, chunkSize: number, truncate: boolean): Converter {
  const size = separator === '' && !truncate ? 0 : chunkSize
  return v => chunks(bytesOf(v), size, truncate).map(c => c.toString('hex').toUpperCase()).join(separator)
}

export function be2dec (separator: string, chunkSize: number, truncate: boolean): Converter {
  return v => chunks(bytesOf(v), chunkSize, truncate).map(c => {
    let n = 0n
    for (const b of c) n = (n << 8n) + BigInt(b)
    return n.toString()
  }).join(separator)
}

/** RFC 3986's unreserved characters stay; every other byte is %XX (HAProxy's `query` map). */
export function urlEncode (v: string): string {
  let out = ''
  for (const b of bytesOf(v)) {
    const keep = (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x2d ||
      b === 0x2e || b === 0x5f || b === 0x7e
    out += keep ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** `url_dec([in_form])`: `+` is a space in the query string, or everywhere with `in_form`. */
export function urlDecode (inForm: boolean): Converter {
  return v => {
    const bytes: number[] = []
    let query = inForm
    for (let i = 0; i < v.length; i++) {
      const ch = v[i] as string
      if (ch === '%') {
        const hex = v.slice(i + 1, i + 3)
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined
        bytes.push(parseInt(hex, 16))
        i += 2
        continue
      }
      if (ch === '?') query = true
      if (ch === '+' && query) bytes.push(0x20)
      else for (const b of bytesOf(ch)) bytes.push(b)
    }
    return binary(Buffer.from(bytes))
  }
}

export function base64url (v: string): string {
  return bytesOf(v).toString('base64url')
}

export function base64urlDecode (v: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(v) || v.length % 4 === 1) return undefined
  return binary(Buffer.from(v, 'base64url'))
}

export const JSON_INPUT_TYPES = ['', 'ascii', 'utf8', 'utf8s', 'utf8p', 'utf8ps'] as const

/**
 * `json([input_type])`: `"`, `\`, `/` and the C escapes escaped, anything else outside printable
 * ASCII as \uXXXX. utf8 modes decode UTF-8 first: a bad sequence fails the converter (utf8,
 * utf8p) or is skipped (utf8s, utf8ps); the `p` modes let non-canonical forms through.
 */
export function jsonEscape (inputType: string): Converter {
  const utf8 = inputType.startsWith('utf8')
  const skip = inputType === 'utf8s' || inputType === 'utf8ps'
  return v => {
    const bytes = bytesOf(v)
    let out = ''
    for (let i = 0; i < bytes.length;) {
      let c = bytes[i] as number
      let len = 1
      if (utf8 && c >= 0x80) {
        const decoded = utf8Char(bytes, i)
        if (decoded === undefined || decoded.code > 0xffff) {
          if (!skip) return undefined
          i += decoded?.len ?? 1
          continue
        }
        c = decoded.code
        len = decoded.len
      }
      i += len
      out += jsonChar(c)
    }
    return out
  }
}

const JSON_ESCAPES: Readonly<Record<number, string>> = { 0x22: '\\"', 0x5c: '\\\\', 0x2f: '\\/', 0x08: '\\b',
  0x0c: '\\f', 0x0d: '\\r', 0x0a: '\\n', 0x09: '\\t' }

function jsonChar (c: number): string {
  const esc = JSON_ESCAPES[c]
  if (esc !== undefined) return esc
  if (c < 0x20 || c > 0x7e) return `\\u${c.toString(16).padStart(4, '0')}`
  return String.fromCharCode(c)
}

/** One UTF-8 character at `i` in its shortest form, or undefined for a bad sequence. */
function utf8Char (b: Buffer, i: number): { code: number, len: number } | undefined {
  const first = b[i] as number
  const len = first >= 0xf0 && first <= 0xf4 ? 4 : first >= 0xe0 ? 3 : first >= 0xc2 && first <= 0xdf ? 2 : 0
  if (len === 0 || i + len > b.length) return undefined
  let code = first & (0xff >> (len + 1))
  for (let k = 1; k < len; k++) {
    const cont = b[i + k] as number
    if ((cont & 0xc0) !== 0x80) return undefined
    code = (code << 6) | (cont & 0x3f)
  }
  const min = [0, 0, 0x80, 0x800, 0x10000][len] as number
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined
  return { code, len }
}

/** `iif(TRUE,FALSE)`: the input as a boolean (a non-zero integer). */
export function iif (whenTrue: string, whenFalse: string): Converter {
  return v => leadingInt(v) !== 0 ? whenTrue : whenFalse
}

/** `add_item(DELIM[,VAR[,SUFFIX]])`: appends the variable and the suffix, DELIM between items. */
export function addItem (delimiter: string, variable: string | undefined, suffix: string): Converter {
  return (v, vars) => {
    const held = variable === undefined || variable === '' ? '' : vars?.(variable) ?? ''
    const sep = v !== '' && (held !== '' || suffix !== '') ? delimiter : ''
    return v + sep + held + suffix
  }
}
