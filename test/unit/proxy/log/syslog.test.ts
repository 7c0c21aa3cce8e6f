/**
 * The bytes of each `log … format`, against what HAProxy 2.6.12 sent to a unix datagram socket for
 * the same configuration (captured; its pid 27888, tag `mytag`, `log-send-hostname myhost`, an
 * httplog line at info on local0; and the same without a host name).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatLogLine, type SyslogHeader } from '../../../../src/proxy/log/syslog.ts'
import { isErrorOutcome, trafficSeverity } from '../../../../src/proxy/log/policy.ts'
import type { LogTarget } from '../../../../src/config/model.ts'

const MSG = '127.0.0.1:41994 [07/Dec/2026:12:44:05.314] f f/<NOSRV> -1/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 ' +
  '"GET /x HTTP/1.1"'
/** HAProxy's time stamps are local time: the captures were taken in UTC. */
const AT = new Date(2026, 11, 7, 12, 44, 5, 314)
const offset = (): string => {
  const off = -AT.getTimezoneOffset()
  const abs = Math.abs(off)
  return `${off < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

const CAPTURED: Record<NonNullable<LogTarget['format']> | 'default', string> = {
  default: `<134>Dec  7 12:44:05 myhost mytag[27888]: ${MSG}\n`,
  rfc3164: `<134>Dec  7 12:44:05 myhost mytag[27888]: ${MSG}\n`,
  local: `<134>Dec  7 12:44:05 mytag[27888]: ${MSG}\n`,
  priority: `<134>${MSG}\n`,
  short: `<6>${MSG}\n`,
  timed: `<6>2026-12-07T12:44:05.314389+00:00 ${MSG}\n`,
  iso: `2026-12-07T12:44:05.314397+00:00 ${MSG}\n`,
  rfc5424: `<134>1 2026-12-07T12:44:05.314401+00:00 myhost mytag 27888 - - ${MSG}\n`,
  raw: `${MSG}\n`
}
const MICROS: Partial<Record<keyof typeof CAPTURED, number>> = { timed: 389, iso: 397, rfc5424: 401 }

function head (format: LogTarget['format'], hostname: string | undefined, len = 1024): SyslogHeader {
  return { format, facility: 16, tag: 'mytag', pid: 27888, hostname, len }
}

test('every format writes the bytes HAProxy 2.6 writes (log-send-hostname myhost)', () => {
  for (const [name, expected] of Object.entries(CAPTURED)) {
    const format = name === 'default' ? undefined : name as LogTarget['format']
    const got = formatLogLine(head(format, 'myhost'), 6, MSG, AT, MICROS[name as keyof typeof CAPTURED] ?? 0)
    assert.equal(got.toString(), expected.replace('+00:00', offset()), name)
  }
})

test('without log-send-hostname: none in the default format, "localhost" in rfc3164, "-" in rfc5424', () => {
  // HAProxy 2.6.12, `log unix@… local0` / `format rfc3164` / `format rfc5424`, tag haproxy, pid 25755.
  const h = (format: LogTarget['format']): SyslogHeader => ({ ...head(format, undefined), tag: 'haproxy', pid: 25755 })
  assert.equal(formatLogLine(h(undefined), 6, 'm', AT).toString(), '<134>Dec  7 12:44:05 haproxy[25755]: m\n')
  assert.equal(formatLogLine({ ...h('rfc3164'), facility: 18 }, 6, 'm', AT).toString(),
    '<150>Dec  7 12:44:05 localhost haproxy[25755]: m\n')
  assert.equal(formatLogLine(h('rfc5424'), 6, 'm', AT, 955).toString(),
    `<134>1 2026-12-07T12:44:05.314955${offset()} - haproxy 25755 - - m\n`)
})

test('len cuts header and message to N bytes, then the newline (HAProxy 2.6, len 80: 81 bytes)', () => {
  const got = formatLogLine({ ...head(undefined, 'vm'), tag: 'haproxy', pid: 26629, len: 80 }, 6,
    '127.0.0.1:53904 [07/Dec/2026:12:43:50.657] f f/<NOSRV> -1/-1/-1/-1/0 503 217', new Date(2026, 11, 7, 12, 43, 50))
  assert.equal(got.toString(), '<134>Dec  7 12:43:50 vm haproxy[26629]: 127.0.0.1:53904 [07/Dec/2026:12:43:50.65\n')
  assert.equal(got.length, 81)
})

test('dontlog-normal and log-separate-errors follow strm_log(): termination, retries, status ≥ 500', () => {
  assert.equal(isErrorOutcome({ termination: '----', retries: 0, status: 200 }), false)
  assert.equal(isErrorOutcome({ termination: 'LR--', retries: 0, status: 200 }), false)
  assert.equal(isErrorOutcome({ termination: '----', retries: 1, status: 200 }), true)
  assert.equal(isErrorOutcome({ termination: '----', retries: 0, status: 503 }), true)
  assert.equal(isErrorOutcome({ termination: 'cD', retries: 0 }), true)
  assert.equal(isErrorOutcome({ termination: 'SC--', retries: 0, status: 503 }), true)
  const normal = { termination: '--', retries: 0 }
  const error = { termination: 'CD', retries: 0 }
  assert.equal(trafficSeverity(undefined, normal), 6)
  assert.equal(trafficSeverity({ dontLogNormal: true, separateErrors: false }, normal), undefined)
  assert.equal(trafficSeverity({ dontLogNormal: true, separateErrors: false }, error), 6)
  assert.equal(trafficSeverity({ dontLogNormal: false, separateErrors: true }, normal), 6)
  assert.equal(trafficSeverity({ dontLogNormal: true, separateErrors: true }, error), 3)
})
