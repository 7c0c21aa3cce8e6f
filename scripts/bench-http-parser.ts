/**
 * Micro-benchmark of the HTTP/1.1 codec (src/proxy/http): request-head parses per second for a
 * typical ~400-byte head, side by side with Node's own llhttp binding (the parser behind
 * node:http, reached through the internal `_http_common` module), plus head serialization and
 * chunked-body framing. One core, one process; read the ratios, not the absolute figures.
 *
 *   node scripts/bench-http-parser.ts [seconds-per-case]
 */
import { createRequire } from 'node:module'
import { Buffer } from 'node:buffer'
import { ChunkedFramer, parseRequestHead, parseResponseHead, serializeRequestHead, serializeResponseHead, type RequestHead } from '../src/proxy/http/codec.ts'

const seconds = Number(process.argv[2] ?? '2')

const REQUEST = Buffer.from(
  'GET /api/v1/users/12345/orders?include=items&sort=-created HTTP/1.1\r\n' +
  'Host: shop.example.com\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n' +
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n' +
  'Accept-Language: en-US,en;q=0.5\r\n' +
  'Accept-Encoding: gzip, deflate, br\r\n' +
  'Connection: keep-alive\r\n' +
  'Cookie: SERVERID=web2; session=9f8e7d6c5b4a\r\n' +
  'Upgrade-Insecure-Requests: 1\r\n' +
  '\r\n', 'latin1')

const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\n' +
  'Server: nginx/1.22.1\r\n' +
  'Date: Mon, 01 Jan 2026 00:00:00 GMT\r\n' +
  'Content-Type: application/json\r\n' +
  'Content-Length: 1234\r\n' +
  'Connection: keep-alive\r\n' +
  'Cache-Control: private, max-age=0\r\n' +
  '\r\n', 'latin1')

function run (name: string, fn: () => void): number {
  for (let i = 0; i < 20_000; i++) fn() // warm-up: let the JIT settle
  let n = 0
  const start = process.hrtime.bigint()
  const budget = BigInt(Math.round(seconds * 1e9))
  let elapsed = 0n
  while (elapsed < budget) {
    for (let i = 0; i < 10_000; i++) fn()
    n += 10_000
    elapsed = process.hrtime.bigint() - start
  }
  const rate = n / (Number(elapsed) / 1e9)
  console.log(`${name.padEnd(52)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} /s  ${(1e9 / rate).toFixed(0).padStart(6)} ns/op`)
  return rate
}

interface LlhttpParser {
  initialize (type: number, resource: object): void
  execute (buf: Buffer): number | Error
  [key: number]: unknown
}
interface LlhttpParserClass {
  new (): LlhttpParser
  REQUEST: number
  kOnHeadersComplete: number
  kOnMessageComplete: number
  kOnHeaders: number
  kOnBody: number
}

function llhttp (): LlhttpParserClass | undefined {
  try {
    const require = createRequire(import.meta.url)
    const common = require('_http_common') as { HTTPParser?: LlhttpParserClass }
    return common.HTTPParser
  } catch {
    return undefined
  }
}

console.log(`node ${process.version}, request head ${REQUEST.length} bytes, response head ${RESPONSE.length} bytes, ${seconds}s per case`)
console.log()

let sink = 0
const ours = run('tslb parseRequestHead', () => {
  const h = parseRequestHead(REQUEST, 16384) as RequestHead
  sink += h.headLength
})

const HTTPParser = llhttp()
let theirs: number | undefined
if (HTTPParser !== undefined) {
  const parser = new HTTPParser()
  parser.initialize(HTTPParser.REQUEST, {})
  let completed = 0
  parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, headers: string[], _method: number, url: string) => {
    sink += headers.length + url.length
    return 0
  }
  parser[HTTPParser.kOnMessageComplete] = () => { completed++ }
  parser[HTTPParser.kOnHeaders] = () => {}
  parser[HTTPParser.kOnBody] = () => {}
  theirs = run('node llhttp (HTTPParser.execute, keep-alive reuse)', () => {
    const r = parser.execute(REQUEST)
    if (typeof r !== 'number') throw r
  })
  if (completed === 0) throw new Error('llhttp did not complete a message')
} else {
  console.log('node llhttp: _http_common.HTTPParser not reachable, comparison skipped')
}
if (theirs !== undefined) console.log(`${'  ratio tslb / llhttp'.padEnd(52)} ${(ours / theirs).toFixed(2).padStart(12)}`)
console.log()

run('tslb parseResponseHead', () => {
  const h = parseResponseHead(RESPONSE, 16384, 'GET')
  sink += h === null ? 0 : h.headLength
})

const head = parseRequestHead(REQUEST, 16384) as RequestHead
const res = parseResponseHead(RESPONSE, 16384, 'GET')
if (res === null) throw new Error('response head incomplete')
run('serializeRequestHead, no edits (raw view)', () => {
  sink += serializeRequestHead(head).length
})
run('serializeRequestHead, hop-by-hop + X-Forwarded-For', () => {
  sink += serializeRequestHead(head, { removeHopByHop: true, add: [['X-Forwarded-For', '198.18.0.2']] }).length
})
run('serializeResponseHead, hop-by-hop + Connection: close', () => {
  sink += serializeResponseHead(res, { removeHopByHop: true, add: [['Connection', 'close']] }).length
})
run('parse + serialize request (hop-by-hop + XFF)', () => {
  const h = parseRequestHead(REQUEST, 16384) as RequestHead
  sink += serializeRequestHead(h, { removeHopByHop: true, add: [['X-Forwarded-For', '198.18.0.2']] }).length
})
console.log()

// Chunked framing: 64 KiB body in 1 KiB chunks, fed in 16 KiB reads.
const chunk = `400\r\n${'x'.repeat(1024)}\r\n`
const body = Buffer.from(chunk.repeat(64) + '0\r\n\r\n', 'latin1')
const reads: Buffer[] = []
for (let i = 0; i < body.length; i += 16384) reads.push(body.subarray(i, i + 16384))
const rate = run('ChunkedFramer, 64 KiB body (1 KiB chunks)', () => {
  const f = new ChunkedFramer()
  for (const r of reads) sink += f.push(r, 0).consumed
})
console.log(`${'  throughput'.padEnd(52)} ${(rate * body.length / 1e9).toFixed(2).padStart(12)} GB/s`)
const small = Buffer.from('5\r\nhello\r\n'.repeat(100) + '0\r\n\r\n', 'latin1')
const rate2 = run('ChunkedFramer, 100 x 5-byte chunks', () => {
  sink += new ChunkedFramer().push(small, 0).consumed
})
console.log(`${'  throughput'.padEnd(52)} ${(rate2 * small.length / 1e6).toFixed(0).padStart(12)} MB/s`)

if (sink === 0) console.log('(sink)')
