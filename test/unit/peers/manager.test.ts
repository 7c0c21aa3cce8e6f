/**
 * Peers manager and sync engine on the manual clock and the in-memory network: sessions,
 * collisions, heartbeats and dead peers, resume after a reconnection, bounded output toward a slow
 * peer, full resync, no relaying, and the reload hand-off between two worker generations.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MessageDecoder } from '../../../src/peers/decoder.ts'
import type { DecodedMessage } from '../../../src/peers/decoder.ts'
import { PEER_F, PEERS_F } from '../../../src/peers/sync.ts'
import type { PeerState } from '../../../src/peers/sync.ts'
import { handoffSocketPath } from '../../../src/peers/peers-manager.ts'
import type { LocalSyncReport } from '../../../src/peers/peers-manager.ts'
import { ManualClock, MemoryNetwork, MemoryTransport } from './fake.ts'
import { formatWorkerPeers } from '../../../src/supervisor/peers-status.ts'
import { config, node, settle } from './harness.ts'
import type { Node } from './harness.ts'

const TABLE = 'stick-table type ip size 10k expire 1m peers mesh store server_id,conn_cnt,conn_rate(10s),gpc0'

function mesh (names: readonly string[], table = TABLE): string {
  return `peers mesh\n${names.map((n, i) => `    peer ${n} 10.0.0.${i + 1}:10000\n`).join('')}backend web\n    ${table}\n`
}

function peerOf (n: Node, peer: string, section = 'mesh'): PeerState {
  const p = n.manager.section(section)?.peer(peer)
  assert.ok(p !== undefined, `${n.name} has no peer ${peer}`)
  return p
}

function up (a: Node, b: Node): boolean {
  return peerOf(a, b.name).established && peerOf(b, a.name).established
}

function clientEnd (n: Node, peer: string): MemoryTransport {
  const s = peerOf(n, peer).session
  assert.ok(s !== undefined)
  return s.transport as MemoryTransport
}

/** Decodes what one end of a session sent after its handshake line(s). */
function messagesSent (t: MemoryTransport): DecodedMessage[] {
  const bytes = t.sentBytes
  // Skip the handshake: the hello (3 lines) from a connector, the status line from an acceptor.
  let pos = 0
  const lines = bytes.subarray(0, 9).toString('latin1').startsWith('HAProxyS ') ? 3 : 1
  for (let i = 0; i < lines; i++) pos = bytes.indexOf(0x0a, pos) + 1
  return new MessageDecoder().push(bytes.subarray(pos))
}

async function startAll (...nodes: Node[]): Promise<void> {
  for (const n of nodes) await n.manager.start()
  await settle()
}

async function stopAll (...nodes: Node[]): Promise<void> {
  for (const n of nodes) await n.manager.stop()
}

test('two peers: a crossed connection is resolved as HAProxy does, then entries written on one appear on the other', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net)
  const b = node('b', c, clock, net)
  await startAll(a, b)
  assert.ok(clock.until(() => up(a, b), 5000))
  // Both connected at the same instant: each acceptor killed its own outgoing session.
  assert.equal(peerOf(a, 'b').coll + peerOf(b, 'a').coll >= 1, true)
  // One connection in the end, the same on both sides.
  assert.equal(clientEnd(a, 'b').other, clientEnd(b, 'a'))

  const now = clock.now()
  a.table().update('10.1.2.3', e => {
    e.set('server_id', 3)
    e.set('conn_cnt', 42)
    e.add('gpc0', 7)
    e.hit('conn_rate', now, 5)
  }, now)
  clock.advance(50)
  const got = b.table().lookup('10.1.2.3')
  assert.ok(got !== undefined, 'replicated')
  assert.equal(got.get('server_id'), 3)
  assert.equal(got.get('conn_cnt'), 42)
  assert.equal(got.get('gpc0'), 7)
  assert.equal(got.rate('conn_rate', clock.now()), 5)
  assert.equal(got.origin, 'remote')
  // The other way, and last writer wins.
  b.table().update('10.1.2.3', e => { e.set('conn_cnt', 43) }, clock.now())
  clock.advance(50)
  assert.equal(a.table().lookup('10.1.2.3')?.get('conn_cnt'), 43)
  assert.equal(a.manager.status().sections[0]?.peers.find(p => p.name === 'b')?.state, 'established')
  await stopAll(a, b)
})

