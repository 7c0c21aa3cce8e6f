/**
 * The map and ACL files of one engine, changeable at runtime (HAProxy's pat_ref): one store per
 * file name as written in the configuration, numbered (`#ID`) in the order the configuration uses
 * them. The `map*` converters and the `-f` ACLs bound to a file read its entries on each lookup
 * and rebuild what they derive from them when its `version` moved. Changes stay in memory: the
 * files are never written, as in HAProxy.
 */
import { BlockList, isIP } from 'node:net'
import type { AclDefinition, Config, ConverterCall, Location } from '../../config/model.ts'

export interface PatternEntry {
  /** A stable pseudo-address, shown as HAProxy shows the entry's pointer. */
  readonly ptr: number
  readonly key: string
  value: string | undefined
}

/** What reads a file: a `map*` converter (its match kind) or an ACL (its match method). */
export interface PatternUse {
  readonly map: boolean
  readonly kind: string
  readonly ignoreCase: boolean
  /** The configuration line that reads it. */
  readonly loc: Location
}

const PTR_BASE = 0x55d0c0de0000
const PTR_STEP = 0x90

export class PatternFile {
  readonly id: number
  readonly file: string
  readonly loc: Location
  readonly entries: PatternEntry[] = []
  readonly uses: PatternUse[] = []
  /** Moves on every change: readers rebuild their derived structures when it differs from theirs. */
  version = 0
  private readonly nextPtr: () => number

  constructor (id: number, file: string, loc: Location, nextPtr: () => number) {
    this.id = id
    this.file = file
    this.loc = loc
    this.nextPtr = nextPtr
  }

  get isMap (): boolean { return this.uses.some(u => u.map) }
  get isAcl (): boolean { return this.uses.some(u => !u.map) }

  add (key: string, value: string | undefined): void {
    this.entries.push({ ptr: this.nextPtr(), key, value })
    this.version++
  }

  /** Sets the value of every entry with this key; false when there is none. */
  set (key: string, value: string): boolean {
    let found = false
    for (const e of this.entries) if (e.key === key) { e.value = value; found = true }
    if (found) this.version++
    return found
  }

  /** Removes every entry with this key; false when there is none. */
  del (key: string): boolean {
    const kept = this.entries.filter(e => e.key !== key)
    if (kept.length === this.entries.length) return false
    this.entries.splice(0, this.entries.length, ...kept)
    this.version++
    return true
  }

  /** Why `key` cannot be a pattern of this file for one of its readers (HAProxy's message), if it cannot. */
  invalid (key: string): string | undefined {
    for (const u of this.uses) {
      const m = u.kind.replace(/^map_?/, '')
      if (m === 'ip' && !validIp(key)) return `'${key}' is not a valid IPv4 or IPv6 address.\n`
      if (m === 'reg' || m === 'regm') {
        try { new RegExp(key) } catch (err) {
          return `regex '${key}' is invalid (error=${err instanceof Error ? err.message : String(err)}).\n`
        }
      }
    }
    return undefined
  }

  clear (): void {
    this.entries.length = 0
    this.version++
  }
}

const mapFiles = new WeakMap<ConverterCall, PatternFile>()
const aclFiles = new WeakMap<AclDefinition, PatternFile[]>()

/** The live file a `map*` converter reads, when an engine's store holds it. */
export function patternFileOf (call: ConverterCall): PatternFile | undefined {
  return mapFiles.get(call)
}

/** The live files an ACL's `-f` patterns come from, when an engine's store holds them. */
export function aclPatternFiles (acl: AclDefinition): readonly PatternFile[] | undefined {
  return aclFiles.get(acl)
}

interface Found { readonly kind: 'map' | 'acl', readonly loc: Location, readonly node: ConverterCall | AclDefinition }

function collect (value: unknown, loc: Location, out: Found[], seen: Set<object>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return
  seen.add(value)
  if (Array.isArray(value)) { for (const v of value) collect(v, loc, out, seen); return }
  const o = value as Record<string, unknown>
  const here = typeof o.loc === 'object' && o.loc !== null ? o.loc as Location : loc
  if (Array.isArray(o.filePatterns) && typeof o.flags === 'object') {
    out.push({ kind: 'acl', loc: here, node: o as unknown as AclDefinition })
  }
  if (Array.isArray(o.converters)) {
    for (const c of o.converters as ConverterCall[]) {
      if (c.name.startsWith('map') && c.entries !== undefined) out.push({ kind: 'map', loc: here, node: c })
    }
  }
  for (const [k, v] of Object.entries(o)) if (k !== 'loc') collect(v, here, out, seen)
}

export class PatternStore {
  readonly files: PatternFile[] = []
  private ptr = 0

