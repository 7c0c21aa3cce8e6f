/**
 * `tcp-check` lines (HAProxy 2.6): connect, send, send-binary, expect, comment. What tslb does
 * not implement yet (log-format variants, TLS or PROXY on a check connection, variables) is
 * refused with the reason, never ignored.
 */
import { isIP } from 'node:net'
import type { TcpCheckRule } from '../model.ts'
import { ValueError } from '../errors.ts'
import { parseInteger } from '../values.ts'

type ExpectRule = Extract<TcpCheckRule, { type: 'expect' }>

const OK_STATUSES = ['L4OK', 'L6OK', 'L7OK', 'L7OKC'] as const
const ERROR_STATUSES = ['L4CON', 'L6RSP', 'L7RSP', 'L7STS'] as const
const TIMEOUT_STATUSES = ['L4TOUT', 'L6TOUT', 'L7TOUT'] as const

const NOT_YET: Readonly<Record<string, string>> = {
  'send-lf': 'log-format payloads', 'send-binary-lf': 'log-format payloads', 'set-var': 'check variables',
  'unset-var': 'check variables', 'string-lf': 'log-format patterns', 'binary-lf': 'log-format patterns',
  'status-code': 'status-code expressions',
  'send-proxy': 'PROXY protocol on check connections', 'via-socks4': 'SOCKS4 check connections',
  ssl: 'TLS on check connections', sni: 'TLS on check connections', alpn: 'TLS on check connections',
  proto: 'multiplexer protocols on check connections', linger: "'linger' (closing with a reset)"
}

function notYet (what: string): ValueError {
  return new ValueError(`'tcp-check ... ${what}' is not supported by tslb yet (${NOT_YET[what] ?? what})`)
}

function value (args: readonly string[], i: number, what: string): string {
  const v = args[i]
  if (v === undefined) throw new ValueError(`'tcp-check ${what}' expects a value`)
  return v
}

function oneOf<T extends string> (v: string, allowed: readonly T[], what: string): T {
  const hit = allowed.find(a => a === v)
  if (hit === undefined) throw new ValueError(`'${what}' only supports ${allowed.map(a => `'${a}'`).join(', ')} ` +
    `(got '${v}')`)
  return hit
}

function plainText (v: string, what: string): string {
  if (v.includes('%')) throw new ValueError(`'${what}': log-format strings are not supported by tslb yet ` +
    '(write plain text)')
  return v
}

/** HAProxy's hex string for send-binary / expect binary: an even number of hex digits. */
export function hexBytes (hex: string, what: string): string {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) throw new ValueError(
    `'${what}' expects an even number of hexadecimal digits, got '${hex}'`)
  return Buffer.from(hex, 'hex').toString('latin1')
}

function regex (pattern: string, what: string): void {
  try { new RegExp(pattern) } catch { throw new ValueError(`'${what}': invalid regular expression '${pattern}'`) }
}

function parseConnect (args: readonly string[]): TcpCheckRule {
  let port: number | undefined
  let addr: string | undefined
  let comment: string | undefined
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string
    switch (w) {
      case 'default': break
      case 'port': port = parseInteger(value(args, ++i, 'connect port'), 'tcp-check connect port', 1, 65535); break
      case 'addr': {
        const a = value(args, ++i, 'connect addr')
        const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(a)
        const host = isIP(a) !== 0 ? a : m?.[1] ?? ''
        if (isIP(host) === 0) throw new ValueError(`'tcp-check connect addr' expects an IP address, got '${a}'`)
        addr = host
        if (isIP(a) === 0 && m?.[2] !== undefined) port = parseInteger(m[2], 'tcp-check connect addr port', 1, 65535)
        break
      }
      case 'comment': comment = value(args, ++i, 'connect comment'); break
      default:
        if (NOT_YET[w] !== undefined) throw notYet(w)
        throw new ValueError(`'tcp-check connect': unknown argument '${w}' (expected default, port, addr, comment)`)
    }
  }
  return { type: 'connect', port, addr, comment }
}

