/**
 * Checks that need the whole file: references between sections, modes, duplicate listeners,
 * and the VRRP instances' consistency. Adds diagnostics; changes nothing.
 */
import type { Diagnostics } from './context.ts'
import type { Condition, Config, Location, Proxy } from './model.ts'
import { PREDEFINED_ACLS, referencedAcls } from './acl.ts'
import { formatAddress } from './values.ts'
import { validateScripts } from './script-checks.ts'
import { checkEnforcement } from './enforcement-check.ts'
import { parseLogFormat } from './log-format.ts'
import { ValueError } from './errors.ts'
import { resolveStickCounters } from './stick-counters.ts'

export function validate (config: Config, diag: Diagnostics, localPeer: string | undefined): void {
  const backends = new Map(config.proxies.filter(p => p.kind !== 'frontend').map(p => [p.name, p]))
  const frontends = config.proxies.filter(p => p.kind === 'frontend' || p.kind === 'listen')
  for (const p of config.proxies) validateProxy(p, config, backends, diag)
  for (const fe of frontends) validateRouting(fe, backends, diag)
  checkDuplicateBinds(frontends, diag)
  validatePeers(config, diag, localPeer)
  validateVrrp(config, diag)
  validateScripts(config, diag)
  resolveStickCounters(config, diag)
  checkEnforcement(config, diag)
  if (config.proxies.length === 0 && config.vrrpInstances.length === 0 && config.peers.length === 0) {
    diag.error({ file: config.files[0] ?? '', line: 0 },
      'configuration has no frontend, backend, listen, peers or vrrp_instance section')
  }
}

function checkCondition (p: Proxy, cond: Condition | undefined, loc: Location, diag: Diagnostics): void {
  if (cond === undefined) return
  for (const name of referencedAcls(cond)) {
    if (!PREDEFINED_ACLS.has(name) && !p.acls.some(a => a.name === name)) {
      diag.error(loc, `ACL '${name}' is not declared in ${p.kind} '${p.name}'`)
    }
  }
}

