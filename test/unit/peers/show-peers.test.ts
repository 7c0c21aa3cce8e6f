/**
 * `show peers` against captures of HAProxy 2.6.12 (test/unit/peers/fixtures/): two local haproxy
 * processes started with `-L hap1` / `-L hap2` on show-peers-haproxy-2.6.12.cfg (its copy with
 * hap2.sock for the second), `set table back key 127.0.0.9 data.server_id 1 data.conn_cnt 7` on
 * hap1, then `echo "show peers" | socat stdio /tmp/hap/hap1.sock` (established), the same on hap2
 * (the side that connected), and on hap1 6 s after hap2 was killed (reconnecting).
 *
 * Addresses, counters and times differ by nature; every line must have the same shape once
 * numbers, pointers and durations are normalised.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { formatShowPeers, humanTime } from '../../../src/peers/show-peers.ts'
import type { PeerTransport } from '../../../src/peers/transport.ts'
import { encodeMessage } from '../../../src/peers/messages.ts'
import { ManualClock, MemoryNetwork } from './fake.ts'
import { config, node, settle } from './harness.ts'

const CFG = readFileSync(new URL('fixtures/show-peers-haproxy-2.6.12.cfg', import.meta.url), 'utf8')

/** A capture, without the empty line the CLI adds after each answer. */
function fixture (name: string): string {
  return readFileSync(new URL(`fixtures/show-peers-haproxy-2.6.12-${name}.txt`, import.meta.url), 'utf8').replace(/\n\n$/, '\n')
}

/** Pointers, numbers and durations replaced by placeholders; the date too. */
function shape (text: string): string[] {
  return text.split('\n').map(l => l
    .replace(/\[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d\]/g, '[DATE]')
    .replace(/0x[0-9a-f]+/g, '0xP')
    .replace(/=(<NEVER>|<PAST>|\d+[dhms](\d+[hms])?)/g, '=T')
    .replace(/\d+/g, 'N'))
}

test('humanTime: two units at most, as HAProxy prints durations', () => {
  assert.equal(humanTime(0), '0s')
  assert.equal(humanTime(999), '0s')
  assert.equal(humanTime(3000), '3s')
  assert.equal(humanTime(65_000), '1m5s')
  assert.equal(humanTime(3_600_000), '1h')
  assert.equal(humanTime(3_661_000), '1h1m')
  assert.equal(humanTime(90_061_000), '1d1h')
  assert.equal(humanTime(86_400_000), '1d')
  assert.equal(humanTime(-1), '?')
})

test('established, accepted side: same shape as HAProxy 2.6.12 (xprt line, remote/last local table, shared tables)', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(CFG)
  const hap1 = node('hap1', c, clock, net)
  await hap1.manager.start()
  await settle()
  clock.advance(10)
  // hap2 connects (a raw peer: the crossed connection of the capture is not reproducible here).
  const t = net.dial({ host: '127.0.0.1', port: 20001 })
  clock.flush()
  const def = hap1.manager.section('mypeers')?.sync.tables[0]?.definition
  assert.ok(def !== undefined)
  t.write(Buffer.concat([Buffer.from('HAProxyS 2.1\nhap1\nhap2 1234 1\n'), encodeMessage({ kind: 'define', table: def })]))
  clock.advance(5)
  // hap1 asked hap2 for a resync (it is learning from remotes): hap2 has nothing, says so.
  t.write(Buffer.from([0, 1]))
  clock.advance(5)
  hap1.table().update('127.0.0.9', e => { e.set('server_id', 1); e.set('conn_cnt', 7) }, clock.now())
  clock.advance(5000)
  const out = formatShowPeers(hap1.manager, undefined, false)
  assert.ok(out !== undefined)
  assert.deepEqual(shape(out), shape(fixture('established')))
  assert.match(out, /id=hap2\(remote,active\) addr=127\.0\.0\.1:20002 last_status=ESTA/)
  assert.match(out, /id=hap1\(local,inactive\) addr=127\.0\.0\.1:20001 last_status=NONE last_hdshk=<NEVER>/)
  assert.match(out, /st0=7 st1=0 task_calls=\d+ state=EST\n {8}xprt=RAW src=127\.0\.0\.1:\d+ addr=127\.0\.0\.1:20001/)
  assert.match(out, /remote_table:0x[0-9a-f]+ id=back local_id=1 remote_id=1/)
  assert.match(out, /remote_data=0x31\n/)
  assert.equal(formatShowPeers(hap1.manager, 'nope', false), undefined)
  assert.equal(formatShowPeers(hap1.manager, 'mypeers', false), out)
  await hap1.manager.stop()
})

