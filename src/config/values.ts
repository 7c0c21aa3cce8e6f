/**
 * Parsers for the value syntaxes HAProxy's keywords share: times, sizes, integers, addresses.
 * Each throws ValueError with a message meant to follow "FILE:LINE: ".
 */
import { isIP } from 'node:net'
import type { Address } from './model.ts'
import { ValueError } from './errors.ts'

const TIME_UNITS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
  d: 86_400_000 }

/** HAProxy time: an integer with an optional unit (us, ms, s, m, h, d); milliseconds by default. */
/**
 * HAProxy's name rule for proxies, servers and other sections: letters, digits, '-', '_', '.', ':'. Anything else
 * could break the `;`-separated CSV stats, Prometheus labels or log lines that carry the name.
 */
export function checkName (what: string, name: string | undefined): asserts name is string {
  if (name === undefined || !/^[A-Za-z0-9_.:-]+$/.test(name)) {
    throw new ValueError(`${what} expects a name (letters, digits, '_', '.', ':' and '-'), got '${name ?? ''}'`)
  }
}

export function parseTime (text: string | undefined, what = 'time'): number {
  const m = text === undefined ? null : /^(\d{1,12})(us|ms|s|m|h|d)?$/.exec(text)
  if (m === null) throw new ValueError(`${what}: expected a time such as 5000, 5s or 1m, got '${text ?? ''}'`)
  const ms = Number(m[1]) * (TIME_UNITS[m[2] ?? 'ms'] ?? 1)
  if (ms > 2_147_483_647) throw new ValueError(`${what}: '${text}' is too large (at most 24.8 days)`)
  return ms
}

/** A time in seconds with an optional fraction, as keepalived writes advert_int: `1`, `0.1`. */
export function parseSeconds (text: string | undefined, what: string): number {
  if (text === undefined || !/^\d{1,6}(\.\d{1,3})?$/.test(text)) throw new ValueError(
    `${what}: expected seconds such as 1 or 0.5, got '${text ?? ''}'`)
  return Math.round(Number(text) * 1000)
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

/** HAProxy size: an integer with an optional k, m or g suffix. */
export function parseSize (text: string | undefined, what = 'size'): number {
  const m = text === undefined ? null : /^(\d{1,12})([kmgKMG]?)$/.exec(text)
  if (m === null) throw new ValueError(`${what}: expected a size such as 1000, 100k or 1m, got '${text ?? ''}'`)
  return Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1)
}

export function parseInteger (text: string | undefined, what: string, min: number, max: number): number {
  if (text === undefined || !/^-?\d{1,15}$/.test(text)) throw new ValueError(
    `${what}: expected an integer, got '${text ?? ''}'`)
  const n = Number(text)
  if (n < min || n > max) throw new ValueError(`${what}: ${n} is out of range (${min}..${max})`)
  return n
}

export function parsePort (text: string, what: string): number {
  return parseInteger(text, what, 1, 65535)
}

/** HAProxy's longest unix socket path (sun_path less the terminating NUL). */
const MAX_UNIX_PATH = 107

/** A server's unix socket address (`/path`, `unix@/path`, `abns@NAME`), or undefined for another form. */
export function parseUnixServerAddress (text: string, what: string): Address | undefined {
  let path: string
  if (text.startsWith('abns@')) path = `\0${text.slice('abns@'.length)}`
  else if (text.startsWith('unix@')) path = text.slice('unix@'.length)
  else if (text.startsWith('/')) path = text
  else return undefined
  if (path === '' || path === '\0') throw new ValueError(`${what}: '${text}' names no socket`)
  if (!path.startsWith('\0') && !path.startsWith('/')) throw new ValueError(
    `${what}: a unix socket path must be absolute, got '${path}'`)
  if (Buffer.byteLength(path) > MAX_UNIX_PATH) throw new ValueError(
    `${what}: unix socket path '${path}' is longer than ${MAX_UNIX_PATH} bytes`)
  return { host: '', family: 0, port: undefined, portEnd: undefined, path }
}

/** `fd@N`: listen on file descriptor N inherited from the parent (VTest, systemd socket activation). */
export function parseListenAddress (text: string, what: string): Address {
  const fd = /^fd@(\d+)$/.exec(text)
  if (fd !== null) return { host: '', family: 0, port: undefined, portEnd: undefined, fd: parseInteger(fd[1],
    `${what} fd`, 0, 65535) }
  if (text.startsWith('fd@')) throw new ValueError(`${what}: expected fd@ and a file descriptor number, got '${text}'`)
  return parseAddress(text, what, true)
}

