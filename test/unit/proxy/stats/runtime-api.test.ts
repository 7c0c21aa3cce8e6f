// The runtime API on a real unix socket, compared with what HAProxy 2.6.12 answered for the same
// configuration and commands (fixtures/haproxy-2.6/*.txt, captured with socat).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { listenRuntimeApi, newSession, RuntimeApi, splitArgs, TOO_BIG, type RuntimeApiServer } from '../../../../src/proxy/stats/runtime-api.ts'
import { cli, csvHeader, csvRows, fakeTables, fixture, fixtureLab, talk, tempDir, type Lab } from './helpers.ts'

interface Setup {
  readonly lab: Lab
  readonly admin: RuntimeApiServer
  readonly oper: RuntimeApiServer
  readonly user: RuntimeApiServer
  readonly cleanup: () => Promise<void>
}

async function setup (extra: Parameters<typeof fixtureLab>[0] = {}): Promise<Setup> {
  const lab = fixtureLab(extra)
  const { dir, cleanup } = tempDir()
  const admin = await listenRuntimeApi(join(dir, 'admin.sock'), undefined, 'admin', lab.engine, lab.providers)
  const oper = await listenRuntimeApi(join(dir, 'oper.sock'), 0o660, 'operator', lab.engine, lab.providers)
  const user = await listenRuntimeApi(join(dir, 'user.sock'), undefined, 'user', lab.engine, lab.providers)
  return {
    lab,
    admin,
    oper,
    user,
    cleanup: async () => {
      await Promise.all([admin.close(), oper.close(), user.close()])
      cleanup()
    }
  }
}

/** Columns that hold counters, times or limits that differ between two runs, not structure. */
const VOLATILE = new Set(['qmax', 'smax', 'slim', 'stot', 'bin', 'bout', 'lastchg', 'lbtot', 'rate', 'rate_max', 'check_duration',
  'hrsp_2xx', 'req_rate', 'req_rate_max', 'req_tot', 'lastsess', 'qtime', 'ctime', 'rtime', 'ttime', 'conn_rate', 'conn_rate_max',
  'conn_tot', 'connect', 'qtime_max', 'ctime_max', 'rtime_max', 'ttime_max', 'used_conn_cur', 'need_conn_est', 'downtime',
  'h1_open_connections', 'h1_total_connections', 'h1_total_streams', 'h1_bytes_in', 'h1_bytes_out', 'scur'])

