/**
 * Logging through pino: JSON lines for journald and files, readable lines on a terminal.
 * TSLB_LOG_LEVEL (trace, debug, info, warn, error) sets the level; TSLB_LOG_FORMAT=json|pretty forces a format.
 *
 * Logging never stops the process: a destination that fails (a closed pipe, a full disk, /dev/full) loses the line
 * and every later one (a Node stream that failed once stays failed), counted in `droppedLogLines()`. A reader that
 * stops reading (a pipe that fills up) costs lines too: past MAX_PENDING bytes waiting in the stream's buffer, lines
 * are dropped until it drains, so memory stays bounded.
 */
import { createRequire } from 'node:module'
import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'
import type PinoPretty from 'pino-pretty'

export type { Logger }

const MAX_PENDING = 4 * 1024 * 1024
let dropped = 0
const guarded = new WeakSet<NodeJS.WritableStream>()

/** Log lines this process could not write since it started. */
export function droppedLogLines (): number {
  return dropped
}

/** Counts a line lost by a log destination of this process that is not a stream (the traffic log's syslog). */
export function countDroppedLogLine (): void {
  dropped++
}

function writeLine (dest: NodeJS.WritableStream, line: string): void {
  const s = dest as NodeJS.WritableStream & { destroyed?: boolean, writableErrored?: unknown,
    writableLength?: number }
  if (s.destroyed === true || (s.writableErrored ?? null) !== null || (s.writableLength ?? 0) > MAX_PENDING) {
    dropped++
    return
  }
  try {
    dest.write(line)
  } catch {
    dropped++
  }
}

/** `dest` as a pino destination that never throws and never emits an unhandled 'error'. */
export function safeDestination (dest: NodeJS.WritableStream): { write (line: string): boolean } {
  if (!guarded.has(dest)) {
    guarded.add(dest)
    // The failed write's line is lost; without a listener the 'error' event would end the process.
    dest.on('error', () => { dropped++ })
  }
  return { write: line => { writeLine(dest, line); return true } }
}

export function createLogger (name = 'tslb', destination: NodeJS.WritableStream = process.stdout): Logger {
  const level = process.env.TSLB_LOG_LEVEL ?? 'info'
  const format = process.env.TSLB_LOG_FORMAT ?? ((destination as { isTTY?: boolean }).isTTY === true ?
    'pretty' : 'json')
  const options = { name, level, base: { pid: process.pid } }
  const safe = safeDestination(destination)
  if (format === 'pretty') {
    const sink = new Writable({ decodeStrings: false, write (chunk: string | Buffer, _enc, cb) {
      safe.write(chunk.toString())
      cb()
    } })
    // Loaded only for a terminal: the supervisor and workers that log JSON never hold it (about 3 MiB each).
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty
    return pino(options, pretty({ destination: sink, sync: true, colorize: true, ignore: 'pid,hostname',
      translateTime: 'SYS:HH:MM:ss.l' }))
  }
  return pino(options, safe)
}