/**
 * An address as HAProxy writes it: `1.2.3.4:80`, `*:80`, `:80`, `[::1]:80`, `ipv6@::1:80`,
 * `ipv4@…`, a port range `80-85`, or a host without port when `portRequired` is false.
 * Host names are refused, except with `allowHostName` (server addresses): those are kept in
 * `hostName` and resolved when the configuration is loaded.
 */
export function parseAddress (text: string, what: string, portRequired: boolean, allowHostName = false): Address {
  let rest = text
  let forced: 4 | 6 | 0 = 0
  const prefix = /^(ipv4|ipv6)@/.exec(rest)
  if (prefix !== null) {
    forced = prefix[1] === 'ipv4' ? 4 : 6
    rest = rest.slice(prefix[0].length)
  } else if (/^[a-z0-9-]+@/.test(rest)) {
    throw new ValueError(
      `${what}: address family '${rest.slice(0, rest.indexOf('@'))}@' is not supported (use an IPv4 or IPv6 address)`)
  }
  let host: string
  let portText: string | undefined
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']')
    if (close < 0) throw new ValueError(`${what}: missing ']' in '${text}'`)
    host = rest.slice(1, close)
    const after = rest.slice(close + 1)
    if (after !== '' && !after.startsWith(':')) throw new ValueError(
      `${what}: unexpected '${after}' after ']' in '${text}'`)
    portText = after === '' ? undefined : after.slice(1)
  } else {
    // As HAProxy does, the last colon separates the port, IPv6 included (`:::80`).
    const last = rest.lastIndexOf(':')
    host = last < 0 ? rest : rest.slice(0, last)
    portText = last < 0 ? undefined : rest.slice(last + 1)
  }
  if (host === '*') host = ''
  const family = host === '' ? forced : isIP(host)
  if (host !== '' && family === 0 && allowHostName && forced === 0 && HOST_NAME.test(host)) {
    // Resolved once when the configuration is loaded (config/resolve.ts), as HAProxy does at start-up.
    return { ...portsOf(portText, what, portRequired, text), host, family: 0, hostName: host }
  }
  if (host !== '' && family === 0 && allowHostName && forced === 0) {
    throw new ValueError(`${what}: '${host}' is neither an IP address nor a host name`)
  }
  if (host !== '' && family === 0) {
    throw new ValueError(`${what}: '${host}' is not an IP address (host names are not resolved; write the address)`)
  }
  if (forced !== 0 && family !== forced) throw new ValueError(`${what}: '${host}' is not an IPv${forced} address`)
  return { host, family: family as 4 | 6 | 0, ...portsOf(portText, what, portRequired, text) }
}

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/

function portsOf (portText: string | undefined, what: string, portRequired: boolean,
  text: string): { port: number | undefined, portEnd: number | undefined } {
  let port: number | undefined
  let portEnd: number | undefined
  if (portText !== undefined && portText !== '') {
    const range = /^(\d+)-(\d+)$/.exec(portText)
    if (range !== null) {
      port = parsePort(range[1] as string, `${what} port`)
      portEnd = parsePort(range[2] as string, `${what} port`)
      if (portEnd < port) throw new ValueError(`${what}: port range '${portText}' is reversed`)
    } else {
      const offset = /^[+-]\d+$/.test(portText)
      if (offset) throw new ValueError(`${what}: relative ports ('${portText}') are not supported yet`)
      port = parsePort(portText, `${what} port`)
      portEnd = port
    }
  }
  if (portRequired && port === undefined) throw new ValueError(`${what}: missing port in '${text}'`)
  return { port, portEnd }
}

/** `ADDR[/LEN]` or `ADDR MASK`-less network as monitor-net and forwardfor except take it. */
export function parseNetwork (text: string, what: string): string {
  const [addr, len, extra] = text.split('/')
  const family = isIP(addr ?? '')
  if (family === 0 || extra !== undefined) throw new ValueError(
    `${what}: expected an address or network such as 198.18.0.0/15, got '${text}'`)
  if (len !== undefined) {
    const max = family === 4 ? 32 : 128
    if (/^\d{1,3}$/.test(len)) parseInteger(len, `${what} prefix length`, 0, max)
    else if (family !== 4 || isIP(len) !== 4) throw new ValueError(`${what}: invalid prefix length or mask '${len}'`)
  }
  return text
}

export function formatAddress (a: Address): string {
  if (a.fd !== undefined) return `fd@${a.fd}`
  const host = a.host === '' ? '*' : a.family === 6 ? `[${a.host}]` : a.host
  if (a.port === undefined) return host
  return a.portEnd !== undefined && a.portEnd !== a.port ? `${host}:${a.port}-${a.portEnd}` : `${host}:${a.port}`
}
