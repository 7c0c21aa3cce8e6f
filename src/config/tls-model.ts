/**
 * The TLS part of the configuration model: what `bind … ssl`, `crt-list` lines, `server … ssl`
 * and the `global` `ssl-default-*` keywords say. File names are as written (made absolute with
 * `crt-base` / `ca-base`); their contents are read when the configuration is loaded
 * (`tls-files.ts`) so that every worker serves the bytes that were validated.
 */

export const TLS_VERSIONS = ['TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const
export type TlsVersion = typeof TLS_VERSIONS[number]

export type TlsVerify = 'none' | 'optional' | 'required'

/** Options a bind line, a crt-list line, a server line and the ssl-default-* keywords share. */
export interface TlsSettings {
  minVer?: TlsVersion
  maxVer?: TlsVersion
  /** Versions turned off by `no-tlsv1x` (the range kept is the one around the rest). */
  disabled?: TlsVersion[]
  ciphers?: string
  ciphersuites?: string
  curves?: string
  alpn?: string[]
  noTlsTickets?: boolean
  preferClientCiphers?: boolean
  caFile?: string
  crlFile?: string
  verify?: TlsVerify
}

/** One certificate with its key, as loaded from a PEM file (and its `.key` side file). */
export interface TlsCertificate {
  readonly file: string
  /** Certificate then chain, PEM. */
  readonly cert: string
  readonly key: string
  /** DNS names of the certificate: its subjectAltName entries, else its CN. */
  readonly names: string[]
  /** crt-list SNI filters replacing `names` when given; `!name` excludes. */
  readonly filters?: string[]
  /** crt-list options of this line (over the bind's). */
  readonly settings?: TlsSettings
  /** PEM contents of the line's ca-file / crl-file. */
  readonly ca?: string
  readonly crl?: string
}

/** A crt-list line as written: `FILE [OPTIONS] [SNI filters]`. */
export interface CrtListEntry {
  readonly file: string
  readonly settings: TlsSettings
  readonly filters: string[]
  readonly line: number
}

export interface BindTls {
  settings: TlsSettings
  /** `crt` arguments (files or directories) in order. */
  crt: string[]
  crtList: string[]
  /** `strict-sni`: no certificate for the client's SNI (or no SNI) fails the handshake. */
  strictSni?: boolean
  /** Filled in at load time; the first one is the default certificate. */
  certs: TlsCertificate[]
  ca?: string
  crl?: string
  dhparam?: string
}

/** `server … ssl` settings (flat on the server options so that `default-server` copies stay independent). */
export interface ServerTls extends TlsSettings {
  /** `sni EXPR`: a sample expression giving the server name sent. */
  sni?: string
  verifyhost?: string
  crt?: string
  checkSni?: string
  checkAlpn?: string[]
  /** PEM contents, filled in at load time. */
  caPem?: string
  crlPem?: string
  certPem?: string
  keyPem?: string
  /** The file `certPem` was read from (the runtime API's name for it: `set ssl cert FILE`). */
  crtFile?: string
}

/** The `global` TLS keywords. */
export interface GlobalTls {
  defaultBind: TlsSettings
  defaultServer: TlsSettings
  crtBase?: string
  caBase?: string
  dhParamFile?: string
  dhParam?: string
  defaultDhParam?: number
  /** `ssl-server-verify`: a server's `verify` when it has none (HAProxy's default: required). */
  serverVerify?: 'none' | 'required'
  cacheSize?: number
  lifetime?: number
  /** Session ticket keys (48 bytes, base64) shared by every worker of the supervisor, across reloads. */
  ticketKeys?: string
}