function validateProxy (p: Proxy, config: Config, backends: Map<string, Proxy>, diag: Diagnostics): void {
  const hasFrontend = p.kind === 'frontend' || p.kind === 'listen'
  const hasBackend = p.kind === 'backend' || p.kind === 'listen'
  for (const u of p.useBackends) checkCondition(p, u.cond, u.loc, diag)
  for (const r of [...p.httpRules, ...p.tcpRules]) checkCondition(p, r.cond, r.loc, diag)
  for (const r of p.stickRules) checkCondition(p, r.cond, r.loc, diag)
  for (const c of p.monitorFail) checkCondition(p, c, p.loc, diag)
  if (p.stats.adminCond !== undefined) checkCondition(p, p.stats.adminCond, p.loc, diag)

  if (hasFrontend) {
    for (const [keyword, format] of [['log-format', p.logFormat], ['unique-id-format', p.uniqueIdFormat]] as const) {
      if (format === undefined) continue
      try {
        parseLogFormat(format.text, p.mode === 'http' ? 'http' : 'tcp', keyword, keyword === 'log-format')
      } catch (err) {
        if (!(err instanceof ValueError)) throw err
        diag.error(format.loc, `${p.kind} '${p.name}': failed to parse ${err.message}`)
      }
    }
  }
  if (hasFrontend && p.binds.length === 0) {
    diag.warn(p.loc, `${p.kind} '${p.name}' has no 'bind' line: it accepts no connection`)
  }
  if (hasFrontend && p.timeouts.client === undefined) diag.warn(p.loc,
    `${p.kind} '${p.name}' has no 'timeout client': idle clients are never timed out`)
  if (hasBackend && (p.timeouts.connect === undefined || p.timeouts.server === undefined)) {
    diag.warn(p.loc, `${p.kind} '${p.name}' is missing 'timeout connect' or 'timeout server'`)
  }
  if (p.mode !== 'http') for (const b of p.binds) if (b.options.proto !== undefined) diag.error(b.loc,
    `'bind ... proto ${String(b.options.proto)}' needs 'mode http' (${p.kind} '${p.name}' is in tcp mode)`)
  if (p.mode === 'tcp' || p.mode === undefined) {
    const httpOnly = [
      p.cookie !== undefined && hasBackend ? 'cookie' : '',
      p.forwardFor !== undefined ? 'option forwardfor' : '',
      p.httpRules.length > 0 ? 'http-request/http-response rules' : ''
    ].filter(x => x !== '')
    for (const what of httpOnly) diag.warn(p.loc,
      `'${what}' is ignored: ${p.kind} '${p.name}' is in tcp mode (add 'mode http')`)
    if (p.options.httplog === true && hasFrontend) diag.warn(p.loc,
      `'option httplog' in tcp mode: ${p.kind} '${p.name}' logs in tcplog format`)
  }
  if (hasBackend && p.ownTcpCheckRules.length > 0 && p.options['tcp-check'] !== true) diag.warn(p.loc,
    `${p.kind} '${p.name}' has 'tcp-check' rules but no 'option tcp-check': they are not used`)
  if (hasBackend) {
    const cookies = new Map<string, string>()
    for (const s of p.servers) {
      if (s.cookie !== undefined) {
        const other = cookies.get(s.cookie)
        if (other !== undefined) diag.warn(s.loc,
          `servers '${other}' and '${s.name}' share cookie '${s.cookie}' in ${p.kind} '${p.name}'`)
        cookies.set(s.cookie, s.name)
      }
      if (s.track !== undefined) {
        const [be, srv] = s.track.includes('/') ? s.track.split('/') : [p.name, s.track]
        const target = backends.get(be ?? '')?.servers.find(x => x.name === srv)
        if (target === undefined) diag.error(s.loc, `server '${s.name}': 'track ${s.track}' names no known server`)
      }
    }
    if (p.cookie !== undefined && p.cookie.mode !== undefined && p.servers.length > 0 && cookies.size === 0) {
      diag.warn(p.loc, `${p.kind} '${p.name}' sets a persistence cookie but no server has a 'cookie' value`)
    }
    if (p.servers.length === 0 && p.dispatch === undefined) diag.warn(p.loc,
      `${p.kind} '${p.name}' has no server: every request gets 503`)
  }
  for (const r of p.stickRules) {
    // `table NAME` names a proxy's table, or `PEERS/TABLE` a table declared in a peers section.
    const [peersName, tableName] = (r.table ?? '').split('/')
    const table = r.table === undefined ? p : config.proxies.find(x => x.name === r.table)
    if (table?.stickTable === undefined && !config.peers.some(ps => ps.name === peersName && ps.tables.some(t =>
      t.name === tableName))) {
      diag.error(r.loc, r.table === undefined
        ? `'stick ${r.kind}' needs a stick-table in ${p.kind} '${p.name}' or a 'table NAME' argument`
        : `'stick ${r.kind}': no stick-table named '${r.table}'`)
    }
  }
  const peersName = p.stickTable?.peers
  if (peersName !== undefined && !config.peers.some(ps => ps.name === peersName)) {
    diag.error(p.stickTable?.loc ?? p.loc,
      `stick-table in ${p.kind} '${p.name}' refers to peers section '${peersName}', which does not exist`)
  }
  for (const a of p.acls) {
    if ((a.fetch === 'http_auth' || a.fetch === 'http_auth_group') && !config.userlists.some(u => u.name ===
      a.fetchArgs[0])) {
      diag.error(a.loc, `ACL '${a.name}': userlist '${a.fetchArgs[0] ?? ''}' does not exist`)
    }
  }
}

