/**
 * Errors of the configuration parser. Both are caught by the parser and become a
 * `FILE:LINE: message` diagnostic (see util/errors.ts `ConfigError` for a whole load failing).
 */

/** A line that cannot be split into words (unterminated quote, bad escape, overlong line). */
export class LineSyntaxError extends Error {
  readonly code = 'TSLB_ERR_CONFIG_SYNTAX'
}

/** A keyword argument that is not valid (a handler's message becomes the diagnostic). */
export class ValueError extends Error {
  readonly code = 'TSLB_ERR_CONFIG_VALUE'
}