  /** Binds every `map*` converter and `-f` ACL of the configuration to its file's live entries. */
  static fromConfig (config: Config): PatternStore {
    const store = new PatternStore()
    const found: Found[] = []
    const seen = new Set<object>()
    for (const p of config.proxies) collect(p, p.loc, found, seen)
    found.sort((a, b) => a.loc.line - b.loc.line)
    for (const f of found) {
      if (f.kind === 'map') {
        const call = f.node as ConverterCall
        const file = store.fileFor(call.args[0] ?? '', f.loc, () => call.entries ?? [])
        file.uses.push({ map: true, kind: call.name, ignoreCase: false, loc: f.loc })
        mapFiles.set(call, file)
      } else {
        const acl = f.node as AclDefinition
        const files = (acl.filePatterns ?? []).map(fp => {
          const file = store.fileFor(fp.file, f.loc, () => fp.values.map(v => [v, undefined]))
          file.uses.push({ map: false, kind: aclMatch(acl), ignoreCase: acl.flags.ignoreCase, loc: f.loc })
          return file
        })
        aclFiles.set(acl, files)
      }
    }
    return store
  }

  /** A file by `#ID` or by name (HAProxy's pat_ref_lookupid / pat_ref_lookup: maps and ACL files alike). */
  lookup (ref: string): PatternFile | undefined {
    if (ref.startsWith('#')) {
      const id = /^#\d+$/.test(ref) ? Number(ref.slice(1)) : -1
      return this.files.find(f => f.id === id)
    }
    return this.files.find(f => f.file === ref)
  }

  private fileFor (name: string, loc: Location, initial: () => readonly (readonly [string, string | undefined])[]):
    PatternFile {
    const known = this.files.find(f => f.file === name)
    if (known !== undefined) return known
    const file = new PatternFile(this.files.length, name, loc, () => PTR_BASE + PTR_STEP * this.ptr++)
    for (const [k, v] of initial()) file.add(k, v)
    file.version = 0
    this.files.push(file)
    return file
  }
}

/** The entry a lookup of `sample` finds with match kind `kind` (`get map` / `get acl`). */
export function matchEntry (file: PatternFile, kind: string, ignoreCase: boolean, sample: string):
  PatternEntry | undefined {
  const m = kind.replace(/^map_?/, '') || 'str'
  const norm = (s: string): string => ignoreCase ? s.toLowerCase() : s
  const v = norm(sample)
  const test = (k: string): boolean => {
    switch (m) {
      case 'beg': return v.startsWith(norm(k))
      case 'end': return v.endsWith(norm(k))
      case 'sub': return v.includes(norm(k))
      case 'dom': return new RegExp(`(^|[./])${escape(norm(k))}($|[./])`).test(v)
      case 'dir': return new RegExp(`(^|/)${escape(norm(k))}($|/)`).test(v)
      case 'reg': case 'regm': try { return new RegExp(k, ignoreCase ? 'i' : '').test(sample) } catch { return false }
      case 'int': return Number(k) === Number(sample)
      case 'ip': return ipHolds(k, sample)
      default: return norm(k) === v
    }
  }
  if (m !== 'ip') return file.entries.find(e => test(e.key))
  const bits = (k: string): number => Number(k.split('/')[1] ?? (isIP(k) === 6 ? 128 : 32))
  return file.entries.filter(e => test(e.key)).sort((a, b) => bits(b.key) - bits(a.key))[0]
}

/** The match method of an ACL over a file: `-m`, the fetch's suffix (`path_beg`), `ip` for addresses, else str. */
function aclMatch (acl: AclDefinition): string {
  if (acl.flags.match !== undefined) return acl.flags.match
  const suffix = /_(beg|end|sub|reg|dom|dir|len|str|ip|int)$/.exec(acl.fetch)?.[1]
  if (suffix !== undefined) return suffix
  return acl.fetch === 'src' || acl.fetch === 'dst' ? 'ip' : 'str'
}

function validIp (key: string): boolean {
  const [addr = '', len, extra] = key.split('/')
  const family = isIP(addr)
  if (family === 0 || extra !== undefined) return false
  if (len === undefined) return true
  if (family === 4 && isIP(len) === 4) return true
  return /^\d+$/.test(len) && Number(len) <= (family === 4 ? 32 : 128)
}

function escape (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function ipHolds (net: string, addr: string): boolean {
  const [a = '', len] = net.split('/')
  const family = isIP(a)
  const plain = addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr
  if (family === 0 || isIP(plain) !== family) return false
  const list = new BlockList()
  const type = family === 4 ? 'ipv4' : 'ipv6'
  list.addSubnet(a, len === undefined ? (family === 4 ? 32 : 128) : Number(len), type)
  return list.check(plain, type)
}
