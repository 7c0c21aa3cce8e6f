/**
 * Error pages resolved when the configuration is loaded: each proxy's `errorfile`, `errorfiles` and
 * `http-error` lines, in order, become one reply per status (`Proxy.errorReplies`), with the files
 * read and checked as HAProxy 2.6 checks them (its messages). Files are read here, once: a reload
 * reads them again.
 */
import { readFile } from 'node:fs/promises'
import type { Diagnostic } from '../util/errors.ts'
import type { Config, HttpReply, Location } from './model.ts'
import { ERROR_REASONS } from './keywords/errors.ts'
import { ValueError } from './errors.ts'

export type ReadFile = (path: string) => Promise<Buffer>

const systemRead: ReadFile = async path => await readFile(path)

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection'])

/**
 * A whole HTTP response as `errorfile` takes it: status line, headers (CRLF or LF), a blank line,
 * the body, whose size must match a Content-Length. An empty file is an empty reply (the
 * connection is closed without a response, HAProxy's `errorfile 408 /dev/null`).
 */
export function parseErrorFile (raw: Buffer): { head: string, body: string } {
  if (raw.length === 0) return { head: '', body: '' }
  const text = raw.toString('latin1')
  const lines: string[] = []
  let at = 0
  for (;;) {
    const nl = text.indexOf('\n', at)
    if (nl < 0) throw new ValueError(`unable to parse headers (error offset: ${at})`)
    const line = text.slice(at, text[nl - 1] === '\r' ? nl - 1 : nl)
    at = nl + 1
    if (line === '') break
    lines.push(line)
  }
  const [status, ...fields] = lines
  if (status === undefined || !/^HTTP\/1\.[01] \d{3}( [^\r\n]*)?$/.test(status)) {
    throw new ValueError('unable to parse headers (error offset: 0)')
  }
  const body = text.slice(at)
  let head = `${status}\r\n`
  for (const f of fields) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(f)
    if (m === null) throw new ValueError(`unable to parse headers (error offset: ${text.indexOf(f)})`)
    const name = (m[1] as string).toLowerCase()
    const value = m[2] as string
    if (name === 'transfer-encoding') throw new ValueError('chunk-encoded payload not supported')
    if (name === 'content-length' && Number(value) !== body.length) throw new ValueError(
      `payload size does not match the announced content-length (${body.length} != ${value})`)
    if (!HOP_BY_HOP.has(name)) head += `${name}: ${value}\r\n`
  }
  return { head, body }
}

/** The reply `http-error` describes, its body file (if any) already read. */
export function renderGenerated (g: NonNullable<HttpReply['generated']>, fileBody?: string): { head: string,
  body: string } {
  const body = fileBody ?? g.body ?? ''
  let head = `HTTP/1.1 ${g.status} ${ERROR_REASONS[g.status] ?? ''}\r\n`
  for (const [name, value] of g.headers) head += `${name.toLowerCase()}: ${value}\r\n`
  head += `content-length: ${Buffer.byteLength(body, 'latin1')}\r\n`
  if (g.contentType !== undefined) head += `content-type: ${g.contentType}\r\n`
  return { head, body }
}

function diagnostic (loc: Location, message: string, severity: 'error' | 'warning' = 'error'): Diagnostic {
  return { severity, file: loc.file, line: loc.line, message }
}

/** Reads and checks every reply, then sets each proxy's `errorReplies`. Returns the problems found. */
export async function loadErrorReplies (config: Config, read: ReadFile = systemRead): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = []
  const load = async (reply: HttpReply, keyword: string): Promise<void> => {
    if (reply.redirect !== undefined) {
      const { code, location } = reply.redirect
      reply.head = `HTTP/1.1 ${code} ${code === 302 ? 'Found' : 'See Other'}\r\ncache-control: no-cache\r\n` +
        `content-length: 0\r\nlocation: ${location}\r\n`
      reply.body = ''
      return
    }
    const path = reply.file ?? reply.generated?.bodyFile
    let raw: Buffer | undefined
    if (path !== undefined) {
      try {
        raw = await read(path)
      } catch {
        diagnostics.push(diagnostic(reply.loc, `${keyword}: error opening file '${path}'`))
        return
      }
    }
    try {
      const page = reply.generated !== undefined ? renderGenerated(reply.generated, raw?.toString('latin1'))
        : parseErrorFile(raw ?? Buffer.alloc(0))
      reply.head = page.head
      reply.body = page.body
    } catch (err) {
      if (!(err instanceof ValueError)) throw err
      diagnostics.push(diagnostic(reply.loc, `${keyword}: '${path ?? ''}': ${err.message}`))
    }
  }
  for (const section of config.httpErrors) {
    for (const reply of Object.values(section.replies)) await load(reply, 'errorfile')
  }
  for (const proxy of config.proxies) {
    const replies: Record<number, HttpReply> = {}
    for (const d of proxy.errorfiles) {
      if (d.kind === 'reply') {
        if (d.reply === undefined) {
          Reflect.deleteProperty(replies, d.status)
          continue
        }
        await load(d.reply, d.reply.generated === undefined ? 'errorfile' : 'http-error')
        replies[d.status] = d.reply
        continue
      }
      const section = config.httpErrors.find(s => s.name === d.section)
      if (section === undefined) {
        diagnostics.push(diagnostic(d.loc, `errorfiles: unknown http-errors section '${d.section}'`))
        continue
      }
      const codes = d.codes.length === 0 ? Object.keys(section.replies).map(Number) : d.codes
      for (const code of codes) {
        const reply = section.replies[code]
        if (reply === undefined) {
          diagnostics.push(diagnostic(d.loc,
            `errorfiles: http-errors section '${d.section}' has no errorfile for ${code}: the default page stays`,
            'warning'))
        } else replies[code] = reply
      }
    }
    proxy.errorReplies = replies
  }
  return diagnostics
}
