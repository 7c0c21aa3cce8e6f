/**
 * `log TARGET [len N] [format F] FACILITY [LEVEL [MINLEVEL]]`, in `global` and in proxies.
 */
import type { Location, LogTarget } from '../model.ts'
import { parseAddress } from '../values.ts'
import { ValueError } from '../errors.ts'

export const FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'auth2',
  'ftp', 'ntp', 'audit', 'alert', 'cron2', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6',
    'local7']
export const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']

export function parseLogTarget (args: readonly string[], loc: Location): LogTarget {
  const words = [...args]
  const target = words.shift()
  if (target === undefined) throw new ValueError(
    "'log' expects a target (address, /dev/log, stdout, stderr) and a facility")
  if (target !== 'stdout' && target !== 'stderr' && !target.startsWith('/') && !target.startsWith('unix@')) {
    const udp = target.replace(/^udp[46]?@/, '')
    parseAddress(udp.includes(':') || udp.startsWith('[') ? udp : `${udp}:514`, 'log target', true)
  }
  while (words[0] === 'len' || words[0] === 'format' || words[0] === 'sample') {
    words.shift()
    if (words.shift() === undefined) throw new ValueError("'log': option expects a value")
  }
  const [facility, level, minLevel, extra] = words
  if (facility === undefined || !FACILITIES.includes(facility)) throw new ValueError(
    `'log': unknown facility '${facility ?? ''}' (${FACILITIES.join(', ')})`)
  for (const l of [level, minLevel]) {
    if (l !== undefined && !LEVELS.includes(l)) throw new ValueError(
      `'log': unknown level '${l}' (${LEVELS.join(', ')})`)
  }
  if (extra !== undefined) throw new ValueError(`'log': unexpected '${extra}'`)
  return { target, facility, level, minLevel, loc }
}
