/**
 * `errorfile`, `errorfiles`, `http-error` and `http-errors` sections: parsing, the files' checks
 * (HAProxy 2.6's messages, seen with `haproxy -c`), and which line wins for a status (HAProxy 2.6
 * on the wire: the last one written).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import { loadErrorReplies, parseErrorFile, type ReadFile } from '../../../src/config/error-replies.ts'

const FILES: Record<string, string> = {
  '/e/s503.http': 'HTTP/1.1 503 From Section\r\nContent-Length: 2\r\n\r\nS\n',
  '/e/s403.http': 'HTTP/1.1 403 Section403\r\nContent-Length: 2\r\n\r\nS\n',
  '/e/e503.http': 'HTTP/1.1 503 From Errorfile\r\nContent-Length: 2\r\n\r\nE\n',
  '/e/lf.http': 'HTTP/1.0 503 Down\nContent-Type: text/plain\nConnection: close\nCache-Control: no-cache\n\nsorry, down\n',
  '/e/body.txt': 'plain body'
}
const read: ReadFile = async path => {
  const text = FILES[path]
  return await (text === undefined ? Promise.reject(new Error('ENOENT')) : Promise.resolve(Buffer.from(text, 'latin1')))
}

async function load (text: string): Promise<{ config: ReturnType<typeof parseConfig>['config'], messages: string[] }> {
  const { config, diagnostics } = parseConfig(text, 'e.cfg', { env: {} })
  const more = await loadErrorReplies(config, read)
  return { config, messages: [...diagnostics, ...more].filter(d => d.severity === 'error').map(d => `${d.line}: ${d.message}`) }
}

function page (config: Awaited<ReturnType<typeof load>>['config'], proxy: string, status: number): string | undefined {
  const r = config.proxies.find(p => p.name === proxy)?.errorReplies?.[status]
  return r === undefined ? undefined : `${r.head ?? ''}\r\n${r.body ?? ''}`
}

test('the last errorfile / errorfiles / http-error line for a status wins, as in HAProxy 2.6', async () => {
  const { config, messages } = await load(`http-errors site
    errorfile 503 /e/s503.http
    errorfile 403 /e/s403.http
backend b1
    errorfile 503 /e/e503.http
    errorfiles site
backend b2
    errorfiles site
    errorfile 503 /e/e503.http
backend b3
    errorfiles site 403
backend b4
    errorfiles site
    http-error status 503 content-type text/plain string "from http-error" hdr X-A b
backend b5
    http-error status 503 content-type text/plain string "from http-error"
    errorfiles site
backend b6
    http-error status 503
    errorfile 502 /e/e503.http
    http-error status 502 default-errorfiles
backend b7
    http-error status 503 content-type text/plain file /e/body.txt
`)
  assert.deepEqual(messages, [])
  // What HAProxy 2.6.12 sent for b1..b6 (less the connection header tslb adds when it sends it).
  assert.equal(page(config, 'b1', 503), 'HTTP/1.1 503 From Section\r\ncontent-length: 2\r\n\r\nS\n')
  assert.equal(page(config, 'b2', 503), 'HTTP/1.1 503 From Errorfile\r\ncontent-length: 2\r\n\r\nE\n')
  assert.equal(page(config, 'b3', 503), undefined)
  assert.equal(page(config, 'b3', 403), 'HTTP/1.1 403 Section403\r\ncontent-length: 2\r\n\r\nS\n')
  assert.equal(page(config, 'b4', 503),
    'HTTP/1.1 503 Service Unavailable\r\nx-a: b\r\ncontent-length: 15\r\ncontent-type: text/plain\r\n\r\nfrom http-error')
  assert.equal(page(config, 'b5', 503), 'HTTP/1.1 503 From Section\r\ncontent-length: 2\r\n\r\nS\n')
  assert.equal(page(config, 'b6', 503), 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n')
  assert.equal(page(config, 'b6', 502), undefined)
  assert.equal(page(config, 'b7', 503),
    'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 10\r\ncontent-type: text/plain\r\n\r\nplain body')
})

test('errorfile: LF line ends, header names lower-cased, connection headers left to the proxy', () => {
  const p = parseErrorFile(Buffer.from(FILES['/e/lf.http'] ?? ''))
  assert.equal(p.head, 'HTTP/1.0 503 Down\r\ncontent-type: text/plain\r\ncache-control: no-cache\r\n')
  assert.equal(p.body, 'sorry, down\n')
  assert.deepEqual(parseErrorFile(Buffer.alloc(0)), { head: '', body: '' }, 'errorfile 408 /dev/null: no reply')
})

test('errorfiles HAProxy refuses are refused with its message', () => {
  const bad: [string, RegExp][] = [
    ['HTTP/1.1 503 X\r\nContent-Length: 10\r\n\r\nab', /payload size does not match the announced content-length \(2 != 10\)/],
    ['HTTP/1.1 503 X\r\nContent-Length: 1\r\n\r\nabc', /\(3 != 1\)/],
    ['HTTP/1.1 503 X\r\nContent-Type: text/plain', /unable to parse headers/],
    ['HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n', /chunk-encoded payload not supported/],
    ['garbage\n\n', /unable to parse headers \(error offset: 0\)/],
    ['HTTP/1.1 503 X\r\nbad header\r\n\r\n', /unable to parse headers/]
  ]
  for (const [text, message] of bad) assert.throws(() => parseErrorFile(Buffer.from(text)), message, text)
})

test('configuration errors: unknown status, missing file, unknown section, lf-string, payload without type', async () => {
  const { messages } = await load(`http-errors site
    errorfile 503 /e/s503.http
    errorfile 404 /e/none.http
    retry 3
frontend f
    bind 127.0.0.1:1
    errorfile 414 /e/e503.http
    errorfile 503 /e/none.http
    errorfiles nosuch
    http-error status 503 content-type text/plain lf-string "%[src]"
    http-error status 503 string "no type"
    http-error status 503 content-type text/plain string a file /e/body.txt
    http-error status 503 errorfile /e/e503.http hdr a b
    http-error status 503 content-type text/plain hdr x-path "path=%[path]" string x
    http-error status 503 content-type text/plain hdr x-pct "100%%" string x
`)
  assert.deepEqual(messages, [
    "4: unknown keyword 'retry' in 'http-errors' section (only 'errorfile')",
    "7: 'errorfile': status code 414 not handled (allowed: 200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, " +
      '429, 500, 501, 502, 503, 504)',
    "10: 'http-error … lf-string': log-format bodies are not supported by tslb yet (use 'string' or 'file')",
    "11: 'http-error … string' needs a 'content-type'",
    "12: 'http-error': 'file' after 'string': one payload only",
    "13: 'http-error … errorfile': 'content-type' and 'hdr' cannot be used with it",
    "14: 'http-error … hdr x-path': log-format values are not supported by tslb yet (write the value without '%', " +
      "or '%%' for one)",
    "3: errorfile: error opening file '/e/none.http'",
    "8: errorfile: error opening file '/e/none.http'",
    "9: errorfiles: unknown http-errors section 'nosuch'"
  ])
})