test('established, connecting side: no xprt line, as HAProxy 2.6.12', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(CFG)
  const hap2 = node('hap2', c, clock, net)
  // hap1 is a raw peer answering 200, then defining its table and sending one update.
  const def = (() => {
    const n = node('hap1', c, clock, net)
    return n.manager.section('mypeers')?.sync.tables[0]?.definition
  })()
  assert.ok(def !== undefined)
  await net.listen({ host: '127.0.0.1', port: 20001 }, (t: PeerTransport) => {
    let answered = false
    t.attach({
      onConnect: () => {},
      onData: () => {
        if (answered) return
        answered = true
        t.write(Buffer.concat([Buffer.from('200\n'), encodeMessage({ kind: 'define', table: def }),
          encodeMessage({ kind: 'update', table: def, updateId: 1, withId: true, expireMs: undefined, key: { type: 'ip', bytes: Buffer.from([127, 0, 0, 9]) }, values: [{ dataType: 0, kind: 'sint', value: 1 }, { dataType: 4, kind: 'uint', value: 7 }, { dataType: 5, kind: 'frqp', value: { elapsedMs: 0, curr: 0, prev: 0 } }] }),
          Buffer.from([0, 1])]))
      },
      onDrain: () => {},
      onClose: () => {}
    })
  })
  await hap2.manager.start()
  await settle()
  clock.advance(100)
  hap2.table().update('127.0.0.8', e => { e.set('server_id', 2) }, clock.now())
  clock.advance(8000)
  const out = formatShowPeers(hap2.manager, undefined, false)
  assert.ok(out !== undefined)
  assert.deepEqual(shape(out), shape(fixture('accepted-side')))
  assert.equal(hap2.table().lookup('127.0.0.9')?.get('conn_cnt'), 7)
  await hap2.manager.stop()
})

test('peer down, reconnecting: same shape as HAProxy 2.6.12 (inactive, CONN, heartbeat <NEVER>)', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(CFG)
  const hap1 = node('hap1', c, clock, net)
  await hap1.manager.start()
  await settle()
  clock.advance(6000)
  const out = formatShowPeers(hap1.manager, undefined, false)
  assert.ok(out !== undefined)
  assert.deepEqual(shape(out), shape(fixture('reconnecting')))
  assert.match(out, /id=hap2\(remote,inactive\) addr=127\.0\.0\.1:20002 last_status=CONN last_hdshk=\d+s\n {8}reconnect=\S+ heartbeat=<NEVER>/)
  await hap1.manager.stop()
})

test('show peers dict dumps the TX and RX dictionary caches (four per line)', async () => {
  const clock = new ManualClock()
  const net = new MemoryNetwork(clock)
  const c = config(CFG)
  const hap1 = node('hap1', c, clock, net)
  await hap1.manager.start()
  await settle()
  const out = formatShowPeers(hap1.manager, 'mypeers', true) ?? ''
  assert.match(out, / {8}TX dictionary cache:\n {8}RX dictionary cache:\n {8} {4}0 -> - {4}1 -> - {4}2 -> - {4}3 -> -\n/)
  assert.equal(out.match(/ -> -/g)?.length, 2 * 128, 'both peers')
  assert.doesNotMatch(out, /Dictionary cache not dumped/)
  await hap1.manager.stop()
})
