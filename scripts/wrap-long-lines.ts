#!/usr/bin/env node
// `node scripts/wrap-long-lines.ts FILE...`: a mechanical wrapper: breaks lines over MAX columns at token boundaries where a newline cannot
// change the program (after `,` `(` `[` `{` `=>` `=` and binary operators), moves trailing `//`
// comments above their line, re-wraps comment text, and as a last resort splits a long string or
// template literal into a parenthesised concatenation. One break per long line per pass.
import ts from 'typescript'
import { readFileSync, writeFileSync } from 'node:fs'

const MAX = 120
const BREAK_AFTER = new Set<ts.SyntaxKind>([
  ts.SyntaxKind.CommaToken, ts.SyntaxKind.OpenParenToken, ts.SyntaxKind.OpenBracketToken, ts.SyntaxKind.OpenBraceToken,
  ts.SyntaxKind.EqualsGreaterThanToken, ts.SyntaxKind.EqualsToken, ts.SyntaxKind.AmpersandAmpersandToken,
  ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.QuestionToken, ts.SyntaxKind.ColonToken,
  ts.SyntaxKind.PlusToken, ts.SyntaxKind.BarToken, ts.SyntaxKind.AmpersandToken, ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.SemicolonToken
])
const EXPR_END = new Set<ts.SyntaxKind>([
  ts.SyntaxKind.Identifier, ts.SyntaxKind.CloseParenToken, ts.SyntaxKind.CloseBracketToken, ts.SyntaxKind.CloseBraceToken,
  ts.SyntaxKind.NumericLiteral, ts.SyntaxKind.StringLiteral, ts.SyntaxKind.NoSubstitutionTemplateLiteral, ts.SyntaxKind.TemplateTail,
  ts.SyntaxKind.ThisKeyword, ts.SyntaxKind.SuperKeyword, ts.SyntaxKind.TrueKeyword, ts.SyntaxKind.FalseKeyword, ts.SyntaxKind.NullKeyword
])

interface Tok { kind: ts.SyntaxKind, pos: number, end: number, prev: ts.SyntaxKind | undefined, inTemplate: boolean }

function tokens (text: string): Tok[] {
  const sc = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text)
  const out: Tok[] = []
  const stack: ('brace' | 'template')[] = []
  let prev: ts.SyntaxKind | undefined
  for (;;) {
    let k = sc.scan()
    if (k === ts.SyntaxKind.EndOfFileToken) break
    if (k === ts.SyntaxKind.CloseBraceToken && stack[stack.length - 1] === 'template') {
      k = sc.reScanTemplateToken(false)
      if (k === ts.SyntaxKind.TemplateTail) stack.pop()
    } else if (k === ts.SyntaxKind.OpenBraceToken) stack.push('brace')
    else if (k === ts.SyntaxKind.CloseBraceToken) stack.pop()
    else if (k === ts.SyntaxKind.TemplateHead) stack.push('template')
    else if ((k === ts.SyntaxKind.SlashToken || k === ts.SyntaxKind.SlashEqualsToken) && (prev === undefined || !EXPR_END.has(prev))) {
      k = sc.reScanSlashToken()
    }
    out.push({ kind: k, pos: sc.getTokenStart(), end: sc.getTokenEnd(), prev, inTemplate: stack.includes('template') && k !== ts.SyntaxKind.TemplateHead })
    const trivia = k === ts.SyntaxKind.WhitespaceTrivia || k === ts.SyntaxKind.NewLineTrivia ||
      k === ts.SyntaxKind.SingleLineCommentTrivia || k === ts.SyntaxKind.MultiLineCommentTrivia
    if (!trivia) prev = k
  }
  return out
}

const GROUPS: ReadonlySet<ts.SyntaxKind>[] = [
  new Set([ts.SyntaxKind.CommaToken, ts.SyntaxKind.SemicolonToken]),
  new Set([ts.SyntaxKind.OpenParenToken, ts.SyntaxKind.OpenBracketToken, ts.SyntaxKind.OpenBraceToken, ts.SyntaxKind.EqualsGreaterThanToken,
    ts.SyntaxKind.EqualsToken, ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken,
    ts.SyntaxKind.PlusToken, ts.SyntaxKind.BarToken, ts.SyntaxKind.AmpersandToken, ts.SyntaxKind.EqualsEqualsEqualsToken,
    ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.QuestionToken])
]

