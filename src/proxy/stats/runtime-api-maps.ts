/**
 * The runtime API's map and ACL file commands in HAProxy 2.6's words (map.c): `show|get|add|set|
 * del|clear map` and `show|get|add|del|clear acl`. A file is named as the configuration writes it
 * or by `#ID`; a key `#0xPTR` names one entry. Versions (`@ver`, `prepare`, `commit`) are not
 * supported. Changes are in memory only: the files are not written.
 */
import { matchEntry, type PatternEntry, type PatternFile, type PatternStore } from '../acl/patterns.ts'

export type PatternVerb = 'show' | 'get' | 'add' | 'set' | 'del' | 'clear'

/** Does this command change a file (admin level; `nbthread`: replayed on the other threads)? */
export function changesPatterns (verb: PatternVerb): boolean {
  return verb === 'add' || verb === 'set' || verb === 'del' || verb === 'clear'
}

function unknown (map: boolean): string {
  return `Unknown ${map ? 'map' : 'ACL'} identifier. Please use #<id> or <file>.\n`
}

function list (store: PatternStore, map: boolean): string {
  let out = '# id (file) description\n'
  for (const f of store.files) {
    if (map ? !f.isMap : !f.isAcl) continue
    const what = map ? 'map' : 'acl'
    const uses = f.uses.filter(u => u.map === map).map(u => `by ${what} at file '${u.loc.file}' line ${u.loc.line}`)
    out += `${f.id} (${f.file}) pattern loaded from file '${f.file}' used ${uses.join(', ')}. curr_ver=0 ` +
      `next_ver=0 entry_cnt=${f.entries.length}\n`
  }
  return out
}

const ptrOf = (e: PatternEntry): string => `0x${e.ptr.toString(16)}`

function show (file: PatternFile, map: boolean): string {
  return file.entries.map(e => map ? `${ptrOf(e)} ${e.key} ${e.value ?? ''}\n` : `${ptrOf(e)} ${e.key}\n`).join('')
}

function typeName (kind: string): string {
  const m = kind.replace(/^map_?/, '')
  return m === '' || m === 'str' ? 'str' : m === 'regm' ? 'reg' : m
}

function get (file: PatternFile, map: boolean, sample: string): string {
  const seen = new Set<string>()
  let out = ''
  for (const use of file.uses) {
    if (use.map !== map) continue
    const type = typeName(use.kind)
    const caseText = use.ignoreCase ? 'insensitive' : 'sensitive'
    if (seen.has(`${type}/${caseText}`)) continue
    seen.add(`${type}/${caseText}`)
    const idx = type === 'str' || type === 'beg' || type === 'ip' ? 'tree' : 'list'
    const hit = matchEntry(file, use.kind, use.ignoreCase, sample)
    const head = `type=${type}, case=${caseText}`
    if (map) {
      out += hit === undefined ? `${head}, found=no\n`
        : `${head}, found=yes, idx=${idx}, key="${hit.key}", value="${hit.value ?? ''}", type="str"\n`
    } else {
      out += hit === undefined ? `${head}, match=no\n` : `${head}, match=yes, idx=${idx}, pattern="${hit.key}"\n`
    }
  }
  return out
}

/** The entries a key names: `#0xPTR` one entry, otherwise every entry with that key. */
function named (file: PatternFile, key: string): PatternEntry[] {
  if (key.startsWith('#')) return file.entries.filter(e => ptrOf(e) === key.slice(1).toLowerCase())
  return file.entries.filter(e => e.key === key)
}

function addUsage (map: boolean): string {
  return map
    ? "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a " +
      'payload\n'
    : "'add acl' expects two parameters: ACL identifier and pattern.\n"
}

function add (file: PatternFile, map: boolean, words: readonly string[], payload: string | undefined): string {
  if (!map && file.isMap) {
    return "This ACL is shared with a map containing samples. You must use the command 'add map' to add values.\n"
  }
  const usage = addUsage(map)
  const [key, value] = words
  const entries: [string, string | undefined][] = []
  if (payload === undefined || key !== undefined) {
    if (key === undefined || (map && value === undefined)) return usage
    entries.push([key, map ? value : undefined])
  } else {
    for (const raw of payload.split('\n')) {
      const line = raw.replace(/^[ \t]+|[ \t\r]+$/g, '')
      if (line === '') continue
      const m = map ? /^(\S+)[ \t]+(.*)$/.exec(line) : null
      if (map && m === null) return usage
      entries.push(m === null ? [line, undefined] : [m[1] as string, m[2]])
    }
  }
  // All or nothing: a bad pattern anywhere adds none (a reader would fail on it at its next lookup).
  for (const [k] of entries) {
    const bad = file.invalid(k)
    if (bad !== undefined) return bad
  }
  for (const [k, v] of entries) file.add(k, v)
  return ''
}

/**
 * One `VERB map|acl …` command; `args` are the words after `map`/`acl`. The caller checks the
 * level; the answer is HAProxy's text.
 */
export function patternCommand (store: PatternStore, verb: PatternVerb, map: boolean, args: readonly string[],
  payload: string | undefined): string {
  const words = args.filter(w => w !== '')
  if (words[0]?.startsWith('@') === true) return "Versioned map/ACL updates ('@<ver>') are not supported by tslb.\n"
  const what = map ? 'map' : 'ACL'
  if (verb === 'show' && words.length === 0) return list(store, map)
  const ref = words[0]
  if (ref === undefined) {
    if (verb === 'get') return `Missing ${what} identifier and/or key.\n`
    if (verb === 'clear' || verb === 'show') return `Missing ${what} identifier.\n`
  }
  const expects = (text: string): string | undefined => words.length < (verb === 'set' ? 3 : 2) ? text : undefined
  const early = verb === 'set' ? expects("'set map' expects three parameters: map identifier, key and value.\n")
    : verb === 'del' ? expects(`This command expects two parameters: ${what} identifier and key.\n`)
      : verb === 'get' ? expects(`Missing ${what} identifier and/or key.\n`)
        : verb === 'add' && payload === undefined && words.length < (map ? 3 : 2) ? addUsage(map) : undefined
  if (early !== undefined) return early
  const file = store.lookup(ref ?? '')
  if (file === undefined) return unknown(map)
  switch (verb) {
    case 'show': return show(file, map)
    case 'get': return get(file, map, words[1] ?? '')
    case 'add': return add(file, map, words.slice(1), payload)
    case 'clear': file.clear(); return ''
    case 'set': {
      const hit = named(file, words[1] ?? '')
      if (hit.length === 0) return 'entry not found.\n'
      if ((words[1] ?? '').startsWith('#')) { for (const e of hit) e.value = words[2]; file.version++ } else {
        file.set(words[1] ?? '', words[2] ?? '')
      }
      return ''
    }
    case 'del': {
      const key = words[1] ?? ''
      if (!key.startsWith('#')) return file.del(key) ? '' : 'Key not found.\n'
      const hit = new Set(named(file, key))
      if (hit.size === 0) return 'Key not found.\n'
      file.entries.splice(0, file.entries.length, ...file.entries.filter(e => !hit.has(e)))
      file.version++
      return ''
    }
  }
}
