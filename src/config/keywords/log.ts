/**
 * `log TARGET [len N] [format F] [sample RANGES:SIZE] FACILITY [LEVEL [MINLEVEL]]`, in `global`
 * and in proxies.
 */
import type { Location, LogTarget } from '../model.ts'
import { parseAddress, parseInteger } from '../values.ts'
import { ValueError } from '../errors.ts'

export const FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'auth2',
  'ftp', 'ntp', 'audit', 'alert', 'cron2', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6',
    'local7']
export const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']
/** HAProxy 2.6's `log … format` names. */
export const LOG_FORMATS = ['rfc3164', 'local', 'rfc5424', 'priority', 'short', 'timed', 'iso', 'raw'] as const
export type LogFormat = typeof LOG_FORMATS[number]

function isLogFormat (f: string): f is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(f)
}

/** `sample RANGES:SIZE`: within each group of SIZE lines, the 1-based positions RANGES are sent. */
function parseSample (text: string): NonNullable<LogTarget['sample']> {
  const m = /^([\d,-]+):(\d+)$/.exec(text)
  const size = m === null ? NaN : Number(m[2])
  if (m === null || !(size >= 1)) throw new ValueError(
    `'log … sample' expects RANGES:SIZE (e.g. 1-3,5:10), got '${text}'`)
  const ranges = (m[1] as string).split(',').map(r => {
    const [a, b = a] = r.split('-')
    const lo = Number(a)
    const hi = Number(b)
    if (!(lo >= 1) || !(hi >= lo) || hi > size) throw new ValueError(
      `'log … sample': range '${r}' must lie within 1..${size}`)
    return [lo, hi] as const
  })
  return { ranges, size }
}

export function parseLogTarget (args: readonly string[], loc: Location): LogTarget {
  const words = [...args]
  const target = words.shift()
  if (target === undefined) throw new ValueError(
    "'log' expects a target (address, /dev/log, stdout, stderr) and a facility")
  if (target !== 'stdout' && target !== 'stderr' && !target.startsWith('/') && !target.startsWith('unix@')) {
    const udp = target.replace(/^udp[46]?@/, '')
    parseAddress(udp.includes(':') || udp.startsWith('[') ? udp : `${udp}:514`, 'log target', true)
  }
  let format: LogFormat | undefined
  let len: number | undefined
  let sample: LogTarget['sample']
  while (words[0] === 'len' || words[0] === 'format' || words[0] === 'sample') {
    const option = words.shift()
    const value = words.shift()
    if (value === undefined) throw new ValueError(`'log': '${option ?? ''}' expects a value`)
    if (option === 'len') len = parseInteger(value, 'log len', 80, 65535)
    else if (option === 'sample') sample = parseSample(value)
    else if (isLogFormat(value)) format = value
    else throw new ValueError(`'log': unknown format '${value}' (${LOG_FORMATS.join(', ')})`)
  }
  const [facility, level, minLevel, extra] = words
  if (facility === undefined || !FACILITIES.includes(facility)) throw new ValueError(
    `'log': unknown facility '${facility ?? ''}' (${FACILITIES.join(', ')})`)
  for (const l of [level, minLevel]) {
    if (l !== undefined && !LEVELS.includes(l)) throw new ValueError(
      `'log': unknown level '${l}' (${LEVELS.join(', ')})`)
  }
  if (extra !== undefined) throw new ValueError(`'log': unexpected '${extra}'`)
  return { target, facility, level, minLevel, format, len, sample, loc }
}
