/**
 * keepalived's word splitting of a script line (no shell: `script "killall -0 haproxy"` runs
 * killall with two arguments; single and double quotes group words, backslash escapes).
 */
export function splitCommand (command: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let quote: '"' | "'" | undefined
  for (let i = 0; i < command.length; i++) {
    const c = command[i] as string
    if (quote !== undefined) {
      if (c === quote) quote = undefined
      else if (c === '\\' && quote === '"' && i + 1 < command.length) word += command[++i] as string
      else word += c
      continue
    }
    if (c === ' ' || c === '\t') {
      if (inWord) { words.push(word); word = ''; inWord = false }
      continue
    }
    inWord = true
    if (c === '"' || c === "'") quote = c
    else if (c === '\\' && i + 1 < command.length) word += command[++i] as string
    else word += c
  }
  if (inWord) words.push(word)
  return words
}
