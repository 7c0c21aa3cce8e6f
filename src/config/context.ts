/**
 * What a keyword handler sees: the line it was written on, and a way to report warnings.
 * Handlers report errors by throwing ValueError; the parser turns either into `FILE:LINE:` diagnostics.
 */
import type { Diagnostic } from '../util/errors.ts'
import type { Location } from './model.ts'

export interface Line {
  readonly words: readonly string[]
  readonly loc: Location
}

export class Diagnostics {
  readonly list: Diagnostic[] = []

  error (loc: Location, message: string): void {
    this.list.push({ severity: 'error', file: loc.file, line: loc.line, message })
  }

  warn (loc: Location, message: string): void {
    this.list.push({ severity: 'warning', file: loc.file, line: loc.line, message })
  }

  get errorCount (): number {
    return this.list.filter(d => d.severity === 'error').length
  }
}

export interface KeywordContext {
  readonly loc: Location
  /** Name of the section being parsed, e.g. "backend 'app'", for messages. */
  readonly section: string
  warn (message: string): void
}

/** Closest known word to `word` (edit distance ≤ 2), for "did you mean" hints. */
export function suggest (word: string, known: Iterable<string>): string {
  let best = ''
  let bestDistance = 3
  for (const k of known) {
    const d = editDistance(word, k)
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best === '' ? '' : ` (did you mean '${best}'?)`
}

function editDistance (a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length] as number
}
