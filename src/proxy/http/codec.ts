/**
 * The HTTP/1.1 codec the proxy's hot path uses on raw sockets: strict head parsing, body framing,
 * head serialization, generated error responses. Pure: bytes in, values out, no I/O.
 * @module
 */
export { HttpErrorCode, HttpParseError, type HttpErrorStatus } from './errors.ts'
export {
  type BodyKind, type ConnectionOptions, DEFAULT_MAX_HEADERS, getHeader, getHeaderValues, type HeadParseOptions,
    type HttpHead, isValidAuthority,
  MAX_LEADING_EMPTY_LINES, parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead, type TargetForm,
    toOriginForm
} from './head.ts'
export { type BodyFramer, ChunkedFramer, type ChunkedFramerOptions, type FramerResult,
  LengthFramer } from './framing.ts'
export { type HeadEdits, serializeRequestHead, serializeResponseHead } from './serialize.ts'
export { errorResponse, type ErrorStatus } from './error-pages.ts'