describe('runtime API against HAProxy 2.6 reference outputs', () => {
  let s: Setup
  before(async () => { s = await setup() })
  after(async () => { await s.cleanup() })

  test('socket file mode: 0600 by default, the configured mode otherwise', () => {
    assert.equal(statSync(s.admin.path).mode & 0o777, 0o600)
    assert.equal(statSync(s.oper.path).mode & 0o777, 0o660)
    assert.ok(statSync(s.admin.path).isSocket())
  })

  test('show stat: HAProxy 2.6 header line and columns, row by row', async () => {
    const ours = await cli(s.admin.path, 'show stat')
    const ref = fixture('show-stat.txt')
    assert.equal(ours.split('\n')[0], ref.split('\n')[0], 'header line')
    assert.ok(ours.endsWith('\n\n'), 'answer then the empty prompt line')
    const header = csvHeader(ref)
    const mine = csvRows(ours)
    const theirs = csvRows(ref)
    assert.deepEqual([...mine.keys()], [...theirs.keys()], 'same rows in the same order')
    for (const [key, want] of theirs) {
      const got = mine.get(key) as string[]
      assert.equal(got.length, want.length, `${key}: column count`)
      for (let i = 0; i < want.length; i++) {
        const col = header[i] ?? ''
        const w = want[i] ?? ''
        const g = got[i] ?? ''
        assert.equal(g === '', w === '', `${key} ${col}: HAProxy '${w}', tslb '${g}' (empty vs filled)`)
        if (!VOLATILE.has(col)) assert.equal(g, w, `${key} ${col}`)
      }
    }
  })

  test('show stat at level user hides addr, cookie and algo like HAProxy', async () => {
    const mine = csvRows(await cli(s.user.path, 'show stat'))
    const theirs = csvRows(fixture('show-stat-user.txt'))
    const header = csvHeader(fixture('show-stat-user.txt'))
    for (const col of ['addr', 'cookie', 'algo']) {
      const i = header.indexOf(col)
      for (const [key, want] of theirs) assert.equal(mine.get(key)?.[i], want[i], `${key} ${col}`)
    }
  })

  test('show stat typed: same lines (kind.iid.sid.pos.name.1:tags:type) as HAProxy', async () => {
    const key = (l: string): string => l.split(':').slice(0, 3).join(':')
    const ours = (await cli(s.admin.path, 'show stat typed')).split('\n').filter(l => l !== '').map(key)
    const ref = fixture('show-stat-typed.txt').split('\n').filter(l => l !== '').map(key)
    assert.deepEqual(ours, ref)
  })

  test('show stat typed desc appends the field descriptions', async () => {
    const ours = (await cli(s.admin.path, 'show stat typed desc')).split('\n')
    const ref = fixture('show-stat-typed-desc.txt').split('\n')
    const desc = (l: string): string => l.slice(l.lastIndexOf(':"'))
    assert.deepEqual(ours.map(desc), ref.map(desc))
  })

  test('show stat json: same objects, tags and value types as HAProxy', async () => {
    type F = { objType: string, proxyId: number, id: number, field: { pos: number, name: string }, tags: unknown, value: { type: string } }
    const shape = (rows: F[][]): string[][] => rows.map(r => r.map(f => `${f.objType}/${f.proxyId}/${f.id}/${f.field.pos}/${f.field.name}/${JSON.stringify(f.tags)}/${f.value.type}`))
    const ours = JSON.parse(await cli(s.admin.path, 'show stat json')) as F[][]
    const ref = JSON.parse(fixture('show-stat-json.txt')) as F[][]
    assert.deepEqual(shape(ours), shape(ref))
  })

  test('show stat PROXY TYPE SID selects rows (servers of be_app)', async () => {
    const ours = await cli(s.admin.path, 'show stat be_app 4 -1')
    assert.deepEqual([...csvRows(ours).keys()], [...csvRows(fixture('show-stat-scope.txt')).keys()])
    assert.equal(await cli(s.admin.path, 'show stat nope 1 -1'), 'No such proxy.\n\n')
  })

  test('show info: HAProxy keys in HAProxy order, Name: tslb', async () => {
    const keys = (t: string): string[] => t.split('\n').filter(l => l !== '').map(l => l.slice(0, l.indexOf(':')))
    const ours = await cli(s.admin.path, 'show info')
    const ref = fixture('show-info.txt')
    assert.match(ours, /^Name: tslb\nVersion: \d+\.\d+\.\d+/)
    assert.deepEqual(keys(ours), keys(ref).filter(k => k !== 'Release_date'))
    assert.match(ours, /\nPid: \d+\n/)
    assert.match(ours, /\nUptime: \d+d \d+h\d\dm\d\ds\n/)
    assert.ok(ours.endsWith('\n\n'))
  })

  test('show info typed / json: same positions, names and tags as HAProxy', async () => {
    const key = (l: string): string => l.split(':').slice(0, 3).join(':')
    const typed = (await cli(s.admin.path, 'show info typed')).split('\n').filter(l => l !== '').map(key)
    const refTyped = fixture('show-info-typed.txt').split('\n').filter(l => l !== '').map(key).filter(k => !k.startsWith('2.Release_date'))
    assert.deepEqual(typed, refTyped)
    type I = { field: { pos: number, name: string }, tags: unknown, value: { type: string } }
    const shape = (a: I[]): string[] => a.map(f => `${f.field.pos}/${f.field.name}/${JSON.stringify(f.tags)}/${f.value.type}`)
    const json = JSON.parse(await cli(s.admin.path, 'show info json')) as I[]
    const refJson = (JSON.parse(fixture('show-info-json.txt')) as I[]).filter(f => f.field.name !== 'Release_date')
    assert.deepEqual(shape(json), shape(refJson))
  })

  test('show servers state: the versioned format, field for field', async () => {
    const ours = (await cli(s.admin.path, 'show servers state')).split('\n')
    const ref = fixture('show-servers-state-user.txt').split('\n')
    assert.equal(ours[0], '1')
    assert.equal(ours[1], ref[1], 'field names line')
    assert.equal(ours.length, ref.length)
    for (let i = 2; i < ref.length; i++) {
      const g = (ours[i] ?? '').split(' ')
      const w = (ref[i] ?? '').split(' ')
      assert.equal(g.length, w.length, `line ${i}`)
      // srv_time_since_last_change (9) depends on timing; be_app/s2's health differs only because
      // it went through maint in HAProxy before this capture.
      for (let c = 0; c < w.length; c++) if (c !== 9 && !(c === 12 && w[3] === 's2')) assert.equal(g[c], w[c], `line ${i} field ${c}: ${ref[i] ?? ''}`)
    }
    const one = await cli(s.admin.path, 'show servers state be_app')
    assert.equal(one.split('\n').length, fixture('show-servers-state-be_app.txt').split('\n').length)
    assert.equal(await cli(s.admin.path, 'show servers state nope'), fixture('show-servers-state-unknown.txt'))
  })

  test('help: HAProxy header, usage lines in its 40-column layout, help/prompt/quit last', async () => {
    const ours = (await cli(s.admin.path, 'help')).split('\n')
    const ref = fixture('help.txt').split('\n')
    assert.equal(ours[0], ref[0])
    assert.deepEqual(ours.slice(-5), ref.slice(-5))
    for (const line of ours.slice(1, -5)) assert.match(line, /^ {2}.{40}: /, line)
    for (const line of ours.slice(1, -5)) assert.ok(ref.includes(line) || /\(tslb\)|or health/.test(line), `a HAProxy usage line: ${line}`)
  })

  test('unknown commands: HAProxy texts', async () => {
    const first = (t: string): string => t.split('\n')[0] ?? ''
    assert.equal(first(await cli(s.admin.path, 'foo')), first(fixture('unknown-foo.txt')))
    assert.equal(first(await cli(s.admin.path, 'show foo')), first(fixture('unknown-show-foo.txt')))
    assert.equal(first(await cli(s.admin.path, '')), first(fixture('unknown-empty.txt')))
    const showFoo = await cli(s.admin.path, 'show foo')
    assert.ok(showFoo.split('\n').slice(1, -5).every(l => l.startsWith('  show ')), showFoo)
  })

  test('weights: HAProxy messages and results', async () => {
    const a = s.admin.path
    const pairs: [string, string][] = [
      ['get weight be_app/s1', 'get-weight-user.txt'],
      ['set weight be_app/s1 50%', 'set-weight-pct.txt'],
      ['get weight be_app/s1', 'get-weight.txt'],
      ['set weight be_app/s1 300', 'set-weight-range.txt'],
      ['set weight be_app/s1 -1', 'set-weight-neg.txt'],
      ['set weight be_app/s1 -5%', 'set-weight-negpct.txt'],
      ['set weight be_app/s1 abc', 'set-weight-garbage.txt'],
      ['set weight be_app/s1 5x', 'set-weight-trailing.txt'],
      ['set weight be_app/s1', 'set-weight-missing.txt'],
      ['set weight be_static/a 2', 'set-weight-static.txt'],
      ['set weight nope/a 1', 'set-weight-nobackend.txt'],
      ['set weight be_app/zz 1', 'set-weight-noserver.txt'],
      ['set weight be_app 1', 'set-weight-noslash.txt'],
      ['get weight be_app', 'get-weight-noslash.txt'],
      ['get weight', 'get-weight-noarg.txt'],
      ['get weight nope/s1', 'get-weight-nobackend.txt'],
      ['get weight be_app/zz', 'get-weight-noserver.txt']
    ]
    for (const [cmd, file] of pairs) {
      assert.equal(await cli(a, cmd), fixture(file), cmd)
    }
    assert.equal(await cli(a, 'set weight be_static/a 0%'), fixture('set-weight-static-zero.txt'))
    assert.equal(await cli(a, 'get weight be_static/a'), '0 (initial 1)\n\n')
    assert.equal(await cli(a, 'set weight be_static/a 100%'), fixture('set-weight-static-restore.txt'))
    assert.equal(await cli(a, 'set weight be_app/#2 1'), fixture('set-weight-byid.txt'))
    assert.equal(await cli(a, 'get weight be_app/#2'), fixture('get-weight-byid.txt'))
    assert.equal(await cli(a, 'set server be_app/s2 weight 7'), fixture('set-server-weight.txt'))
    assert.equal(await cli(a, 'get weight be_app/s2'), fixture('get-weight-after-set-server.txt'))
    await cli(a, 'set weight be_app/s1 10')
    await cli(a, 'set weight be_app/s2 1')
  })

  test('set weight changes what the balancer picks (backend.refresh)', async () => {
    const be = s.lab.engine.backends.get('be_app')
    assert.ok(be !== undefined)
    assert.equal(await cli(s.admin.path, 'set weight be_app/s1 0'), '\n')
    for (let i = 0; i < 10; i++) assert.equal(be.balancer.pick({ source: '10.0.0.1' })?.name, 's2')
    await cli(s.admin.path, 'set weight be_app/s1 10')
  })

  test('disable / enable / set server state: HAProxy states in show stat and show servers state', async () => {
    const a = s.admin.path
    const be = s.lab.engine.backends.get('be_app')
    assert.ok(be !== undefined)
    assert.equal(await cli(a, 'disable server be_app/s2'), fixture('disable-server.txt'))
    const stat = (t: string, key: string): string[] => csvRows(t).get(key) ?? []
    const status = csvHeader(fixture('show-stat.txt')).indexOf('status')
    const weight = csvHeader(fixture('show-stat.txt')).indexOf('weight')
    const act = csvHeader(fixture('show-stat.txt')).indexOf('act')
    const ours = await cli(a, 'show stat')
    const ref = fixture('show-stat-after-disable.txt')
    for (const key of ['be_app/s2', 'be_app/BACKEND']) {
      for (const c of [status, weight, act]) assert.equal(stat(ours, key)[c], stat(ref, key)[c], `${key} column ${c}`)
    }
    for (let i = 0; i < 10; i++) assert.equal(be.balancer.pick({ source: '10.0.0.1' })?.name, 's1')
    const state = (t: string): string[] => (t.split('\n').find(l => l.includes(' s2 ')) ?? '').split(' ')
    assert.deepEqual(state(await cli(a, 'show servers state be_app')).slice(5, 9), state(fixture('show-servers-state-after-disable.txt')).slice(5, 9))
    assert.equal(await cli(a, 'enable server be_app/s2'), fixture('enable-server.txt'))
    assert.equal(be.serverByName('s2')?.admin, 'ready')
    assert.equal(await cli(a, 'set server be_app/s2 state drain'), fixture('set-server-drain.txt'))
    assert.equal(stat(await cli(a, 'show stat'), 'be_app/s2')[status], 'DRAIN')
    assert.deepEqual(state(await cli(a, 'show servers state be_app')).slice(5, 9), state(fixture('show-servers-state-after-drain.txt')).slice(5, 9))
    assert.equal(await cli(a, 'set server be_app/s2 state ready'), fixture('set-server-ready.txt'))
    assert.equal(await cli(a, 'set server be_app/s2 state foo'), fixture('set-server-state-bad.txt'))
    assert.equal(await cli(a, 'set server be_app/s2 state'), fixture('set-server-state-none.txt'))
    assert.equal(await cli(a, 'set server be_app/s2 health foo'), fixture('set-server-health-bad.txt'))
    assert.equal(await cli(a, 'set server be_app/s2 health down'), '\n')
    assert.equal(stat(await cli(a, 'show stat'), 'be_app/s2')[status], 'DOWN')
    for (let i = 0; i < 10; i++) assert.equal(be.balancer.pick({ source: '10.0.0.1' })?.name, 's1')
    assert.equal(await cli(a, 'set server be_app/s2 health up'), '\n')
    assert.equal(stat(await cli(a, 'show stat'), 'be_app/s2')[status], 'no check')
    assert.equal(await cli(a, 'set server be_app'), fixture('set-server-nosrv.txt'))
    assert.equal(await cli(a, 'set server'), fixture('set-server-noarg.txt'))
    assert.equal(await cli(a, 'disable server'), fixture('disable-server-noarg.txt'))
    assert.equal(await cli(a, 'disable server nope/x'), fixture('disable-server-nobackend.txt'))
    assert.match(await cli(a, 'set server be_app/s2 foo bar'), /^usage: set server <backend>\/<server> /)
  })

  test('levels: Permission denied as HAProxy, operator/user lower the session level', async () => {
    assert.equal(await cli(s.user.path, 'disable server be_app/s2'), fixture('disable-server-user.txt'))
    assert.equal(await cli(s.oper.path, 'disable server be_app/s2'), fixture('disable-server-oper.txt'))
    assert.equal(await cli(s.user.path, 'set weight be_app/s1 1'), fixture('set-weight-user.txt'))
    assert.equal(await cli(s.user.path, 'get weight be_app/s1'), fixture('get-weight-user.txt'))
    assert.equal(await cli(s.admin.path, 'show cli level'), fixture('show-cli-level.txt'))
    const seq = 'operator;show cli level;disable server be_app/s2;user;show cli level;operator;show cli level'
    assert.equal(await cli(s.admin.path, seq), fixture('operator-then-level.txt'))
    assert.equal(s.lab.engine.backends.get('be_app')?.serverByName('s2')?.admin, 'ready')
  })

  test('show backend, show version', async () => {
    assert.equal(await cli(s.admin.path, 'show backend'), fixture('show-backend.txt'))
    assert.match(await cli(s.admin.path, 'show version'), /^\d+\.\d+\.\d+\n\n$/)
  })

  test('table commands go to the tables provider with the words after "table" and the session level', async () => {
    const tables = fakeTables()
    const lab = fixtureLab({ tables })
    const api = new RuntimeApi(lab.engine, lab.providers)
    const session = newSession('admin')
    assert.equal(api.execute('show table', session) + '\n', fixture('show-table.txt'))
    assert.equal(api.execute('show table be_stick', session) + '\n', fixture('show-table-be_stick.txt'))
    assert.equal(api.execute('show table nope', session) + '\n', fixture('show-table-unknown.txt'))
    api.execute('operator', session)
    assert.equal(api.execute('clear table be_stick key 10.0.0.1', session), '')
    api.execute('set table be_stick key 10.0.0.1 data.conn_cur 3', newSession('user'))
    assert.deepEqual(tables.calls.slice(3), [
      ['clear', ['be_stick', 'key', '10.0.0.1'], 'operator'],
      ['set', ['be_stick', 'key', '10.0.0.1', 'data.conn_cur', '3'], 'user']
    ])
    assert.equal(await cli(s.admin.path, 'show table be_stick'), fixture('show-table-be_stick.txt'))
  })
})

