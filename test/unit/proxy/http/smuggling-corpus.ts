/**
 * Request-smuggling corpus: raw requests the proxy must answer with an error and never forward,
 * and valid-but-tricky requests it must accept. The unit tests run them through the codec; the
 * integration tests replay `raw` byte for byte against a running proxy.
 *
 * Sources: PortSwigger's request-smuggling labs and "HTTP Desync Attacks" (CL.TE, TE.CL, TE.TE
 * obfuscations), RFC 9112 §2.2, §3, §5, §6.1, §6.3, §7.1, RFC 9110 §5.5, §5.6, §8.6, and the
 * HAProxy h1 parser (src/h1.c, reg-tests/http-messaging).
 *
 * `stage` says where the error is found: `head` — the request head is refused, nothing reaches a
 * server; `body` — the head is valid and may be forwarded, but the chunked body is refused at the
 * first invalid byte, so nothing after it (the smuggled request) ever reaches a server.
 */

export type SmugglingStatus = 400 | 414 | 431 | 501 | 505

export interface SmugglingCase {
  readonly name: string
  /** Exact bytes on the wire (latin1), CRLFs included. */
  readonly raw: string
  readonly expect: SmugglingStatus
  /** The HttpParseError code the codec reports. */
  readonly code: string
  readonly stage: 'head' | 'body'
}

export interface ValidCase {
  readonly name: string
  /** A complete request: head and whole body. */
  readonly raw: string
  /** Fields of the parsed RequestHead that must have these values. */
  readonly head: Readonly<Record<string, unknown>>
  /** Body bytes after the head (its framing included for chunked). */
  readonly bodyLength: number
}

/** The head-size limit the 414/431 cases are built against (the proxy's default). */
export const CORPUS_MAX_HEAD = 16384

const H = 'Host: example.com\r\n'
const POST = `POST / HTTP/1.1\r\n${H}`
const CHUNKED = `${POST}Transfer-Encoding: chunked\r\n\r\n`
const SMUGGLED = 'GET /admin HTTP/1.1\r\nHost: example.com\r\n\r\n'

function head (code: string, name: string, raw: string, expect: SmugglingStatus = 400): SmugglingCase {
  return { name, raw, expect, code: `TSLB_ERR_HTTP_${code}`, stage: 'head' }
}
function body (code: string, name: string, chunkedBody: string): SmugglingCase {
  return { name, raw: CHUNKED + chunkedBody, expect: 400, code: `TSLB_ERR_HTTP_${code}`, stage: 'body' }
}

