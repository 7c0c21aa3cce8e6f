/**
 * TLS to servers (`server … ssl`, `check-ssl`): the connection options of a server, its secure
 * context built once, and the name sent as SNI (`sni EXPR`, `check-sni NAME`).
 */
import * as tls from 'node:tls'
import { isIP } from 'node:net'
import { constants } from 'node:crypto'
import type { ServerTls } from '../../config/tls-model.ts'
import { secureContextOptions } from '../../config/tls-options.ts'
import type { SampleSource } from '../acl/sample.ts'
import { fetchSamples } from '../acl/sample.ts'

const contexts = new WeakMap<ServerTls, tls.SecureContext>()
/** The last session of each server, offered for resumption on the next connection. */
const sessions = new WeakMap<ServerTls, Buffer>()

/** Client certificates committed on the runtime API (`set/commit ssl cert` of a server's `crt` file). */
const replaced = new WeakMap<ServerTls, { cert: string, key: string }>()

function contextOf (t: ServerTls): tls.SecureContext {
  let c = contexts.get(t)
  if (c === undefined) {
    const r = replaced.get(t)
    c = tls.createSecureContext({ ...secureContextOptions(t), ca: t.caPem, crl: t.crlPem, cert: r?.cert ?? t.certPem,
      key: r?.key ?? t.keyPem, secureOptions: t.noTlsTickets === true ? constants.SSL_OP_NO_TICKET : undefined })
    contexts.set(t, c)
  }
  return c
}

/**
 * The server's client certificate was replaced at runtime: new connections present the new one (connections already
 * made, idle ones included, keep theirs). The remembered session goes too: resuming it would present the old identity.
 */
export function replaceClientCertificate (t: ServerTls, cert: string, key: string): void {
  replaced.set(t, { cert, key })
  contexts.delete(t)
  sessions.delete(t)
}

/** True when `sni` names a constant (`str(NAME)`) or nothing: connections can then be shared between clients. */
export function constantSni (t: ServerTls | undefined): boolean {
  return t?.sni === undefined || /^str\(.*\)$/.test(t.sni)
}

/** The value of a server's `sni` expression for one request (or connection in mode tcp). */
export function serverName (t: ServerTls | undefined, sample: SampleSource | undefined): string | undefined {
  const expr = t?.sni
  if (expr === undefined) return undefined
  const constant = /^str\((.*)\)$/.exec(expr)
  if (constant !== null) return constant[1]
  if (sample === undefined) return undefined
  const m = /^([a-z0-9_.]+)(?:\((.*)\))?$/.exec(expr)
  if (m === null) return undefined
  const v = fetchSamples(m[1] as string, m[2] === undefined ? [] : m[2].split(','), sample)[0]
  // A Host header carries a port; SNI is the name only.
  return v === undefined || v === '' ? undefined : v.replace(/:\d+$/, '')
}

/**
 * The options of `tls.connect` for a server: its context, the name (SNI, never an IP address), the
 * verification HAProxy does (`verify required`: the chain, and the name from `verifyhost`, else
 * from SNI; without either, the chain only).
 */
export function serverTlsOptions (t: ServerTls, servername: string | undefined,
  alpn: readonly string[] | undefined = t.alpn): tls.ConnectionOptions {
  const verify = t.verify !== 'none'
  const name = servername !== undefined && isIP(servername) === 0 ? servername : undefined
  const expected = t.verifyhost ?? name
  const o: tls.ConnectionOptions = {
    secureContext: contextOf(t),
    rejectUnauthorized: verify,
    checkServerIdentity: (_host, cert) => verify && expected !== undefined
      ? tls.checkServerIdentity(expected, cert)
      : undefined,
    session: sessions.get(t)
  }
  if (name !== undefined) o.servername = name
  if (alpn !== undefined) o.ALPNProtocols = [...alpn]
  return o
}

/** Keeps the sessions a server gives, for the next connection to resume. */
export function rememberSessions (t: ServerTls, socket: tls.TLSSocket): void {
  if (t.noTlsTickets === true) return
  socket.on('session', (s: Buffer) => { sessions.set(t, s) })
}