function parseSend (binary: boolean, args: readonly string[]): TcpCheckRule {
  const kw = binary ? 'send-binary' : 'send'
  const data = args[0]
  if (data === undefined) throw new ValueError(`'tcp-check ${kw}' expects the data to send`)
  let comment: string | undefined
  for (let i = 1; i < args.length; i++) {
    if (args[i] === 'comment') comment = value(args, ++i, `${kw} comment`)
    else throw new ValueError(`'tcp-check ${kw}': unexpected argument '${args[i] ?? ''}' (only 'comment' may follow)`)
  }
  return { type: 'send', data: binary ? hexBytes(data, 'tcp-check send-binary') : data, comment }
}

function parseExpect (args: readonly string[]): ExpectRule {
  let negate = false
  let match: ExpectRule['match'] | undefined
  let pattern = ''
  let minRecv = -1
  let okStatus: ExpectRule['okStatus']
  let errorStatus: ExpectRule['errorStatus']
  let toutStatus: ExpectRule['toutStatus']
  let onSuccess: string | undefined
  let onError: string | undefined
  let comment: string | undefined
  for (let i = 0; i < args.length; i++) {
    let w = args[i] as string
    // HAProxy takes the negation glued to the pattern type too: `!rstring "^error"`.
    if (w.length > 1 && w.startsWith('!') && ['string', 'rstring', 'binary', 'rbinary'].includes(w.slice(1))) {
      negate = true
      w = w.slice(1)
    }
    switch (w) {
      case '!': negate = true; break
      case 'min-recv':
        minRecv = parseInteger(value(args, ++i, 'expect min-recv'), 'tcp-check expect min-recv', -1, 2_147_483_647)
        break
      case 'string': case 'rstring': case 'binary': case 'rbinary':
        if (match !== undefined) throw new ValueError("'tcp-check expect': only one pattern expected")
        match = w
        pattern = value(args, ++i, `expect ${w}`)
        if (w === 'binary') hexBytes(pattern, 'tcp-check expect binary')
        if (w === 'rstring' || w === 'rbinary') regex(pattern, `tcp-check expect ${w}`)
        break
      case 'ok-status': okStatus = oneOf(value(args, ++i, 'expect ok-status'), OK_STATUSES, 'ok-status'); break
      case 'error-status':
        errorStatus = oneOf(value(args, ++i, 'expect error-status'), ERROR_STATUSES, 'error-status')
        break
      case 'tout-status':
        toutStatus = oneOf(value(args, ++i, 'expect tout-status'), TIMEOUT_STATUSES, 'tout-status')
        break
      case 'on-success': onSuccess = plainText(value(args, ++i, 'expect on-success'), 'on-success'); break
      case 'on-error': onError = plainText(value(args, ++i, 'expect on-error'), 'on-error'); break
      case 'comment': comment = value(args, ++i, 'expect comment'); break
      default:
        if (NOT_YET[w] !== undefined) throw notYet(w)
        throw new ValueError(`'tcp-check expect': unknown argument '${w}' (expected [min-recv N] [ok-status S] ` +
          '[error-status S] [tout-status S] [on-success TEXT] [on-error TEXT] [comment TEXT] [!] ' +
          'string|rstring|binary|rbinary PATTERN)')
    }
  }
  if (match === undefined) throw new ValueError("'tcp-check expect' expects a matching pattern " +
    '([!] string|rstring|binary|rbinary PATTERN)')
  return { type: 'expect', negate, match, pattern, minRecv, okStatus, errorStatus, toutStatus, onSuccess, onError,
    comment }
}

/** One `tcp-check ...` line. */
export function parseTcpCheck (args: readonly string[]): TcpCheckRule {
  const [action, ...rest] = args
  switch (action) {
    case 'connect': return parseConnect(rest)
    case 'send': return parseSend(false, rest)
    case 'send-binary': return parseSend(true, rest)
    case 'expect': return parseExpect(rest)
    case 'comment': return { type: 'comment', comment: value(rest, 0, 'comment') }
    default: {
      const name = action?.replace(/\(.*$/, '')
      if (name !== undefined && NOT_YET[name] !== undefined) throw notYet(name)
      throw new ValueError("'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary' and 'expect', " +
        `got '${action ?? ''}'`)
    }
  }
}
