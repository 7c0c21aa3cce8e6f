/**
 * Values of rule arguments: log-format strings (text and `%[sample]`), sample expressions, and
 * the `\N` references of regex replacements. Compiled once per rule.
 */
import type { Format, SampleExpr } from '../../config/model.ts'
import { fetchSamples, type SampleSource } from '../acl/sample.ts'
import { compileChain } from '../acl/converters.ts'

export type Compiled = (s: SampleSource) => string

/** A sample expression's value in a value context: the last occurrence (HAProxy's hdr() there), or none. */
export function compileSample (expr: SampleExpr): (s: SampleSource) => string | undefined {
  const { fetch, args } = expr
  const chain = compileChain(expr.converters)
  return s => {
    const values = fetchSamples(fetch, args, s)
    const last = values[values.length - 1]
    return chain === undefined || last === undefined ? last : chain(last)
  }
}

export function compileFormat (format: Format): Compiled {
  const parts = format.map(p => {
    if (p.kind === 'text') {
      const text = p.text
      return () => text
    }
    const sample = compileSample(p.expr)
    return (s: SampleSource) => sample(s) ?? ''
  })
  if (parts.length === 0) return () => ''
  if (parts.length === 1) return parts[0] as Compiled
  return s => {
    let out = ''
    for (const p of parts) out += p(s)
    return out
  }
}

/** `\0`…`\9` in `template` replaced by the groups of `match` (HAProxy's exp_replace). */
export function expandReferences (template: string, match: RegExpExecArray): string {
  if (!template.includes('\\')) return template
  let out = ''
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string
    const next = template[i + 1]
    if (c === '\\' && next !== undefined && next >= '0' && next <= '9') {
      out += match[Number(next)] ?? ''
      i++
    } else if (c === '\\' && next === '\\') {
      out += '\\'
      i++
    } else {
      out += c
    }
  }
  return out
}

/** The whole of `value` replaced by the expanded template when `re` matches in it, else undefined. */
export function regexReplace (value: string, re: RegExp, template: string): string | undefined {
  const m = re.exec(value)
  return m === null ? undefined : expandReferences(template, m)
}