test('heartbeats every 3 s on an idle session; a silent peer is dropped after 5..10 s and reconnected', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net)
  const b = node('b', c, clock, net)
  await startAll(a, b)
  assert.ok(clock.until(() => up(a, b), 5000))
  const pa = peerOf(a, 'b')
  const conn = pa.session
  const tx0 = pa.txHbt
  clock.advance(10_000)
  assert.equal(pa.session, conn, 'the idle session stays up')
  assert.ok(pa.txHbt - tx0 >= 3, `heartbeats sent: ${pa.txHbt - tx0}`)
  assert.ok(peerOf(b, 'a').rxHbt >= 3)
  assert.equal(pa.noHbt, 0)
  const hb = messagesSent(clientEnd(a, 'b')).filter(m => m.kind === 'control' && m.type === 'heartbeat')
  assert.ok(hb.length >= 3)

  // b goes silent (its process hangs): a drops the session within two 5 s periods.
  clientEnd(b, 'a').paused = true
  const t0 = clock.now()
  assert.ok(clock.until(() => pa.session !== conn, 11_000, 50))
  const after = clock.now() - t0
  assert.ok(after >= 5000 && after <= 10_100, `dropped after ${after} ms`)
  assert.equal(pa.noHbt, 1)
  // b was killed (process hang over): reconnection 50..2050 ms later, to a new b.
  await b.manager.stop()
  const b2 = node('b', c, clock, net)
  await b2.manager.start()
  await settle()
  assert.ok(clock.until(() => up(a, b2), 8000))
  await stopAll(a, b2)
})

test('a connection attempt every 5 s while the peer is down (connect timeout 1 s), new_conn counted', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net)
  await a.manager.start()
  await settle()
  clock.advance(100)
  const pb = peerOf(a, 'b')
  assert.equal(pb.newConn, 1)
  clock.advance(20_000)
  assert.ok(pb.newConn >= 4 && pb.newConn <= 6, `attempts in 20 s: ${pb.newConn}`)
  assert.equal(pb.statuscode, 100)
  await a.manager.stop()
})

test('resume after a reconnection: only what the peer did not acknowledge is pushed again', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net)
  const b = node('b', c, clock, net)
  await startAll(a, b)
  assert.ok(clock.until(() => up(a, b), 5000))
  clock.advance(6000) // both finished learning
  for (let i = 1; i <= 5; i++) a.table().update(`10.0.1.${i}`, e => { e.set('conn_cnt', i) }, clock.now())
  clock.advance(100)
  const st = peerOf(a, 'b').tables[0]
  assert.ok(st !== undefined)
  assert.equal(st.update, 5, 'b acknowledged the five updates')
  // Cut the connection, write three more entries while it is down.
  clientEnd(a, 'b').destroy()
  clock.advance(10)
  assert.equal(peerOf(a, 'b').session?.established ?? false, false)
  for (let i = 6; i <= 8; i++) a.table().update(`10.0.1.${i}`, e => { e.set('conn_cnt', i) }, clock.now())
  assert.ok(clock.until(() => up(a, b), 8000))
  clock.advance(100)
  const t = peerOf(a, 'b').session?.role === 'connect' ? clientEnd(a, 'b') : clientEnd(a, 'b')
  const updates = messagesSent(t).filter(m => m.kind === 'update')
  assert.deepEqual(updates.map(u => u.kind === 'update' ? u.key.type !== 'integer' ? [...u.key.bytes].join('.') : '' : ''), ['10.0.1.6', '10.0.1.7', '10.0.1.8'])
  assert.equal(b.table().size, 8)
  await stopAll(a, b)
})