export const SMUGGLING_CORPUS: readonly SmugglingCase[] = [
  // --- CL.TE / TE.CL: both framings present (RFC 9112 §6.1, §6.3; refused rather than repaired)
  head('CL_AND_TE', 'CL.TE: Content-Length then Transfer-Encoding', `${POST}Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED`),
  head('CL_AND_TE', 'TE.CL: Transfer-Encoding then Content-Length', `${POST}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`),
  head('CL_AND_TE', 'TE.CL with Content-Length: 0', `${POST}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n`),
  head('CL_AND_TE', 'CL.TE where TE is gzip, chunked', `${POST}Content-Length: 4\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`),

  // --- TE.TE obfuscations: a Transfer-Encoding one parser sees and another does not
  head('WS_BEFORE_COLON', 'TE.TE: space before colon', `${POST}Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n`),
  head('WS_BEFORE_COLON', 'TE.TE: tab before colon', `${POST}Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n`),
  head('TE_NOT_CHUNKED', 'TE.TE: xchunked', `${POST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`),
  head('TE_NOT_CHUNKED', 'TE.TE: chunked then a second TE line x', `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n`),
  head('TE_UNSUPPORTED', 'TE.TE: x then chunked (unknown coding before chunked)', `${POST}Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 501),
  head('TE_NOT_CHUNKED', 'TE: chunked, identity (chunked not final)', `${POST}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`),
  head('TE_UNSUPPORTED', 'TE: identity, chunked (identity is not a coding any more)', `${POST}Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n`, 501),
  head('TE_NOT_CHUNKED', 'TE: chunked, gzip (chunked not final)', `${POST}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`),
  head('TE_INVALID', 'TE: chunked;x (parameter on chunked)', `${POST}Transfer-Encoding: chunked;x\r\n\r\n0\r\n\r\n`),
  head('TE_INVALID', 'TE: quoted "chunked"', `${POST}Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n`),
  head('TE_INVALID', 'TE: empty list element before chunked', `${POST}Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n`),
  head('TE_INVALID', 'TE: empty value', `${POST}Transfer-Encoding:\r\nContent-Length: 4\r\n\r\n`),
  head('TE_CHUNKED_TWICE', 'TE: chunked, chunked', `${POST}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`),
  head('TE_CHUNKED_TWICE', 'TE: chunked on two lines', `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`),
  head('INVALID_HEADER_VALUE', 'TE: vertical tab before chunked', `${POST}Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n`),
  head('INVALID_HEADER_VALUE', 'TE: form feed after chunked', `${POST}Transfer-Encoding: chunked\x0c\r\n\r\n0\r\n\r\n`),
  head('NUL', 'TE: NUL inside the value', `${POST}Transfer-Encoding: chun\x00ked\r\n\r\n0\r\n\r\n`),
  head('OBS_FOLD', 'TE: value on a folded line', `${POST}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`),
  head('OBS_FOLD', 'TE hidden in a folded continuation', `${POST}X-Pad: x\r\n Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n`),
  head('WS_AFTER_START_LINE', 'TE: first header line starts with a space', `POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\n${H}\r\n0\r\n\r\n`),
  head('BARE_LF', 'TE: line ended by a bare LF', `${POST}Transfer-Encoding: chunked\nContent-Length: 4\r\n\r\n`),
  head('BARE_CR', 'TE: line ended by a bare CR', `${POST}Transfer-Encoding: chunked\rContent-Length: 4\r\n\r\n`),
  head('AMBIGUOUS_HEADER_NAME', 'Transfer_Encoding (underscore) next to Content-Length', `${POST}Transfer_Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`),
  head('AMBIGUOUS_HEADER_NAME', 'Content_Length (underscore)', `${POST}Content_Length: 4\r\n\r\n`),
  head('TE_HTTP10', 'TE in an HTTP/1.0 request', `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`),

  // --- Content-Length obfuscations (RFC 9110 §8.6, RFC 9112 §6.3 item 5)
  head('CONTENT_LENGTH_CONFLICT', 'CL.CL: two different Content-Length lines', `${POST}Content-Length: 8\r\nContent-Length: 7\r\n\r\n12345678`),
  head('CONTENT_LENGTH_CONFLICT', 'CL list with different values', `${POST}Content-Length: 5, 6\r\n\r\n123456`),
  head('INVALID_CONTENT_LENGTH', 'CL with a plus sign', `${POST}Content-Length: +5\r\n\r\n12345`),
  head('INVALID_CONTENT_LENGTH', 'CL negative', `${POST}Content-Length: -1\r\n\r\n`),
  head('INVALID_CONTENT_LENGTH', 'CL in hex (0x)', `${POST}Content-Length: 0x5\r\n\r\n12345`),
  head('INVALID_CONTENT_LENGTH', 'CL with a space inside', `${POST}Content-Length: 1 2\r\n\r\n123456789012`),
  head('INVALID_CONTENT_LENGTH', 'CL with trailing junk', `${POST}Content-Length: 5abc\r\n\r\n12345`),
  head('INVALID_CONTENT_LENGTH', 'CL in exponent notation', `${POST}Content-Length: 1e1\r\n\r\n1234567890`),
  head('INVALID_CONTENT_LENGTH', 'CL with a decimal point', `${POST}Content-Length: 5.0\r\n\r\n12345`),
  head('INVALID_CONTENT_LENGTH', 'CL empty', `${POST}Content-Length:\r\n\r\n`),
  head('INVALID_CONTENT_LENGTH', 'CL list with a trailing comma', `${POST}Content-Length: 5,\r\n\r\n12345`),
  head('CONTENT_LENGTH_TOO_LARGE', 'CL above 2^53', `${POST}Content-Length: 9007199254740993\r\n\r\n`),
  head('CONTENT_LENGTH_TOO_LARGE', 'CL overflowing 64 bits', `${POST}Content-Length: 18446744073709551617\r\n\r\n`),
  head('WS_BEFORE_COLON', 'CL: space before colon', `${POST}Content-Length : 5\r\n\r\n12345`),
  head('NUL', 'CL: NUL in the name', `${POST}Content-Length\x00: 5\r\n\r\n12345`),
  head('CONNECT_BODY', 'CONNECT with a body', `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 5\r\n\r\n12345`),

  // --- Line endings, start line, header syntax (RFC 9112 §2.2, §3, §5)
  head('BARE_LF', 'request line ended by a bare LF', `GET / HTTP/1.1\n${H}\r\n`),
  head('BARE_LF', 'head ended by LF LF', `GET / HTTP/1.1\r\nHost: example.com\n\n`),
  head('BARE_CR', 'bare CR inside a header value', `GET / HTTP/1.1\r\nX-A: a\rb\r\n${H}\r\n`),
  head('NUL', 'NUL in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`),
  head('INVALID_HEADER_VALUE', 'DEL in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\x7fb\r\n\r\n`),
  head('EMPTY_HEADER_NAME', 'empty header name', `GET / HTTP/1.1\r\n${H}: empty\r\n\r\n`),
  head('INVALID_HEADER_NAME', 'header line without a colon', `GET / HTTP/1.1\r\n${H}NoColonHere\r\n\r\n`),
  head('INVALID_HEADER_NAME', 'non-token character in a header name', `GET / HTTP/1.1\r\n${H}X(A): b\r\n\r\n`),
  head('INVALID_HEADER_NAME', 'obs-text in a header name', `GET / HTTP/1.1\r\n${H}X-\xe9: b\r\n\r\n`),
  head('INVALID_METHOD', 'non-token character in the method', `G(T / HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_METHOD', 'binary (TLS ClientHello) on the HTTP port', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'),
  head('INVALID_TARGET', 'two spaces after the method', `GET  / HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_TARGET', 'target not origin-form', `GET admin HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_TARGET', 'control character in the target', `GET /a\x01b HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_TARGET', 'tab inside the target', `GET /a\tb HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_TARGET', 'obs-text in the target', `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_TARGET', 'asterisk-form with GET', `GET * HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_TARGET', 'CONNECT with an origin-form target', `CONNECT / HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_TARGET', 'CONNECT with an absolute-form target', `CONNECT http://example.com:80 HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_TARGET', 'CONNECT without a port', `CONNECT example.com HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_TARGET', 'absolute-form with userinfo', `GET http://user@example.com/ HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_VERSION', 'space inside the target', `GET /a b HTTP/1.1\r\n${H}\r\n`),
  head('INVALID_VERSION', 'HTTP/0.9 request (no version)', 'GET /\r\n\r\n'),
  head('INVALID_VERSION', 'trailing space after the version', `GET / HTTP/1.1 \r\n${H}\r\n`),
  head('INVALID_VERSION', 'lower-case protocol name', `GET / http/1.1\r\n${H}\r\n`),
  head('INVALID_VERSION', 'two-digit minor version', `GET / HTTP/1.10\r\n${H}\r\n`),
  head('VERSION_NOT_SUPPORTED', 'HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n`, 505),
  head('VERSION_NOT_SUPPORTED', 'HTTP/2.0 in an HTTP/1 request line', `GET / HTTP/2.0\r\n${H}\r\n`, 505),
  head('VERSION_NOT_SUPPORTED', 'HTTP/0.9 with a version', 'GET / HTTP/0.9\r\n\r\n', 505),
  head('TOO_MANY_EMPTY_LINES', 'many empty lines before the request', `${'\r\n'.repeat(8)}GET / HTTP/1.1\r\n${H}\r\n`),

  // --- Host (RFC 9112 §3.2, RFC 9110 §7.2)
  head('MISSING_HOST', 'HTTP/1.1 without Host', 'GET / HTTP/1.1\r\nX-A: b\r\n\r\n'),
  head('MULTIPLE_HOST', 'two different Host lines', `GET / HTTP/1.1\r\n${H}Host: evil.example\r\n\r\n`),
  head('MULTIPLE_HOST', 'two identical Host lines', `GET / HTTP/1.1\r\n${H}${H}\r\n`),
  head('INVALID_HOST', 'Host with userinfo', 'GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n'),
  head('INVALID_HOST', 'Host that is a list', 'GET / HTTP/1.1\r\nHost: example.com, evil.example\r\n\r\n'),
  head('INVALID_HOST', 'Host with a path', 'GET / HTTP/1.1\r\nHost: example.com/admin\r\n\r\n'),
  head('HOST_MISMATCH', 'absolute-form target vs a different Host', 'GET http://example.com/ HTTP/1.1\r\nHost: evil.example\r\n\r\n'),

  // --- Size limits
  head('URI_TOO_LONG', 'request line longer than the head limit', `GET /${'a'.repeat(CORPUS_MAX_HEAD + 100)} HTTP/1.1\r\n${H}\r\n`, 414),
  head('HEAD_TOO_LARGE', 'header section larger than the head limit', `GET / HTTP/1.1\r\n${H}${`X-Pad: ${'p'.repeat(1000)}\r\n`.repeat(20)}\r\n`, 431),

  // --- Chunked body (RFC 9112 §7.1): a valid head, then a chunk stream that hides a request
  body('CHUNK_SIZE_INVALID', 'chunk size 0x0', `0x0\r\n\r\n${SMUGGLED}`),
  body('CHUNK_SIZE_INVALID', 'chunk size -1', `-1\r\n\r\n${SMUGGLED}`),
  body('CHUNK_SIZE_INVALID', 'chunk size with a plus sign', `+5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('CHUNK_SIZE_INVALID', 'whitespace before the chunk size', ` 5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('CHUNK_SIZE_INVALID', 'empty chunk size line', `\r\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('CHUNK_SIZE_INVALID', 'two numbers on the size line', `5 5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('CHUNK_SIZE_INVALID', 'NUL after the chunk size', `5\x00\r\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('CHUNK_SIZE_TOO_LARGE', 'chunk size above 2^53', `fffffffffffffff\r\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('CHUNK_SIZE_TOO_LARGE', 'chunk size overflowing 64 bits', `10000000000000005\r\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('BARE_LF', 'bare LF after the chunk size', `5\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('BARE_LF', 'bare LF after the last chunk', `0\n\r\n${SMUGGLED}`),
  body('BARE_CR', 'CR CR after the chunk size', `5\r\rhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('CHUNK_DATA_CRLF', 'chunk data followed by a bare LF', `5\r\nhello\n0\r\n\r\n${SMUGGLED}`),
  body('CHUNK_DATA_CRLF', 'chunk data longer than its size', `3\r\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('CHUNK_LINE_TOO_LONG', 'unbounded chunk extension', `5;${'a'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`),
  body('CHUNK_EXT_INVALID', 'unterminated quoted chunk extension', `5;a="b\r\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('CHUNK_EXT_INVALID', 'backslash outside quotes in a chunk extension', `5;a=b\\c\r\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('BARE_LF', 'bare LF inside a chunk extension', `5;a=b\nhello\r\n0\r\n\r\n${SMUGGLED}`),
  body('TRAILER_FORBIDDEN', 'Content-Length in trailers', `0\r\nContent-Length: 45\r\n\r\n${SMUGGLED}`),
  body('TRAILER_FORBIDDEN', 'Transfer-Encoding in trailers', `0\r\nTransfer-Encoding: chunked\r\n\r\n${SMUGGLED}`),
  body('OBS_FOLD', 'folded trailer line', `0\r\nX-T: a\r\n b\r\n\r\n${SMUGGLED}`),
  body('BARE_LF', 'trailer ended by a bare LF', `0\r\nX-T: a\n\r\n${SMUGGLED}`),
  body('WS_BEFORE_COLON', 'space before colon in a trailer', `0\r\nX-T : a\r\n\r\n${SMUGGLED}`),
  body('BARE_CR', 'final CRLF replaced by CR X', `0\r\n\rX${SMUGGLED}`)
]

const GET = `GET / HTTP/1.1\r\n${H}`

export const VALID_TRICKY: readonly ValidCase[] = [
  { name: 'TE with HTAB as OWS after the colon', raw: `${POST}Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n`, head: { chunked: true, contentLength: -1 }, bodyLength: 5 },
  { name: 'TE value with trailing OWS', raw: `${POST}Transfer-Encoding: chunked \t\r\n\r\n0\r\n\r\n`, head: { chunked: true }, bodyLength: 5 },
  { name: 'TE coding in upper case', raw: `${POST}Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n`, head: { chunked: true }, bodyLength: 5 },
  { name: 'TE name in odd case', raw: `${POST}tRaNsFeR-eNcOdInG: chunked\r\n\r\n0\r\n\r\n`, head: { chunked: true }, bodyLength: 5 },
  { name: 'TE gzip, chunked', raw: `${POST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, head: { chunked: true }, bodyLength: 5 },
  { name: 'TE split over two lines, chunked last', raw: `${POST}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, head: { chunked: true }, bodyLength: 5 },
  { name: 'identical duplicate Content-Length lines (merged, as HAProxy)', raw: `${POST}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, head: { contentLength: 5, rawExact: false }, bodyLength: 5 },
  { name: 'Content-Length list of identical values', raw: `${POST}Content-Length: 5, 5\r\n\r\nhello`, head: { contentLength: 5, rawExact: false }, bodyLength: 5 },
  { name: 'Content-Length with leading zeros', raw: `${POST}Content-Length: 005\r\n\r\nhello`, head: { contentLength: 5 }, bodyLength: 5 },
  { name: 'Content-Length: 0 on GET', raw: `${GET}Content-Length: 0\r\n\r\n`, head: { contentLength: 0 }, bodyLength: 0 },
  { name: 'one empty line before the request line', raw: `\r\n${GET}\r\n`, head: { method: 'GET', target: '/' }, bodyLength: 0 },
  { name: 'four empty lines before the request line', raw: `\r\n\r\n\r\n\r\n${GET}\r\n`, head: { method: 'GET' }, bodyLength: 0 },
  { name: 'no OWS after the colon', raw: 'GET / HTTP/1.1\r\nHost:example.com\r\n\r\n', head: { host: 'example.com' }, bodyLength: 0 },
  { name: 'trailing OWS after the Host value', raw: 'GET / HTTP/1.1\r\nHost: example.com \t \r\n\r\n', head: { host: 'example.com' }, bodyLength: 0 },
  { name: 'obs-text in a header value', raw: `${GET}X-Name: Andr\xe9\r\n\r\n`, head: { headers: ['Host', 'example.com', 'X-Name', 'Andr\xe9'] }, bodyLength: 0 },
  { name: 'empty header value', raw: `${GET}X-Empty:\r\n\r\n`, head: { headers: ['Host', 'example.com', 'X-Empty', ''] }, bodyLength: 0 },
  { name: 'every tchar in a header name', raw: `${GET}X-!#$%&'*+-.^_\`|~: v\r\n\r\n`, head: { headers: ['Host', 'example.com', "X-!#$%&'*+-.^_`|~", 'v'] }, bodyLength: 0 },
  { name: 'absolute-form target with matching Host', raw: 'GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n', head: { targetForm: 'absolute', target: 'http://example.com/a?b' }, bodyLength: 0 },
  { name: 'absolute-form target, Host with the default port', raw: 'GET http://example.com/ HTTP/1.1\r\nHost: example.com:80\r\n\r\n', head: { targetForm: 'absolute' }, bodyLength: 0 },
  { name: 'OPTIONS *', raw: `OPTIONS * HTTP/1.1\r\n${H}\r\n`, head: { targetForm: 'asterisk', target: '*' }, bodyLength: 0 },
  { name: 'CONNECT authority-form', raw: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', head: { targetForm: 'authority', method: 'CONNECT' }, bodyLength: 0 },
  { name: 'HTTP/1.0 without Host', raw: 'GET / HTTP/1.0\r\n\r\n', head: { versionMinor: 0, host: undefined }, bodyLength: 0 },
  { name: 'empty Host on an origin-form request', raw: 'GET / HTTP/1.1\r\nHost:\r\n\r\n', head: { host: '' }, bodyLength: 0 },
  { name: 'IPv6 literal Host with port', raw: 'GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n', head: { host: '[2001:db8::1]:8080' }, bodyLength: 0 },
  { name: 'extension method in lower case', raw: `purge /cache HTTP/1.1\r\n${H}\r\n`, head: { method: 'purge' }, bodyLength: 0 },
  { name: 'Connection options in odd case and a hop-by-hop name', raw: `${GET}Connection: Keep-Alive, UPGRADE, X-Hop\r\nUpgrade: websocket\r\nX-Hop: 1\r\n\r\n`, head: { connection: { close: false, keepAlive: true, upgrade: true }, upgrade: 'websocket', connectionTokens: ['x-hop'] }, bodyLength: 0 },
  { name: 'Expect: 100-continue', raw: `${POST}Expect: 100-Continue\r\nContent-Length: 5\r\n\r\nhello`, head: { expectContinue: true, contentLength: 5 }, bodyLength: 5 },
  { name: 'chunked body: upper-case hex, leading zeros, extensions, trailers', raw: `${POST}Transfer-Encoding: chunked\r\n\r\n000A;name=value;q="a \\"b\\" c"\r\n0123456789\r\n5 ;x\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n`, head: { chunked: true }, bodyLength: 88 },
  { name: 'target with sub-delims, pct-encoding and brackets', raw: `GET /a/b;c=d?e=f&g=h%20i!$'()*+,;=:@-._~/?[] HTTP/1.1\r\n${H}\r\n`, head: { targetForm: 'origin' }, bodyLength: 0 }
]
