/**
 * The session state machine against raw bytes: the handshake statuses HAProxy answers (200, 300,
 * 501..504), handshake timeouts, protocol errors (`01 00`, `01 01`), skipped messages, tables
 * ignored, teach on request, downgrade to 2.0, and garbage that must never harm the process.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MessageDecoder } from '../../../src/peers/decoder.ts'
import type { DecodedMessage } from '../../../src/peers/decoder.ts'
import { buildTableDefinition, encodeMessage } from '../../../src/peers/messages.ts'
import { PEERS_KEY_TYPE } from '../../../src/peers/data-types.ts'
import type { PeersManagerOptions } from '../../../src/peers/peers-manager.ts'
import type { PeerState } from '../../../src/peers/sync.ts'
import type { PeerTransport } from '../../../src/peers/transport.ts'
import { ManualClock, MemoryNetwork, MemoryTransport } from './fake.ts'
import { config, node, settle } from './harness.ts'
import type { Node } from './harness.ts'
import { h, rng } from './helpers.ts'

const CFG = `peers mesh
    peer a 10.0.0.1:10000
    peer b 10.0.0.2:10000
backend web
    stick-table type ip size 1k expire 1m peers mesh store server_id,conn_cnt
`
const A_ADDR = { host: '10.0.0.1', port: 10000 }
/** Where b's sessions come from (its peer line). */
const B_HOST = '10.0.0.2'

const HANDOFF = '/run/tslb/peers.g1.mesh.sock'

async function setup (extra: Partial<PeersManagerOptions> = {}, cfg = CFG): Promise<{ clock: ManualClock, net: MemoryNetwork, a: Node }> {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const a = node('a', config(cfg), clock, net, extra)
  await a.manager.start()
  await settle()
  // Keep a's outgoing attempts to b from mattering: nothing listens there.
  clock.advance(10)
  return { clock, net, a }
}

function peerB (a: Node): PeerState {
  const p = a.manager.section('mesh')?.peer('b')
  assert.ok(p !== undefined)
  return p
}

function answer (t: MemoryTransport): string {
  return t.receivedBytes.toString('latin1')
}

/** Messages received after the status line. */
function messages (t: MemoryTransport): DecodedMessage[] {
  const b = t.receivedBytes
  return new MessageDecoder().push(b.subarray(b.indexOf(0x0a) + 1))
}

async function handshaken (): Promise<{ clock: ManualClock, net: MemoryNetwork, a: Node, t: MemoryTransport }> {
  const env = await setup()
  const t = env.net.dial(A_ADDR, B_HOST)
  env.clock.flush()
  t.write(Buffer.from('HAProxyS 2.1\na\nb 999 1\n'))
  env.clock.advance(1)
  // 200, then a's RESYNC_REQ (it is learning from remotes and b is the first peer up).
  assert.equal(answer(t), '200\n\x00\x00')
  assert.ok(peerB(env.a).established)
  return { ...env, t }
}

const WEB = buildTableDefinition({ tableId: 7, name: 'web', keyType: PEERS_KEY_TYPE.ip, keyLen: 4, expireMs: 60000, store: [{ name: 'server_id' }, { name: 'conn_cnt' }] })

test('hello checks answer as HAProxy 2.6: 200, 502, 503, 504, 501, silence for an overlong line', async () => {
  const { clock, net, a } = await setup()
  const cases: [string, string, boolean][] = [
    ['HAProxyS 3.0\na\nb 1 1\n', '502\n', true],
    ['HAProxyS 2.2\n', '502\n', true],
    ['HAProxyS 2.1\nx\nb 1 1\n', '503\n', true],
    ['HAProxyS 2.1\na\nzz 1 1\n', '504\n', true],
    ['GET / HTTP/1.1\r\n', '501\n', true],
    ['HAProxyS 2.1\na\nnospace\n', '501\n', true],
    ['H'.repeat(3000), '', true],
    ['HAProxyS 2.1\r\na\r\nb 1 1\r\n', '200\n', false]
  ]
  for (const [hello, status, closes] of cases) {
    const t = net.dial(A_ADDR, B_HOST)
    clock.flush()
    t.write(Buffer.from(hello, 'latin1'))
    clock.advance(5)
    assert.equal(answer(t).split('\n')[0] + (status === '' ? '' : '\n'), status, JSON.stringify(hello.slice(0, 30)))
    assert.equal(t.closed, closes, `closed after ${JSON.stringify(hello.slice(0, 30))}`)
  }
  assert.ok(peerB(a).established, 'the last one is established')
  await a.manager.stop()
})