test('bounded output: toward a peer that does not read, at most the high-water mark is queued; all is sent once it drains', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const hwm = 4096
  const a = node('a', c, clock, net, { highWaterMark: hwm })
  const b = node('b', c, clock, net)
  await startAll(a, b)
  assert.ok(clock.until(() => up(a, b), 5000))
  clock.advance(6000)
  const t = clientEnd(a, 'b')
  t.paused = true
  const n = 5000
  for (let i = 0; i < n; i++) a.table().update((0x0b000000 + i) >>> 0, e => { e.set('conn_cnt', i) }, clock.now())
  let maxQueued = 0
  for (let k = 0; k < 100; k++) {
    clock.advance(10)
    maxQueued = Math.max(maxQueued, t.writableLength)
  }
  assert.ok(maxQueued <= hwm + 256, `queued ${maxQueued} bytes`)
  assert.ok(maxQueued > 0)
  // The peer stays alive meanwhile (its heartbeats and acks still reach us).
  t.resume()
  assert.ok(clock.until(() => b.table().size === n, 5000))
  assert.equal(b.table().lookup(0x0b000000 + n - 1)?.get('conn_cnt'), n - 1)
  await stopAll(a, b)
})

test('updates go out in batches of at most maxUpdatesPerTurn per event-loop turn', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net, { maxUpdatesPerTurn: 50 })
  const b = node('b', c, clock, net)
  await startAll(a, b)
  assert.ok(clock.until(() => up(a, b), 5000))
  clock.advance(6000)
  const t = clientEnd(a, 'b')
  for (let i = 0; i < 500; i++) a.table().update((0x0c000000 + i) >>> 0, e => { e.set('conn_cnt', i) }, clock.now())
  clock.advance(100)
  assert.equal(b.table().size, 500)
  const counts = updatesPerWrite(t).filter(n => n > 0)
  assert.equal(counts.reduce((x, y) => x + y, 0), 500)
  assert.ok(Math.max(...counts) <= 50, `largest batch ${Math.max(...counts)}`)
  assert.ok(counts.length >= 10)
  await stopAll(a, b)
})

/** Updates in each write of a transport (writes are whole messages), after the handshake. */
function updatesPerWrite (t: MemoryTransport): number[] {
  const d = new MessageDecoder()
  const lines = t.sent[0]?.subarray(0, 9).toString('latin1').startsWith('HAProxyS ') === true ? 3 : 1
  let skip = 0
  const all = t.sentBytes
  for (let i = 0; i < lines; i++) skip = all.indexOf(0x0a, skip) + 1
  const out: number[] = []
  for (const w of t.sent) {
    const part = w.subarray(Math.min(skip, w.length))
    skip = Math.max(0, skip - w.length)
    out.push(part.length === 0 ? 0 : d.push(part).filter(m => m.kind === 'update').length)
  }
  return out
}

test('full resync: a peer that starts later requests one and learns every entry with its expiry (timed updates)', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net)
  await a.manager.start()
  await settle()
  clock.advance(6000)
  assert.equal(a.manager.section('mesh')?.sync.resyncState, 'finished')
  for (let i = 0; i < 300; i++) a.table().update((0x0a000000 + i) >>> 0, e => { e.set('server_id', i % 7) }, clock.now())
  clock.advance(20_000) // entries now have ~40 s left
  const b = node('b', c, clock, net)
  const done: string[] = []
  b.manager.on('sync-finished', s => { done.push(s) })
  await b.manager.start()
  await settle()
  assert.ok(clock.until(() => done.length > 0, 8000))
  const sec = b.manager.section('mesh')
  assert.ok(sec !== undefined)
  assert.ok((sec.sync.flags & PEERS_F.RESYNC_REMOTEFINISHED) !== 0, `flags 0x${sec.sync.flags.toString(16)}`)
  assert.equal(b.table().size, 300)
  const e = b.table().lookup(0x0a000005)
  assert.ok(e !== undefined)
  assert.equal(e.get('server_id'), 5)
  const left = e.expiresIn(clock.now())
  assert.ok(left > 35_000 && left <= 40_100, `expires in ${left}`)
  // What a sent: DEFINE, timed updates, RESYNC_FINISHED.
  const sent = messagesSent(peerOf(a, 'b').session?.transport as MemoryTransport)
  assert.ok(sent.some(m => m.kind === 'update' && m.expireMs !== undefined))
  assert.ok(sent.some(m => m.kind === 'control' && m.type === 'resync-finished'))
  // b confirmed: a resumed incremental pushing after the teach.
  assert.equal(peerOf(a, 'b').flags & (PEER_F.TEACH_PROCESS | PEER_F.TEACH_FINISHED), 0)
  await stopAll(a, b)
})

