/**
 * Section constructors: what each section header creates, and the proxy settings `defaults` hands down.
 */
import type { Location, Proxy, ProxyKind, ProxySettings, TcpCheckRule } from './model.ts'

export function emptySettings (): ProxySettings {
  return {
    timeouts: {}, options: {}, logs: [], defaultServer: {}, monitorNets: [], stats: { auth: [], scope: [] },
      errorfiles: []
  }
}

/** A new proxy inheriting `defaults` as HAProxy does: settings are copied, rules and servers are not. */
export function newProxy (kind: ProxyKind, name: string, loc: Location, defaults: Proxy | undefined): Proxy {
  const inherited: ProxySettings = defaults === undefined ? emptySettings() : structuredClone(pickSettings(defaults))
  return {
    ...inherited,
    kind, name, loc,
    binds: [], servers: [], acls: [], useBackends: [], httpRules: [], tcpRules: [], stickRules: [], monitorFail: [],
      captures: [], ownTcpCheckRules: []
  }
}

/** A section's `tcp-check` ruleset: its own lines, else the one it inherited. */
export function effectiveTcpCheckRules (p: Proxy): readonly TcpCheckRule[] | undefined {
  return p.ownTcpCheckRules.length > 0 ? p.ownTcpCheckRules : p.tcpCheckRules
}

function pickSettings (p: Proxy): ProxySettings {
  const {
    mode, balance, hashType, timeouts, options, forwardFor, httpCheck, checkOption, cookie, maxconn, fullconn, retries,
      logs, logGlobal,
    logFormat, uniqueIdFormat, uniqueIdHeader, defaultServer, monitorNets, monitorUri, stats, errorfiles, source,
    grace, disabled, defaultBackend, restrictHeaderNames
  } = p
  return {
    mode, balance, hashType, timeouts, options, forwardFor, httpCheck, checkOption, cookie, maxconn, fullconn, retries,
      logs, logGlobal,
    logFormat, uniqueIdFormat, uniqueIdHeader, defaultServer, monitorNets, monitorUri, stats, errorfiles, source,
    grace, disabled, defaultBackend, restrictHeaderNames, tcpCheckRules: effectiveTcpCheckRules(p)
  }
}

/** Section headers HAProxy or keepalived know that tslb does not implement, with what to do instead. */
export const UNSUPPORTED_SECTIONS: Readonly<Record<string, string>> = {
  resolvers: 'DNS resolution at run time is not supported yet: write server addresses',
  mailers: 'email alerts are not supported: use notify scripts',
  cache: 'HTTP caching is not supported',
  ring: 'ring buffers are not supported: logs go to stdout/journald or syslog',
  program: "'program' sections are not supported: use systemd units",
  'fcgi-app': 'FastCGI is not supported',
  'log-forward': "'log-forward' is not supported",
  global_defs:
    ("keepalived's global_defs has no tslb equivalent: settings go in 'global' (run 'tslb convert' on the " +
      "keepalived.conf)"),
  virtual_server: 'LVS virtual servers are not supported: use a tslb frontend/backend',
  static_ipaddress: 'static addresses are not managed by tslb'
}
