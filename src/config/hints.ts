/**
 * What to say after "unknown keyword": the nearest keyword of the section, the section the
 * keyword belongs to, or the mistake it looks like (keepalived's braces pasted in, a
 * `vrrp_script` line without its `script`). Every unknown keyword gets one of these.
 */
import { isIP } from 'node:net'
import { suggest } from './context.ts'
import { GLOBAL_KEYWORD_NAMES } from './keywords/global.ts'
import { PROXY_KEYWORDS } from './keywords/proxy.ts'
import { PEERS_KEYWORDS } from './keywords/peers.ts'
import { VRRP_INSTANCE_KEYWORDS, VRRP_SCRIPT_KEYWORDS } from './keywords/vrrp.ts'
import { VRRP_SYNC_GROUP_KEYWORDS, VRRP_TRACK_FILE_KEYWORDS,
  VRRP_TRACK_PROCESS_KEYWORDS } from './keywords/vrrp-tracking.ts'

export type SectionKind = 'global' | 'proxy' | 'peers' | 'userlist' | 'vrrp_script' | 'vrrp_instance' |
  'vrrp_sync_group' | 'vrrp_track_file' | 'vrrp_track_process'

const USERLIST_KEYWORDS = ['group', 'user']

/** The keywords of each section kind, and how a section of that kind is named in messages. */
export const SECTION_KEYWORDS_BY_KIND: Readonly<Record<SectionKind, { readonly label: string,
  readonly keywords: readonly string[] }>> = {
  global: { label: 'global', keywords: GLOBAL_KEYWORD_NAMES },
  proxy: { label: 'defaults/frontend/backend/listen', keywords: Object.keys(PROXY_KEYWORDS) },
  peers: { label: 'peers', keywords: PEERS_KEYWORDS },
  userlist: { label: 'userlist', keywords: USERLIST_KEYWORDS },
  vrrp_script: { label: 'vrrp_script', keywords: VRRP_SCRIPT_KEYWORDS },
  vrrp_instance: { label: 'vrrp_instance', keywords: VRRP_INSTANCE_KEYWORDS },
  vrrp_sync_group: { label: 'vrrp_sync_group', keywords: VRRP_SYNC_GROUP_KEYWORDS },
  vrrp_track_file: { label: 'vrrp_track_file', keywords: VRRP_TRACK_FILE_KEYWORDS },
  vrrp_track_process: { label: 'vrrp_track_process', keywords: VRRP_TRACK_PROCESS_KEYWORDS }
}

/** keepalived keywords tslb has no place for, with what to do instead. */
const KEEPALIVED_ONLY: Readonly<Record<string, string>> = {
  router_id: "keepalived's global_defs router_id: tslb names the node with -L",
  vrrp_strict: 'tslb always follows RFC 5798; there is nothing to switch on',
  enable_script_security: 'tslb runs scripts as the vrrp_script user, or the tslb user',
  script_user: "use 'user' inside the vrrp_script",
  mcast_src_ip: "use 'unicast_src_ip' (the source address of adverts)",
  lvs_sync_daemon_interface: 'LVS is not supported',
  smtp_alert: 'email alerts are not supported: use notify scripts'
}

/** The suffix for "unknown keyword 'KW' in ... section": always says something. */
export function unknownKeywordHint (keyword: string, args: readonly string[], here: SectionKind): string {
  if (here === 'vrrp_script' && keyword === 'builtin') return ` (did you mean 'script builtin ${args.join(' ')}'?)`
  if (here === 'vrrp_instance' && isIP(keyword.split('/')[0] ?? '') !== 0) {
    return (` (an address alone on a line is keepalived's virtual_ipaddress block: write 'virtual_ipaddress ` +
      `${[keyword, ...args].join(' ')}')`)
  }
  const keepalived = KEEPALIVED_ONLY[keyword]
  if (keepalived !== undefined) return ` (${keepalived})`
  const near = suggest(keyword, SECTION_KEYWORDS_BY_KIND[here].keywords)
  if (near !== '') return near
  const elsewhere = (Object.keys(SECTION_KEYWORDS_BY_KIND) as SectionKind[]).filter(k => k !== here &&
    SECTION_KEYWORDS_BY_KIND[k].keywords.includes(keyword))
  if (elsewhere.length > 0) return (` ('${keyword}' belongs in a ` +
    `${elsewhere.map(k => SECTION_KEYWORDS_BY_KIND[k].label).join(' or ')} section)`)
  for (const kind of Object.keys(SECTION_KEYWORDS_BY_KIND) as SectionKind[]) {
    const other = suggest(keyword, SECTION_KEYWORDS_BY_KIND[kind].keywords)
    if (other !== '') return `${other.slice(0, -2)} in a ${SECTION_KEYWORDS_BY_KIND[kind].label} section?)`
  }
  return ` (the ${SECTION_KEYWORDS_BY_KIND[here].label} keywords are listed in docs/configuration.md and tslb.cfg(5))`
}

/**
 * keepalived's block syntax: a line ending with `{` (`vrrp_instance VI_1 {`), or a lone `}`.
 * HAProxy's anonymous ACLs (`if { path_beg /x }`) close on the line they open, so never match.
 */
export function isBraceLine (words: readonly string[]): boolean {
  const last = words.at(-1) ?? ''
  return last.endsWith('{') || (words.length === 1 && last === '}')
}

/** The line without its brace (`VI_1{` is `VI_1`). */
export function withoutBraces (words: readonly string[]): string[] {
  const last = words.at(-1) ?? ''
  return [...words.slice(0, -1), last.endsWith('{') ? last.slice(0, -1) : ''].filter(w => w !== '')
}

export function braceMessage (words: readonly string[], opensSection: boolean): string {
  const rest = withoutBraces(words)
  const advice = "(run 'tslb convert' on a keepalived.conf)"
  if (rest.length === 0) return `'}': keepalived's brace syntax; tslb sections have no braces ${advice}`
  if (opensSection) return (`'${words.join(' ')}': keepalived's brace syntax; tslb sections have no braces: write ` +
    `'${rest.join(' ')}' with its keywords on the lines below ${advice}`)
  return `'${words.join(' ')}': keepalived's block syntax; write one '${rest.join(' ')} ...' line per entry ${advice}`
}

/** The suffix for "'KW' is outside any section". */
export function outsideSectionHint (keyword: string, sectionKeywords: readonly string[], laterFile: boolean): string {
  const near = suggest(keyword, sectionKeywords)
  if (near !== '') return near
  const kinds = (Object.keys(SECTION_KEYWORDS_BY_KIND) as SectionKind[])
    .filter(k => SECTION_KEYWORDS_BY_KIND[k].keywords.includes(keyword))
  const where = kinds.length === 0 ? '' :
    `'${keyword}' belongs in a ${kinds.map(k => SECTION_KEYWORDS_BY_KIND[k].label).join(' or ')} section`
  const files = laterFile ? 'each configuration file starts outside any section, as in HAProxy' : ''
  const parts = [where, files].filter(p => p !== '')
  return parts.length === 0 ? ` (a file starts with a section line: ${sectionKeywords.join(', ')})` :
    ` (${parts.join('; ')})`
}
