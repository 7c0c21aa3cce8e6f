/**
 * Peers sync over real sockets on 127.0.0.1: three nodes in a full mesh replicate each other's
 * entries; a node that dies and comes back relearns the whole table; a reload hands the table
 * from one worker generation to the next over a unix socket while both share the TCP port.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/index.ts'
import type { Config } from '../../src/config/model.ts'
import { handoffSocketPath, PeersManager } from '../../src/peers/peers-manager.ts'
import type { PeersManagerOptions } from '../../src/peers/peers-manager.ts'
import { formatShowPeers } from '../../src/peers/show-peers.ts'
import { StickTable } from '../../src/stick/index.ts'
import { freePorts } from '../helpers/ports.ts'

function meshConfig (names: readonly string[], ports: readonly number[]): Config {
  const text = `peers mesh
${names.map((n, i) => `    peer ${n} 127.0.0.1:${ports[i] ?? 0}`).join('\n')}
backend web
    stick-table type ip size 100k expire 5m peers mesh store server_id,conn_cnt,conn_rate(10s),bytes_in_cnt
backend names
    stick-table type string len 40 size 10k expire 5m peers mesh store gpc0,http_req_rate(10s)
`
  const { config, diagnostics } = parseConfig(text, 'peers.cfg')
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  return config
}

interface Running {
  readonly name: string
  readonly manager: PeersManager
  readonly web: StickTable
  readonly names: StickTable
}

function build (name: string, config: Config, extra: Partial<PeersManagerOptions> = {}): Running {
  const now = Date.now()
  const web = new StickTable('web', config.proxies[0]?.stickTable ?? assert.fail(), { now })
  const names = new StickTable('names', config.proxies[1]?.stickTable ?? assert.fail(), { now })
  const log = process.env.PEERS_TEST_LOG === undefined
    ? undefined
    : { info: (o: object, m: string) => { console.log(name, m, JSON.stringify(o)) }, warn: (o: object, m: string) => { console.log(name, 'WARN', m, JSON.stringify(o)) }, debug: () => {} }
  const manager = new PeersManager({ config, localName: name, tables: [web, names], ...(log === undefined ? {} : { log }), ...extra })
  return { name, manager, web, names }
}

async function waitFor (what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

function established (r: Running, peer: string): boolean {
  return r.manager.section('mesh')?.peer(peer)?.established === true
}

function write (r: Running, key: string, n: number): void {
  const now = Date.now()
  r.web.update(key, e => {
    e.set('server_id', n % 5)
    e.set('conn_cnt', n)
    e.set('bytes_in_cnt', n * 1_000_000_007)
    e.hit('conn_rate', now, n % 13)
  }, now)
  r.names.update(`user-${key}`, e => { e.set('gpc0', n) }, now)
}

function check (r: Running, key: string, n: number): boolean {
  const e = r.web.lookup(key)
  const s = r.names.lookup(`user-${key}`)
  return e !== undefined && s !== undefined && e.get('server_id') === n % 5 && e.get('conn_cnt') === n &&
    e.get('bytes_in_cnt') === n * 1_000_000_007 && e.rate('conn_rate', Date.now()) === n % 13 && s.get('gpc0') === n
}

test('three nodes in a full mesh: entries written anywhere appear everywhere; a restarted node relearns the whole table', { timeout: 60_000 }, async () => {
  const names = ['lb1', 'lb2', 'lb3']
  const ports = await freePorts(3)
  const config = meshConfig(names, ports)
  let nodes = names.map(n => build(n, config))
  const all = [...nodes]
  try {
    // Staggered starts, as nodes rarely boot in the same millisecond (crossed connections back off 50..2050 ms).
    for (const r of nodes) {
      await r.manager.start()
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    await waitFor('full mesh', () => nodes.every(a => nodes.every(b => a === b || established(a, b.name))))

    let n = 0
    const written: [string, number][] = []
    for (const r of nodes) {
      for (let i = 0; i < 200; i++) {
        const key = `10.${nodes.indexOf(r) + 1}.${i >> 8}.${i & 255}`
        write(r, key, ++n)
        written.push([key, n])
      }
    }
    await waitFor('replication', () => nodes.every(r => written.every(([k, v]) => check(r, k, v))))
    for (const r of nodes) assert.equal(r.web.size, 600)

    // Every node is done learning (nobody had a table: 5 s resync timeout).
    await waitFor('learning finished', () => nodes.every(r => r.manager.section('mesh')?.sync.resyncState === 'finished'))
    // lb2 dies; the others keep writing; lb2 comes back empty and learns everything.
    const lb2 = nodes[1] as Running
    await lb2.manager.stop()
    for (const r of [nodes[0], nodes[2]] as Running[]) {
      for (let i = 0; i < 100; i++) {
        const key = `10.${9 + nodes.indexOf(r)}.0.${i}`
        write(r, key, ++n)
        written.push([key, n])
      }
    }
    const reborn = build('lb2', config)
    all.push(reborn)
    nodes = [nodes[0] as Running, reborn, nodes[2] as Running]
    await reborn.manager.start()
    await waitFor('relearned', () => reborn.web.size === 800 && written.every(([k, v]) => check(reborn, k, v)), 20_000)
    // Its teachers had finished learning long ago: the lesson is complete.
    await waitFor('learning finished', () => reborn.manager.section('mesh')?.sync.resyncState === 'finished')
    // And it takes part again: its writes reach the others.
    write(reborn, '10.200.0.1', 4242)
    await waitFor('reborn node pushes', () => check(nodes[0] as Running, '10.200.0.1', 4242) && check(nodes[2] as Running, '10.200.0.1', 4242))
    const show = formatShowPeers(nodes[0]?.manager as PeersManager, 'mesh', false) ?? ''
    assert.match(show, /id=lb2\(remote,active\) addr=127\.0\.0\.1:\d+ last_status=ESTA/)
  } finally {
    for (const r of all) await r.manager.stop()
  }
})

test('reload: generation 2 learns the table from generation 1 over a unix socket on the shared port, then takes over', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-peers-'))
  try {
    const ports = await freePorts(2)
    const config = meshConfig(['lb1', 'lb2'], ports)
    const path = (gen: number) => (s: string) => handoffSocketPath(dir, gen, s)
    const g1 = build('lb1', config, { handoffPath: path(1) })
    const lb2 = build('lb2', config)
    // Generation 2 binds the same TCP port (SO_REUSEPORT here; the supervisor's shared socket in production).
    const g2 = build('lb1', config, { handoffPath: path(2) })
    try {
      await g1.manager.start()
      await new Promise(resolve => setTimeout(resolve, 100))
      await lb2.manager.start()
      await waitFor('lb1-lb2 up', () => established(g1, 'lb2') && established(lb2, 'lb1'))
      for (let i = 0; i < 3000; i++) write(g1, `10.1.${i >> 8}.${i & 255}`, i + 1)
      for (let i = 0; i < 500; i++) write(lb2, `10.2.${i >> 8}.${i & 255}`, 10_000 + i)
      await waitFor('g1 has all', () => g1.web.size === 3500 && lb2.web.size === 3500)
      // A reload some time after start: generation 1 finished learning (the old process only
      // answers RESYNC_FINISHED then; before, the new one gets RESYNC_PARTIAL and asks lb2 too).
      await waitFor('g1 finished learning', () => g1.manager.section('mesh')?.sync.resyncState === 'finished')

      const t0 = Date.now()
      await g2.manager.start({ learnFrom: path(1) })
      const reports = await g2.manager.localSyncDone
      const took = Date.now() - t0
      assert.deepEqual(reports, [{ section: 'mesh', result: 'finished' }])
      assert.equal(g2.web.size, 3500)
      assert.equal(g2.names.size, 3500)
      assert.ok(check(g2, '10.1.11.183', 3000) && check(g2, '10.2.1.243', 10_499))
      assert.ok(took < 5000, `local sync took ${took} ms`)

      await g1.manager.retire()
      await waitFor('lb2 talks to generation 2', () => established(g2, 'lb2') && established(lb2, 'lb1'))
      write(lb2, '10.3.0.1', 777)
      write(g2, '10.3.0.2', 778)
      write(g1, '10.3.0.3', 779) // g1 still draining: reaches g2 through the hand-off session
      await waitFor('post-reload sync', () => check(g2, '10.3.0.1', 777) && check(lb2, '10.3.0.2', 778) && check(g2, '10.3.0.3', 779))
    } finally {
      await g1.manager.stop()
      await g2.manager.stop()
      await lb2.manager.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
