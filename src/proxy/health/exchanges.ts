/**
 * The protocol checks HAProxy 2.6 builds from `option redis-check`, `option smtpchk` and
 * `option pgsql-check` (its tcpcheck.c rule sets): what is sent, and the verdict with HAProxy's
 * status and info text. Pure: bytes in, a next message or a verdict out.
 */
import { Buffer } from 'node:buffer'
import type { ProbeOutcome } from './status.ts'

export type ExchangeName = 'redis-check' | 'smtpchk' | 'pgsql-check'
export const EXCHANGE_NAMES: readonly ExchangeName[] = ['redis-check', 'smtpchk', 'pgsql-check']

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

export function newExchange (name: ExchangeName, args: readonly string[]): Exchange {
  switch (name) {
    case 'redis-check': return redis()
    case 'smtpchk': return smtp(args)
    case 'pgsql-check': return pgsql(args)
  }
}
