/**
 * HAProxy's master CLI for `tslb haproxy -S ADDR` (ADDR: `fd@N`, `HOST:PORT`, or a unix path):
 * a command prefixed `@N` (worker number N; 1 is the serving one), `@!PID` or `@master`; a
 * prefix alone sets the connection's target. Workers answer through their runtime API (relayed
 * over IPC); the master answers `show proc`, `reload`, `help`, `prompt` and `quit`.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { rmSync } from 'node:fs'
import type { Supervisor } from '../supervisor/supervisor.ts'
import { openInheritedSocket } from '../net/listen-handle.ts'
import { parseListenAddress } from '../config/values.ts'

/** Who a command goes to: the master, the Nth worker (1 = newest), or a worker's pid. */
export type MasterCliTarget = { readonly kind: 'master' } | { readonly kind: 'worker',
  readonly relative: number } | { readonly kind: 'pid', readonly pid: number }

/** Splits `@1 show info` into its target and command; `undefined` target: no prefix. */
export function parseMasterCliLine (line: string): { target: MasterCliTarget | undefined,
  command: string } | { error: string } {
  const m = /^@(\S*)\s*(.*)$/.exec(line.trim())
  if (m === null) return { target: undefined, command: line.trim() }
  const [, prefix = '', command = ''] = m
  if (prefix === 'master') return { target: { kind: 'master' }, command }
  if (/^!\d+$/.test(prefix)) return { target: { kind: 'pid', pid: Number(prefix.slice(1)) }, command }
  if (/^\d+$/.test(prefix) && Number(prefix) > 0) return { target: { kind: 'worker', relative: Number(prefix) },
    command }
  return { error: `Can't find the target CLI!\n` }
}

const HELP =
  'help           : this message\nprompt         : toggle interactive mode with prompt\nquit           : disconnect\n' +
  ('show proc      : show processes status\nreload         : reload haproxy\n@<relative pid> / @!<pid> / @master : ' +
    'send a command to a process\n')

/** The longest command line (HAProxy's tune.bufsize) and the open connections accepted at once. */
const MAX_LINE = 16384
const MAX_CONNECTIONS = 100

export interface MasterCli {
  close (): Promise<void>
}

export async function listenMasterCli (where: string, supervisor: Supervisor): Promise<MasterCli> {
  const server = createServer({ allowHalfOpen: true }, socket => { serve(socket, supervisor) })
  server.maxConnections = MAX_CONNECTIONS
  const unix = where.startsWith('/') || where.startsWith('unix@')
  const path = where.replace(/^unix@/, '')
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    const done = (): void => { server.off('error', reject); resolve() }
    if (unix) {
      rmSync(path, { force: true })
      server.listen(path, done)
    } else {
      const a = parseListenAddress(where, 'master CLI (-S)')
      if (a.fd !== undefined) server.listen(openInheritedSocket(a.fd), done)
      else server.listen(a.port, a.host === '' ? undefined : a.host, done)
    }
  })
  server.on('error', () => {})
  return { close: async () => { await closeServer(server, unix ? path : undefined) } }
}

async function closeServer (server: Server, path: string | undefined): Promise<void> {
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  if (path !== undefined) rmSync(path, { force: true })
}

function serve (socket: Socket, supervisor: Supervisor): void {
  let buffered = ''
  let target: MasterCliTarget = { kind: 'master' }
  let prompt = false
  let chain = Promise.resolve()
  socket.setEncoding('utf8')
  socket.on('error', () => { socket.destroy() })
  const write = (text: string): void => { if (!socket.destroyed) socket.write(text + (prompt ? '\nmaster> ' : '\n')) }
  const run = async (line: string): Promise<void> => {
    const parsed = parseMasterCliLine(line)
    if ('error' in parsed) { write(parsed.error); return }
    if (parsed.command === '') {
      if (parsed.target !== undefined) target = parsed.target
      else if (prompt) write('')
      return
    }
    const to = parsed.target ?? target
    if (to.kind === 'master') {
      const words = parsed.command.split(/\s+/)
      if (parsed.command === 'quit') { socket.end(); return }
      if (parsed.command === 'prompt') { prompt = !prompt; if (prompt) socket.write('master> '); return }
      if (parsed.command === 'help') { write(HELP); return }
      if (words[0] === 'show' && words[1] === 'proc') { write(showProc(supervisor)); return }
      if (parsed.command === 'reload') {
        void supervisor.reload()
        write('')
        return
      }
      write(`Unknown command: '${parsed.command}'\n${HELP}`)
      return
    }
    const answer = await supervisor.workerCommand(parsed.command,
      to.kind === 'pid' ? { pid: to.pid } : { relative: to.relative })
    write(answer ?? "Can't find the target CLI!\n")
  }
  let pending = 0
  socket.on('data', (chunk: string) => {
    buffered += chunk
    let nl: number
    while ((nl = buffered.search(/[\n;]/)) >= 0) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      pending++
      chain = chain.then(async () => { await run(line) }).finally(() => { if (--pending === 0) socket.resume() })
    }
    // Commands queue one read's worth at most: reading stops until they are answered.
    if (pending > 0) socket.pause()
    // A line that does not fit tune.bufsize closes the connection, as on the worker's socket.
    if (buffered.length >= MAX_LINE) socket.destroy()
  })
  socket.on('end', () => {
    const rest = buffered
    buffered = ''
    chain = chain.then(async () => { if (rest.trim() !== '') await run(rest) }).then(() => { socket.end() })
  })
}

function uptime (since: Date): string {
  let s = Math.max(0, Math.floor((Date.now() - since.getTime()) / 1000))
  const d = Math.floor(s / 86400); s %= 86400
  const h = Math.floor(s / 3600); s %= 3600
  const m = Math.floor(s / 60); s %= 60
  return `${d}d${String(h).padStart(2, '0')}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`
}

/** `show proc`, in HAProxy 2.6's layout. */
function showProc (supervisor: Supervisor): string {
  const st = supervisor.localStatus()
  const row = (pid: number | string, type: string, reloads: number,
    up: string): string =>
      `${String(pid).padEnd(16)}${type.padEnd(16)}${String(reloads).padEnd(16)}${up.padEnd(16)}tslb`
  const started = new Date(st.startedAt)
  const lines = ['#<PID>          <type>          <reloads>       <uptime>        <version>', row(st.pid, 'master',
    st.reloads, uptime(started)), '# workers']
  for (const w of st.workers.filter(x => x.state === 'serving')) lines.push(row(w.pid ?? '?', 'worker', 0,
    uptime(started)))
  lines.push('# old workers')
  for (const w of st.workers.filter(x => x.state === 'draining')) lines.push(row(w.pid ?? '?', 'worker', 0,
    uptime(started)))
  return `${lines.join('\n')}\n`
}
