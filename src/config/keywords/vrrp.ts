/**
 * `vrrp_script` and `vrrp_instance` sections, with keepalived's keyword names.
 */
import { isIP } from 'node:net'
import type { KeywordContext } from '../context.ts'
import type { TrackRef, VirtualAddress, VrrpInstance, VrrpScript } from '../model.ts'
import { parseInteger, parseSeconds } from '../values.ts'
import { ValueError } from '../errors.ts'
import { parseNotifyScript } from './vrrp-tracking.ts'

function one (kw: string, args: readonly string[]): string {
  if (args.length !== 1) throw new ValueError(`'${kw}' expects exactly one argument`)
  return args[0] as string
}

export function newVrrpScript (name: string, loc: VrrpScript['loc']): VrrpScript {
  return { name, loc, interval: 1000, weight: 0, rise: 1, fall: 1 }
}

export function applyVrrpScriptKeyword (s: VrrpScript, keyword: string, args: readonly string[]): boolean {
  switch (keyword) {
    case 'script': {
      if (args.length === 0) throw new ValueError("'script' expects a command line (quoted) or 'builtin proxy'")
      if (args[0] === 'builtin') {
        if (args[1] !== 'proxy' || args.length !== 2) throw new ValueError(
          `'script builtin' expects 'proxy', got '${args.slice(1).join(' ')}'`)
        s.script = { kind: 'builtin', name: 'proxy' }
      } else {
        s.script = { kind: 'exec', command: args.join(' ') }
      }
      return true
    }
    case 'interval': s.interval = parseSeconds(one(keyword, args), 'interval'); return true
    case 'timeout': s.timeout = parseSeconds(one(keyword, args), 'timeout'); return true
    case 'weight': s.weight = parseInteger(one(keyword, args).replace(/^\+/, ''), 'weight', -253, 253); return true
    case 'rise': s.rise = parseInteger(one(keyword, args), 'rise', 1, 1000); return true
    case 'fall': s.fall = parseInteger(one(keyword, args), 'fall', 1, 1000); return true
    case 'user':
      if (args.length < 1 || args.length > 2) throw new ValueError("'user' expects USER [GROUP]")
      s.user = args[0]
      s.group = args[1]
      return true
    default: return false
  }
}

export function newVrrpInstance (name: string, loc: VrrpInstance['loc']): VrrpInstance {
  return {
    name, loc, priority: 100, advertInt: 1000, version: 2, nopreempt: false, preemptDelay: 0,
    unicastPeers: [], checkUnicastSrc: false, unicastPeerTtl: [], virtualAddresses: [], trackScripts: [],
      trackInterfaces: [], trackFiles: [], trackProcesses: [],
    garpMasterDelay: 5000, garpMasterRepeat: 5, garpMasterRefresh: 0, garpMasterRefreshRepeat: 1,
    notify: {}, dontTrackPrimary: false, nativeIpv6: false
  }
}

function parseVirtualAddress (args: readonly string[], ctx: KeywordContext): VirtualAddress {
  const [cidr, ...rest] = args
  if (cidr === undefined) throw new ValueError("'virtual_ipaddress' expects an address such as 198.18.0.100/24")
  const [addr, lenText] = cidr.split('/')
  const family = isIP(addr ?? '')
  if (family === 0) throw new ValueError(`'virtual_ipaddress': '${addr ?? ''}' is not an IP address`)
  const prefixLength = lenText === undefined ? (family === 4 ? 32 : 128) : parseInteger(lenText, 'prefix length', 0,
    family === 4 ? 32 : 128)
  const opts: Record<string, string> = {}
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i] as string
    if (!['dev', 'label', 'brd', 'broadcast', 'scope'].includes(w)) throw new ValueError(
      `'virtual_ipaddress': unknown option '${w}' (expected dev, label, brd, scope)`)
    const v = rest[++i]
    if (v === undefined) throw new ValueError(`'virtual_ipaddress': '${w}' expects a value`)
    opts[w === 'brd' ? 'broadcast' : w] = v
  }
  if (opts.label !== undefined && opts.label.length > 15) throw new ValueError(
    `'virtual_ipaddress': label '${opts.label}' is longer than 15 characters`)
  return { address: addr as string, prefixLength, family: family === 4 ? 4 : 6, dev: opts.dev, label: opts.label,
    broadcast: opts.broadcast, scope: opts.scope, loc: ctx.loc }
}