function validateRouting (fe: Proxy, backends: Map<string, Proxy>, diag: Diagnostics): void {
  const targets = [
    ...fe.useBackends.map(u => ({ name: u.backend, loc: u.loc })),
    ...(fe.defaultBackend === undefined ? [] : [{ name: fe.defaultBackend, loc: fe.loc }])
  ]
  for (const t of targets) {
    if (t.name.includes('%[')) continue
    const be = backends.get(t.name)
    if (be === undefined) {
      diag.error(t.loc, `${fe.kind} '${fe.name}' routes to backend '${t.name}', which does not exist`)
    } else if ((fe.mode ?? 'tcp') === 'http' && (be.mode ?? 'tcp') === 'tcp') {
      diag.error(t.loc, `${fe.kind} '${fe.name}' is in http mode and cannot use backend '${t.name}' in tcp mode`)
    }
  }
  if (fe.kind === 'frontend' && targets.length === 0 && fe.binds.length > 0) {
    diag.warn(fe.loc, `frontend '${fe.name}' has no default_backend and no use_backend: every request gets 503`)
  }
}

function checkDuplicateBinds (frontends: Proxy[], diag: Diagnostics): void {
  const seen = new Map<string, string>()
  for (const fe of frontends) {
    for (const b of fe.binds) {
      for (const a of b.addresses) {
        for (let port = a.port ?? 0; port <= (a.portEnd ?? a.port ?? 0); port++) {
          const key = a.fd === undefined ? `${a.host}|${port}` : `fd@${a.fd}`
          const other = seen.get(key)
          if (other !== undefined) diag.error(b.loc,
            `${fe.kind} '${fe.name}' binds ${formatAddress({ ...a, port, portEnd: port })}, already bound by ${other}`)
          else seen.set(key, `${fe.kind} '${fe.name}'`)
        }
      }
    }
  }
}

function validatePeers (config: Config, diag: Diagnostics, localPeer: string | undefined): void {
  for (const ps of config.peers) {
    if (ps.peers.length === 0) diag.error(ps.loc, `peers section '${ps.name}' has no peer`)
    if (localPeer !== undefined && !ps.disabled && !ps.peers.some(p => p.name === localPeer)) {
      diag.warn(ps.loc,
        (`peers section '${ps.name}' has no peer named '${localPeer}' (the local peer, from -L or the host name): ` +
          `it will not sync`))
    }
  }
}

function validateVrrpTracking (config: Config, diag: Diagnostics): void {
  for (const f of config.vrrpTrackFiles) {
    if (f.file === undefined) diag.error(f.loc, `vrrp_track_file '${f.name}' has no 'file' line`)
  }
  for (const p of config.vrrpTrackProcesses) {
    if (p.process === undefined) diag.error(p.loc, `vrrp_track_process '${p.name}' has no 'process' line`)
    if (p.quorumMax < p.quorum) diag.error(p.loc,
      `vrrp_track_process '${p.name}': quorum_max ${p.quorumMax} is less than quorum ${p.quorum}`)
  }
  const groupOf = new Map<string, string>()
  for (const g of config.vrrpSyncGroups) {
    if (g.members.length === 0) diag.error(g.loc, `vrrp_sync_group '${g.name}' has no 'group' line`)
    else if (g.members.length === 1) diag.warn(g.loc,
      `vrrp_sync_group '${g.name}' has only 1 vrrp_instance - this probably isn't what you want (keepalived's warning)`)
    for (const m of g.members) {
      const inst = config.vrrpInstances.find(i => i.name === m)
      if (inst === undefined) { diag.error(g.loc, `vrrp_sync_group '${g.name}': vrrp_instance '${m}' does not exist`);
        continue }
      const other = groupOf.get(m)
      if (other !== undefined) { diag.error(g.loc,
        `vrrp_instance '${m}' is in vrrp_sync_group '${other}' and '${g.name}': one group per instance`); continue }
      groupOf.set(m, g.name)
      if (g.trackingWeight) continue
      const weighted = [
        ...inst.trackScripts.filter(t => (t.weight ?? config.vrrpScripts.find(s => s.name === t.name)?.weight ?? 0) !==
          0).map(t => `track_script ${t.name}`),
        ...inst.trackInterfaces.filter(t => (t.weight ?? 0) !== 0).map(t => `track_interface ${t.name}`),
        ...inst.trackFiles.filter(t => (t.weight ?? config.vrrpTrackFiles.find(f => f.name === t.name)?.weight ?? 1) !==
          0).map(t => `track_file ${t.name}`),
        ...inst.trackProcesses.filter(t => (t.weight ?? config.vrrpTrackProcesses.find(p => p.name ===
          t.name)?.weight ?? 0) !== 0).map(t => `track_process ${t.name}`)
      ]
      if (weighted.length > 0) {
        diag.warn(inst.loc,
          (`vrrp_instance '${m}' is in vrrp_sync_group '${g.name}': the weights of ${weighted.join(', ')} are ` +
            (`ignored and a failure means FAULT, as keepalived does ('sync_group_tracking_weight' in the group ` +
              `keeps them)`)))
      }
    }
  }
}

