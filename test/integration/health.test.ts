/**
 * Health checks in the lab, replaying seed 004 §4.1 (soft stop by removing the check file, with
 * persist + redispatch; the same with `http-check disable-on-404`, where the server goes NOLB
 * instead of DOWN) and §4.2 (backup servers take over when every primary fails its check).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { useLab } from '../helpers/lab.ts'
import { runTslbOn, type RunningTslb } from '../helpers/tslb-node.ts'

const lab = useLab()
let tslb: RunningTslb
const statsSocket = join(mkdtempSync(join(tmpdir(), 'tslb-health-')), 'admin.sock')

function config (net: string): string {
  return `global
    log stdout local0
    stats socket ${statsSocket} mode 600 level admin
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
listen softstop
    bind *:80
    balance roundrobin
    cookie SERVERID insert indirect
    option httpchk HEAD /running HTTP/1.0
    option persist
    option redispatch
    server webA ${net}.21:80 cookie A check inter 100 rise 2 fall 2
    server webB ${net}.22:80 cookie B check inter 100 rise 2 fall 2
listen shared-cookies
    bind *:82
    balance roundrobin
    cookie SERVERID insert indirect
    option httpchk HEAD /running HTTP/1.0
    server webA ${net}.21:80 cookie A check port 81 inter 100 rise 2 fall 2
    server webB ${net}.22:80 cookie B check port 81 inter 100 rise 2 fall 2
    server bkpA ${net}.23:80 cookie A check port 81 inter 100 rise 2 fall 2 backup
    server bkpB ${net}.24:80 cookie B check port 81 inter 100 rise 2 fall 2 backup
listen with-backups
    bind *:81
    balance roundrobin
    option httpchk HEAD /running HTTP/1.0
    server webC ${net}.23:80 check inter 100 rise 2 fall 2
    server bkpD ${net}.24:80 check inter 100 rise 2 fall 2 backup
listen nolb
    bind *:83
    balance roundrobin
    cookie SERVERID insert indirect
    option httpchk HEAD /running HTTP/1.0
    http-check disable-on-404
    option persist
    server webA ${net}.21:80 cookie A check inter 100 rise 2 fall 2
    server webB ${net}.22:80 cookie B check inter 100 rise 2 fall 2
listen nolb-stick
    bind *:84
    mode tcp
    balance first
    stick-table type ip size 1k expire 10m
    stick on src
    option httpchk HEAD /running HTTP/1.0
    http-check disable-on-404
    server webA ${net}.21:80 check inter 100 rise 2 fall 2
    server webB ${net}.22:80 check inter 100 rise 2 fall 2
`
}

const runningFile = (node: string): string => `/run/tslb-lab/${lab.prefix}/${node}/www/running`
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function served (port: number, n: number, cookie?: string, from: 'client' | 'lb2' = 'client'): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const args = ['curl', '-s', '--max-time', '3', ...(cookie === undefined ? [] : ['-H', `Cookie: ${cookie}`]), `http://${lab.addr('lb1')}:${port}/`]
    out.push((await lab.exec(from, args)).stdout.trim())
  }
  return out
}

async function socat (command: string): Promise<string> {
  const { stdout } = await promisify(execFile)('sh', ['-c', `echo "${command}" | socat stdio unix-connect:${statsSocket}`])
  return stdout
}

/** The status column of `show stat` for a server. */
async function statStatus (proxy: string, server: string): Promise<string | undefined> {
  const lines = (await socat('show stat')).split('\n')
  const cols = (lines[0] ?? '').replace(/^# /, '').split(',')
  const row = lines.find(l => l.startsWith(`${proxy},${server},`))?.split(',')
  return row?.[cols.indexOf('status')]
}

async function waitFor (what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

describe('health checks (seed 004 §4.1, §4.2)', () => {
  before(async () => { tslb = await runTslbOn(lab, 'lb1', config(lab.net)) })
  after(async () => {
    await tslb?.stop()
    for (const n of ['web1', 'web3']) {
      if (existsSync(`${runningFile(n)}.off`)) renameSync(`${runningFile(n)}.off`, runningFile(n))
    }
  })

  test('§4.1 soft stop: removing the check file takes webA out of rotation, persistent clients stay', async () => {
    assert.deepEqual(new Set(await served(80, 4)), new Set(['web1', 'web2']))
    renameSync(runningFile('web1'), `${runningFile('web1')}.off`)
    await waitFor('webA DOWN', () => tslb.output().includes('Server softstop/webA is DOWN, reason: Layer7 wrong status, code: 404'))
    assert.deepEqual(new Set(await served(80, 6)), new Set(['web2']))
    // option persist: a client whose cookie names webA keeps going there while it still answers.
    assert.deepEqual(new Set(await served(80, 3, 'SERVERID=A')), new Set(['web1']))
    renameSync(`${runningFile('web1')}.off`, runningFile('web1'))
    await waitFor('webA UP', () => tslb.output().includes('Server softstop/webA is UP'))
    assert.deepEqual(new Set(await served(80, 4)), new Set(['web1', 'web2']))
  })

  test('§4.1 soft stop with http-check disable-on-404: webA goes NOLB, keeps its cookie and stick-table clients, gets no new ones', async () => {
    assert.deepEqual(new Set(await served(83, 4)), new Set(['web1', 'web2']))
    // balance first + stick on src: the client is stored on webA.
    assert.deepEqual(new Set(await served(84, 2)), new Set(['web1']))
    const mark = tslb.output().length
    renameSync(runningFile('web1'), `${runningFile('web1')}.off`)
    await waitFor('nolb/webA stopping', () => tslb.output().slice(mark).includes('Server nolb/webA is stopping, reason: Layer7 check conditionally passed, code: 404'))
    await waitFor('nolb-stick/webA stopping', () => tslb.output().slice(mark).includes('Server nolb-stick/webA is stopping'))
    assert.equal(await statStatus('nolb', 'webA'), 'NOLB')
    const state = (await socat('show servers state nolb')).split('\n').find(l => l.split(' ')[3] === 'webA')?.split(' ')
    assert.equal(state?.[5], '3', 'srv_op_state 3: stopping')
    assert.deepEqual(new Set(await served(83, 6)), new Set(['web2']))
    assert.deepEqual(new Set(await served(83, 3, 'SERVERID=A')), new Set(['web1']))
    // TCP mode, stick table: the stored client keeps webA, a new source (lb2) is balanced to webB.
    assert.deepEqual(new Set(await served(84, 3)), new Set(['web1']))
    assert.deepEqual(new Set(await served(84, 3, undefined, 'lb2')), new Set(['web2']))
    // Still NOLB (never DOWN) all along: 404 is a conditional pass, not a failure.
    assert.ok(!tslb.output().slice(mark).includes('Server nolb/webA is DOWN'))
    renameSync(`${runningFile('web1')}.off`, runningFile('web1'))
    await waitFor('nolb/webA UP', () => tslb.output().slice(mark).includes('Server nolb/webA is UP'))
    assert.equal(await statStatus('nolb', 'webA'), 'UP')
    assert.deepEqual(new Set(await served(83, 4)), new Set(['web1', 'web2']))
    // The other proxies check the same file without disable-on-404: let them see webA UP again.
    for (const px of ['softstop', 'shared-cookies']) await waitFor(`${px}/webA UP`, () => tslb.output().slice(mark).includes(`Server ${px}/webA is UP`))
  })

  test('§4.2 backups share their server cookie: while webA fails its port-81 check, cookie A goes to bkpA', async () => {
    assert.deepEqual(new Set(await served(82, 3, 'SERVERID=A')), new Set(['web1']))
    const mark = tslb.output().length
    renameSync(runningFile('web1'), `${runningFile('web1')}.off`)
    await waitFor('shared-cookies/webA DOWN', () => tslb.output().slice(mark).includes('Server shared-cookies/webA is DOWN'))
    assert.deepEqual(new Set(await served(82, 3, 'SERVERID=A')), new Set(['web3']))
    assert.deepEqual(new Set(await served(82, 3, 'SERVERID=B')), new Set(['web2']))
    renameSync(`${runningFile('web1')}.off`, runningFile('web1'))
    await waitFor('shared-cookies/webA UP', () => tslb.output().slice(mark).includes('Server shared-cookies/webA is UP'))
    assert.deepEqual(new Set(await served(82, 3, 'SERVERID=A')), new Set(['web1']))
  })

  test('§4.2 backup: the backup serves only while the primary is down', async () => {
    assert.deepEqual(new Set(await served(81, 3)), new Set(['web3']))
    renameSync(runningFile('web3'), `${runningFile('web3')}.off`)
    await waitFor('webC DOWN', () => tslb.output().includes('Server with-backups/webC is DOWN'))
    assert.match(tslb.output(), /Running on backup/)
    assert.deepEqual(new Set(await served(81, 3)), new Set(['web4']))
    renameSync(`${runningFile('web3')}.off`, runningFile('web3'))
    await waitFor('webC UP', () => tslb.output().includes('Server with-backups/webC is UP'))
    assert.deepEqual(new Set(await served(81, 3)), new Set(['web3']))
  })
})
