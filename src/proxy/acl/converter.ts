/**
 * A sample converter: one sample to another, undefined when it fails (HAProxy's converter
 * returning 0). `vars` reads a variable (`txn.name`) for the converters that take one (concat,
 * strcmp, secure_memcmp, hmac, add_item).
 */
export type Converter = (value: string, vars?: (name: string) => string | undefined) => string | undefined