test('a connection that never says hello is closed after 5 s', async () => {
  const { clock, net, a } = await setup()
  const t = net.dial(A_ADDR, B_HOST)
  clock.advance(4900)
  assert.equal(t.closed, false)
  clock.advance(200)
  assert.equal(t.closed, true)
  assert.equal(answer(t), '')
  await a.manager.stop()
})

test('a second connection claiming to be the local peer (on the hand-off socket) is answered 300', async () => {
  const { clock, net, a } = await setup({ handoffPath: () => HANDOFF })
  const t1 = net.dial({ path: HANDOFF })
  const t2 = net.dial({ path: HANDOFF })
  clock.flush()
  t1.write(Buffer.from('HAProxyS 2.1\na\na 1 1\n'))
  clock.advance(1)
  t2.write(Buffer.from('HAProxyS 2.1\na\na 2 1\n'))
  clock.advance(1)
  assert.equal(answer(t1), '200\n')
  assert.equal(answer(t2), '300\n')
  assert.equal(t2.closed, true)
  await a.manager.stop()
})

test('protocol errors: reserved class → 01 00, oversized message → 01 01, malformed update → 01 00; counted, closed', async () => {
  const bad: [string, Buffer, string][] = [
    ['reserved class', h('ff 00'), '0100'],
    ['oversized', Buffer.concat([h('0a 80'), h('f0 8e 4d')]), '0101'], // length 20000 > 16384
    ['varint length over 5 bytes', h('0a 80 ff ff ff ff ff 01'), '0100'],
    ['truncated update', Buffer.concat([encodeMessage({ kind: 'define', table: WEB }), h('0a 80 02 0000')]), '0100']
  ]
  for (const [what, bytes, reply] of bad) {
    const { clock, a, t } = await handshaken()
    t.write(bytes)
    clock.advance(5)
    const tail = t.receivedBytes.subarray(4).toString('hex')
    assert.ok(tail.endsWith(reply), `${what}: got ${tail}`)
    assert.equal(t.closed, true, what)
    assert.equal(peerB(a).protoErr, 1, what)
    assert.equal(peerB(a).session, undefined)
    await a.manager.stop()
  }
})

test('skipped messages keep the session: unknown control/stick-table types, error messages, ignored tables and their updates', async () => {
  const { clock, a, t } = await handshaken()
  const other = buildTableDefinition({ tableId: 3, name: 'nosuchtable', keyType: PEERS_KEY_TYPE.ip, keyLen: 4, expireMs: 0, store: [{ name: 'gpc0' }] })
  const wrongKey = buildTableDefinition({ tableId: 4, name: 'web', keyType: PEERS_KEY_TYPE.string, keyLen: 32, expireMs: 0, store: [{ name: 'gpc0' }] })
  t.write(Buffer.concat([
    h('00 09'), h('01 00'), h('0a 90 03 010203'), h('0a 07'),
    encodeMessage({ kind: 'define', table: other }),
    h('0a 80 09 00000001 0a000001 05'),
    encodeMessage({ kind: 'define', table: wrongKey }),
    h('0a 81 03 01 "x" 05'),
    h('00 04')
  ]))
  clock.advance(5)
  assert.equal(t.closed, false)
  assert.equal(a.table().size, 0)
  assert.equal(peerB(a).rxHbt, 1)
  // Now the right definition and an update: applied, and acknowledged with our table id... the peer's.
  t.write(Buffer.concat([
    encodeMessage({ kind: 'define', table: WEB }),
    encodeMessage({ kind: 'update', table: WEB, updateId: 41, withId: true, expireMs: undefined, key: { type: 'ip', bytes: h('0a000009') }, values: [{ dataType: 0, kind: 'sint', value: 2 }, { dataType: 4, kind: 'uint', value: 77 }] })
  ]))
  clock.advance(30)
  assert.equal(a.table().lookup('10.0.0.9')?.get('conn_cnt'), 77)
  const acks = messages(t).filter(m => m.kind === 'ack')
  assert.deepEqual(acks.at(-1), { kind: 'ack', tableId: 7, updateId: 41 })
  assert.equal(peerB(a).protoErr, 0)
  await a.manager.stop()
})

