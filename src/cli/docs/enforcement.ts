/**
 * The status tables of docs/configuration.md, made from the registry in `config/enforcement.ts`:
 * `scripts/gen-docs` rewrites what lies between each pair of markers.
 */
import { ACL_FLAGS, CONVERTERS, type Entry, FETCHES, HTTP_REQUEST_ACTIONS, HTTP_RESPONSE_ACTIONS, MATCH_METHODS,
  PREDEFINED_ACLS, TCP_REQUEST_ACTIONS } from '../../config/enforcement.ts'

const END = '<!-- end of generated table -->'

function begin (name: string): string {
  return `<!-- generated from src/config/enforcement.ts: ${name} -->`
}

export function statusText (e: Entry | undefined): string {
  if (e === undefined) return '·'
  if (e.status === 'enforced') return 'enforced'
  return e.guard === true ? '**refused** (error until enforced)' : 'not enforced (warning)'
}

function code (s: string): string {
  return `\`${s.replace(/\|/g, '\\|')}\``
}

function actionsTable (): string[] {
  const names = [...new Set([...Object.keys(HTTP_REQUEST_ACTIONS), ...Object.keys(HTTP_RESPONSE_ACTIONS),
    ...Object.keys(TCP_REQUEST_ACTIONS)])].sort()
  return [
    '| Action | `http-request` | `http-response` | `tcp-request connection\\|session\\|content` |',
    '|---|---|---|---|',
    ...names.map(n => `| ${code(n)} | ${statusText(HTTP_REQUEST_ACTIONS[n])} | ` +
      `${statusText(HTTP_RESPONSE_ACTIONS[n])} | ${statusText(TCP_REQUEST_ACTIONS[n])} |`)
  ]
}

function fetchesTable (): string[] {
  return [
    '| Fetch | arg | Status |',
    '|---|---|---|',
    ...Object.keys(FETCHES).sort().map(n => `| ${code(n)} | ${FETCHES[n]?.args === true ? '✓' : ''} | ` +
      `${statusText(FETCHES[n])} |`)
  ]
}

function aclTable (): string[] {
  const rows = [
    ...Object.keys(MATCH_METHODS).map(n => [n === 'cnt' || n === 'val' ? `_${n}` : `-m ${n}`, MATCH_METHODS[n]]),
    ...Object.keys(ACL_FLAGS).map(n => [n, ACL_FLAGS[n]]),
    ...Object.keys(PREDEFINED_ACLS).map(n => [n, PREDEFINED_ACLS[n]])
  ] as [string, Entry][]
  return ['| Match method, flag or predefined ACL | Status |', '|---|---|',
    ...rows.map(([n, e]) => `| ${code(n)} | ${statusText(e)} |`)]
}

function convertersTable (): string[] {
  return ['| Converter | arguments | Status |', '|---|---|---|',
    ...Object.keys(CONVERTERS).sort().map(n => {
      const [min, max] = CONVERTERS[n]?.args ?? [0, 0]
      return `| ${code(n)} | ${min === max ? String(min) : `${min}–${max}`} | ${statusText(CONVERTERS[n])} |`
    })]
}

const TABLES: Readonly<Record<string, () => string[]>> = {
  actions: actionsTable, fetches: fetchesTable, converters: convertersTable, acl: aclTable
}

/** `doc` with every generated table rewritten; throws if a marker is missing. */
export function withEnforcementTables (doc: string): string {
  let out = doc
  for (const [name, make] of Object.entries(TABLES)) {
    const start = out.indexOf(begin(name))
    const end = out.indexOf(END, start)
    if (start < 0 || end < 0) throw new Error(`docs/configuration.md lacks the markers of the '${name}' table`)
    out = `${out.slice(0, start)}${begin(name)}\n${make().join('\n')}\n${out.slice(end)}`
  }
  return out
}
