/**
 * The runtime API's certificate commands, in HAProxy 2.6's words (ssl_ckch.c): `show ssl cert [[*]FILE]`,
 * `set ssl cert FILE <<PAYLOAD`, `commit ssl cert FILE`, `abort ssl cert FILE`, `new ssl cert FILE`,
 * `del ssl cert FILE`. The crt-list commands answer that tslb does not support them.
 */
import { X509Certificate } from 'node:crypto'
import type { CertStore, StoredCert } from '../tls/cert-store.ts'
import { CertStoreError } from '../tls/errors.ts'
import { formatDn } from '../tls/facts.ts'

const EC_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256 }

/** `show ssl cert` without a name: the transaction, then every file. */
export function listSslCerts (store: CertStore): string {
  const tx = store.transaction
  const head = tx === undefined ? '' : `# transaction\n*${tx.file}\n`
  return `${head}# filename\n${store.files().map(f => `${f}\n`).join('')}`
}

/** `show ssl cert NAME` (`*NAME`: the transaction). */
export function showSslCert (store: CertStore, name: string): string {
  const notFound = "Can't display the certificate: Not found or the certificate is a bundle!\n"
  if (name.endsWith('.ocsp')) return 'OCSP responses are not supported by tslb.\n'
  const fromTx = name.startsWith('*')
  const file = fromTx ? name.slice(1) : name
  const stored = fromTx ? (store.transaction?.file === file ? store.transaction : undefined) : store.get(file)
  if (stored === undefined) return notFound
  const status = stored.cert === undefined ? 'Empty' : fromTx || store.uses(file) === 0 ? 'Unused' : 'Used'
  return `Filename: ${fromTx ? '*' : ''}${file}\nStatus: ${status}\n${certDetails(stored)}`
}

/** HAProxy's show_cert_detail: the leaf, then each chain certificate's subject and issuer. */
function certDetails (stored: StoredCert): string {
  const ocsp = 'OCSP Response Key: \n'
  if (stored.cert === undefined) return ocsp
  const pems = [...stored.cert.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)]
    .map(m => m[0])
  const [leaf, ...chain] = pems.map(p => new X509Certificate(p))
  if (leaf === undefined) return ocsp
  const dn = (s: string): string => formatDn(s, undefined, undefined) ?? ''
  const san = (leaf.subjectAltName ?? '').split(', ').filter(e => e !== '').map(e => e.startsWith('DNS:') ? e : '')
  let out = `Serial: ${leaf.serialNumber.toUpperCase()}\nnotBefore: ${leaf.validFrom}\nnotAfter: ${leaf.validTo}\n` +
    `Subject Alternative Name: ${san.join(', ')}\nAlgorithm: `
  const algo = algorithm(leaf)
  // HAProxy stops the details where it cannot name the key's algorithm (Ed25519...).
  if (algo === undefined) return out
  out += `${algo}\nSHA1 FingerPrint: ${leaf.fingerprint.replaceAll(':', '')}\n` +
    `Subject: ${dn(leaf.subject)}\nIssuer: ${dn(leaf.issuer)}\n`
  for (const c of chain) out += `Chain Subject: ${dn(c.subject)}\nChain Issuer: ${dn(c.issuer)}\n`
  return out + ocsp
}

function algorithm (x509: X509Certificate): string | undefined {
  const k = x509.publicKey
  const d = k.asymmetricKeyDetails
  if (k.asymmetricKeyType === 'rsa' || k.asymmetricKeyType === 'rsa-pss') return `RSA${d?.modulusLength ?? 0}`
  if (k.asymmetricKeyType === 'ec') return `EC${EC_BITS[d?.namedCurve ?? ''] ?? 0}`
  if (k.asymmetricKeyType === 'dsa') return `DSA${d?.modulusLength ?? 0}`
  return undefined
}

export type SslCertVerb = 'set' | 'commit' | 'abort' | 'new' | 'del'

const MISSING: Record<SslCertVerb, string> = {
  set: "'set ssl cert expects a filename and a certificate as a payload\n",
  commit: "'commit ssl cert expects a filename\n",
  abort: "'abort ssl cert' expects a filename\n",
  new: "'new ssl cert' expects a filename\n",
  del: "'del ssl cert' expects a certificate name\n"
}

/** One of the certificate-changing commands (the caller checked the admin level); `name` is the 4th word. */
export function sslCertCommand (store: CertStore, verb: SslCertVerb, name: string, payload: string | undefined):
string {
  if (name === '' || (verb === 'set' && payload === undefined)) return MISSING[verb]
  try {
    switch (verb) {
      case 'set': {
        const started = store.set(name, payload ?? '')
        const file = store.transaction?.file ?? name
        return `Transaction ${started ? 'created' : 'updated'} for certificate ${file}!\n`
      }
      case 'commit': {
        const instances = store.commit(name)
        return `Committing ${name}${'.'.repeat(instances)}\nSuccess!\n`
      }
      case 'abort':
        store.abort(name)
        return `Transaction aborted for certificate '${name}'!\n`
      case 'new':
        store.create(name)
        return `New empty certificate store '${name}'!\n`
      case 'del':
        store.remove(name)
        return `Certificate '${name}' deleted!\n`
    }
  } catch (err) {
    if (err instanceof CertStoreError) return err.message
    throw err
  }
}