test('a RESYNC_REQ is answered with every entry as timed updates, then RESYNC_FINISHED; a 2.0 (downgraded) peer gets plain updates', async () => {
  for (const version of ['2.1', '2.0']) {
    const { clock, net, a } = await setup()
    clock.advance(6000) // a's own learning finished (nobody to learn from)
    for (let i = 1; i <= 3; i++) a.table().update(`10.2.0.${i}`, e => { e.set('server_id', i) }, clock.now())
    const t = net.dial(A_ADDR, B_HOST)
    clock.flush()
    // The request right behind the hello: nothing is pushed incrementally before the teach.
    t.write(Buffer.concat([Buffer.from(`HAProxyS ${version}\na\nb 1 1\n`), h('00 00')]))
    clock.advance(30)
    const msgs = messages(t)
    const updates = msgs.filter(m => m.kind === 'update')
    assert.equal(updates.length, 3, version)
    assert.ok(msgs.some(m => m.kind === 'define' && m.table.name === 'web'))
    for (const u of updates) {
      if (u.kind !== 'update') continue
      if (version === '2.1') assert.ok(u.expireMs !== undefined && u.expireMs > 50_000)
      else assert.equal(u.expireMs, undefined)
    }
    assert.equal(msgs.filter(m => m.kind === 'control' && m.type === 'resync-finished').length, 1)
    t.write(h('00 03'))
    clock.advance(10)
    assert.equal(t.closed, false)
    await a.manager.stop()
  }
})

test('as connector: 502 makes the next hello announce 2.0; a refusal is retried later (HAProxy 2.6 never retries)', async () => {
  const { clock, net, a } = await setup()
  const hellos: string[] = []
  let status = '502\n'
  await net.listen({ host: '10.0.0.2', port: 10000 }, (t: PeerTransport) => {
    t.attach({
      onConnect: () => {},
      onData: d => {
        hellos.push(d.toString('latin1'))
        t.write(Buffer.from(status))
        t.end()
      },
      onDrain: () => {},
      onClose: () => {}
    })
  })
  assert.ok(clock.until(() => hellos.length >= 1, 6000))
  assert.ok(hellos[0]?.startsWith('HAProxyS 2.1\nb\na 4242 1\n'), hellos[0])
  assert.equal(peerB(a).statuscode, 502)
  status = '504\n'
  assert.ok(clock.until(() => hellos.length >= 2, 12_000))
  assert.ok(hellos[1]?.startsWith('HAProxyS 2.0\nb\na '), hellos[1])
  assert.equal(peerB(a).statuscode, 504)
  const n = hellos.length
  clock.advance(4000)
  assert.equal(hellos.length, n, 'backs off after a refusal')
  assert.ok(clock.until(() => hellos.length > n, 30_000))
  await a.manager.stop()
})

test('garbage never harms the process: random bytes before and after the handshake', async () => {
  const { clock, net, a } = await setup()
  const rand = rng(2024)
  for (let i = 0; i < 300; i++) {
    const t = net.dial(A_ADDR, B_HOST)
    clock.flush()
    const junk = Buffer.alloc(1 + Math.floor(rand() * 200))
    for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(rand() * 256)
    if (i % 2 === 0) t.write(Buffer.from('HAProxyS 2.1\na\nb 1 1\n'))
    if (i % 3 === 0) t.write(encodeMessage({ kind: 'define', table: WEB }))
    t.write(junk)
    clock.advance(3)
    t.destroy()
    clock.advance(1)
  }
  clock.advance(6000)
  // Still serving: a good peer gets in and syncs.
  const t = net.dial(A_ADDR, B_HOST)
  clock.flush()
  t.write(Buffer.from('HAProxyS 2.1\na\nb 1 1\n'))
  clock.advance(2)
  assert.ok(answer(t).startsWith('200\n'))
  a.table().update('10.3.3.3', e => { e.set('conn_cnt', 3) }, clock.now())
  clock.advance(50)
  assert.ok(messages(t).some(m => m.kind === 'update'))
  await a.manager.stop()
})

test('a hello naming a remote peer is accepted from the address of its peer line only (504 from elsewhere)', async () => {
  const { clock, net, a } = await setup()
  const stranger = net.dial(A_ADDR, '10.0.0.99')
  clock.flush()
  stranger.write(Buffer.from('HAProxyS 2.1\na\nb 1 1\n'))
  clock.advance(1)
  assert.equal(answer(stranger), '504\n')
  assert.equal(stranger.closed, true)
  assert.equal(peerB(a).established, false)
  assert.ok(a.log.some(l => l.msg === 'peers session refused'))
  const real = net.dial(A_ADDR, B_HOST)
  clock.flush()
  real.write(Buffer.from('HAProxyS 2.1\na\nb 1 1\n'))
  clock.advance(1)
  assert.match(answer(real), /^200\n/)
  assert.ok(peerB(a).established)
  await a.manager.stop()
})

