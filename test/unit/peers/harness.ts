/** Builds peers managers over the fake clock and network from configuration text. */
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/index.ts'
import type { Config } from '../../../src/config/model.ts'
import { PeersManager } from '../../../src/peers/peers-manager.ts'
import type { PeersLog, PeersManagerOptions } from '../../../src/peers/peers-manager.ts'
import { StickTable } from '../../../src/stick/index.ts'
import type { ManualClock, MemoryNetwork } from './fake.ts'

export function config (text: string): Config {
  const { config, diagnostics } = parseConfig(text, 'test.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  return config
}

/** The worker's tables, as the engine names them: backend name, `PEERS/X` for peers-section tables. */
export function tablesOf (c: Config, now: number): Map<string, StickTable> {
  const m = new Map<string, StickTable>()
  for (const p of c.proxies) if (p.stickTable !== undefined) m.set(p.name, new StickTable(p.name, p.stickTable, { now }))
  for (const ps of c.peers) {
    for (const t of ps.tables) m.set(`${ps.name}/${t.name}`, new StickTable(`${ps.name}/${t.name}`, t, { now }))
  }
  return m
}

export interface LogLine { level: string, msg: string, obj: object }

export function memoryLog (lines: LogLine[], verbose = process.env.PEERS_TEST_LOG !== undefined): PeersLog {
  const add = (level: string) => (obj: object, msg: string): void => {
    lines.push({ level, msg, obj })
    if (verbose) console.log(level, msg, JSON.stringify(obj))
  }
  return { info: add('info'), warn: add('warn'), debug: add('debug') }
}

export interface Node {
  readonly name: string
  readonly manager: PeersManager
  readonly tables: Map<string, StickTable>
  readonly log: LogLine[]
  table (name?: string): StickTable
}

export function node (name: string, c: Config, clock: ManualClock, net: MemoryNetwork, extra: Partial<PeersManagerOptions> = {}): Node {
  const tables = tablesOf(c, clock.now())
  const log: LogLine[] = []
  // Connections leave from the node's own peer address, as on a real network.
  const own = c.peers.flatMap(s => s.peers).find(p => p.name === name)?.address?.host
  const network = own === undefined || own === '' ? net : net.from(own)
  const manager = new PeersManager({ config: c, localName: name, tables: tables.values(), clock, network, log: memoryLog(log), pid: 4242, ...extra })
  return {
    name,
    manager,
    tables,
    log,
    table: (n?: string) => {
      const t = n === undefined ? [...tables.values()][0] : tables.get(n)
      assert.ok(t !== undefined, `no table ${n ?? ''}`)
      return t
    }
  }
}

/** Settles pending promise callbacks (listen() resolves through microtasks). */
export async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}
