/**
 * What the TLS sample fetches read of a client connection (`ssl_fc*`, `ssl_c_*`), computed on
 * demand from the TLS socket, and the fetches themselves. A connection without TLS has no facts:
 * `ssl_fc` is then false and the other fetches have no sample.
 */
import { TLSSocket } from 'node:tls'
import type { X509Certificate } from 'node:crypto'
import type { Socket } from 'node:net'
import { parseClientHello } from './client-hello.ts'

export interface TlsFacts {
  readonly sni: string | undefined
  readonly alpn: string | undefined
  readonly protocol: string | undefined
  readonly cipher: string | undefined
  readonly resumed: boolean
  readonly peerCertificate: X509Certificate | undefined
  /** OpenSSL's verification error code of the client certificate (Node's names), undefined when verified. */
  readonly verifyError: string | undefined
}

class SocketFacts implements TlsFacts {
  private readonly socket: TLSSocket
  private cert: X509Certificate | undefined | null = null

  constructor (socket: TLSSocket) {
    this.socket = socket
  }

  get sni (): string | undefined {
    const n = (this.socket as TLSSocket & { servername?: string | false }).servername
    return typeof n === 'string' && n !== '' ? n : undefined
  }

  get alpn (): string | undefined {
    const p = this.socket.alpnProtocol
    return typeof p === 'string' ? p : undefined
  }

  get protocol (): string | undefined {
    return this.socket.getProtocol() ?? undefined
  }

  get cipher (): string | undefined {
    return this.socket.getCipher().name
  }

  get resumed (): boolean {
    return this.socket.isSessionReused()
  }

  get peerCertificate (): X509Certificate | undefined {
    if (this.cert === null) this.cert = this.socket.getPeerX509Certificate()
    return this.cert
  }

  get verifyError (): string | undefined {
    if (this.peerCertificate === undefined) return undefined
    const e = this.socket.authorizationError as unknown
    if (e === null || e === undefined) return undefined
    if (e instanceof Error) return (e as NodeJS.ErrnoException).code ?? e.message
    return typeof e === 'string' ? e : 'UNSPECIFIED'
  }
}

const cache = new WeakMap<Socket, TlsFacts>()

/** The facts of a client connection; undefined for a plain one. */
export function tlsFacts (client: Socket): TlsFacts | undefined {
  // An HTTP/2 stream (h2/stream-bridge.ts) carries its TLS connection.
  const socket = client instanceof TLSSocket ? client : (client as { readonly tlsSocket?: unknown }).tlsSocket
  if (!(socket instanceof TLSSocket)) return undefined
  let f = cache.get(socket)
  if (f === undefined) {
    f = new SocketFacts(socket)
    cache.set(socket, f)
  }
  return f
}

/** OpenSSL X509_V_ERR_* numbers (what HAProxy's ssl_c_verify returns) of Node's error codes. */
const VERIFY_CODES: Readonly<Record<string, number>> = {
  UNABLE_TO_GET_ISSUER_CERT: 2, UNABLE_TO_GET_CRL: 3, UNABLE_TO_DECRYPT_CERT_SIGNATURE: 4,
  UNABLE_TO_DECRYPT_CRL_SIGNATURE: 5, UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 6, CERT_SIGNATURE_FAILURE: 7,
  CRL_SIGNATURE_FAILURE: 8, CERT_NOT_YET_VALID: 9, CERT_HAS_EXPIRED: 10, CRL_NOT_YET_VALID: 11, CRL_HAS_EXPIRED: 12,
  DEPTH_ZERO_SELF_SIGNED_CERT: 18, SELF_SIGNED_CERT_IN_CHAIN: 19, UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 20,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 21, CERT_CHAIN_TOO_LONG: 22, CERT_REVOKED: 23, INVALID_CA: 24,
  PATH_LENGTH_EXCEEDED: 25, INVALID_PURPOSE: 26, CERT_UNTRUSTED: 27, CERT_REJECTED: 28
}

