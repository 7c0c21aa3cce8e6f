/**
 * One error class per failure, each with a stable `code` that scripts and tests can match on.
 */
export class TslbError extends Error {
  readonly code: string
  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** A configuration file (or a piece of one) that cannot be loaded; carries every diagnostic. */
export class ConfigError extends TslbError {
  readonly diagnostics: readonly Diagnostic[]
  constructor (diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter(d => d.severity === 'error')
    super('TSLB_ERR_CONFIG', `${errors.length} error(s) in configuration:\n${errors.map(formatDiagnostic).join('\n')}`)
    this.diagnostics = diagnostics
  }
}

export class ConfigReadError extends TslbError {
  readonly file: string
  constructor (file: string, cause: unknown) {
    super('TSLB_ERR_CONFIG_READ', `cannot read configuration file '${file}': ${describe(cause)}`, { cause })
    this.file = file
  }
}

export class UsageError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_USAGE', message)
  }
}

export interface Diagnostic {
  readonly severity: 'error' | 'warning'
  readonly file: string
  readonly line: number
  readonly message: string
}

export function formatDiagnostic (d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file
  return d.severity === 'warning' ? `${where}: warning: ${d.message}` : `${where}: ${d.message}`
}

export function describe (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
