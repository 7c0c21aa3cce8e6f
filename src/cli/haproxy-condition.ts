/**
 * HAProxy's conditional expressions as `haproxy -cc EXPR` evaluates them (the `.if` language):
 * predicates `defined(VAR)`, `feature(NAME)`, `streq(A,B)`, `strneq(A,B)`, `version_atleast(V)`,
 * `version_before(V)`, `openssl_version_atleast(V)`, `openssl_version_before(V)`,
 * `ssllib_name_startswith(S)`, the constants 0/1/true/false, `!`, `&&`, `||` and parentheses.
 * Pure: the version and the feature list are passed in.
 */
import { TslbError } from '../util/errors.ts'

export class ConditionError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_CONDITION', message)
  }
}

export interface ConditionContext {
  /** The HAProxy version whose behaviour is offered, e.g. `2.6.0`. */
  readonly version: string
  /** Build features (HAProxy's `Feature list`: `OPENSSL`, `LUA`...) that are present. */
  readonly features: ReadonlySet<string>
  readonly env: Readonly<Record<string, string | undefined>>
}

/** `2.5-dev0` → comparable tuple; dev < pre < rc < release, as HAProxy orders them. */
export function versionKey (v: string): number[] {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-(dev|pre|rc)(\d+))?/.exec(v.trim())
  if (m === null) throw new ConditionError(`cannot parse version '${v}'`)
  const stage = m[5] === undefined ? 3 : { dev: 0, pre: 1, rc: 2 }[m[5] as 'dev' | 'pre' | 'rc']
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0), Number(m[4] ?? 0), stage, Number(m[6] ?? 0)]
}

export function compareVersions (a: string, b: string): number {
  const ka = versionKey(a)
  const kb = versionKey(b)
  for (let i = 0; i < ka.length; i++) {
    const d = (ka[i] ?? 0) - (kb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

type Token = { kind: 'op', text: '!' | '&&' | '||' | '(' | ')' } | { kind: 'term', name: string,
  args: string[] | undefined }

function tokenize (expr: string, env: ConditionContext['env']): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < expr.length) {
    const c = expr[i] as string
    if (/\s/.test(c)) { i++; continue }
    const two = expr.slice(i, i + 2)
    if (two === '&&' || two === '||') { out.push({ kind: 'op', text: two }); i += 2; continue }
    if (c === '!' || c === '(' || c === ')') { out.push({ kind: 'op', text: c }); i++; continue }
    const name = /^(?:[+-]?\d+|[A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_])/.exec(expr.slice(i))
    if (name === null) throw new ConditionError(`unparsable conditional expression '${expr}'`)
    i += name[0].length
    let args: string[] | undefined
    if (expr[i] === '(') {
      const parsed = parseArgs(expr, i + 1, env)
      args = parsed.args
      i = parsed.end
    }
    out.push({ kind: 'term', name: name[0], args })
  }
  return out
}

/**
 * Arguments from `start` (after '(') to the closing ')': quotes group, a backslash escapes, `$VAR` expands inside
 * double quotes (as in the configuration).
 */
function parseArgs (expr: string, start: number, env: ConditionContext['env']): { args: string[], end: number } {
  const args: string[] = []
  let word = ''
  let quote: string | undefined
  for (let i = start; i < expr.length; i++) {
    const c = expr[i] as string
    if (c === '\\' && quote !== "'") { word += expr[++i] ?? ''; continue }
    if (quote !== undefined) {
      if (c === quote) quote = undefined
      else if (c === '$' && quote === '"') {
        const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(expr.slice(i))
        if (m === null) word += c
        else {
          word += env[m[1] ?? m[2] ?? ''] ?? ''
          i += m[0].length - 1
        }
      } else word += c
      continue
    }
    if (c === '"' || c === "'") { quote = c; continue }
    if (c === ',') { args.push(word.trim()); word = ''; continue }
    if (c === ')') { args.push(word.trim()); return { args, end: i + 1 } }
    word += c
  }
  throw new ConditionError(quote === undefined ? `missing ')' in '${expr}'` : `unterminated quote in '${expr}'`)
}

function term (name: string, args: string[] | undefined, ctx: ConditionContext): boolean {
  const arg = (n: number): string => {
    const a = args?.[n]
    if (a === undefined) throw new ConditionError(`'${name}' expects ${n + 1} argument(s)`)
    return a
  }
  if (args === undefined) {
    if (name === '1' || name === 'true') return true
    if (name === '0' || name === 'false') return false
    if (/^[+-]?\d+$/.test(name)) return Number(name) !== 0
    throw new ConditionError(`unparsable conditional expression '${name}'`)
  }
  switch (name) {
    case 'defined': return ctx.env[arg(0)] !== undefined
    case 'feature': return ctx.features.has(arg(0))
    case 'streq': return arg(0) === arg(1)
    case 'strneq': return arg(0) !== arg(1)
    case 'version_atleast': return compareVersions(ctx.version, arg(0)) >= 0
    case 'version_before': return compareVersions(ctx.version, arg(0)) < 0
    // tslb links no TLS library.
    case 'openssl_version_atleast': case 'openssl_version_before': case 'ssllib_name_startswith': arg(0); return false
    default: throw new ConditionError(`unknown predicate '${name}'`)
  }
}

/** Evaluates `expr`; throws ConditionError when it cannot be parsed. */
export function evaluateCondition (expr: string, ctx: ConditionContext): boolean {
  const tokens = tokenize(expr, ctx.env)
  // HAProxy: an empty condition is false.
  if (tokens.length === 0) return false
  let pos = 0
  const peek = (): Token | undefined => tokens[pos]
  const isOp = (t: Token | undefined, text: string): boolean => t?.kind === 'op' && t.text === text
  const primary = (): boolean => {
    const t = tokens[pos++]
    if (t === undefined) throw new ConditionError(`incomplete conditional expression '${expr}'`)
    if (t.kind === 'term') return term(t.name, t.args, ctx)
    if (t.text === '!') return !primary()
    if (t.text === '(') {
      const v = or()
      if (!isOp(tokens[pos++], ')')) throw new ConditionError(`missing ')' in '${expr}'`)
      return v
    }
    throw new ConditionError(`unexpected '${t.text}' in '${expr}'`)
  }
  const and = (): boolean => {
    let v = primary()
    while (isOp(peek(), '&&')) { pos++; const r = primary(); v = v && r }
    return v
  }
  const or = (): boolean => {
    let v = and()
    while (isOp(peek(), '||')) { pos++; const r = and(); v = v || r }
    return v
  }
  const result = or()
  if (pos !== tokens.length) throw new ConditionError(`unparsable conditional expression '${expr}'`)
  return result
}