function parseTrack (kw: string, args: readonly string[]): { name: string, weight?: number } {
  const [name, w, value] = args
  if (name === undefined) throw new ValueError(`'${kw}' expects a name`)
  if (w === undefined) return { name }
  if (w !== 'weight' || value === undefined) throw new ValueError(`'${kw}' expects NAME [weight W]`)
  return { name, weight: parseInteger(value.replace(/^\+/, ''), 'weight', -254, 254) }
}

/**
 * `unicast_peer IP [min_ttl N] [max_ttl N] [IP …]`: keepalived's per-peer TTL range (0..255 by
 * default); giving one turns check_unicast_src on for the instance, as in keepalived.
 */
function parseUnicastPeers (v: VrrpInstance, args: readonly string[]): void {
  if (args.length === 0) throw new ValueError("'unicast_peer' expects one or more addresses")
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (isIP(a) === 0) throw new ValueError(
      `'unicast_peer': '${a}' is not an IP address${a.endsWith('_ttl') ? (' (min_ttl / max_ttl follow an ' +
        'address)') : ''}`)
    v.unicastPeers.push(a)
    let min = 0
    let max = 255
    let ranged = false
    while (args[i + 1] === 'min_ttl' || args[i + 1] === 'max_ttl') {
      const kw = args[i + 1] as string
      const value = args[i + 2]
      if (value === undefined) throw new ValueError(`'unicast_peer': '${kw}' expects a value`)
      const n = parseInteger(value, kw, 0, 255)
      if (kw === 'min_ttl') min = n
      else max = n
      ranged = true
      i += 2
    }
    if (!ranged) continue
    if (min > max) throw new ValueError(
      `'unicast_peer ${a}': min_ttl ${min} > max_ttl ${max} would discard every advert`)
    v.unicastPeerTtl.push({ address: a, min, max })
    v.checkUnicastSrc = true
  }
}

/** `NAME [weight W [reverse|noreverse]]` of track_file / track_process (W −254..254). */
function parseTrackRef (kw: string, args: readonly string[]): TrackRef {
  const [name, w, value, dir, extra] = args
  if (name === undefined) throw new ValueError(`'${kw}' expects a name`)
  if (w === undefined) return { name }
  if (w !== 'weight' || value === undefined || extra !== undefined || (dir !== undefined && dir !== 'reverse' && dir !==
    'noreverse')) {
    throw new ValueError(`'${kw}' expects NAME [weight W [reverse|noreverse]]`)
  }
  const weight = parseInteger(value.replace(/^\+/, ''), 'weight', -254, 254)
  return dir === undefined ? { name, weight } : { name, weight, reverse: dir === 'reverse' }
}

