/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time,
 * and self time grouped by file. Used by `scripts/bench proxy --profile`.
 *
 *   node scripts/bench.d/cpuprofile-top.ts FILE.cpuprofile [TOP]
 */
import { readFileSync } from 'node:fs'

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
  readonly columnNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: readonly number[]
}

interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
  readonly startTime: number
  readonly endTime: number
}

const file = process.argv[2]
const top = Number(process.argv[3] ?? '25')
if (file === undefined) {
  process.stderr.write('usage: cpuprofile-top.ts FILE.cpuprofile [TOP]\n')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map(n => [n.id, n]))

// self time per node: each sample's time delta belongs to the node it hit
const selfUs = new Map<number, number>()
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i] as number
  const dt = profile.timeDeltas[i + 1] ?? 0
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt)
}
let total = 0
for (const v of selfUs.values()) total += v

function shortUrl (url: string): string {
  if (url === '') return ''
  const s = url.replace(/^file:\/\//, '')
  const i = s.indexOf('/src/')
  if (i >= 0) return s.slice(i + 1)
  const j = s.lastIndexOf('/node_modules/')
  if (j >= 0) return s.slice(j + 14)
  return s
}

const byFunction = new Map<string, number>()
const byFile = new Map<string, number>()
for (const [id, us] of selfUs) {
  const n = byId.get(id)
  if (n === undefined) continue
  const f = n.callFrame
  const where = shortUrl(f.url)
  const name = f.functionName === '' ? '(anonymous)' : f.functionName
  const key = where === '' ? name : `${name}  ${where}:${f.lineNumber + 1}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + us)
  const fileKey = where === '' ? (name.startsWith('(') ? name : '(native)') : where.startsWith('node:') ? 'node: internals' : where
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us)
}

const idle = byFunction.get('(idle)') ?? 0
const busy = total - idle
const line = (us: number, label: string): string =>
  `${(us / 1000).toFixed(0).padStart(7)} ms ${(100 * us / busy).toFixed(1).padStart(5)}%  ${label}`

const out: string[] = []
out.push(`${file}`)
out.push(`sampled ${(total / 1e6).toFixed(1)} s, idle ${(100 * idle / total).toFixed(1)}%; shares below are of the busy ${(busy / 1e6).toFixed(1)} s`)
out.push('')
out.push(`top ${top} functions by self time:`)
for (const [k, us] of [...byFunction].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(line(us, k))
out.push('')
out.push('self time by file:')
for (const [k, us] of [...byFile].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 20)) out.push(line(us, k))
process.stdout.write(`${out.join('\n')}\n`)
