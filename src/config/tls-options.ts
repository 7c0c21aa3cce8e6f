/**
 * HAProxy TLS settings → Node's secure context options. Used when the configuration is loaded (a
 * context is built once to validate ciphers, curves and PEM files) and by the workers.
 */
import { DEFAULT_CIPHERS, type SecureContextOptions, type SecureVersion } from 'node:tls'
import { TLS_VERSIONS, type TlsSettings, type TlsVersion } from './tls-model.ts'
import { ValueError } from './errors.ts'

const NODE_VERSIONS: Readonly<Record<TlsVersion, SecureVersion>> = {
  'TLSv1.0': 'TLSv1', 'TLSv1.1': 'TLSv1.1', 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3'
}

/** HAProxy 2.6's range when nothing is said: TLSv1.2 to TLSv1.3. */
const DEFAULT_MIN: TlsVersion = 'TLSv1.2'

const DEFAULT_TLS12 = DEFAULT_CIPHERS.split(':').filter(c => !c.startsWith('TLS_')).join(':')
const DEFAULT_TLS13 = DEFAULT_CIPHERS.split(':').filter(c => c.startsWith('TLS_')).join(':')

/**
 * The versions a setting allows: from `ssl-min-ver` (default TLSv1.2) to `ssl-max-ver` (TLSv1.3),
 * without the `no-tlsv1x` ones; as HAProxy, the range runs from the lowest version left up to the
 * first one turned off.
 */
export function versionRange (s: TlsSettings): { min: TlsVersion, max: TlsVersion } {
  const lo = TLS_VERSIONS.indexOf(s.minVer ?? (s.maxVer !== undefined && TLS_VERSIONS.indexOf(s.maxVer) <
    TLS_VERSIONS.indexOf(DEFAULT_MIN) ? s.maxVer : DEFAULT_MIN))
  const hi = TLS_VERSIONS.indexOf(s.maxVer ?? 'TLSv1.3')
  const off = new Set(s.disabled ?? [])
  let first = -1
  let last = -1
  for (let i = lo; i <= hi; i++) {
    const v = TLS_VERSIONS[i] as TlsVersion
    if (off.has(v)) { if (first >= 0) break; continue }
    if (first < 0) first = i
    last = i
  }
  if (first < 0) throw new ValueError('no TLS version left enabled (check ssl-min-ver, ssl-max-ver and no-tlsv1x)')
  return { min: TLS_VERSIONS[first] as TlsVersion, max: TLS_VERSIONS[last] as TlsVersion }
}

/** `ciphers` (TLSv1.2 and below) and `ciphersuites` (TLSv1.3) as the one list Node takes. */
export function cipherList (s: TlsSettings): string {
  return `${s.ciphersuites ?? DEFAULT_TLS13}:${s.ciphers ?? DEFAULT_TLS12}`
}

/** Settings over defaults, option by option (`no-tlsv1x` accumulate). */
export function mergeTls<T extends TlsSettings> (defaults: TlsSettings | undefined, own: T): T {
  if (defaults === undefined) return own
  const merged = { ...defaults, ...own }
  const disabled = [...new Set([...(defaults.disabled ?? []), ...(own.disabled ?? [])])]
  if (own.minVer !== undefined || own.maxVer !== undefined) merged.disabled = own.disabled
  else if (disabled.length > 0) merged.disabled = disabled
  return merged
}

export function secureContextOptions (s: TlsSettings): SecureContextOptions {
  const { min, max } = versionRange(s)
  const o: SecureContextOptions = {
    minVersion: NODE_VERSIONS[min],
    maxVersion: NODE_VERSIONS[max],
    ciphers: cipherList(s),
    honorCipherOrder: s.preferClientCiphers !== true
  }
  if (s.curves !== undefined) o.ecdhCurve = s.curves
  // OpenSSL 3 refuses TLSv1.0/1.1 at its default security level: a configuration asking for them means it.
  if (TLS_VERSIONS.indexOf(min) < TLS_VERSIONS.indexOf('TLSv1.2')) o.ciphers = `${o.ciphers ?? ''}:@SECLEVEL=0`
  return o
}
