/**
 * Open-loop HTTP load generator for `scripts/bench reload` (vegeta is not packaged in Debian 12).
 * Runs in the client namespace until SIGTERM, then stops issuing, waits for what is in flight
 * (at most the request timeout) and exits.
 *
 *   node reload-load.ts --target HOST:PORT --out FILE [--new R] [--ka R] [--ka-conns C]
 *                       [--slow R] [--slow-path /slow] [--timeout-ms 5000]
 *
 * Three streams, each at a fixed rate (requests are issued on schedule whatever the answers do):
 *   new   a new TCP connection per request (`Connection: close`), GET /
 *   ka    keep-alive: up to C idle connections kept and used in turn (a request finding none free
 *         opens one more), GET /
 *   slow  a new connection per request, GET SLOW_PATH (the backend answers after 2 s)
 * Every request ends in exactly one record, one line of FILE:
 *   STREAM ISSUE_MS LATENCY_MS OUTCOME REUSED BODY
 * ISSUE_MS is wall-clock milliseconds (performance.timeOrigin + now, comparable across
 * processes), LATENCY_MS from issue to the end of the response (or the failure), OUTCOME one of
 * ok, refused, reset, closed (connection closed before a complete response), timeout,
 * status-NNN, error-CODE; REUSED 1 when the request went on a reused keep-alive connection; BODY
 * the trimmed response body ('-' if none). Body checks are the orchestrator's (reload.ts).
 * At exit it appends "# lag MAX_MS" (the worst lag of its own issuing timer: how late the
 * generator itself ran) and "# issued new=N ka=N slow=N unfinished=N".
 */
import { Agent, request } from 'node:http'
import { createWriteStream } from 'node:fs'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    out: { type: 'string' },
    new: { type: 'string', default: '200' },
    ka: { type: 'string', default: '200' },
    'ka-conns': { type: 'string', default: '16' },
    slow: { type: 'string', default: '10' },
    'slow-path': { type: 'string', default: '/slow' },
    'timeout-ms': { type: 'string', default: '5000' }
  }
})
const [host = '', portText = '80'] = (values.target ?? '').split(':')
if (host === '' || values.out === undefined) {
  process.stderr.write('usage: reload-load.ts --target HOST:PORT --out FILE [--new R] [--ka R] [--ka-conns C] [--slow R]\n')
  process.exit(2)
}
const port = Number(portText)
const timeoutMs = Number(values['timeout-ms'])
const out = createWriteStream(values.out)
const now = (): number => performance.timeOrigin + performance.now()

interface Stream { readonly name: string, readonly rate: number, readonly path: string, readonly agent: Agent | false }
// Like vegeta: C connections kept alive and used in turn; when all are busy a request opens
// another one rather than queueing behind them (a queue in the client would turn any slow moment
// into a backlog that an open-loop client never works off).
const kaAgent = new Agent({ keepAlive: true, maxFreeSockets: Number(values['ka-conns']), maxSockets: 256, scheduling: 'fifo' })
const all: Stream[] = [
  { name: 'new', rate: Number(values.new), path: '/', agent: false },
  { name: 'ka', rate: Number(values.ka), path: '/', agent: kaAgent },
  { name: 'slow', rate: Number(values.slow), path: values['slow-path'] ?? '/slow', agent: false }
]
const streams = all.filter(s => s.rate > 0)

let inFlight = 0
let stopping = false
let maxLag = 0

function record (stream: string, issued: number, outcome: string, reused: boolean, body: string): void {
  out.write(`${stream} ${issued.toFixed(1)} ${(now() - issued).toFixed(1)} ${outcome} ${reused ? 1 : 0} ${body === '' ? '-' : body.replace(/\s+/g, '_')}\n`)
}

function classify (err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED': return 'refused'
    case 'ECONNRESET': return err.message === 'socket hang up' ? 'closed' : 'reset'
    case 'EPIPE': return 'reset'
    case 'ABORT_ERR': return 'timeout'
    default: return `error-${err.code ?? 'unknown'}`
  }
}

function fire (s: Stream): void {
  const issued = now()
  inFlight++
  let done = false
  let reused = false
  const finish = (outcome: string, body: string): void => {
    if (done) return
    done = true
    clearTimeout(timer)
    inFlight--
    record(s.name, issued, outcome, reused, body)
  }
  const req = request({
    host,
    port,
    path: s.path,
    agent: s.agent,
    headers: s.agent === false ? { connection: 'close' } : {}
  }, res => {
    let body = ''
    res.setEncoding('utf8')
    res.on('data', (d: string) => { if (body.length < 200) body += d })
    res.on('end', () => { finish(res.statusCode === 200 ? 'ok' : `status-${res.statusCode ?? 0}`, body.trim()) })
    res.on('error', (err: NodeJS.ErrnoException) => { finish(classify(err), body.trim()) })
    res.on('close', () => { if (!res.complete) finish('closed', body.trim()) })
  })
  // One deadline for the whole exchange (connect + answer), as vegeta's -timeout.
  const timer = setTimeout(() => {
    finish('timeout', '')
    req.destroy()
  }, timeoutMs)
  req.on('socket', () => { reused = req.reusedSocket })
  req.on('error', (err: NodeJS.ErrnoException) => { finish(classify(err), '') })
  req.end()
}

// Fixed schedule: request i of a stream is due at t0 + i / rate; a late tick issues every
// request that is due, so a slow proxy (or a stalled client) cannot lower the offered load.
const t0 = now()
const issuedCount = new Map<string, number>(streams.map(s => [s.name, 0]))
let lastTick = t0
const tick = setInterval(() => {
  const t = now()
  maxLag = Math.max(maxLag, t - lastTick - 5)
  lastTick = t
  if (stopping) return
  for (const s of streams) {
    const due = Math.floor((t - t0) * s.rate / 1000)
    let n = issuedCount.get(s.name) ?? 0
    for (; n < due; n++) fire(s)
    issuedCount.set(s.name, n)
  }
}, 5)

function stop (): void {
  if (stopping) return
  stopping = true
  clearInterval(tick)
  const deadline = now() + timeoutMs + 1000
  const wait = setInterval(() => {
    if (inFlight > 0 && now() < deadline) return
    clearInterval(wait)
    kaAgent.destroy()
    out.end(`# lag ${maxLag.toFixed(1)}\n# issued ${[...issuedCount].map(([k, v]) => `${k}=${v}`).join(' ')} unfinished=${inFlight}\n`, () => { process.exit(0) })
  }, 20)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdout.write('started\n')