/** The rightmost break of the most natural kind that keeps at least 60 columns on the first line. */
function preferred (cands: readonly Tok[], ls: number): Tok | undefined {
  for (const g of GROUPS) {
    const c = cands.filter(t => g.has(t.kind) && t.end - ls >= 60)
    if (c.length > 0) return c[c.length - 1]
  }
  return undefined
}

function lineStarts (text: string): number[] {
  const s = [0]
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') s.push(i + 1)
  return s
}

function wrapWords (prefix: string, words: string[], first: string = prefix): string[] {
  const lines: string[] = []
  let cur = first
  let empty = true
  for (const w of words) {
    if (!empty && (cur + ' ' + w).length > MAX) {
      lines.push(cur)
      cur = prefix + w
    } else {
      cur = empty ? cur + w : cur + ' ' + w
    }
    empty = false
  }
  lines.push(cur)
  return lines
}

/** One edit for the first long line that can be fixed, or undefined. */
function onePass (text: string, skip: Set<number>): { text: string, changed: boolean } {
  const toks = tokens(text)
  const starts = lineStarts(text)
  let changed = false
  // Process from the end so earlier offsets stay valid.
  for (let li = starts.length - 1; li >= 0; li--) {
    const ls = starts[li] as number
    const le = li + 1 < starts.length ? (starts[li + 1] as number) - 1 : text.length
    const line = text.slice(ls, le)
    if (line.length <= MAX || skip.has(li)) continue
    const indent = /^ */.exec(line)?.[0] ?? ''
    const inLine = toks.filter(t => t.end > ls && t.pos < le)
    const first = inLine.find(t => t.kind !== ts.SyntaxKind.WhitespaceTrivia)
    // Inside a multi-line comment or template: comment lines are re-wrapped, template text is not touched.
    const covering = toks.find(t => t.pos < ls && t.end > ls)
    if (covering !== undefined) {
      if (covering.kind === ts.SyntaxKind.MultiLineCommentTrivia && /^ *\* /.test(line) && !line.includes('*/')) {
        const m = /^( *\* )(.*)$/.exec(line)
        if (m !== null) {
          const out = wrapWords(m[1] as string, (m[2] as string).split(' ').filter(w => w !== ''))
          if (out.length > 1) { text = text.slice(0, ls) + out.join('\n') + text.slice(le); changed = true; continue }
        }
      }
      skip.add(li); continue
    }
    if (first === undefined) { skip.add(li); continue }
    // Whole-line // comment.
    if (first.kind === ts.SyntaxKind.SingleLineCommentTrivia && first.end >= le) {
      const m = /^( *\/\/ ?)(.*)$/.exec(line)
      if (m !== null) {
        const pre = m[1]?.endsWith(' ') === true ? m[1] : `${m[1] ?? ''} `
        const out = wrapWords(pre, (m[2] as string).split(' ').filter(w => w !== ''))
        if (out.length > 1) { text = text.slice(0, ls) + out.join('\n') + text.slice(le); changed = true; continue }
      }
      skip.add(li); continue
    }
    // Single-line /** ... */ comment.
    if (first.kind === ts.SyntaxKind.MultiLineCommentTrivia && first.pos === ls + indent.length && first.end >= le) {
      const m = /^ *\/\*\*\s*(.*?)\s*\*\/$/.exec(line)
      if (m !== null) {
        const out = wrapWords(`${indent} * `, (m[1] as string).split(' ').filter(w => w !== ''))
        text = text.slice(0, ls) + `${indent}/**\n` + out.join('\n') + `\n${indent} */` + text.slice(le)
        changed = true; continue
      }
      skip.add(li); continue
    }
    // Trailing // comment after code: move it above the line.
    const trailing = inLine.find(t => t.kind === ts.SyntaxKind.SingleLineCommentTrivia && t.pos > ls + indent.length)
    if (trailing !== undefined) {
      const code = text.slice(ls, trailing.pos).trimEnd()
      const comment = text.slice(trailing.pos, le)
      text = text.slice(0, ls) + indent + comment + '\n' + code + text.slice(le)
      changed = true; continue
    }
    if (inLine.some(t => t.end > le)) { skip.add(li); continue } // a token spans lines
    // Code: the last safe break that leaves the first part within MAX.
    const cands = inLine.filter(t => BREAK_AFTER.has(t.kind) && t.end - ls <= MAX && t.end - ls > indent.length + 8 && t.end < le)
      .filter(t => text.slice(t.end, le).trim() !== '' && !/^\s*(\/\/|\/\*|[)\]}])/.test(text.slice(t.end, le)))
    const cont = indent + '  '
    const outer = cands.filter(t => !t.inTemplate)
    const best = preferred(outer, ls) ?? outer[outer.length - 1]
    if (best !== undefined) {
      const rest = text.slice(best.end, le).trimStart()
      text = text.slice(0, ls) + text.slice(ls, best.end).trimEnd() + '\n' + cont + rest + text.slice(le)
      changed = true; continue
    }
    // Then: split a string or template literal at a space (the rightmost that fits).
    const lits = inLine.filter(t => [ts.SyntaxKind.StringLiteral, ts.SyntaxKind.NoSubstitutionTemplateLiteral, ts.SyntaxKind.TemplateHead,
      ts.SyntaxKind.TemplateMiddle, ts.SyntaxKind.TemplateTail].includes(t.kind) && t.pos - ls < MAX - 10).reverse()
    let split = false
    for (const lit of lits) {
      const q = lit.kind === ts.SyntaxKind.StringLiteral ? text[lit.pos] as string : '`'
      const limit = Math.min(lit.end - 2, ls + MAX - 6)
      let at = -1
      for (let p = limit; p > lit.pos + 1 && p > ls + indent.length + 20; p--) if (text[p] === ' ' && text[p - 1] !== '\\' && text[p - 1] !== ' ' && text[p + 1] !== ' ') { at = p + 1; break }
      if (at < 0) continue
      let startTok = lit
      let endTok = lit
      if (lit.kind !== ts.SyntaxKind.StringLiteral && lit.kind !== ts.SyntaxKind.NoSubstitutionTemplateLiteral) {
        const idx = toks.indexOf(lit)
        let depth = 0
        for (let i = idx; i >= 0; i--) {
          const k = (toks[i] as Tok).kind
          if (k === ts.SyntaxKind.TemplateTail && i !== idx) depth++
          if (k === ts.SyntaxKind.TemplateHead) { if (depth === 0) { startTok = toks[i] as Tok; break } depth-- }
        }
        depth = 0
        for (let i = idx; i < toks.length; i++) {
          const k = (toks[i] as Tok).kind
          if (k === ts.SyntaxKind.TemplateHead && i !== idx) depth++
          if (k === ts.SyntaxKind.TemplateTail) { if (depth === 0) { endTok = toks[i] as Tok; break } depth-- }
        }
      }
      const tagged = startTok.kind !== ts.SyntaxKind.StringLiteral && startTok.prev !== undefined && EXPR_END.has(startTok.prev)
      if (tagged || endTok.end > le || startTok.pos < ls) continue
      text = text.slice(0, startTok.pos) + '(' + text.slice(startTok.pos, at) + q + ' +\n' + cont + q + text.slice(at, endTok.end) + ')' + text.slice(endTok.end)
      split = true
      break
    }
    if (split) { changed = true; continue }
    // Last resort: a break inside a template's ${} expression.
    const inner = cands[cands.length - 1]
    if (inner !== undefined) {
      const rest = text.slice(inner.end, le).trimStart()
      text = text.slice(0, ls) + text.slice(ls, inner.end).trimEnd() + '\n' + cont + rest + text.slice(le)
      changed = true; continue
    }
    skip.add(li)
  }
  return { text, changed }
}

for (const file of process.argv.slice(2)) {
  let text = readFileSync(file, 'utf8')
  const orig = text
  for (let i = 0; i < 12; i++) {
    const r = onePass(text, new Set())
    text = r.text
    if (!r.changed) break
  }
  if (text !== orig) writeFileSync(file, text)
  const left = text.split('\n').map((l, i) => [i + 1, l.length] as const).filter(([, n]) => n > MAX)
  for (const [n, len] of left) console.log(`${file}:${n}: ${len} columns left`)
}
