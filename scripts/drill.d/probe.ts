/** The client probe's lines and what the drill reads from them (pure: unit-tested). */

export interface ProbeResult {
  readonly vip: string
  /** The client's clock, ms since the epoch. */
  readonly start: number
  readonly end: number
  readonly ok: boolean
  /** First word of the answer (the web node's name), or '-'. */
  readonly body: string
}

/** `VIP START_US END_US OK BODY` → a result; undefined for anything else (a partial line). */
export function parseProbeLine (line: string): ProbeResult | undefined {
  const m = /^(\S+) (\d+) (\d+) ([01]) (\S+)$/.exec(line.trim())
  if (m === null) return undefined
  return { vip: m[1] as string, start: Number(m[2]) / 1000, end: Number(m[3]) / 1000, ok: m[4] === '1', body: m[5] as string }
}

export interface ProbeAnalysis {
  readonly requests: number
  readonly failed: number
  /**
   * The longest time the VIP did not answer: the largest interval between two consecutive
   * answers (by the time each arrived), rounded to the ms; 0 with fewer than two answers.
   */
  readonly gapMs: number
}

export function analyse (results: readonly ProbeResult[], vip: string): ProbeAnalysis {
  const of = results.filter(r => r.vip === vip)
  const answers = of.filter(r => r.ok).map(r => r.end).sort((a, b) => a - b)
  let gap = 0
  for (let i = 1; i < answers.length; i++) gap = Math.max(gap, (answers[i] as number) - (answers[i - 1] as number))
  return { requests: of.length, failed: of.filter(r => !r.ok).length, gapMs: Math.round(gap) }
}