test('a node whose own learning is not finished answers RESYNC_PARTIAL; the learner tries another peer', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b', 'c']))
  const a = node('a', c, clock, net)
  await a.manager.start()
  await settle()
  clock.advance(6000) // a finished
  a.table().update('10.9.9.9', e => { e.set('conn_cnt', 9) }, clock.now())
  // b and c start together: each may ask the other first (partial), then a (finished).
  const b = node('b', c, clock, net)
  const cc = node('c', c, clock, net)
  await startAll(b, cc)
  assert.ok(clock.until(() => b.manager.section('mesh')?.sync.resyncState === 'finished' && cc.manager.section('mesh')?.sync.resyncState === 'finished', 20_000))
  assert.equal(b.table().lookup('10.9.9.9')?.get('conn_cnt'), 9)
  assert.equal(cc.table().lookup('10.9.9.9')?.get('conn_cnt'), 9)
  await stopAll(a, b, cc)
})

test('no relaying: an entry learned from a peer is not pushed to the others (full mesh required)', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  // a and c do not know each other; b knows both.
  const ca = config(mesh(['a', 'b']))
  const cb = config(mesh(['a', 'b', 'c']))
  const cc = config(`peers mesh\n    peer b 10.0.0.2:10000\n    peer c 10.0.0.3:10000\nbackend web\n    ${TABLE}\n`)
  const a = node('a', ca, clock, net)
  const b = node('b', cb, clock, net)
  const c = node('c', cc, clock, net)
  await startAll(a, b, c)
  assert.ok(clock.until(() => up(a, b) && up(b, c), 8000))
  clock.advance(6000)
  a.table().update('10.7.7.7', e => { e.set('conn_cnt', 1) }, clock.now())
  b.table().update('10.8.8.8', e => { e.set('conn_cnt', 2) }, clock.now())
  clock.advance(200)
  assert.equal(b.table().lookup('10.7.7.7')?.get('conn_cnt'), 1)
  assert.equal(c.table().lookup('10.8.8.8')?.get('conn_cnt'), 2)
  assert.equal(c.table().lookup('10.7.7.7'), undefined, 'b did not relay what it learned from a')
  await stopAll(a, b, c)
})

test('reload hand-off: the new generation learns everything from the old one over its unix socket, then takes over', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const path = (gen: number) => (s: string) => handoffSocketPath('/run/tslb', gen, s)
  const g1 = node('a', c, clock, net, { handoffPath: path(1) })
  const b = node('b', c, clock, net)
  await startAll(g1, b)
  assert.ok(clock.until(() => up(g1, b), 5000))
  clock.advance(6000)
  for (let i = 0; i < 50; i++) g1.table().update((0x0a010000 + i) >>> 0, e => { e.set('conn_cnt', i) }, clock.now())
  for (let i = 0; i < 20; i++) b.table().update((0x0a020000 + i) >>> 0, e => { e.set('conn_cnt', 1000 + i) }, clock.now())
  clock.advance(200)
  assert.equal(g1.table().size, 70)

  // Generation 2: same listening address (the supervisor's shared socket), learns from g1 first.
  const g2 = node('a', c, clock, net, { handoffPath: path(2) })
  const reports: (readonly LocalSyncReport[])[] = []
  g2.manager.on('local-sync-done', r => { reports.push(r) })
  await g2.manager.start({ learnFrom: path(1) })
  await settle()
  assert.ok(clock.until(() => reports.length === 1, 5000))
  assert.deepEqual(reports[0], [{ section: 'mesh', result: 'finished' }])
  assert.equal(g2.table().size, 70, 'every entry, local and learned from b')
  assert.equal(g2.table().lookup(0x0a020005)?.get('conn_cnt'), 1005)
  assert.equal(g2.manager.section('mesh')?.sync.resyncState, 'finished')
  assert.ok((g2.manager.section('mesh')?.sync.flags ?? 0) & PEERS_F.RESYNC_LOCALFINISHED)
  assert.deepEqual(await g2.manager.localSyncDone, [{ section: 'mesh', result: 'finished' }])

  // The worker reports ready, the supervisor drains g1: it retires its peers.
  await g1.manager.retire()
  assert.ok(clock.until(() => peerOf(g2, 'b').established && peerOf(b, 'a').established, 8000))
  // g1, still draining, writes: g2 gets it over the hand-off session.
  g1.table().update('10.3.3.3', e => { e.set('conn_cnt', 33) }, clock.now())
  b.table().update('10.4.4.4', e => { e.set('conn_cnt', 44) }, clock.now())
  clock.advance(200)
  assert.equal(g2.table().lookup('10.3.3.3')?.get('conn_cnt'), 33)
  assert.equal(g2.table().lookup('10.4.4.4')?.get('conn_cnt'), 44)
  // g2's own writes reach b.
  g2.table().update('10.5.5.5', e => { e.set('conn_cnt', 55) }, clock.now())
  clock.advance(200)
  assert.equal(b.table().lookup('10.5.5.5')?.get('conn_cnt'), 55)
  await stopAll(g1, g2, b)
})

