/**
 * The protocol checks HAProxy 2.6 builds from `option redis-check`, `option smtpchk`,
 * `option pgsql-check`, `option mysql-check` and `option ldap-check` (its tcpcheck.c rule sets):
 * what is sent, and the verdict with HAProxy's status and info text. Pure: bytes in, a next message or a verdict out.
 */
import { Buffer } from 'node:buffer'
import type { ProbeOutcome } from './status.ts'

export type ExchangeName = 'redis-check' | 'smtpchk' | 'pgsql-check' | 'mysql-check' | 'ldap-check'
export const EXCHANGE_NAMES: readonly ExchangeName[] = ['redis-check', 'smtpchk', 'pgsql-check', 'mysql-check',
  'ldap-check']

/** What to do after reading: send more, give the verdict, or (neither) wait for more bytes. */
export interface ExchangeStep {
  readonly send?: Buffer
  readonly outcome?: ProbeOutcome
}

export interface Exchange {
  /** Sent once connected (undefined: the server speaks first). */
  readonly greeting: Buffer | undefined
  /** Everything received since the last step; `ended`: the server closed. */
  onData (received: Buffer, ended: boolean): ExchangeStep
}

/** The first line, without its CRLF (HAProxy's `res.payload(0,0),cut_crlf`). */
function firstLine (b: Buffer): string {
  const text = b.toString('latin1')
  const end = text.search(/[\r\n]/)
  return end < 0 ? text : text.slice(0, end)
}

function redis (): Exchange {
  return {
    greeting: Buffer.from('*1\r\n$4\r\nPING\r\n'),
    onData (received, ended) {
      if (received.toString('latin1').startsWith('+PONG\r\n')) return { outcome: { status: 'L7OK', code: 0,
        desc: 'Redis server is ok' } }
      if (!ended && !received.includes('\n')) return {}
      return { outcome: { status: 'L7STS', code: 0, desc: firstLine(received) } }
    }
  }
}

/**
 * `option smtpchk [HELO|EHLO domain]`: banner 2xx, then HELO/EHLO answered 2xx (a multi-line answer's first line is the
 * info).
 */
function smtp (args: readonly string[]): Exchange {
  const command = args.length === 2 ? `${args[0] ?? 'HELO'} ${args[1] ?? ''}` : 'HELO localhost'
  let helloSent = false
  const judgeReply = (received: Buffer, ended: boolean, last: boolean): ExchangeStep => {
    if (!ended && !received.includes('\n')) return {}
    const line = firstLine(received)
    if (!/^[0-9]{3}([ \r-]|$)/.test(line)) return { outcome: { status: 'L7RSP', code: 0, desc: line } }
    const code = Number(line.slice(0, 3))
    const info = line.slice(4).replace(/^ +/, '')
    if (!line.startsWith('2')) return { outcome: { status: 'L7STS', code, desc: info } }
    if (!last) return {}
    return { outcome: { status: 'L7OK', code, desc: info } }
  }
  return {
    greeting: undefined,
    onData (received, ended) {
      const step = judgeReply(received, ended, helloSent)
      if (step.outcome !== undefined || helloSent) return step
      if (!ended && !received.includes('\n')) return {}
      helloSent = true
      return { send: Buffer.from(`${command}\r\n`) }
    }
  }
}

/** PostgreSQL StartupMessage (protocol 3.0) for `user`, as HAProxy sends it. */
export function pgsqlStartup (user: string): Buffer {
  const body = Buffer.concat([Buffer.from([0, 3, 0, 0]), Buffer.from(`user\0${user}\0\0`, 'latin1')])
  const len = Buffer.alloc(4)
  len.writeUInt32BE(body.length + 4)
  return Buffer.concat([len, body])
}

/** `option pgsql-check user NAME`: 'R' with authentication OK is up; an ErrorResponse's first field is the info. */
function pgsql (args: readonly string[]): Exchange {
  return {
    greeting: pgsqlStartup(args[1] ?? ''),
    onData (received, ended) {
      if (received.length < 9 && !ended) return {}
      if (received[0] === 0x52 && received.subarray(1, 9).equals(Buffer.from([0, 0, 0, 8, 0, 0, 0,
        0]))) return { outcome: { status: 'L7OK', code: 0, desc: 'PostgreSQL server is ok' } }
      if (received[0] === 0x45) {
        const nul = received.indexOf(0, 6)
        return { outcome: { status: 'L7RSP', code: 0, desc: received.subarray(6,
          nul < 0 ? received.length : nul).toString('latin1') } }
      }
      return { outcome: { status: 'L7STS', code: 0, desc: 'PostgreSQL unknown error' } }
    }
  }
}

/**
 * The client authentication packet `option mysql-check user NAME [post-41|pre-41]` sends at once
 * (HAProxy's mysql41_req / mysql40_req): the login, then COM_QUIT.
 */
