/**
 * Parses a command's arguments against its table in commands.ts; every mistake is one line that
 * names the command's `--help`.
 */
import { parseArgs } from 'node:util'
import { UsageError } from '../util/errors.ts'
import type { OptionSpec } from './commands.ts'

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>
  readonly positionals: readonly string[]
}

type ParseArgsOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options']

/** `who` is how the command is named in messages: 'tslb check', or 'tslb' for the top level. */
export function parseCommandArgs (who: string, argv: readonly string[], options: readonly OptionSpec[],
  maxPositionals: number): ParsedArgs {
  const spec: ParseArgsOptions = {}
  for (const o of options) spec[o.name] = { type: o.type, ...(o.short === undefined ? {} : { short: o.short }),
    ...(o.multiple === true ? { multiple: true } : {}) }
  let parsed: ParsedArgs
  try {
    parsed = parseArgs({ args: [...argv], options: spec, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(`${who}: ${describeParseError(err)} (see '${who} --help')`)
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(
      `${who}: unexpected argument '${parsed.positionals.slice(maxPositionals).join(' ')}' (see '${who} --help')`)
  }
  return parsed
}

function describeParseError (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  const code = (err as { code?: unknown }).code
  const quoted = /'([^']+)'/.exec(message)?.[1]
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted !== undefined) return `unknown option '${quoted}'`
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = (quoted ?? '?').replace(' <value>', '')
    return /argument missing/.test(message) ? `option '${name}' expects a value` : `option '${name}' takes no value`
  }
  return message.split('\n')[0] ?? message
}

export function stringValues (v: ParsedArgs['values'][string]): string[] {
  if (v === undefined) return []
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string')
}

export function stringValue (v: ParsedArgs['values'][string]): string | undefined {
  return stringValues(v).at(-1)
}

export function flag (v: ParsedArgs['values'][string]): boolean {
  return v === true || (Array.isArray(v) && v.length > 0)
}
