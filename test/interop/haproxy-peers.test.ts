/**
 * Interop with a real HAProxy 2.6 (Debian's /usr/sbin/haproxy) on 127.0.0.1: one `peers` section
 * with HAProxy (`-L hap1`) and one tslb PeersManager (local peer `tslb1`).
 *
 * - entries set on HAProxy with `set table` (socat on its stats socket) appear in tslb's store
 *   with the same data, on an ip table and a string table;
 * - entries written in tslb appear in HAProxy's `show table`;
 * - `stick on src` traffic through HAProxy replicates server_id and server_key (the dictionary);
 * - HAProxy's `show peers` shows tslb1 established (ESTA) without protocol errors;
 * - a restarted HAProxy asks tslb for a resync and learns every entry back, with expiries.
 */
import { HAPROXY, haproxy26Skip } from '../helpers/haproxy.ts'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/index.ts'
import type { Config } from '../../src/config/model.ts'
import { PeersManager } from '../../src/peers/peers-manager.ts'
import { formatShowPeers } from '../../src/peers/show-peers.ts'
import { StickTable } from '../../src/stick/index.ts'
import { freePorts } from '../helpers/ports.ts'


const skip = haproxy26Skip() || (existsSync('/usr/bin/socat') ? false : 'no socat')

async function waitFor (what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

class Haproxy {
  readonly child: ChildProcess
  readonly socket: string
  output = ''

  constructor (cfgFile: string, socket: string, replaces?: Haproxy) {
    this.socket = socket
    const sf = replaces?.child.pid === undefined ? [] : ['-sf', String(replaces.child.pid)]
    this.child = spawn(HAPROXY, ['-db', '-f', cfgFile, '-L', 'hap1', ...sf], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout?.on('data', (b: Buffer) => { this.output += b.toString() })
    this.child.stderr?.on('data', (b: Buffer) => { this.output += b.toString() })
  }

  cli (cmd: string): string {
    return execFileSync('socat', ['stdio', `unix-connect:${this.socket}`], { input: `${cmd}\n`, stdio: ['pipe', 'pipe', 'ignore'] }).toString()
  }

  async ready (): Promise<void> {
    await waitFor('haproxy stats socket', () => {
      if (!existsSync(this.socket)) return false
      try {
        return this.cli('show info').includes('Name: HAProxy')
      } catch {
        return false
      }
    })
  }

  async stop (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise(resolve => { this.child.once('exit', resolve) })
    this.child.kill('SIGKILL')
    await exited
  }
}

function haproxyConfig (dir: string, hapPort: number, tslbPort: number, webPort: number, fePort: number): string {
  return `global
    stats socket ${dir}/hap.sock mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
peers mypeers
    peer hap1 127.0.0.1:${hapPort}
    peer tslb1 127.0.0.1:${tslbPort}
    table stkt type string len 32 size 1k expire 1m store gpc0,http_req_cnt
frontend fe
    bind 127.0.0.1:${fePort}
    default_backend back
backend back
    stick-table type ip size 1k expire 1m peers mypeers store server_id,conn_cnt,gpc0,http_req_rate(10s),bytes_in_cnt
    stick on src
    server s1 127.0.0.1:${webPort}
backend sback
    stick-table type string len 32 size 1k expire 1m peers mypeers store gpt0,conn_cnt
`
}

/**
 * The worker's tables as the engine builds them: backends by name (stick rules add server_id and
 * server_key), peers-section tables as `PEERS/X`.
 */
function tablesOf (config: Config): StickTable[] {
  const targeted = new Set(config.proxies.flatMap(p => p.stickRules.map(r => r.table ?? p.name)))
  const out = config.proxies.flatMap(p => p.stickTable === undefined ? [] : [new StickTable(p.name, p.stickTable, { stickRules: targeted.has(p.name), now: Date.now() })])
  for (const ps of config.peers) for (const t of ps.tables) out.push(new StickTable(`${ps.name}/${t.name}`, t, { now: Date.now() }))
  return out
}

/** `key=K ... field=V` of HAProxy's `show table` line for a key, as a map. */
function entry (dump: string, key: string): Record<string, string> | undefined {
  const line = dump.split('\n').find(l => l.includes(` key=${key} `))
  if (line === undefined) return undefined
  const out: Record<string, string> = {}
  for (const m of line.matchAll(/(\S+?)=(\S+)/g)) out[m[1] as string] = m[2] as string
  return out
}

test('tslb and HAProxy 2.6 share stick tables through the peers protocol', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-hap-peers-'))
  const [hapPort, tslbPort, webPort, fePort] = await freePorts(4) as [number, number, number, number]
  const cfgFile = join(dir, 'haproxy.cfg')
  const text = haproxyConfig(dir, hapPort, tslbPort, webPort, fePort)
  writeFileSync(cfgFile, text)
  // tslb reads the very same file (HAProxy syntax).
  const { config, diagnostics } = parseConfig(text, cfgFile, { localPeer: 'tslb1' })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  const web = http.createServer((_req, res) => { res.end('ok') })
  await new Promise<void>(resolve => { web.listen(webPort, '127.0.0.1', resolve) })
  let hap = new Haproxy(cfgFile, join(dir, 'hap.sock'))
  const tables = tablesOf(config)
  const back = tables.find(t => t.name === 'back') as StickTable
  const sback = tables.find(t => t.name === 'sback') as StickTable
  const stkt = tables.find(t => t.name === 'mypeers/stkt') as StickTable
  const log = process.env.PEERS_TEST_LOG === undefined ? undefined : { info: (o: object, m: string) => { console.log(m, JSON.stringify(o)) }, warn: (o: object, m: string) => { console.log('WARN', m, JSON.stringify(o)) }, debug: (o: object, m: string) => { console.log('debug', m, JSON.stringify(o)) } }
  const tslb = new PeersManager({ config, localName: 'tslb1', tables, ...(log === undefined ? {} : { log }) })
  try {
    await hap.ready()
    await tslb.start()
    await waitFor('session established', () => tslb.section('mypeers')?.peer('hap1')?.established === true)

    // HAProxy → tslb: `set table` on both tables.
    assert.equal(hap.cli('set table back key 127.0.0.9 data.server_id 1 data.conn_cnt 7 data.gpc0 3 data.bytes_in_cnt 6000000000'), '\n')
    assert.equal(hap.cli('set table sback key alice data.gpt0 42 data.conn_cnt 5'), '\n')
    // A table declared in the peers section: `mypeers/stkt` locally, `/stkt` on the wire.
    assert.equal(hap.cli('set table mypeers/stkt key carol data.gpc0 9 data.http_req_cnt 99'), '\n')
    await waitFor('entries from HAProxy', () => back.lookup('127.0.0.9') !== undefined && sback.lookup('alice') !== undefined && stkt.lookup('carol') !== undefined)
    assert.equal(stkt.lookup('carol')?.get('http_req_cnt'), 99)
    const e = back.lookup('127.0.0.9')
    assert.equal(e?.get('server_id'), 1)
    assert.equal(e?.get('conn_cnt'), 7)
    assert.equal(e?.get('gpc0'), 3)
    assert.equal(e?.get('bytes_in_cnt'), 6_000_000_000)
    assert.equal(e?.origin, 'remote')
    assert.equal(sback.lookup('alice')?.get('gpt0'), 42)
    assert.equal(sback.lookup('alice')?.get('conn_cnt'), 5)

    // tslb → HAProxy.
    const now = Date.now()
    back.update('10.20.30.40', x => {
      x.set('server_id', 1)
      x.serverKey = 's1'
      x.set('conn_cnt', 11)
      x.hit('http_req_rate', now, 4)
    }, now)
    sback.update('bob', x => { x.set('gpt0', 77) }, now)
    stkt.update('dave', x => { x.set('gpc0', 12) }, now)
    let dump = ''
    await waitFor('entries in HAProxy', () => {
      dump = hap.cli('show table back') + hap.cli('show table sback') + hap.cli('show table mypeers/stkt')
      return dump.includes('key=10.20.30.40 ') && dump.includes('key=bob ') && dump.includes('key=dave ')
    })
    assert.equal(entry(dump, 'dave')?.gpc0, '12')
    const h1 = entry(dump, '10.20.30.40')
    assert.equal(h1?.server_id, '1')
    assert.equal(h1?.server_key, 's1')
    assert.equal(h1?.conn_cnt, '11')
    assert.equal(h1?.['http_req_rate(10000)'], '4')
    assert.equal(entry(dump, 'bob')?.gpt0, '77')
    assert.ok(Number(h1?.exp) > 55_000, `expiry ${h1?.exp ?? '?'}`)

    // stick on src: HAProxy learns 127.0.0.1 → s1 from traffic, with server_key from the dictionary.
    const res = await fetch(`http://127.0.0.1:${fePort}/`)
    assert.equal(await res.text(), 'ok')
    await waitFor('stick on src entry', () => back.lookup('127.0.0.1')?.serverKey === 's1')
    assert.equal(back.lookup('127.0.0.1')?.get('server_id'), 1)

    // HAProxy sees tslb1 established, without protocol errors.
    const peers = hap.cli('show peers')
    assert.match(peers, /id=tslb1\(remote,active\) addr=127\.0\.0\.1:\d+ last_status=ESTA/)
    assert.match(peers, /proto_err=0/)
    assert.doesNotMatch(peers, /proto_err=[1-9]/)
    const ours = formatShowPeers(tslb, 'mypeers', false) ?? ''
    assert.match(ours, /id=hap1\(remote,active\) addr=127\.0\.0\.1:\d+ last_status=ESTA/)

    // HAProxy restarts empty: it asks tslb for a resync and gets everything back (its own entries too).
    await hap.stop()
    await waitFor('session down', () => tslb.section('mypeers')?.peer('hap1')?.established !== true)
    hap = new Haproxy(cfgFile, join(dir, 'hap.sock'))
    await hap.ready()
    await waitFor('HAProxy relearned', () => {
      dump = hap.cli('show table back') + hap.cli('show table sback') + hap.cli('show table mypeers/stkt')
      return ['127.0.0.9', '10.20.30.40', '127.0.0.1', 'alice', 'bob', 'carol', 'dave'].every(k => dump.includes(`key=${k} `))
    }, 20_000)
    assert.equal(entry(dump, '127.0.0.9')?.bytes_in_cnt, '6000000000')
    assert.equal(entry(dump, 'alice')?.gpt0, '42')
    assert.equal(entry(dump, '127.0.0.1')?.server_key, 's1')
    const left = Number(entry(dump, '10.20.30.40')?.exp)
    assert.ok(left > 30_000 && left < 60_000, `expiry carried by the timed update: ${left}`)
    const peers2 = hap.cli('show peers')
    assert.match(peers2, /id=tslb1\(remote,active\).*last_status=ESTA/)
    assert.doesNotMatch(peers2, /proto_err=[1-9]/)
    assert.equal(tslb.status().sections[0]?.peers.find(p => p.name === 'hap1')?.counters.protocolErrors, 0)
  } catch (err) {
    console.error(hap.output)
    throw err
  } finally {
    await tslb.stop()
    await hap.stop()
    await new Promise(resolve => { web.close(resolve) })
    rmSync(dir, { recursive: true, force: true })
  }
})

test('tslb starting next to a running HAProxy asks it for a resync (FINISHED), and both keep an idle session alive with heartbeats', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-hap-peers-'))
  const [hapPort, tslbPort, webPort, fePort] = await freePorts(4) as [number, number, number, number]
  const cfgFile = join(dir, 'haproxy.cfg')
  const text = haproxyConfig(dir, hapPort, tslbPort, webPort, fePort)
  writeFileSync(cfgFile, text)
  const { config } = parseConfig(text, cfgFile, { localPeer: 'tslb1' })
  const hap = new Haproxy(cfgFile, join(dir, 'hap.sock'))
  const tables = tablesOf(config)
  const back = tables.find(t => t.name === 'back') as StickTable
  const tslb = new PeersManager({ config, localName: 'tslb1', tables })
  try {
    await hap.ready()
    for (let i = 1; i <= 50; i++) hap.cli(`set table back key 10.9.0.${i} data.server_id ${i % 3} data.conn_cnt ${i}`)
    // HAProxy alone finishes its own learning after its 5 s resync timeout (flags & 3 == 3).
    await waitFor('HAProxy finished learning', () => /flags=0x[0-9a-f]*[37bf] /.test(hap.cli('show peers').split('\n')[0] ?? ''), 10_000)
    const finished: string[] = []
    tslb.on('sync-finished', s => { finished.push(s) })
    await tslb.start()
    await waitFor('lesson from HAProxy', () => finished.length === 1)
    const flags = tslb.section('mypeers')?.sync.flags ?? 0
    assert.ok((flags & 0x200) !== 0, `RESYNC_REMOTEFINISHED in 0x${flags.toString(16)}`)
    assert.equal(back.size, 50)
    assert.equal(back.lookup('10.9.0.17')?.get('conn_cnt'), 17)
    assert.ok((back.lookup('10.9.0.17')?.expiresIn(Date.now()) ?? 0) > 50_000)

    // Idle for two liveness periods: heartbeats both ways, nobody drops the session. (Both ends
    // connect at start: a crossed connection may be replaced once, 50..2050 ms later.)
    await new Promise(resolve => setTimeout(resolve, 2500))
    await waitFor('session up', () => tslb.section('mypeers')?.peer('hap1')?.established === true)
    const before = tslb.section('mypeers')?.peer('hap1')
    const session = before?.session
    const rx0 = before?.rxHbt ?? 0
    const tx0 = before?.txHbt ?? 0
    await new Promise(resolve => setTimeout(resolve, 11_000))
    assert.equal(tslb.section('mypeers')?.peer('hap1')?.session, session)
    assert.equal(before?.noHbt, 0)
    assert.ok((before?.rxHbt ?? 0) - rx0 >= 2 && (before?.txHbt ?? 0) - tx0 >= 2, `rx ${before?.rxHbt ?? 0} tx ${before?.txHbt ?? 0}`)
    const peers = hap.cli('show peers')
    const block = peers.slice(peers.indexOf('id=tslb1('))
    assert.match(block, /last_status=ESTA/)
    assert.match(block, /no_hbt=0 new_conn=\d+ proto_err=0/)
    assert.match(block, /rx_hbt=[1-9]/)
  } catch (err) {
    console.error(hap.output)
    throw err
  } finally {
    await tslb.stop()
    await hap.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an HAProxy reload (-sf) next to tslb: the new HAProxy process learns from the old one, then syncs with tslb', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-hap-peers-'))
  const [hapPort, tslbPort, webPort, fePort] = await freePorts(4) as [number, number, number, number]
  const cfgFile = join(dir, 'haproxy.cfg')
  const text = haproxyConfig(dir, hapPort, tslbPort, webPort, fePort)
  writeFileSync(cfgFile, text)
  const { config } = parseConfig(text, cfgFile, { localPeer: 'tslb1' })
  const old = new Haproxy(cfgFile, join(dir, 'hap.sock'))
  let hap: Haproxy | undefined
  const tables = tablesOf(config)
  const back = tables.find(t => t.name === 'back') as StickTable
  const tslb = new PeersManager({ config, localName: 'tslb1', tables })
  try {
    await old.ready()
    await tslb.start()
    await waitFor('session established', () => tslb.section('mypeers')?.peer('hap1')?.established === true)
    old.cli('set table back key 10.50.0.1 data.conn_cnt 501')
    back.update('10.50.0.2', x => { x.set('conn_cnt', 502) }, Date.now())
    await waitFor('exchanged', () => back.lookup('10.50.0.1') !== undefined && old.cli('show table back').includes('key=10.50.0.2 '))
    // HAProxy 2.6.12's old process teaches the new one only once its own learning finished
    // (b372f16d3; #1216: reload when `show peers` flags & 3 == 3), as operators are told to do.
    await waitFor('HAProxy finished learning', () => /flags=0x[0-9a-f]*[37bf] /.test(old.cli('show peers').split('\n')[0] ?? ''), 10_000)
    const before = tslb.section('mypeers')?.peer('hap1')?.session
    // Seamless reload: the new process takes the old one's table through HAProxy's local peer.
    const reloaded = new Haproxy(cfgFile, join(dir, 'hap.sock'), old)
    hap = reloaded
    await waitFor('old process gone', () => old.child.exitCode !== null || old.child.signalCode !== null, 20_000)
    await reloaded.ready()
    await waitFor('tslb talks to the new process', () => {
      const p = tslb.section('mypeers')?.peer('hap1')
      return p?.established === true && p.session !== before
    }, 20_000)
    let dump = ''
    await waitFor('new process has the table', () => {
      dump = reloaded.cli('show table back')
      return dump.includes('key=10.50.0.1 ') && dump.includes('key=10.50.0.2 ')
    })
    assert.match(dump, /key=10\.50\.0\.1 .*conn_cnt=501/)
    assert.match(dump, /key=10\.50\.0\.2 .*conn_cnt=502/, 'the entry from tslb survived the HAProxy reload')
    const head = reloaded.cli('show peers').split('\n')[0] ?? ''
    const flags = Number.parseInt(/flags=0x([0-9a-f]+)/.exec(head)?.[1] ?? '0', 16)
    assert.ok((flags & 0x100) !== 0, `the new process learned from the old one (RESYNC_LOCALFINISHED): ${head}`)
    reloaded.cli('set table back key 10.50.0.3 data.conn_cnt 503')
    back.update('10.50.0.4', x => { x.set('conn_cnt', 504) }, Date.now())
    await waitFor('post-reload exchange', () => back.lookup('10.50.0.3')?.get('conn_cnt') === 503 && reloaded.cli('show table back').includes('key=10.50.0.4 '))
    assert.doesNotMatch(reloaded.cli('show peers'), /proto_err=[1-9]/)
    assert.equal(tslb.status().sections[0]?.peers.find(p => p.name === 'hap1')?.counters.protocolErrors, 0)
  } catch (err) {
    console.error(old.output, hap?.output ?? '')
    throw err
  } finally {
    await tslb.stop()
    await hap?.stop()
    await old.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('HAProxy refuses a peer it does not know with 504: tslb records it and backs off', { skip, timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-hap-peers-'))
  const [hapPort, tslbPort, webPort, fePort, otherPort] = await freePorts(5) as [number, number, number, number, number]
  const cfgFile = join(dir, 'haproxy.cfg')
  writeFileSync(cfgFile, haproxyConfig(dir, hapPort, tslbPort, webPort, fePort))
  // tslb calls itself "intruder", a name HAProxy's peers section does not have.
  const { config } = parseConfig(`peers mypeers\n    peer hap1 127.0.0.1:${hapPort}\n    peer intruder 127.0.0.1:${otherPort}\nbackend back\n    stick-table type ip size 1k expire 1m peers mypeers store server_id,conn_cnt,gpc0,http_req_rate(10s),bytes_in_cnt\n`, 'x.cfg')
  const hap = new Haproxy(cfgFile, join(dir, 'hap.sock'))
  const warnings: string[] = []
  const tslb = new PeersManager({ config, localName: 'intruder', tables: tablesOf(config), log: { info: () => {}, debug: () => {}, warn: (_o, m) => { warnings.push(m) } } })
  try {
    await hap.ready()
    await tslb.start()
    const p = tslb.section('mypeers')?.peer('hap1')
    await waitFor('refused', () => p?.statuscode === 504)
    assert.equal(p?.refusals, 1)
    assert.ok(warnings.includes('peer refused our hello'))
    await new Promise(resolve => setTimeout(resolve, 1500))
    assert.equal(p?.newConn, 1, 'no retry before the back-off')
    assert.match(formatShowPeers(tslb, undefined, false) ?? '', /id=hap1\(remote,inactive\) addr=127\.0\.0\.1:\d+ last_status=UNKN/)
  } finally {
    await tslb.stop()
    await hap.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