describe('runtime API without providers', () => {
  let s: Setup
  before(async () => { s = await setup({ tables: undefined }) })
  after(async () => { await s.cleanup() })

  test('no tables, peers or VRRP: HAProxy answers for an unconfigured feature', async () => {
    const a = s.admin.path
    assert.equal(await cli(a, 'show table'), '\n')
    assert.equal(await cli(a, 'show table be_stick'), 'No such table\n\n')
    assert.equal(await cli(a, 'clear table be_stick'), 'No such table\n\n')
    assert.equal(await cli(a, 'clear table'), fixture('clear-table-noarg.txt'))
    assert.equal(await cli(a, 'show peers'), '\n')
    assert.equal(await cli(a, 'show peers nope'), fixture('show-peers-unknown.txt'))
    assert.equal(await cli(a, 'show vrrp'), '\n')
  })

  test('peers and VRRP providers are called', () => {
    const lab = fixtureLab({ peers: (section, dict) => section === undefined ? `all dict=${String(dict)}\n` : section === 'mypeers' ? 'one\n' : undefined, vrrp: () => 'VI_1 MASTER\n' })
    const api = new RuntimeApi(lab.engine, lab.providers)
    const session = newSession('admin')
    assert.equal(api.execute('show peers', session), 'all dict=false\n')
    assert.equal(api.execute('show peers dict', session), 'all dict=true\n')
    assert.equal(api.execute('show peers mypeers', session), 'one\n')
    assert.equal(api.execute('show peers - dict', session), 'No such peers\n')
    assert.equal(api.execute('show vrrp', session), 'VI_1 MASTER\n')
  })
})