test('trust-peer-names: a hello naming a remote peer is accepted from any address (NAT)', async () => {
  const { clock, net, a } = await setup({}, CFG.replace('peers mesh\n', 'peers mesh\n    trust-peer-names\n'))
  const natted = net.dial(A_ADDR, '192.0.2.7')
  clock.flush()
  natted.write(Buffer.from('HAProxyS 2.1\na\nb 1 1\n'))
  clock.advance(1)
  assert.match(answer(natted), /^200\n/)
  assert.ok(peerB(a).established)
  await a.manager.stop()
})

test('a hello naming the local peer over TCP is refused (504), even from a configured address; the hand-off socket accepts it', async () => {
  const { clock, net, a } = await setup({ handoffPath: () => HANDOFF })
  for (const from of ['10.0.0.1', B_HOST, '127.0.0.1']) {
    const t = net.dial(A_ADDR, from)
    clock.flush()
    t.write(Buffer.from('HAProxyS 2.1\na\na 1 1\n'))
    clock.advance(1)
    assert.equal(answer(t), '504\n', `from ${from}`)
    assert.equal(t.closed, true)
    assert.equal(messages(t).length, 0, 'nothing of the table is taught')
  }
  const local = net.dial({ path: HANDOFF })
  clock.flush()
  local.write(Buffer.from('HAProxyS 2.1\na\na 1 1\n'))
  clock.advance(1)
  assert.equal(answer(local), '200\n')
  await a.manager.stop()
})

test('a session holding a partial frame past the 5 s timeout is closed, however slowly the bytes trickle in', async () => {
  const { clock, a, t } = await handshaken()
  // A stick-table message announcing 64 bytes, then one byte every second.
  t.write(h('0a 80 40'))
  for (let i = 0; i < 4; i++) {
    clock.advance(1000)
    t.write(h('00'))
  }
  clock.advance(900)
  assert.equal(t.closed, false)
  clock.advance(200)
  assert.equal(t.closed, true)
  assert.equal(peerB(a).established, false)
  await a.manager.stop()
})

test('complete messages do not start the partial-frame timer: an idle established session stays open', async () => {
  const { clock, a, t } = await handshaken()
  for (let i = 0; i < 8; i++) {
    t.write(h('00 04'))
    clock.advance(1000)
  }
  assert.equal(t.closed, false)
  assert.ok(peerB(a).established)
  await a.manager.stop()
})

test('a peer streaming messages split across chunks is not cut: each completed message restarts the deadline', async () => {
  const { clock, a, t } = await handshaken()
  // Heartbeats (00 04) sent so that every chunk completes one and starts the next, for 12 s.
  t.write(h('00'))
  for (let i = 0; i < 12; i++) {
    clock.advance(1000)
    t.write(h('04 00'))
  }
  assert.equal(t.closed, false)
  assert.ok(peerB(a).established)
  await a.manager.stop()
})

test('a RESYNC_CONFIRM that ends no lesson of ours changes nothing: acknowledged updates are not sent again, now or after a reconnection', async () => {
  const { clock, net, a, t } = await handshaken()
  t.write(h('00 01')) // our answer to a's RESYNC_REQ: nothing to teach
  clock.advance(10)
  for (let i = 1; i <= 10; i++) a.table().update(`10.3.0.${i}`, e => { e.set('server_id', i) }, clock.now())
  clock.advance(10)
  const updates = messages(t).filter(m => m.kind === 'update')
  const def = messages(t).find(m => m.kind === 'define')
  assert.equal(updates.length, 10)
  assert.ok(def?.kind === 'define')
  t.write(encodeMessage({ kind: 'ack', tableId: def.table.tableId, updateId: 10 }))
  clock.advance(10)
  assert.equal(peerB(a).tables[0]?.update, 10)
  // A confirmation a never asked for (it sent no RESYNC_FINISHED/PARTIAL to b).
  t.write(h('00 03'))
  clock.advance(10)
  assert.equal(messages(t).filter(m => m.kind === 'update').length, 10, 'nothing pushed again on this session')
  assert.equal(peerB(a).tables[0]?.update, 10)
  t.end()
  clock.advance(10)
  const again = net.dial(A_ADDR, B_HOST)
  clock.flush()
  again.write(Buffer.from('HAProxyS 2.1\na\nb 1 1\n'))
  clock.advance(300)
  assert.deepEqual(messages(again).filter(m => m.kind === 'update'), [], 'nothing pushed again after the reconnection')
  await a.manager.stop()
})
