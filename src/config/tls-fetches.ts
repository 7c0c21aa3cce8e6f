/**
 * The TLS sample fetches (HAProxy 2.6 names): whether each takes arguments and the type of its
 * sample, which sets the default match method of an ACL on it.
 */
import type { Proxy } from './model.ts'
import { parseTime } from './values.ts'

export interface TlsFetchSpec {
  readonly args: boolean
  readonly type: 'bool' | 'int' | 'str'
}

export const TLS_FETCHES: Readonly<Record<string, TlsFetchSpec>> = {
  ssl_fc: { args: false, type: 'bool' },
  ssl_fc_sni: { args: false, type: 'str' },
  ssl_fc_has_sni: { args: false, type: 'bool' },
  ssl_fc_alpn: { args: false, type: 'str' },
  ssl_fc_protocol: { args: false, type: 'str' },
  ssl_fc_cipher: { args: false, type: 'str' },
  ssl_fc_is_resumed: { args: false, type: 'bool' },
  ssl_fc_has_crt: { args: false, type: 'bool' },
  ssl_c_used: { args: false, type: 'bool' },
  ssl_c_verify: { args: false, type: 'int' },
  ssl_c_s_dn: { args: true, type: 'str' },
  ssl_c_i_dn: { args: true, type: 'str' },
  ssl_c_serial: { args: false, type: 'str' }
}

/** Fetches over the first bytes of a `mode tcp` connection (the ClientHello, read without terminating TLS). */
export const HELLO_FETCHES: Readonly<Record<string, TlsFetchSpec>> = {
  'req.ssl_sni': { args: false, type: 'str' },
  req_ssl_sni: { args: false, type: 'str' },
  'req.ssl_hello_type': { args: false, type: 'int' },
  req_ssl_hello_type: { args: false, type: 'int' },
  'req.ssl_alpn': { args: false, type: 'str' }
}

/**
 * `tcp-request inspect-delay` of a `mode tcp` proxy whose rules read the ClientHello (`req.ssl_*`): how long a
 * connection waits for it before `tcp-request content` rules and routing run. Undefined: no waiting.
 */
export function helloInspectDelay (p: Proxy): number | undefined {
  if (p.mode !== 'tcp') return undefined
  const delay = p.tcpRules.find(r => r.action === 'inspect-delay')?.args[0]
  if (delay === undefined) return undefined
  const anonymous = [...p.useBackends.map(u => u.cond), ...p.tcpRules.map(r => r.cond)].flatMap(c => c?.terms.flat() ??
    []).map(t => t.acl).filter(a => typeof a !== 'string')
  return [...p.acls, ...anonymous].some(a => a.fetch in HELLO_FETCHES) ? parseTime(delay) : undefined
}