export function mysqlLogin (user: string, pre41: boolean): Buffer {
  const name = Buffer.from(user, 'latin1')
  const body = pre41 ? Buffer.from('0080000001', 'hex')
    : Buffer.concat([Buffer.from('008200000080000121', 'hex'), Buffer.alloc(23)])
  const length = body.length + name.length + 2
  const header = Buffer.from([length & 0xff, (length >> 8) & 0xff, (length >> 16) & 0xff, 1])
  return Buffer.concat([header, body, name, Buffer.from('00000100000001', 'hex')])
}

/** A NUL-terminated string at `at`, as HAProxy copies it into the check's info. */
function cString (b: Buffer, at: number): string {
  const end = b.indexOf(0, at)
  return b.subarray(at, end < 0 ? b.length : end).toString('latin1')
}

/**
 * tcpcheck_mysql_expect_packet(): the packet at `offset` is complete (else wait, or L7RSP at the
 * end), an error packet (0xff) is L7STS with its code and message, anything else is good.
 */
function mysqlPacket (b: Buffer, offset: number, ended: boolean): ExchangeStep | 'ok' {
  const length = b.length >= offset + 3 ? b.readUIntLE(offset, 3) : 0
  if (b.length < offset + 4 || b.length < offset + 4 + length) {
    return ended ? { outcome: { status: 'L7RSP', code: 0, desc: '' } } : {}
  }
  if (b[offset + 4] === 0xff) {
    return { outcome: { status: 'L7STS', code: b.length >= offset + 7 ? b.readUInt16LE(offset + 5) : 0,
      desc: cString(b, offset + 7) } }
  }
  return 'ok'
}

/**
 * `option mysql-check [user NAME [post-41|pre-41]]`: the server's initial handshake (its version
 * is the info); with a user, the login is sent at once and the answer after the handshake must
 * not be an error packet.
 */
function mysql (args: readonly string[]): Exchange {
  const user = args[0] === 'user' ? args[1] : undefined
  return {
    greeting: user === undefined ? undefined : mysqlLogin(user, args[2] === 'pre-41'),
    onData (received, ended) {
      const handshake = mysqlPacket(received, 0, ended)
      if (handshake !== 'ok') return handshake
      const ok = { outcome: { status: 'L7OK' as const, code: 0, desc: cString(received, 5) } }
      if (user === undefined) return ok
      const answer = mysqlPacket(received, 4 + received.readUIntLE(0, 3), ended)
      return answer === 'ok' ? ok : answer
    }
  }
}

/** LDAPv3 simple bind of the anonymous user, as `option ldap-check` sends it. */
const LDAP_BIND_REQUEST = Buffer.from('300C020101600702010304008000', 'hex')
const NOT_LDAP = { outcome: { status: 'L7RSP' as const, code: 0, desc: 'Not LDAPv3 protocol' } }

/** `option ldap-check`: a BindResponse with messageID 1 and resultCode 0 is up (tcpcheck_ldap_expect_bindrsp). */
function ldap (): Exchange {
  return {
    greeting: LDAP_BIND_REQUEST,
    onData (b, ended) {
      if (b.length < 14 && !ended) return {}
      if (b[0] !== 0x30) return NOT_LDAP
      const tooShort = ended ? { outcome: { status: 'L7RSP' as const, code: 0, desc: '' } } : {}
      const sizeByte = b[1] ?? 0
      const sizeBytes = (sizeByte & 0x80) !== 0 ? sizeByte & 0x7f : 0
      if (b.length < 1 + sizeBytes) return tooShort
      let length: number
      if (sizeBytes === 0) length = sizeByte
      else if (sizeBytes === 4) length = b.readUInt32BE(2)
      else if (sizeBytes === 2) length = b.readUInt16BE(2)
      else return NOT_LDAP
      if (b.length < 2 + sizeBytes + length) return tooShort
      let at = 2 + sizeBytes
      if (!b.subarray(at, at + 4).equals(Buffer.from([0x02, 0x01, 0x01, 0x61]))) return NOT_LDAP
      at += 4
      const bindSize = b[at] ?? 0
      at += 1 + ((bindSize & 0x80) !== 0 ? bindSize & 0x7f : 0)
      if (b[at] !== 0x0a || b[at + 1] !== 0x01) return NOT_LDAP
      const code = b[at + 2] ?? 0
      if (code !== 0) return { outcome: { status: 'L7STS', code,
        desc: 'See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9' } }
      return { outcome: { status: 'L7OK', code: 0, desc: 'Success' } }
    }
  }
}

export function newExchange (name: ExchangeName, args: readonly string[]): Exchange {
  switch (name) {
    case 'redis-check': return redis()
    case 'smtpchk': return smtp(args)
    case 'pgsql-check': return pgsql(args)
    case 'mysql-check': return mysql(args)
    case 'ldap-check': return ldap()
  }
}
