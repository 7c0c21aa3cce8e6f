/**
 * The TLS sample fetches (HAProxy 2.6 names): whether each takes arguments and the type of its
 * sample, which sets the default match method of an ACL on it.
 */
import type { Proxy } from './model.ts'
import { parseTime } from './values.ts'

export interface TlsFetchSpec {
  readonly args: boolean
  readonly type: 'bool' | 'int' | 'str' | 'bin'
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

/** Fetches over the bytes a `mode tcp` connection sent first, read during `tcp-request inspect-delay`. */
export const PAYLOAD_FETCHES: Readonly<Record<string, TlsFetchSpec>> = {
  'req.len': { args: false, type: 'int' },
  req_len: { args: false, type: 'int' },
  'req.payload': { args: true, type: 'bin' }
}

/**
 * HTTP request fetches over the first bytes of a `mode tcp` connection, once they hold a whole request head (HAProxy
 * parses the buffer as HTTP for them): `tcp-request content track-sc0 url`.
 */
export const HTTP_PAYLOAD_FETCHES: Readonly<Record<string, TlsFetchSpec>> = {
  url: { args: false, type: 'str' }, path: { args: false, type: 'str' }, pathq: { args: false, type: 'str' },
  base: { args: false, type: 'str' }, query: { args: false, type: 'str' }, method: { args: false, type: 'str' },
  'req.ver': { args: false, type: 'str' }, req_ver: { args: false, type: 'str' }, hdr: { args: true, type: 'str' },
  'req.hdr': { args: true, type: 'str' }, 'req.fhdr': { args: true, type: 'str' },
  url_param: { args: true, type: 'str' }, urlp: { args: true, type: 'str' }, 'req.cook': { args: true, type: 'str' },
    cook: { args: true, type: 'str' }
}

/** What a `mode tcp` proxy may read before routing when it waits (`tcp-request inspect-delay`). */
export const INSPECT_FETCHES: Readonly<Record<string, TlsFetchSpec>> = { ...HELLO_FETCHES, ...PAYLOAD_FETCHES,
  ...HTTP_PAYLOAD_FETCHES }

/**
 * `tcp-request inspect-delay` of a `mode tcp` proxy whose rules read the first bytes (the ClientHello with `req.ssl_*`,
 * `req.len`, `req.payload`): how long a connection may wait for them before `tcp-request content` rules and routing
 * run. Undefined: no waiting.
 */
export function inspectDelay (p: Proxy): number | undefined {
  if (p.mode === 'http') return undefined
  const delay = p.tcpRules.find(r => r.action === 'inspect-delay')?.args[0]
  if (delay === undefined) return undefined
  return proxyUses(p, INSPECT_FETCHES) ? parseTime(delay) : undefined
}

/**
 * Some ACL of the proxy (named, or anonymous in its rules and routing), or the key of a `tcp-request` track-sc, reads
 * one of `fetches`.
 */
export function proxyUses (p: Proxy, fetches: Readonly<Record<string, unknown>>): boolean {
  const anonymous = [...p.useBackends.map(u => u.cond), ...p.tcpRules.map(r => r.cond)].flatMap(c => c?.terms.flat() ??
    []).map(t => t.acl).filter(a => typeof a !== 'string')
  const keys = p.tcpRules.flatMap(r => r.spec?.type === 'track-sc' ? [r.spec.key] : [])
  return [...p.acls, ...anonymous, ...keys].some(a => a.fetch in fetches)
}