function validateVrrp (config: Config, diag: Diagnostics): void {
  validateVrrpTracking(config, diag)
  const vrids = new Map<string, string>()
  for (const s of config.vrrpScripts) {
    if (s.script === undefined) diag.error(s.loc, `vrrp_script '${s.name}' has no 'script' line`)
    if (s.timeout !== undefined && s.timeout > s.interval) diag.warn(s.loc,
      `vrrp_script '${s.name}': timeout is longer than interval`)
  }
  for (const v of config.vrrpInstances) {
    if (v.interface === undefined) diag.error(v.loc, `vrrp_instance '${v.name}' has no 'interface'`)
    if (v.virtualRouterId === undefined) diag.error(v.loc, `vrrp_instance '${v.name}' has no 'virtual_router_id'`)
    if (v.virtualAddresses.length === 0) diag.error(v.loc, `vrrp_instance '${v.name}' has no 'virtual_ipaddress'`)
    const families = new Set(v.virtualAddresses.map(a => a.family))
    if (families.size > 1) diag.error(v.loc,
      `vrrp_instance '${v.name}' mixes IPv4 and IPv6 virtual addresses: use one instance per family`)
    if (families.has(6) && v.version === 2) diag.error(v.loc,
      `vrrp_instance '${v.name}': IPv6 virtual addresses need 'version 3'`)
    if (v.version === 2 && v.advertInt % 1000 !== 0) diag.error(v.loc,
      `vrrp_instance '${v.name}': VRRPv2 advert_int must be whole seconds (use 'version 3' for fractions)`)
    if (v.version === 3 && v.authentication !== undefined) diag.error(v.loc,
      `vrrp_instance '${v.name}': VRRPv3 has no authentication`)
    if (v.priority === 255 && v.state === 'BACKUP') diag.warn(v.loc,
      `vrrp_instance '${v.name}': priority 255 (address owner) with state BACKUP`)
    for (const t of v.trackScripts) {
      if (!config.vrrpScripts.some(s => s.name === t.name)) diag.error(v.loc,
        `vrrp_instance '${v.name}' tracks vrrp_script '${t.name}', which does not exist`)
    }
    for (const t of v.trackFiles) {
      if (!config.vrrpTrackFiles.some(f => f.name === t.name)) diag.error(v.loc,
        `vrrp_instance '${v.name}' tracks vrrp_track_file '${t.name}', which does not exist`)
    }
    for (const t of v.trackProcesses) {
      if (!config.vrrpTrackProcesses.some(p => p.name === t.name)) diag.error(v.loc,
        `vrrp_instance '${v.name}' tracks vrrp_track_process '${t.name}', which does not exist`)
    }
    if (v.interface !== undefined && v.virtualRouterId !== undefined) {
      const key = `${v.interface}|${v.virtualRouterId}|${[...families].join()}`
      const other = vrids.get(key)
      if (other !== undefined) diag.error(v.loc,
        `vrrp_instance '${v.name}' uses virtual_router_id ${v.virtualRouterId} on ${v.interface}, as '${other}' does`)
      vrids.set(key, v.name)
    }
  }
}
