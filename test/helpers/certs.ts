/**
 * Certificates made at test time with the openssl CLI in a temporary directory (no key is ever
 * committed): a CA, leaf certificates it signs (server or client), PEM bundles as HAProxy reads them.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface CertDir {
  readonly dir: string
  /** The CA certificate file. */
  readonly ca: string
  /**
   * A certificate for `names` (first one the CN, all of them DNS SANs) signed by the CA:
   * `NAME.crt`, `NAME.key` and `NAME.pem` (certificate then key). Returns the .pem path.
   */
  leaf: (file: string, names: readonly string[], opts?: { client?: boolean, selfSigned?: boolean, rsa?: boolean }) =>
  string
  /** A CRL of the CA revoking the certificates `files` (leaf names); returns its path. */
  crl: (files: readonly string[]) => string
  remove: () => void
}

function openssl (args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

export function makeCertDir (prefix = 'tslb-tls-'): CertDir {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tslb test CA'], dir)
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    leaf: (file, names, opts = {}) => {
      const cn = names[0] ?? file
      const key = opts.rsa === true ? ['rsa:2048'] : ['ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']
      openssl(['req', '-newkey', ...key, '-nodes', '-keyout', `${file}.key`, '-out', `${file}.csr`, '-subj',
        `/O=tslb/CN=${cn}`], dir)
      const ext = `${file}.ext`
      writeFileSync(join(dir, ext), (names.length > 0 ? `subjectAltName=${names.map(n => `DNS:${n}`).join(',')}\n` : '') +
        `extendedKeyUsage=${opts.client === true ? 'clientAuth' : 'serverAuth'}\n`)
      const sign = opts.selfSigned === true ? ['-signkey', `${file}.key`] : ['-CA', 'ca.pem', '-CAkey', 'ca.key',
        '-CAcreateserial']
      openssl(['x509', '-req', '-in', `${file}.csr`, ...sign, '-out', `${file}.crt`, '-days', '2', '-extfile', ext], dir)
      const pem = join(dir, `${file}.pem`)
      writeFileSync(pem, readFileSync(join(dir, `${file}.crt`), 'utf8') + readFileSync(join(dir, `${file}.key`), 'utf8'))
      return pem
    },
    crl: files => {
      writeFileSync(join(dir, 'index.txt'), '')
      writeFileSync(join(dir, 'crlnumber'), '01\n')
      writeFileSync(join(dir, 'ca.cnf'), '[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = index.txt\ncrlnumber = crlnumber\n' +
        'default_md = sha256\ndefault_crl_days = 2\n')
      const ca = ['-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.pem']
      for (const f of files) openssl(['ca', ...ca, '-revoke', `${f}.crt`], dir)
      openssl(['ca', ...ca, '-gencrl', '-out', 'crl.pem'], dir)
      return join(dir, 'crl.pem')
    },
    remove: () => { rmSync(dir, { recursive: true, force: true }) }
  }
}