export function applyVrrpInstanceKeyword (v: VrrpInstance, keyword: string, args: readonly string[],
  ctx: KeywordContext): boolean {
  switch (keyword) {
    case 'state': {
      const s = one(keyword, args)
      if (s !== 'MASTER' && s !== 'BACKUP') throw new ValueError(`'state' expects MASTER or BACKUP, got '${s}'`)
      v.state = s
      return true
    }
    case 'interface': v.interface = one(keyword, args); return true
    case 'virtual_router_id': v.virtualRouterId = parseInteger(one(keyword, args), 'virtual_router_id', 1, 255);
      return true
    case 'priority': v.priority = parseInteger(one(keyword, args), 'priority', 1, 255); return true
    case 'advert_int': {
      const ms = parseSeconds(one(keyword, args), 'advert_int')
      if (ms < 10 || ms > 40950) throw new ValueError('advert_int must be between 0.01 and 40.95 seconds')
      v.advertInt = ms
      return true
    }
    case 'version': {
      const n = parseInteger(one(keyword, args), 'version', 2, 3)
      v.version = n === 2 ? 2 : 3
      return true
    }
    case 'nopreempt': v.nopreempt = true; return true
    case 'preempt': v.nopreempt = false; return true
    case 'preempt_delay': v.preemptDelay = parseSeconds(one(keyword, args), 'preempt_delay'); return true
    case 'authentication': {
      const [type, password, extra] = args
      if ((type !== 'PASS' && type !== 'AH') || password === undefined || extra !== undefined) throw new ValueError(
        "'authentication' expects PASS PASSWORD")
      if (type === 'AH') throw new ValueError(
        "'authentication AH' is not supported (keepalived deprecates it too): use PASS or none")
      v.authentication = { type, password: password.slice(0, 8) }
      if (password.length > 8) ctx.warn('VRRP password truncated to 8 characters, as keepalived does')
      return true
    }
    case 'unicast_src_ip': {
      const a = one(keyword, args)
      if (isIP(a) === 0) throw new ValueError(`'unicast_src_ip': '${a}' is not an IP address`)
      v.unicastSrcIp = a
      return true
    }
    case 'unicast_peer': parseUnicastPeers(v, args); return true
    case 'check_unicast_src':
      if (args.length !== 0) throw new ValueError("'check_unicast_src' takes no argument")
      v.checkUnicastSrc = true
      return true
    case 'virtual_ipaddress': v.virtualAddresses.push(parseVirtualAddress(args, ctx)); return true
    case 'track_script': v.trackScripts.push(parseTrack(keyword, args)); return true
    case 'track_interface': v.trackInterfaces.push(parseTrack(keyword, args)); return true
    case 'track_file': v.trackFiles.push(parseTrackRef(keyword, args)); return true
    case 'track_process': v.trackProcesses.push(parseTrackRef(keyword, args)); return true
    case 'garp_master_delay': v.garpMasterDelay = parseInteger(one(keyword, args), keyword, 0, 3600) * 1000; return true
    case 'garp_master_repeat': v.garpMasterRepeat = parseInteger(one(keyword, args), keyword, 1, 1000); return true
    case 'garp_master_refresh': v.garpMasterRefresh = parseInteger(one(keyword, args), keyword, 0, 86400) * 1000;
      return true
    case 'garp_master_refresh_repeat': v.garpMasterRefreshRepeat = parseInteger(one(keyword, args), keyword, 1, 1000);
      return true
    case 'dont_track_primary': v.dontTrackPrimary = true; return true
    case 'native_ipv6': v.nativeIpv6 = true; return true
    case 'notify_master': case 'notify_backup': case 'notify_fault': case 'notify_stop': case 'notify': {
      const key = keyword === 'notify' ? 'any' : keyword.slice('notify_'.length) as 'master' | 'backup' | 'fault' |
        'stop'
      v.notify[key] = parseNotifyScript(keyword, args)
      return true
    }
    default: return false
  }
}

export const VRRP_SCRIPT_KEYWORDS = ['script', 'interval', 'timeout', 'weight', 'rise', 'fall', 'user']
export const VRRP_INSTANCE_KEYWORDS = ['state', 'interface', 'virtual_router_id', 'priority', 'advert_int', 'version',
  'nopreempt', 'preempt', 'preempt_delay', 'authentication', 'unicast_src_ip', 'unicast_peer', 'check_unicast_src',
    'virtual_ipaddress', 'track_script', 'track_interface', 'track_file', 'track_process', 'garp_master_delay',
      'garp_master_repeat', 'garp_master_refresh', 'garp_master_refresh_repeat', 'dont_track_primary', 'native_ipv6',
        'notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify']