test('back-to-back reloads: generation 3 learns from generation 2 while generation 1 still drains and teaches 2', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const path = (gen: number) => (s: string) => handoffSocketPath('/run/tslb', gen, s)
  const g1 = node('a', c, clock, net, { handoffPath: path(1) })
  await g1.manager.start()
  await settle()
  clock.advance(6000)
  for (let i = 0; i < 10; i++) g1.table().update((0x0a030000 + i) >>> 0, e => { e.set('conn_cnt', i) }, clock.now())
  const g2 = node('a', c, clock, net, { handoffPath: path(2) })
  await g2.manager.start({ learnFrom: path(1) })
  await settle()
  assert.deepEqual(await (async () => { clock.advance(100); return await g2.manager.localSyncDone })(), [{ section: 'mesh', result: 'finished' }])
  await g1.manager.retire() // g1 drains for minutes: its session to g2 stays
  g1.table().update('10.3.3.1', e => { e.set('conn_cnt', 31) }, clock.now())
  clock.advance(100)
  assert.equal(g2.table().lookup('10.3.3.1')?.get('conn_cnt'), 31)
  const g3 = node('a', c, clock, net, { handoffPath: path(3) })
  await g3.manager.start({ learnFrom: path(2) })
  await settle()
  clock.advance(100)
  assert.deepEqual(await g3.manager.localSyncDone, [{ section: 'mesh', result: 'finished' }])
  assert.equal(g3.table().size, 11)
  const st = g2.manager.status().sections[0]?.peers.map(p => [p.name, p.state])
  assert.deepEqual(st, [['a', 'established'], ['b', 'idle'], ['a (previous generation)', 'established']])
  await stopAll(g1, g2, g3)
})

test('reload hand-off: no previous generation listening → "unavailable" at once; a first start → "none"', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net)
  await a.manager.start({ learnFrom: () => '/run/tslb/peers.g9.mesh.sock' })
  await settle()
  clock.advance(50)
  assert.deepEqual(await a.manager.localSyncDone, [{ section: 'mesh', result: 'unavailable' }])
  const b = node('b', c, clock, net)
  await b.manager.start()
  await settle()
  clock.advance(10)
  assert.deepEqual(await b.manager.localSyncDone, [{ section: 'mesh', result: 'none' }])
  await stopAll(a, b)
})

test('reload hand-off from a generation that has not finished learning: RESYNC_PARTIAL, then the remotes are asked', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const path = (gen: number) => (s: string) => handoffSocketPath('/run/tslb', gen, s)
  // g1 starts alone: no remote peer answers, it stays "from remote" for 5 s.
  const g1 = node('a', c, clock, net, { handoffPath: path(1) })
  await g1.manager.start()
  await settle()
  g1.table().update('10.1.1.1', e => { e.set('conn_cnt', 11) }, clock.now())
  clock.advance(1000)
  const g2 = node('a', c, clock, net, { handoffPath: path(2) })
  await g2.manager.start({ learnFrom: path(1) })
  await settle()
  assert.ok(clock.until(() => g2.manager.section('mesh')?.localResult !== undefined, 5000))
  assert.equal(g2.manager.section('mesh')?.localResult, 'partial')
  assert.ok((g2.manager.section('mesh')?.sync.flags ?? 0) & PEERS_F.RESYNC_LOCALPARTIAL)
  assert.equal(g2.table().lookup('10.1.1.1')?.get('conn_cnt'), 11, 'what g1 had was taught anyway')
  assert.equal(g2.manager.section('mesh')?.sync.resyncState, 'from-remote')
  await g1.manager.retire()
  // b comes up with data of its own and a finished state: g2 asks it.
  const b = node('b', c, clock, net)
  await b.manager.start()
  await settle()
  b.table().update('10.6.6.6', e => { e.set('conn_cnt', 66) }, clock.now())
  assert.ok(clock.until(() => g2.table().lookup('10.6.6.6') !== undefined, 15_000))
  assert.ok(clock.until(() => g2.manager.section('mesh')?.sync.resyncState === 'finished', 15_000))
  await stopAll(g1, g2, b)
})