describe('runtime API protocol', () => {
  let s: Setup
  before(async () => { s = await setup() })
  after(async () => { await s.cleanup() })

  test('commands separated by ; are answered in order, then the connection closes', async () => {
    assert.equal(await cli(s.admin.path, 'get weight be_app/s1;get weight be_app/s2'), fixture('pipelined-semicolon.txt'))
  })

  test('prompt: interactive mode with "> ", empty line prints the usage, prompt again leaves it', async () => {
    const out = await talk(s.admin.path, ['prompt\n', { wait: 50 }, 'get weight be_app/s1\n', { wait: 50 }, 'get weight nope/x\n', { wait: 50 }, '\n', { wait: 50 }, 'prompt\n', { wait: 50 }, 'get weight be_app/s1\n'], { end: false })
    const ref = fixture('prompt-session.txt')
    const shape = (t: string): string[] => t.split('\n').filter(l => !l.startsWith('  '))
    assert.deepEqual(shape(out), shape(ref))
  })

  test('quit closes at once; later commands are not run', async () => {
    assert.equal(await talk(s.admin.path, ['prompt\nget weight be_app/s1\nquit\nget weight be_app/s2\n']), '\n> 10 (initial 10)\n\n> ')
  })

  test('a command without its newline is dropped, as in HAProxy', async () => {
    assert.equal(await talk(s.admin.path, ['get weight be_app/s1']), fixture('no-newline.txt'))
  })

  test('CRLF, blanks, escaped semicolon, NUL', async () => {
    assert.equal(await talk(s.admin.path, ['get weight be_app/s1\r\n']), '10 (initial 10)\n\n')
    assert.equal(await talk(s.admin.path, ['  get   weight\tbe_app/s1  \n']), '10 (initial 10)\n\n')
    assert.equal(await talk(s.admin.path, ['get weight be_app\\;s1\n']), "Require 'backend/server'.\n\n")
    assert.equal(await talk(s.admin.path, [Buffer.from('get weight be_app/s1\0junk\n')]), '10 (initial 10)\n\n')
    assert.deepEqual(splitArgs('a\\ b c\\\\d'), { args: ['a b', 'c\\d'], payloadMarker: false })
  })

  test('a command split over several packets', async () => {
    assert.equal(await talk(s.admin.path, ['get wei', { wait: 30 }, 'ght be_app/s1', { wait: 30 }, '\n']), '10 (initial 10)\n\n')
  })

  test('map and ACL changes need the admin level (stricter than HAProxy 2.6, which checks none); looking does not',
    async () => {
      for (const cmd of ['add map foo a b', 'set map foo a b', 'del map foo a', 'clear map foo', 'add acl foo a',
        'del acl foo a', 'clear acl foo']) {
        assert.equal(await cli(s.oper.path, cmd), 'Permission denied\n\n', cmd)
        assert.equal(await cli(s.admin.path, cmd), `Unknown ${cmd.includes('acl') ? 'ACL' : 'map'} identifier. ` +
          'Please use #<id> or <file>.\n\n', cmd)
      }
      assert.equal(await cli(s.user.path, 'show map'), '# id (file) description\n\n')
      assert.equal(await cli(s.user.path, 'show acl foo'), 'Unknown ACL identifier. Please use #<id> or <file>.\n\n')
    })

  test('a payload (<<) is gathered until an empty line', async () => {
    const out = await talk(s.admin.path, ['add map foo <<\n', 'a 1\n', 'b 2\n', '\n'])
    assert.equal(out, 'Unknown map identifier. Please use #<id> or <file>.\n\n')
  })

  test('a payload that does not fit tune.bufsize is refused with HAProxy\'s message and the session closed', async () => {
    const small = await talk(s.user.path, ['add map foo <<\n', 'a 1\n'.repeat(100), '\n'])
    assert.equal(small, 'Permission denied\n\n')
    // 5000 lines of 4 bytes: 20 kB with the command line, over the 16 kB buffer; nothing is run.
    const big = await talk(s.user.path, ['add map foo <<\n', 'a 1\n'.repeat(5000), '\n', 'show info\n'])
    assert.equal(big, `${TOO_BIG}\n`)
    // One payload line that never ends is bounded the same way.
    assert.equal(await talk(s.user.path, ['add map foo <<\nk ', 'v'.repeat(20000)], { end: false }), `${TOO_BIG}\n`)
  })

  test('a client streaming an endless payload holds one buffer of memory and is closed', async () => {
    const heapBefore = process.memoryUsage().heapUsed
    let sent = 0
    const closed = await new Promise<boolean>(resolve => {
      const c = connect(s.user.path)
      const chunk = Buffer.from('k v\n'.repeat(16384))
      c.on('error', () => {})
      c.on('close', () => { resolve(true) })
      c.on('connect', () => {
        c.write('add map foo <<\n')
        const pump = (): void => {
          // 64 MiB at most; an unbounded server keeps reading it all and never closes.
          while (!c.destroyed && sent < 64 * 1024 * 1024) {
            sent += chunk.length
            if (!c.write(chunk)) { c.once('drain', pump); return }
          }
          if (!c.destroyed) setTimeout(() => { c.destroy(); resolve(false) }, 2000)
        }
        pump()
      })
    })
    assert.ok(closed, 'the server did not close the session')
    assert.ok(sent < 64 * 1024 * 1024, `the server read ${sent} bytes of payload`)
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 32 * 1024 * 1024)
    assert.equal(await cli(s.user.path, 'get weight be_app/s1'), '10 (initial 10)\n\n')
  })

  test('a line longer than the buffer closes the connection without an answer', async () => {
    assert.equal(await talk(s.admin.path, ['get weight ' + 'a'.repeat(20000) + '\n']), '')
    assert.equal(await talk(s.admin.path, ['get weight ' + 'a'.repeat(16000) + '\n']), "Require 'backend/server'.\n\n")
  })

  test('random bytes never crash the server', async () => {
    let seed = 42
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
    for (let i = 0; i < 60; i++) {
      const len = rnd() % 300
      const bytes = Buffer.alloc(len)
      for (let j = 0; j < len; j++) bytes[j] = rnd() % 4 === 0 ? [10, 59, 92, 32, 60][rnd() % 5] as number : rnd() % 256
      await talk(s.admin.path, [bytes, '\n'], { timeoutMs: 3000 }).catch(() => '')
    }
    for (const cmd of ['set weight be_app/s1 99999999999999999999', 'set weight be_app/s1 1e3', 'show stat 1 2', 'show stat x y z', 'get weight /', 'get weight be_app/', 'set server be_app/s1 weight', 'show servers state #3', 'clear table \\x', 'help help help help help help help']) {
      const out = await cli(s.admin.path, cmd)
      assert.ok(out.endsWith('\n'), cmd)
    }
    assert.equal(await cli(s.admin.path, 'get weight be_app/s1'), '10 (initial 10)\n\n')
  })

  test('a client that does not read its answers is not answered faster than it reads', async () => {
    const n = 300
    const out = await new Promise<string>((resolve, reject) => {
      const c = connect(s.admin.path)
      const chunks: Buffer[] = []
      c.on('error', reject)
      c.on('connect', () => {
        c.pause()
        c.write('prompt\n' + 'show stat\n'.repeat(n) + 'quit\n')
        setTimeout(() => {
          c.on('data', (b: Buffer) => { chunks.push(b) })
          c.resume()
        }, 200)
      })
      c.on('close', () => { resolve(Buffer.concat(chunks).toString()) })
    })
    assert.equal(out.split('# pxname,').length - 1, n)
  })

  test('idle connections time out', async () => {
    const lab = fixtureLab()
    const { dir, cleanup } = tempDir()
    const api = await listenRuntimeApi(join(dir, 'x.sock'), undefined, 'admin', lab.engine, { ...lab.providers, timeoutMs: 150 })
    const started = Date.now()
    assert.equal(await talk(api.path, ['prompt\n'], { end: false }), '\n> ')
    assert.ok(Date.now() - started < 2000)
    await api.close()
    cleanup()
  })

  test('connections beyond maxConnections are refused', async () => {
    const lab = fixtureLab()
    const { dir, cleanup } = tempDir()
    const api = await listenRuntimeApi(join(dir, 'x.sock'), undefined, 'admin', lab.engine, { ...lab.providers, maxConnections: 2 })
    const held = await Promise.all([0, 1].map(async () => await new Promise<ReturnType<typeof connect>>(resolve => {
      const c = connect(api.path, () => { c.write('prompt\n'); c.once('data', () => { resolve(c) }) })
    })))
    assert.equal(await talk(api.path, ['get weight be_app/s1\n'], { timeoutMs: 2000 }), '')
    for (const c of held) c.destroy()
    await new Promise(r => setTimeout(r, 50))
    assert.equal(await cli(api.path, 'get weight be_app/s1'), '10 (initial 10)\n\n')
    await api.close()
    cleanup()
  })

  test('reload: a new listener takes the path over; closing the old one leaves it in place', async () => {
    const lab = fixtureLab()
    const { dir, cleanup } = tempDir()
    const path = join(dir, 'r.sock')
    const first = await listenRuntimeApi(path, undefined, 'admin', lab.engine, lab.providers)
    const second = await listenRuntimeApi(path, undefined, 'admin', lab.engine, lab.providers)
    await first.close()
    assert.ok(existsSync(path))
    assert.equal(await cli(path, 'get weight be_app/s1'), '10 (initial 10)\n\n')
    await second.close()
    assert.ok(!existsSync(path))
    cleanup()
  })
})
