/**
 * Shared set-up for the statistics tests: the configuration HAProxy 2.6 ran when the reference
 * outputs in fixtures/haproxy-2.6/ were captured (fixtures/haproxy-2.6/haproxy.cfg), loaded into
 * a tslb engine with the same server states, and a unix-socket client that behaves like
 * `echo CMD | socat stdio unix:PATH`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../../../src/config/parser.ts'
import type { Config } from '../../../../src/config/model.ts'
import { Engine } from '../../../../src/proxy/engine.ts'
import type { CheckReport, CliLevel, StatsProviders, TableAction, TablesProvider } from '../../../../src/proxy/stats/providers.ts'

export const FIXTURES = new URL('./fixtures/haproxy-2.6/', import.meta.url)

export function fixture (name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8')
}

export interface Lab {
  readonly config: Config
  readonly engine: Engine
  readonly providers: StatsProviders
}

/** HAProxy's check results at capture time: up1 L7OK/200, down1 L4CON (DOWN), t1 L4OK. */
const CHECKS: Record<string, CheckReport> = {
  'be_check/up1': { status: 'L7OK', code: 200, durationMs: 7, health: 4, rise: 2, fall: 3, failedChecks: 0, downTransitions: 0 },
  'be_check/down1': { status: 'L4CON', durationMs: 0, desc: 'Connection refused', health: 0, rise: 2, fall: 3, failedChecks: 1, downTransitions: 1 },
  'be_tcp/t1': { status: 'L4OK', durationMs: 0, health: 4, rise: 2, fall: 3, failedChecks: 0, downTransitions: 0 }
}

export type TableCall = readonly [TableAction, readonly string[], CliLevel]

/** A stick-table provider that records its calls and answers for the fixture's two tables. */
export function fakeTables (): TablesProvider & { readonly calls: TableCall[] } {
  const calls: TableCall[] = []
  const headers: Record<string, string> = {
    be_stick: '# table: be_stick, type: ip, size:1048576, used:0\n',
    'mypeers/tbl': '# table: mypeers/tbl, type: ip, size:100, used:0\n'
  }
  return {
    calls,
    run (action, args, level) {
      calls.push([action, [...args], level])
      const name = args[0]
      if (name === undefined) return action === 'show' ? Object.values(headers).join('') : 'usage\n'
      const header = headers[name]
      if (header === undefined) return 'No such table\n'
      return action === 'show' ? header : ''
    },
    summary: () => [{ name: 'be_stick', type: 'ip', size: 1048576, used: 0 }, { name: 'mypeers/tbl', type: 'ip', size: 100, used: 0 }]
  }
}

/** The fixture configuration in a tslb engine, with down1 DOWN as in HAProxy at capture time. */
export function fixtureLab (extra: Partial<StatsProviders> = {}): Lab {
  const { config, diagnostics } = parseConfig(fixture('haproxy.cfg'), 'haproxy.cfg')
  const errors = diagnostics.filter(d => d.severity === 'error')
  if (errors.length > 0) throw new Error(JSON.stringify(errors))
  const engine = new Engine(config, { logFor: () => () => {} })
  const check = engine.backends.get('be_check')
  const down = check?.serverByName('down1')
  if (check === undefined || down === undefined) throw new Error('fixture config changed')
  down.healthy = false
  check.refresh()
  const providers: StatsProviders = {
    config,
    checkStatus: (be, s) => CHECKS[`${be.name}/${s.name}`],
    tables: fakeTables(),
    ...extra
  }
  return { config, engine, providers }
}

export function tempDir (): { dir: string, cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-stats-'))
  return { dir, cleanup: () => { rmSync(dir, { recursive: true, force: true }) } }
}

export type Step = string | Buffer | { readonly wait: number }

/**
 * Connects to the unix socket, sends the steps (text, bytes, pauses), half-closes when `end` is
 * set (what socat does at the end of its input), and resolves with everything received once the
 * server closes its side. Rejects after `timeoutMs`.
 */
export async function talk (path: string, steps: readonly Step[], opts: { end?: boolean, timeoutMs?: number } = {}): Promise<string> {
  const { end = true, timeoutMs = 5000 } = opts
  return await new Promise<string>((resolve, reject) => {
    const sock = connect({ path, allowHalfOpen: true })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`no close after ${timeoutMs} ms; got ${JSON.stringify(Buffer.concat(chunks).toString())}`))
    }, timeoutMs)
    sock.on('data', (b: Buffer) => { chunks.push(b) })
    sock.on('error', () => {})
    // The server closing its side ends the conversation (socat exits on EOF from the socket).
    sock.on('end', () => { sock.destroy() })
    sock.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('utf8'))
    })
    sock.on('connect', () => {
      void (async () => {
        for (const step of steps) {
          if (typeof step === 'object' && !Buffer.isBuffer(step)) await new Promise(r => setTimeout(r, step.wait))
          else if (!sock.destroyed) sock.write(step)
        }
        if (end && !sock.destroyed) sock.end()
      })()
    })
  })
}

/** `echo CMD | socat stdio unix:PATH`. */
export async function cli (path: string, command: string): Promise<string> {
  return await talk(path, [command + '\n'])
}

/** CSV rows of a `show stat` answer, keyed "pxname/svname". */
export function csvRows (text: string): Map<string, string[]> {
  const rows = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const cols = line.split(',')
    rows.set(`${cols[0] ?? ''}/${cols[1] ?? ''}`, cols)
  }
  return rows
}

export function csvHeader (text: string): string[] {
  const first = text.split('\n')[0] ?? ''
  return first.slice(2).split(',')
}