test('retire: the old generation closes its remote sessions and accepts no new remote connection', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net)
  const b = node('b', c, clock, net)
  await startAll(a, b)
  assert.ok(clock.until(() => up(a, b), 5000))
  await a.manager.retire()
  clock.advance(10)
  assert.equal(peerOf(a, 'b').session, undefined)
  clock.advance(20_000)
  assert.equal(peerOf(a, 'b').session, undefined, 'no reconnection')
  assert.equal(peerOf(b, 'a').established, false)
  await stopAll(a, b)
})

test('tables are matched by name, key type and key length; others are ignored with their updates', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const ca = config(`peers mesh\n    peer a 10.0.0.1:10000\n    peer b 10.0.0.2:10000\nbackend web\n    ${TABLE}\nbackend other\n    stick-table type string len 16 size 1k peers mesh store gpc0\nbackend onlya\n    stick-table type ip size 1k peers mesh store gpc0\n`)
  const cb = config(`peers mesh\n    peer a 10.0.0.1:10000\n    peer b 10.0.0.2:10000\nbackend web\n    ${TABLE}\nbackend other\n    stick-table type string len 32 size 1k peers mesh store gpc0\n`)
  const a = node('a', ca, clock, net)
  const b = node('b', cb, clock, net)
  await startAll(a, b)
  assert.ok(clock.until(() => up(a, b), 5000))
  clock.advance(6000)
  a.table('web').update('10.1.1.1', e => { e.set('gpc0', 1) }, clock.now())
  a.table('other').update('k', e => { e.set('gpc0', 2) }, clock.now())
  a.table('onlya').update('10.2.2.2', e => { e.set('gpc0', 3) }, clock.now())
  clock.advance(200)
  assert.equal(b.table('web').lookup('10.1.1.1')?.get('gpc0'), 1)
  assert.equal(b.table('other').size, 0, 'string len 16 (key_len 17) vs len 32 (key_len 33): ignored')
  assert.ok(peerOf(b, 'a').established, 'the session survives ignored tables')
  await stopAll(a, b)
})

test('show peers and status reflect sessions and counters', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net)
  const b = node('b', c, clock, net)
  await startAll(a, b)
  assert.ok(clock.until(() => up(a, b), 5000))
  const st = a.manager.status()
  assert.equal(st.localPeer, 'a')
  const peer = st.sections[0]?.peers.find(p => p.name === 'b')
  assert.equal(peer?.state, 'established')
  assert.equal(peer?.lastStatus, 200)
  assert.ok(a.log.some(l => l.msg === 'peer session established'))
  await stopAll(a, b)
})

test('a write is pushed in the same turn of the event loop (no polling); a burst runs the writer once', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net)
  const b = node('b', c, clock, net)
  await startAll(a, b)
  assert.ok(clock.until(() => up(a, b), 5000))
  clock.advance(6000)
  const sa = a.manager.section('mesh')
  assert.ok(sa !== undefined)
  // Idle: the task runs for its timers only (heartbeats every 3 s), not every few ms.
  const idle = sa.taskCalls
  clock.advance(2000)
  assert.ok(sa.taskCalls - idle <= 2, `${sa.taskCalls - idle} task runs in 2 s of idle`)

  const t = clientEnd(a, 'b')
  const before = updatesPerWrite(t).filter(n => n > 0).length
  const t0 = clock.now()
  for (let i = 0; i < 100; i++) a.table().update((0x0d000000 + i) >>> 0, e => { e.set('conn_cnt', i) }, t0)
  clock.flush()
  assert.equal(clock.now(), t0)
  assert.equal(b.table().size, 100)
  assert.equal(updatesPerWrite(t).filter(n => n > 0).length - before, 1, 'the burst went out in one write')
  // And again after that: the watch was re-armed.
  a.table().update(0x0e000001, e => { e.set('conn_cnt', 1) }, t0)
  clock.flush()
  assert.equal(b.table().lookup(0x0e000001)?.get('conn_cnt'), 1)
  await stopAll(a, b)
})

