/**
 * HAProxy 2.6's CLI help and "Unknown command" messages (cli.c cli_gen_usage_msg): the commands
 * whose leading words match, or, when words remain, the closest ones by a letter-transition
 * fingerprint distance (tools.c update_word_fingerprint / word_fingerprint_distance).
 */

export interface UsageEntry {
  readonly words: readonly string[]
  /** The help line; undefined for help/prompt/quit, which are always printed last. */
  readonly usage: string | undefined
}

const CLI_PREFIX_KW_NB = 5
const CLI_MAX_MATCHES = 5

const TRAILER =
  '  help [<command>]                        : list matching or all commands\n' +
  '  prompt                                  : toggle interactive mode with prompt\n' +
  '  quit                                    : disconnect\n'

/** Adds the letter-transition counts of `word` to `fp` (1024 cells indexed 32*from+to). */
function addFingerprint (fp: Uint8Array, word: string): void {
  let from = 28
  for (const ch of word.toLowerCase()) {
    const c = ch.charCodeAt(0)
    let to: number
    if (c >= 97 && c <= 122) to = c - 96
    else if (c >= 48 && c <= 57) to = 27
    else to = 28
    fp[to] = 1
    fp[32 * from + to] = ((fp[32 * from + to] ?? 0) + 1) & 0xff
    from = to
  }
  fp[32 * from + 28] = ((fp[32 * from + 28] ?? 0) + 1) & 0xff
}

function distance (a: Uint8Array, b: Uint8Array): number {
  let d = 0
  for (let i = 0; i < 1024; i++) d += Math.abs((a[i] ?? 0) - (b[i] ?? 0))
  return d
}

function prefixMatches (kw: UsageEntry, args: readonly string[], length: number): boolean {
  for (let i = 0; i < length; i++) {
    const w = kw.words[i]
    const a = args[i]
    if (w === undefined || a === undefined || a === '' || w !== a) return false
  }
  return true
}

/**
 * The message for `help [words]` (args start with 'help') or for an unknown command line.
 * `entries` are the registered commands in registration order.
 */
export function usageMessage (entries: readonly UsageEntry[], rawArgs: readonly string[]): string {
  let args = rawArgs
  let isHelp = false
  if (args[0] === 'help') {
    args = args.slice(1)
    isHelp = true
  }
  let length = 0
  for (const kw of entries) {
    for (let i = 0; i < CLI_PREFIX_KW_NB; i++) {
      const w = kw.words[i]
      const a = args[i]
      if (w === undefined || a === undefined || a === '' || w !== a) break
      if (i + 1 > length) length = i + 1
    }
  }
  let out: string
  if (isHelp) out = 'The following commands are valid at this level:\n'
  else if (length === 0 && (args[0] === undefined || args[0] === '')) out =
    'Unknown command. Please enter one of the following commands only:\n'
  else out = 'Unknown command, but maybe one of the following ones is a better match:\n'

  const matches: { kw: UsageEntry, dist: number }[] = []
  const next = args[length]
  if (next !== undefined && next !== '') {
    const argSig = new Uint8Array(1024)
    let argLen = 0
    for (let i = length; i < CLI_PREFIX_KW_NB; i++) {
      const a = args[i]
      if (a === undefined || a === '') break
      addFingerprint(argSig, a)
      argLen += a.length
    }
    for (const kw of entries) {
      if (kw.usage === undefined || !prefixMatches(kw, args, length)) continue
      const kwSig = new Uint8Array(1024)
      let totlen = argLen
      for (let i = length; i < CLI_PREFIX_KW_NB; i++) {
        const w = kw.words[i]
        if (w === undefined) break
        addFingerprint(kwSig, w)
        totlen += w.length
      }
      const dist = distance(argSig, kwSig)
      const worst = matches.length < CLI_MAX_MATCHES ? Infinity : (matches[CLI_MAX_MATCHES - 1] as {
        dist: number }).dist
      if (dist < Math.floor(5 * totlen / 2) && dist < worst) {
        if (matches.length === CLI_MAX_MATCHES) matches.pop()
        // Insert after the entries of equal distance (HAProxy's insertion keeps them first).
        let at = matches.length
        while (at > 0 && (matches[at - 1] as { dist: number }).dist > dist) at--
        matches.splice(at, 0, { kw, dist })
      }
    }
  }
  const shown: UsageEntry[] = []
  const first = matches[0]
  if (first !== undefined) {
    for (const m of matches) {
      if (m.dist > Math.floor(5 * first.dist / 2)) break
      shown.push(m.kw)
    }
  } else {
    for (const kw of entries) if (kw.usage !== undefined && prefixMatches(kw, args, length)) shown.push(kw)
  }
  shown.sort((a, b) => {
    const x = a.usage ?? ''
    const y = b.usage ?? ''
    return x < y ? -1 : x > y ? 1 : 0
  })
  for (const kw of shown) out += `  ${kw.usage ?? ''}\n`
  return out + TRAILER
}
