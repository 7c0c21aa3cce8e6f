import { LineSyntaxError } from './errors.ts'
/**
 * Splits one configuration line into words the way HAProxy's parser does:
 * blanks separate words, `#` starts a comment, backslash escapes, "double quotes" allow
 * escapes and `${VAR}` / `$VAR` environment expansion, 'single quotes' are taken literally.
 */

export const MAX_LINE_LENGTH = 2048
export const MAX_LINE_WORDS = 64

export interface TokenizedLine {
  readonly words: string[]
  readonly warnings: string[]
}

export type Environment = Readonly<Record<string, string | undefined>>

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\', ' ': ' ', '\t': '\t', '#': '#', '"': '"', "'": "'", $: '$', r: '\r', n: '\n', t: '\t'
}

function isBlank (c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r'
}

function isVarChar (c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c)
}

export function tokenizeLine (line: string, env: Environment): TokenizedLine {
  if (line.length > MAX_LINE_LENGTH) {
    throw new LineSyntaxError(`line too long (${line.length} characters, at most ${MAX_LINE_LENGTH})`)
  }
  const words: string[] = []
  const warnings: string[] = []
  let word = ''
  let inWord = false
  let quote: '"' | "'" | null = null
  let i = 0

  const endWord = (): void => {
    if (!inWord) return
    if (words.length >= MAX_LINE_WORDS) {
      throw new LineSyntaxError(`too many words on one line (at most ${MAX_LINE_WORDS})`)
    }
    words.push(word)
    word = ''
    inWord = false
  }

  while (i < line.length) {
    const c = line[i] as string
    if (quote === "'") {
      if (c === "'") quote = null
      else word += c
      i++
      continue
    }
    if (c === '\\') {
      const next = line[i + 1]
      if (next === undefined) throw new LineSyntaxError('line ends with a lone backslash')
      if (next === 'x') {
        const hex = line.slice(i + 2, i + 4)
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new LineSyntaxError(
          `invalid escape '\\x${hex}': expected two hex digits`)
        word += String.fromCharCode(parseInt(hex, 16))
        i += 4
      } else {
        const esc = SIMPLE_ESCAPES[next]
        // HAProxy keeps an unknown escape as written, backslash included.
        word += esc ?? `\\${next}`
        i += 2
      }
      inWord = true
      continue
    }
    if (quote === '"') {
      if (c === '"') {
        quote = null
        i++
      } else if (c === '$') {
        i = expandVariable(line, i, env, warnings, s => { word += s })
      } else {
        word += c
        i++
      }
      continue
    }
    if (c === '"' || c === "'") {
      quote = c
      inWord = true
      i++
      continue
    }
    if (c === '#') break
    if (isBlank(c)) {
      endWord()
      i++
      continue
    }
    word += c
    inWord = true
    i++
  }
  if (quote !== null) throw new LineSyntaxError(`unterminated ${quote === '"' ? 'double' : 'single'} quote`)
  endWord()
  return { words, warnings }
}

/** Expands `$NAME`, `${NAME}` or `${NAME-default}` at `start`; returns the index after it. */
function expandVariable (line: string, start: number, env: Environment, warnings: string[],
  emit: (s: string) => void): number {
  let i = start + 1
  let name = ''
  let fallback: string | undefined
  if (line[i] === '{') {
    const close = line.indexOf('}', i)
    if (close < 0) throw new LineSyntaxError("unterminated '${' in environment variable reference")
    const inner = line.slice(i + 1, close)
    const dash = inner.indexOf('-')
    name = dash >= 0 ? inner.slice(0, dash) : inner
    if (dash >= 0) fallback = inner.slice(dash + 1)
    i = close + 1
  } else {
    while (isVarChar(line[i])) name += line[i++]
    if (name === '') {
      emit('$')
      return i
    }
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new LineSyntaxError(`invalid environment variable name '${name}'`)
  const value = env[name]
  if (value !== undefined) emit(value)
  else if (fallback !== undefined) emit(fallback)
  else warnings.push(`environment variable '${name}' is not set: it expands to an empty string`)
  return i
}
