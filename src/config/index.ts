export { loadConfig, parseConfig, type ParseOptions, type ParseResult } from './parser.ts'
export type * from './model.ts'
