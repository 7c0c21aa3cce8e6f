/**
 * The certificates a worker serves, by file name, and the runtime API's one transaction on them (HAProxy's ckch
 * store: `set ssl cert` fills a transaction, `commit ssl cert` replaces the file's certificate everywhere it is
 * used, `abort ssl cert` drops it). A commit reaches the bind lines through `onCommit`: their terminators rebuild
 * their secure contexts, so new handshakes get the new certificate and connections already made keep theirs.
 * Nothing is written to disk: a reload serves the files again.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { createSecureContext } from 'node:tls'
import type { Config } from '../../config/model.ts'
import type { TlsCertificate } from '../../config/tls-model.ts'
import { certificateNames } from '../../config/tls-files.ts'
import { CertStoreError, CertStoreErrorCode as Code } from './errors.ts'

/** A certificate file's contents; both undefined for a store made by `new ssl cert` and not committed yet. */
export interface StoredCert {
  readonly file: string
  /** Certificate then chain, PEM. */
  readonly cert: string | undefined
  readonly key: string | undefined
}

/** What `set ssl cert NAME` may name besides the file: HAProxy's side-file extensions. */
const SIDE_EXTENSIONS = ['crt', 'key', 'ocsp', 'sctl', 'issuer']
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g

export class CertStore {
  private readonly stored = new Map<string, StoredCert>()
  /** Bind lines (and crt-list lines) that serve each file: HAProxy's ckch instances. */
  private readonly instances = new Map<string, number>()
  /** Files committed at runtime, with the names their new certificate covers. */
  private readonly replaced = new Map<string, { cert: string, key: string, names: string[] }>()
  private readonly listeners = new Set<(file: string) => void>()
  private tx: StoredCert | undefined

  /** `certs`: one per bind line (or crt-list line) and per server (`crt`) that serves it. */
  constructor (certs: readonly StoredCert[]) {
    for (const c of certs) {
      this.stored.set(c.file, { file: c.file, cert: c.cert, key: c.key })
      this.instances.set(c.file, (this.instances.get(c.file) ?? 0) + 1)
    }
  }

  /** The certificates of every `bind … ssl` line and every `server … crt` of the configuration. */
  static fromConfig (config: Config): CertStore {
    const binds: StoredCert[] = config.proxies.flatMap(p => p.binds.flatMap(b => b.ssl?.certs ?? []))
    const servers: StoredCert[] = config.proxies.flatMap(p => p.servers.flatMap(s => {
      const t = s.tls
      return t?.crtFile === undefined ? [] : [{ file: t.crtFile, cert: t.certPem, key: t.keyPem }]
    }))
    return new CertStore([...binds, ...servers])
  }