/** `C=FR\nO=x\nCN=y` (Node) → `/C=FR/O=x/CN=y` (HAProxy), or the value of one entry (`ssl_c_s_dn(CN)`). */
export function formatDn (dn: string, entry: string | undefined, occurrence: string | undefined): string | undefined {
  const parts = dn.split('\n').filter(p => p !== '')
  if (entry === undefined || entry === '') return '/' + parts.join('/')
  const values = parts.filter(p => p.startsWith(`${entry}=`)).map(p => p.slice(entry.length + 1))
  const n = occurrence === undefined || occurrence === '' ? -1 : Number(occurrence)
  return n < 0 ? values[values.length + n] : values[n - 1]
}

/** The samples of a TLS fetch; undefined when `fetch` is not one. */
export function tlsSamples (fetch: string, args: readonly string[], t: TlsFacts | undefined): string[] | undefined {
  const one = (v: string | undefined): string[] => v === undefined ? [] : [v]
  const bool = (b: boolean): string[] => [b ? '1' : '0']
  switch (fetch) {
    case 'ssl_fc': return bool(t !== undefined)
    case 'ssl_fc_has_sni': return bool(t?.sni !== undefined)
    case 'ssl_fc_has_crt': case 'ssl_c_used': return bool(t?.peerCertificate !== undefined)
    case 'ssl_fc_is_resumed': return bool(t?.resumed === true)
    default:
      break
  }
  if (!fetch.startsWith('ssl_')) return undefined
  if (t === undefined) return []
  switch (fetch) {
    case 'ssl_fc_sni': return one(t.sni)
    case 'ssl_fc_alpn': return one(t.alpn)
    case 'ssl_fc_protocol': return one(t.protocol)
    case 'ssl_fc_cipher': return one(t.cipher)
    case 'ssl_c_verify': {
      const e = t.verifyError
      return [String(e === undefined ? 0 : VERIFY_CODES[e] ?? 1)]
    }
    case 'ssl_c_s_dn': return one(t.peerCertificate === undefined ? undefined : formatDn(t.peerCertificate.subject,
      args[0], args[1]))
    case 'ssl_c_i_dn': return one(t.peerCertificate === undefined ? undefined : formatDn(t.peerCertificate.issuer,
      args[0], args[1]))
    case 'ssl_c_serial': return one(t.peerCertificate?.serialNumber.toUpperCase())
    default: return undefined
  }
}

/**
 * `req.len` and `req.payload(OFFSET,LENGTH)` over the inspected bytes (LENGTH 0: to the end), the bytes one character
 * each; undefined when not one of them. Nothing read (no inspection): no sample.
 */
export function payloadSamples (fetch: string, args: readonly string[], payload: Uint8Array | undefined):
string[] | undefined {
  if (fetch !== 'req.len' && fetch !== 'req_len' && fetch !== 'req.payload') return undefined
  if (payload === undefined) return []
  if (fetch !== 'req.payload') return [String(payload.length)]
  const offset = Number(args[0] ?? 0)
  const length = Number(args[1] ?? 0)
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) return []
  const end = length === 0 ? payload.length : offset + length
  // HAProxy gives no sample until the bytes asked for are there.
  if (end > payload.length) return []
  return [Buffer.from(payload.buffer, payload.byteOffset + offset, end - offset).toString('latin1')]
}

/** `req.ssl_sni`, `req.ssl_hello_type`, `req.ssl_alpn` over the inspected bytes; undefined when not one of them. */
export function helloSamples (fetch: string, payload: Uint8Array | undefined): string[] | undefined {
  const kind = fetch.replace(/^req_/, 'req.')
  if (kind !== 'req.ssl_sni' && kind !== 'req.ssl_hello_type' && kind !== 'req.ssl_alpn') return undefined
  const hello = payload === undefined ? undefined : parseClientHello(payload)
  if (hello?.state !== 'hello') return []
  if (kind === 'req.ssl_hello_type') return [String(hello.helloType)]
  if (kind === 'req.ssl_alpn') return hello.alpn ?? []
  return hello.sni === undefined ? [] : [hello.sni]
}
