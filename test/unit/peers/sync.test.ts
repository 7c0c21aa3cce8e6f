/**
 * The sync engine's building blocks: table definitions built from tslb's stick tables are the bytes
 * HAProxy 2.6 sends for the same configuration; ACK ids map back to local update ids; wire table
 * names; the section's table ids.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage } from '../../../src/peers/messages.ts'
import { ackToLocalId, SyncTable } from '../../../src/peers/sync.ts'
import { PeersManager, wireTableName, handoffSocketPath } from '../../../src/peers/peers-manager.ts'
import { PeersConfigError } from '../../../src/peers/errors.ts'
import { StickTable } from '../../../src/stick/index.ts'
import { config, tablesOf } from './harness.ts'
import { h } from './helpers.ts'

test('DEFINE from a stick table is byte-identical to HAProxy 2.6.12\'s capture (t_ip: id 2, 30 s, http_req_rate(10s))', () => {
  const c = config(`peers p
    peer a 127.0.0.1:1
backend t_ip
    stick-table type ip size 1k expire 30s peers p store server_id,gpc0,conn_cnt,conn_cur,http_req_rate(10s),bytes_in_cnt
`)
  const spec = c.proxies[0]?.stickTable
  assert.ok(spec !== undefined)
  const st = new SyncTable(new StickTable('t_ip', spec), 't_ip', 2)
  assert.equal(encodeMessage({ kind: 'define', table: st.definition }).toString('hex'), h('0a 82 12 02 04"t_ip" 04 04 f5b603 f0c40d 0a f0e203').toString('hex'))
})

test('key lengths as HAProxy announces them: string len N → N+1, string 32, binary len N → N, ipv6 16, integer 4', () => {
  const c = config(`peers p
    peer a 127.0.0.1:1
backend s
    stick-table type string len 10 size 1k peers p store gpc0
backend s2
    stick-table type string size 1k peers p store gpc0
backend b
    stick-table type binary len 20 size 1k peers p store gpc0
backend v6
    stick-table type ipv6 size 1k peers p store gpc0
backend i
    stick-table type integer size 1k peers p store gpc0
`)
  const lens = c.proxies.map(p => new SyncTable(new StickTable(p.name, p.stickTable ?? assert.fail()), p.name, 1).definition)
  assert.deepEqual(lens.map(d => [d.keyType, d.keyLen]), [[6, 11], [6, 32], [7, 20], [5, 16], [2, 4]])
  assert.deepEqual(lens.map(d => d.expireMs), [0, 0, 0, 0, 0])
})

test('ackToLocalId: the u32 of an ack maps to the local id at or below the latest one', () => {
  assert.equal(ackToLocalId(5, 10), 5)
  assert.equal(ackToLocalId(10, 10), 10)
  assert.equal(ackToLocalId(11, 10), undefined, 'an id we never sent')
  assert.equal(ackToLocalId(0xffff_fffe, 2 ** 32 + 3), 2 ** 32 - 2, 'across the u32 wrap')
  assert.equal(ackToLocalId(0x8000_0005, 10), undefined, 'a remote-learned id (2^31 + n)')
})

test('wire names: a backend table by its name, a peers-section table as /X; tables of other sections are not shared', () => {
  const c = config(`peers p
    peer a 127.0.0.1:1
    table stkt type string len 32 size 1k store gpc0
peers q
    peer a 127.0.0.1:2
backend web
    stick-table type ip size 1k peers p store gpc0
backend lonely
    stick-table type ip size 1k store gpc0
`)
  const tables = tablesOf(c, 0)
  const p = c.peers[0]
  const q = c.peers[1]
  assert.ok(p !== undefined && q !== undefined)
  assert.equal(wireTableName(p, tables.get('web') as StickTable), 'web')
  assert.equal(wireTableName(p, tables.get('p/stkt') as StickTable), '/stkt')
  assert.equal(wireTableName(p, tables.get('lonely') as StickTable), undefined)
  assert.equal(wireTableName(q, tables.get('web') as StickTable), undefined)
  const m = new PeersManager({ config: c, localName: 'a', tables: tables.values() })
  assert.deepEqual(m.sections.map(s => [s.name, s.sync.tables.map(t => [t.localId, t.name, t.wireName])]), [
    ['p', [[1, 'web', 'web'], [2, 'p/stkt', '/stkt']]],
    ['q', []]
  ])
})

test('sections without the local peer or disabled are skipped; the hand-off socket path is per generation and section', () => {
  const c = config(`peers p
    peer a 127.0.0.1:1
peers r
    disabled
    peer x 127.0.0.1:3
    peer z 127.0.0.1:4
peers s
    peer x 127.0.0.1:5
`)
  const m = new PeersManager({ config: c, localName: 'a', tables: [] })
  assert.deepEqual(m.sections.map(s => s.name), ['p'])
  assert.equal(handoffSocketPath('/run/tslb/', 3, 'p'), '/run/tslb/peers.g3.p.sock')
  assert.equal(handoffSocketPath('/run/tslb', 3, 'we ird/'), '/run/tslb/peers.g3.we_ird_.sock')
  assert.ok(new PeersConfigError('x').code === 'TSLB_ERR_PEERS_CONFIG')
})

test('peersListenAddress: the local peer line, or the bind line with the server syntax', async () => {
  const { peersListenAddress } = await import('../../../src/peers/peers-manager.ts')
  const c = config(`peers p
    peer a 127.0.0.5:10000
    peer b 127.0.0.6:10000
peers q
    bind 127.0.0.7:10001
    server a
    server b 127.0.0.8:10001
`)
  const [p, q] = c.peers
  assert.ok(p !== undefined && q !== undefined)
  assert.deepEqual(peersListenAddress(p, 'a'), { host: '127.0.0.5', port: 10000, family: 4 })
  assert.deepEqual(peersListenAddress(q, 'a'), { host: '127.0.0.7', port: 10001, family: 4 })
  assert.equal(peersListenAddress(p, 'zz'), undefined)
  const m = new PeersManager({ config: c, localName: 'a', tables: [] })
  assert.deepEqual(m.sections.map(s => s.peer('b')?.configuredAddress), ['127.0.0.6:10000', '127.0.0.8:10001'])
  assert.equal(m.sections[1]?.local.configuredAddress, '127.0.0.7:10001')
  assert.equal(m.activePeers, 0)
  assert.equal(m.connectedPeers, 0)
})
