/**
 * Logging through pino: JSON lines for journald and files, readable lines on a terminal.
 * TSLB_LOG_LEVEL (trace, debug, info, warn, error) sets the level; TSLB_LOG_FORMAT=json|pretty forces a format.
 */
import { pino, type Logger } from 'pino'
import pretty from 'pino-pretty'

export type { Logger }

export function createLogger (name = 'tslb', destination: NodeJS.WritableStream = process.stdout): Logger {
  const level = process.env.TSLB_LOG_LEVEL ?? 'info'
  const format = process.env.TSLB_LOG_FORMAT ?? ((destination as { isTTY?: boolean }).isTTY === true ?
    'pretty' : 'json')
  const options = { name, level, base: { pid: process.pid } }
  if (format === 'pretty') {
    return pino(options, pretty({ destination, sync: true, colorize: true, ignore: 'pid,hostname',
      translateTime: 'SYS:HH:MM:ss.l' }))
  }
  return pino(options, destination)
}
