/**
 * keepalived 2.2's track files (keepalived/trackers/track_file.c): a number written to a file
 * moves the priority of the instances tracking it, or puts them in FAULT. The file is read at
 * start and whenever it is written, moved in or removed (inotify on its directory through
 * fs.watch, as keepalived; a removed or empty file counts as 0).
 */
import { EventEmitter } from 'node:events'
import { existsSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { VrrpTrackFile } from '../config/model.ts'
import type { Logger } from '../util/log.ts'

const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

/**
 * The value of a track file's text as keepalived's strtol(buf, NULL, 0) reads its first 127
 * bytes: blanks, a sign, `0x` hex or `0` octal, trailing text ignored, no digits = 0. Undefined
 * for a number outside int32 (keepalived logs "Invalid number" and keeps the previous value).
 */
export function parseTrackFileValue (text: string): number | undefined {
  const m = /^[\s]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text.slice(0, 127))
  if (m === null) return 0
  const digits = m[2] as string
  const radix = /^0[xX]/.test(digits) ? 16 : digits.length > 1 && digits.startsWith('0') ? 8 : 10
  const magnitude = parseInt(radix === 16 ? digits.slice(2) : digits, radix)
  const value = m[1] === '-' ? -magnitude : magnitude
  return value < INT32_MIN || value > INT32_MAX + 1 ? undefined : value
}

/**
 * What a track file contributes (keepalived process_update_vrrp_track_file_status): with weight
 * 0 a non-zero value is FAULT (`reverse`: a zero value is); otherwise value × weight (× −1 with
 * `reverse`), FAULT at −254 or below, at most 253.
 */
export function trackFileContribution (value: number, weight: number, reverse: boolean): number | 'fault' {
  if (weight === 0) return (value !== 0) === !reverse ? 'fault' : 0
  const v = value * weight * (reverse ? -1 : 1)
  if (v <= -254) return 'fault'
  return Math.min(253, v)
}

/** One track file, shared by the instances tracking it. Emits `change` with the new value. */
export class FileTracker extends EventEmitter<{ change: [number] }> {
  readonly spec: VrrpTrackFile
  readonly #log: Logger
  #value = 0
  #watcher: FSWatcher | undefined
  #poll: NodeJS.Timeout | undefined

  constructor (spec: VrrpTrackFile, log: Logger) {
    super()
    this.spec = spec
    this.#log = log
  }

  get value (): number { return this.#value }

  /** init_file, the first read, then the watch on the directory (a 1 s poll if it cannot be watched). */
  start (): void {
    const path = this.spec.file as string
    const init = this.spec.init
    if (init !== undefined && (init.overwrite || !existsSync(path))) {
      try {
        writeFileSync(path, `${init.value}\n`)
      } catch (err) {
        this.#log.error({ file: path, err: errText(err) }, 'track file: cannot write init_file value')
      }
    }
    this.#value = this.#read() ?? 0
    try {
      this.#watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
        if (name === null || name === basename(path)) this.#update()
      })
      this.#watcher.on('error', err => {
        this.#log.warn({ file: path, err: err.message }, 'track file: watch failed, polling every second')
        this.#startPolling()
      })
    } catch (err) {
      this.#log.warn({ file: path, err: errText(err) }, 'track file: cannot watch its directory, polling every second')
      this.#startPolling()
    }
  }

  stop (): void {
    this.#watcher?.close()
    this.#watcher = undefined
    clearInterval(this.#poll)
    this.#poll = undefined
  }

  status (): { readonly name: string, readonly file: string, readonly value: number, readonly weight: number } {
    return { name: this.spec.name, file: this.spec.file as string, value: this.#value, weight: this.spec.weight }
  }

  #startPolling (): void {
    this.#watcher?.close()
    this.#watcher = undefined
    this.#poll ??= setInterval(() => { this.#update() }, 1000)
  }

  #update (): void {
    const v = this.#read()
    if (v === undefined || v === this.#value) return
    this.#log.info({ file: this.spec.file, value: v, previous: this.#value }, `tracked file ${this.spec.name} now ${v}`)
    this.#value = v
    this.emit('change', v)
  }

  /** The file's value; 0 when it is missing or empty; undefined when invalid (keep the last one). */
  #read (): number | undefined {
    let text: string
    try {
      text = readFileSync(this.spec.file as string, 'utf8')
    } catch {
      return 0
    }
    const v = parseTrackFileValue(text)
    if (v === undefined) this.#log.warn({ file: this.spec.file },
      `Invalid number read from ${String(this.spec.file)} - ignoring`)
    return v
  }
}

function errText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