test('status counters: updates, acks, resyncs, sessions, last error; the text tslb status prints from them', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net)
  await a.manager.start()
  await settle()
  clock.advance(6000)
  for (let i = 0; i < 30; i++) a.table().update((0x0a000000 + i) >>> 0, e => { e.set('server_id', 1) }, clock.now())
  const b = node('b', c, clock, net)
  await b.manager.start()
  await settle()
  assert.ok(clock.until(() => b.table().size === 30 && b.manager.section('mesh')?.sync.resyncState === 'finished', 8000))
  b.table().update(0x0b000001, e => { e.set('server_id', 2) }, clock.now())
  clock.advance(100)
  const peerB = (): NonNullable<ReturnType<typeof a.manager.status>['sections'][0]>['peers'][number] | undefined =>
    a.manager.status().sections[0]?.peers.find(p => p.name === 'b')
  const sb = peerB()
  assert.ok(sb !== undefined)
  assert.equal(sb.state, 'established')
  assert.equal(sb.counters.resyncsTaught, 1)
  assert.ok(sb.counters.updatesSent >= 30, 'pushed, then taught (duplicates allowed, as HAProxy)')
  assert.equal(sb.counters.updatesReceived, 1)
  assert.ok(sb.counters.acksSent >= 1, 'a acknowledged b\'s update')
  assert.equal(sb.counters.sessions, 1)
  const sa = b.manager.status().sections[0]?.peers.find(p => p.name === 'a')
  assert.equal(sa?.counters.resyncsRequested, 1)
  assert.equal(sa?.counters.resyncsLearned, 1)
  assert.ok((sa?.counters.acksReceived ?? 0) >= 1)
  assert.equal(sb.lastError?.reason, 'connect-failed', 'b was not there yet at first')

  await b.manager.stop()
  clock.advance(100)
  const gone = peerB()
  assert.equal(gone?.lastError?.reason, 'remote')
  const text = formatWorkerPeers({ peers: a.manager.status() }).join('\n')
  assert.match(text, /^ {2}peers mesh \(local peer a\): learning finished, listening 10\.0\.0\.1:10000; tables: web 31 entries$/m)
  assert.match(text, /^ {4}b 10\.0\.0\.2:10000: (idle|connecting).*, last status /m)
  assert.match(text, /updates sent \d+ received 1, acks sent \d+ received \d+, resyncs requested 0 taught 1 learned 0, connects \d+ sessions 1/)
  assert.match(text, /last error: remote: /)
  assert.deepEqual(formatWorkerPeers({ peersError: 'the worker did not answer' }), ['  peers: not available (the worker did not answer)'])
  assert.deepEqual(formatWorkerPeers({ peers: null }), [])
  await a.manager.stop()
})

test('resume after a reconnection that follows a full resync: nothing the learner acknowledged is pushed again', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(mesh(['a', 'b']))
  const a = node('a', c, clock, net)
  await a.manager.start()
  await settle()
  clock.advance(6000)
  for (let i = 1; i <= 5; i++) a.table().update(`10.0.1.${i}`, e => { e.set('conn_cnt', i) }, clock.now())
  // b starts later: a teaches it the five entries, b confirms.
  const b = node('b', c, clock, net)
  await b.manager.start()
  await settle()
  assert.ok(clock.until(() => up(a, b), 8000))
  clock.advance(6000)
  for (let i = 6; i <= 10; i++) a.table().update(`10.0.1.${i}`, e => { e.set('conn_cnt', i) }, clock.now())
  clock.advance(100)
  const st = peerOf(a, 'b').tables[0]
  assert.ok(st !== undefined)
  assert.equal(st.update, a.table().localUpdate, 'b acknowledged everything')
  clientEnd(a, 'b').destroy()
  clock.advance(10)
  assert.ok(clock.until(() => up(a, b), 8000))
  clock.advance(100)
  assert.deepEqual(messagesSent(clientEnd(a, 'b')).filter(m => m.kind === 'update'), [])
  assert.equal(b.table().size, 10)
  await stopAll(a, b)
})