  /** File names in byte order, as HAProxy lists its tree. */
  files (): string[] {
    return [...this.stored.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
  }

  get (file: string): StoredCert | undefined {
    return this.stored.get(file)
  }

  /** How many bind lines serve `file` (0: Unused). */
  uses (file: string): number {
    return this.instances.get(file) ?? 0
  }

  get transaction (): StoredCert | undefined {
    return this.tx
  }

  /** `c` as it is to be served now: with the certificate, key and names committed at runtime for its file. */
  current (c: TlsCertificate): TlsCertificate {
    const r = this.replaced.get(c.file)
    return r === undefined ? c : { ...c, cert: r.cert, key: r.key, names: r.names }
  }

  /** `fn(file)` after each commit of a file. */
  onCommit (fn: (file: string) => void): void {
    this.listeners.add(fn)
  }

  /** `set ssl cert NAME <<PAYLOAD`: starts or updates the transaction; true when it started one. */
  set (name: string, payload: string): boolean {
    const { file, kind } = this.resolve(name)
    const cantUpdate = `Can't update ${name}!\n`
    if (this.tx !== undefined && this.tx.file !== file) {
      throw new CertStoreError(Code.OTHER_TRANSACTION, `The ongoing transaction is about '${this.tx.file}' but you ` +
        `are trying to set '${file}'\n${cantUpdate}`)
    }
    const base = this.tx ?? this.stored.get(file)
    if (base === undefined) {
      throw new CertStoreError(Code.UNKNOWN, "Can't replace a certificate which is not referenced by the " +
        `configuration!\n${cantUpdate}`)
    }
    if (kind !== 'pem' && kind !== 'key') {
      throw new CertStoreError(Code.UNSUPPORTED, `'.${kind}' files are not supported by tslb.\n${cantUpdate}`)
    }
    const blocks = [...payload.matchAll(PEM_BLOCK)]
    const key = blocks.map(m => m[0]).find(b => usableKey(b) !== undefined)
    const certs = blocks.filter(m => m[1] === 'CERTIFICATE' || m[1] === 'TRUSTED CERTIFICATE').map(m => m[0])
    let next: StoredCert
    if (kind === 'key') {
      if (key === undefined) throw payloadError(`unable to load private key from file '${file}'.\n`, cantUpdate)
      next = { ...base, key }
    } else {
      if (certs.length === 0 || !parses(certs[0] as string)) {
        throw payloadError(`unable to load certificate from file '${file}'.\n`, cantUpdate)
      }
      next = { file, cert: certs.join('\n'), key }
    }
    const started = this.tx === undefined
    this.tx = next
    return started
  }

  /** `commit ssl cert FILE`: the number of bind lines that now serve the new certificate. */
  commit (file: string): number {
    const tx = this.pending(file, 'set', `Can't commit ${file}!\n`, 'No ongoing transaction! !\n')
    const cantCommit = `Can't commit ${file}!\n`
    if (tx.cert !== undefined && tx.key === undefined) {
      throw new CertStoreError(Code.INCOMPLETE, 'The transaction must contain at least a certificate and a private ' +
        `key!\n${cantCommit}`)
    }
    const inconsistent = new CertStoreError(Code.INCOMPLETE, 'inconsistencies between private key and certificate ' +
      `loaded '${file}'.\n${cantCommit}`)
    if (tx.cert === undefined || tx.key === undefined) throw inconsistent
    const x509 = new X509Certificate(tx.cert)
    if (!x509.checkPrivateKey(usableKey(tx.key) as KeyObject)) throw inconsistent
    try {
      createSecureContext({ cert: tx.cert, key: tx.key })
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new CertStoreError(Code.INCOMPLETE, `Committing ${file}\n${why}\nFailed!\n`)
    }
    this.tx = undefined
    this.install(file, tx.cert, tx.key, x509)
    return this.uses(file)
  }

  private install (file: string, cert: string, key: string, x509: X509Certificate): void {
    this.stored.set(file, { file, cert, key })
    this.replaced.set(file, { cert, key, names: certificateNames(x509) })
    for (const fn of this.listeners) fn(file)
  }

  /** `abort ssl cert FILE`. */
  abort (file: string): void {
    this.pending(file, 'abort a transaction for', '', 'No ongoing transaction!\n')
    this.tx = undefined
  }

  /** `new ssl cert FILE`: an empty entry, to be filled by a transaction (it is served nowhere). */
  create (file: string): void {
    if (this.stored.has(file)) throw new CertStoreError(Code.EXISTS, `Certificate '${file}' already exists!\n`)
    this.stored.set(file, { file, cert: undefined, key: undefined })
  }

  /** `del ssl cert FILE`: only an entry no bind line serves. */
  remove (file: string): void {
    if (!this.stored.has(file)) {
      throw new CertStoreError(Code.UNKNOWN, `Can't remove the certificate: certificate '${file}' doesn't exist!\n\n`)
    }
    if (this.uses(file) > 0) {
      throw new CertStoreError(Code.IN_USE, `Can't remove the certificate: certificate '${file}' in use, can't be ` +
        'deleted!\n\n')
    }
    this.stored.delete(file)
  }

  private pending (file: string, verb: string, suffix: string, none: string): StoredCert {
    if (this.tx === undefined) throw new CertStoreError(Code.NO_TRANSACTION, none + suffix)
    if (this.tx.file !== file) {
      throw new CertStoreError(Code.OTHER_TRANSACTION, `The ongoing transaction is about '${this.tx.file}' but you ` +
        `are trying to ${verb} '${file}'\n${suffix}`)
    }
    return this.tx
  }

  /** The stored file a name stands for: itself, or the file of a side-file name (`FILE.key`). */
  private resolve (name: string): { file: string, kind: string } {
    if (this.stored.has(name) || this.tx?.file === name) return { file: name, kind: 'pem' }
    const dot = name.lastIndexOf('.')
    const ext = dot < 0 ? '' : name.slice(dot + 1)
    if (!SIDE_EXTENSIONS.includes(ext)) return { file: name, kind: 'pem' }
    return { file: name.slice(0, dot), kind: ext === 'crt' ? 'pem' : ext }
  }
}

function payloadError (what: string, cantUpdate: string): CertStoreError {
  return new CertStoreError(Code.PAYLOAD, `${what}Can't load the payload\n${cantUpdate}`)
}

/** A PEM private key tslb can use (not encrypted: there is no passphrase to ask for). */
function usableKey (pem: string): KeyObject | undefined {
  if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem) || pem.includes('ENCRYPTED')) return undefined
  try {
    return createPrivateKey(pem)
  } catch {
    return undefined
  }
}

function parses (pem: string): boolean {
  try {
    return new X509Certificate(pem).serialNumber !== ''
  } catch {
    return false
  }
}
