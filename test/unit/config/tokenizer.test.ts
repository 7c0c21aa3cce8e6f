import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_LINE_LENGTH, tokenizeLine } from '../../../src/config/tokenizer.ts'
import { LineSyntaxError } from '../../../src/config/errors.ts'

const words = (line: string, env: Record<string, string> = {}): string[] => tokenizeLine(line, env).words

test('blanks separate words and # starts a comment', () => {
  assert.deepEqual(words('  server  web1\t198.18.0.21:80 check # comment'), ['server', 'web1', '198.18.0.21:80', 'check'])
  assert.deepEqual(words('# only a comment'), [])
  assert.deepEqual(words(''), [])
})

test('backslash escapes a blank, a hash, quotes and control characters', () => {
  assert.deepEqual(words('a\\ b c\\#d'), ['a b', 'c#d'])
  assert.deepEqual(words('x\\"y \\\\'), ['x"y', '\\'])
  assert.deepEqual(words('\\x41\\t'), ['A\t'])
  assert.deepEqual(words('\\q'), ['\\q'])
})

test('double quotes keep blanks and hashes and expand variables', () => {
  assert.deepEqual(words('log-format "%ci:%cp [%t] #1"'), ['log-format', '%ci:%cp [%t] #1'])
  assert.deepEqual(words('bind "${ADDR}:${PORT}"', { ADDR: '198.18.0.11', PORT: '80' }), ['bind', '198.18.0.11:80'])
  assert.deepEqual(words('x "$HOME/y"', { HOME: '/root' }), ['x', '/root/y'])
  assert.deepEqual(words('x "${UNSET-fallback}"'), ['x', 'fallback'])
  assert.deepEqual(words('x ""'), ['x', ''])
})

test('variables are not expanded outside double quotes or inside single quotes', () => {
  assert.deepEqual(words("a $HOME '${HOME}'", { HOME: '/root' }), ['a', '$HOME', '${HOME}'])
})

test('an unset variable expands to nothing, with a warning', () => {
  const t = tokenizeLine('x "${NOPE}"', {})
  assert.deepEqual(t.words, ['x', ''])
  assert.match(t.warnings[0] ?? '', /'NOPE' is not set/)
})

test('adjacent quoted and unquoted parts form one word', () => {
  assert.deepEqual(words('a"b c"\'d e\'f'), ['ab cd ef'])
})

test('syntax errors are LineSyntaxError with a precise message', () => {
  assert.throws(() => words('x "unterminated'), LineSyntaxError)
  assert.throws(() => words("x 'unterminated"), /unterminated single quote/)
  assert.throws(() => words('x \\'), /lone backslash/)
  assert.throws(() => words('x \\xZZ'), /two hex digits/)
  assert.throws(() => words('x "${BAD'), /unterminated/)
  assert.throws(() => words('x "${1BAD}"'), /invalid environment variable name/)
  assert.throws(() => words('a'.repeat(MAX_LINE_LENGTH + 1)), /line too long/)
  assert.throws(() => words(Array.from({ length: 65 }, () => 'w').join(' ')), /too many words/)
})
