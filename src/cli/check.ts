/**
 * `tslb check`: every problem across the -f files as FILE:LINE: message (or one JSON object),
 * and with -L the host checks of host.ts.
 */
import { ConfigError, ConfigReadError, type Diagnostic, formatDiagnostic } from '../util/errors.ts'
import { loadConfig } from '../config/parser.ts'
import type { Config } from '../config/model.ts'
import { gatherHostFacts, hostWarnings } from './host.ts'

export interface CheckOptions {
  readonly paths: readonly string[]
  /** -L as given: the host checks run only when the check is told which node this host is. */
  readonly localPeer: string | undefined
  readonly defaultLocalPeer: string
  readonly json: boolean
  readonly quiet: boolean
}

export interface CheckReport {
  readonly valid: boolean
  readonly files: readonly string[]
  readonly errors: number
  readonly warnings: number
  readonly diagnostics: readonly Diagnostic[]
}

export async function checkConfig (opts: CheckOptions): Promise<CheckReport> {
  let config: Config | undefined
  let diagnostics: readonly Diagnostic[]
  try {
    const result = await loadConfig(opts.paths, { localPeer: opts.localPeer ?? opts.defaultLocalPeer })
    config = result.config
    diagnostics = result.diagnostics
  } catch (err) {
    if (err instanceof ConfigError) diagnostics = err.diagnostics
    else if (err instanceof ConfigReadError) diagnostics = [{ severity: 'error', file: err.file, line: 0,
      message: err.message }]
    else throw err
  }
  if (config !== undefined && opts.localPeer !== undefined) diagnostics = [...diagnostics, ...hostWarnings(config,
    await gatherHostFacts())]
  const errors = diagnostics.filter(d => d.severity === 'error').length
  return { valid: errors === 0, files: config?.files ?? opts.paths, errors, warnings: diagnostics.length - errors,
    diagnostics }
}

/** Writes the report as the user asked; returns the exit status. */
export function printCheck (report: CheckReport, opts: CheckOptions): number {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`)
    return report.valid ? 0 : 1
  }
  for (const d of report.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`)
  if (!report.valid) process.stderr.write(
    `${opts.paths.join(' ')}: ${report.errors} error(s): configuration not valid\n`)
  else if (!opts.quiet) process.stdout.write('Configuration file is valid\n')
  return report.valid ? 0 : 1
}
