/** A string sample as an integer, as HAProxy casts it: its leading decimal digits (after blanks), else 0. */
export function leadingInt (v: string): number {
  const m = /^\s*[-+]?\d+/.exec(v)
  return m === null ? 0 : Math.trunc(Number(m[0]))
}

/**
 * A sample converter: one sample to another, undefined when it fails (HAProxy's converter
 * returning 0). `vars` reads a variable (`txn.name`) for the converters that take one (concat,
 * strcmp, secure_memcmp, hmac, add_item).
 */
export type Converter = (value: string, vars?: (name: string) => string | undefined) => string | undefined
