/**
 * Errors of the stick-table store. Every code is stable (`TSLB_ERR_STICK_*`): callers, logs and
 * tests match on it. Normal outcomes are not errors: a key that does not fit the table type is
 * `undefined` from `normalizeKey()`, a full `nopurge` table makes creation return `undefined`.
 * @module
 */
import { TslbError } from '../util/errors.ts'

export const STICK_ERROR_CODES = {
  /** A `StickTableSpec` the store cannot honour (unknown data type, bad count/period, size). */
  SPEC: 'TSLB_ERR_STICK_SPEC',
  /** A data type the table does not store, or used with the wrong accessor (rate vs counter). */
  DATA_TYPE: 'TSLB_ERR_STICK_DATA_TYPE',
  /** An array index outside the configured element count. */
  INDEX: 'TSLB_ERR_STICK_INDEX',
  /** A `StickEntry` used after its entry was deleted, expired or evicted. */
  STALE_ENTRY: 'TSLB_ERR_STICK_STALE_ENTRY',
  /** A key the table type cannot hold (`getOrCreate`/`update`/`applyRemote` given an invalid key). */
  KEY: 'TSLB_ERR_STICK_KEY'
} as const

export type StickErrorCode = typeof STICK_ERROR_CODES[keyof typeof STICK_ERROR_CODES]

export class StickError extends TslbError {
  declare readonly code: StickErrorCode
  constructor (code: StickErrorCode, message: string) {
    super(code, message)
  }
}

export class StickSpecError extends StickError {
  constructor (table: string, message: string) {
    super(STICK_ERROR_CODES.SPEC, `stick-table '${table}': ${message}`)
  }
}

export class StickDataTypeError extends StickError {
  constructor (table: string, message: string) {
    super(STICK_ERROR_CODES.DATA_TYPE, `stick-table '${table}': ${message}`)
  }
}

export class StickIndexError extends StickError {
  constructor (table: string, name: string, idx: number, count: number) {
    super(STICK_ERROR_CODES.INDEX, `stick-table '${table}': '${name}' index ${idx} out of range (0..${count - 1})`)
  }
}

export class StickStaleEntryError extends StickError {
  constructor (table: string) {
    super(STICK_ERROR_CODES.STALE_ENTRY, `stick-table '${table}': entry used after it was removed`)
  }
}

export class StickKeyError extends StickError {
  constructor (table: string, type: string, key: unknown) {
    super(STICK_ERROR_CODES.KEY, `stick-table '${table}': ${describeKey(key)} is not a valid ${type} key`)
  }
}

function describeKey (key: unknown): string {
  if (typeof key === 'string') return `'${key}'`
  if (typeof key === 'number' || typeof key === 'bigint') return String(key)
  if (key instanceof Uint8Array) return `${key.length}-byte buffer`
  return typeof key
}
