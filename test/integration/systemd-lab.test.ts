/**
 * tslb under a real systemd (Debian 12's 252) in the systemd-nspawn lab: systemd/tslb.service as
 * scripts/install and vagrant/provision.sh put it in place, driven with systemctl on lb1.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { LabNode } from '../helpers/lab.ts'
import { useSystemdLab } from '../helpers/systemd-lab.ts'

const { lab, exec } = useSystemdLab()
const CONFIG = '/etc/tslb/tslb.cfg'

function config (servers: LabNode[]): string {
  return `global
    log stdout local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend www
    bind *:80
    default_backend app
backend app
    balance roundrobin
${servers.map(s => `    server ${s} ${lab.addr(s)}:80\n`).join('')}
vrrp_instance VI_1
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress ${lab.vips[0]}/24 dev eth0
`
}

async function lb1 (...argv: string[]): Promise<{ code: number, out: string }> {
  const r = await exec('lb1', argv)
  return { code: r.code, out: r.stdout + r.stderr }
}

async function writeConfig (text: string): Promise<void> {
  const r = await lb1('sh', '-c', 'printf "%s" "$1" > "$2"', 'sh', text, CONFIG)
  assert.equal(r.code, 0, r.out)
}

async function show (): Promise<Record<string, string>> {
  const r = await lb1('systemctl', 'show', 'tslb', '-p', 'ActiveState,SubState,MainPID,StatusText,Result,Type,NotifyAccess')
  return Object.fromEntries(r.out.trim().split('\n').map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
}

async function get (host: string): Promise<string> {
  const r = await lab.exec('client', ['curl', '-s', '--max-time', '2', `http://${host}/`])
  return r.code === 0 ? r.stdout.trim() : `curl exit ${r.code}`
}

async function tslbProcesses (): Promise<string> {
  return (await lb1('sh', '-c', 'ps -o pid=,args= -u tslb || true')).out.trim()
}

async function journal (): Promise<string> {
  return (await lb1('journalctl', '-u', 'tslb', '--no-pager', '-o', 'cat')).out
}

describe('tslb under systemd (nspawn lab)', () => {
  // lb2 and lb3 boot as the lab's cluster (VRRP on the VIPs this suite gives lb1 alone): stopped.
  before(async () => {
    for (const node of ['lb2', 'lb3'] as const) {
      const r = await exec(node, ['systemctl', 'stop', 'tslb'])
      assert.equal(r.code, 0, r.stdout + r.stderr)
    }
  })

  test('installed enabled: tslb started at boot, Type=notify, as user tslb with three capabilities', async () => {
    const s = await show()
    assert.equal(s['ActiveState'], 'active')
    assert.equal(s['Type'], 'notify')
    assert.equal(s['NotifyAccess'], 'main')
    const pid = s['MainPID'] ?? '0'
    const st = await lb1('sh', '-c', `stat -c %U /proc/${pid}; grep CapEff /proc/${pid}/status`)
    // CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_NET_RAW (13)
    assert.match(st.out, /^tslb\nCapEff:\s+0000000000003400\n$/)
  })

  test('scripts/install put the man pages and the bash completion in place', async () => {
    for (const [installed, source] of [
      ['/usr/local/share/man/man1/tslb.1', 'man/tslb.1'],
      ['/usr/local/share/man/man5/tslb.cfg.5', 'man/tslb.cfg.5'],
      ['/usr/local/share/bash-completion/completions/tslb', 'completion/tslb.bash']
    ] as const) {
      const r = await lb1('cat', installed)
      assert.equal(r.code, 0, r.out)
      assert.equal(r.out, readFileSync(new URL(`../../${source}`, import.meta.url), 'utf8'), installed)
    }
  })

  test('systemctl stop: inactive, no process left', async () => {
    const r = await lb1('systemctl', 'stop', 'tslb')
    assert.equal(r.code, 0, r.out)
    const s = await show()
    assert.equal(s['ActiveState'], 'inactive')
    assert.equal(s['Result'], 'success')
    assert.equal(await tslbProcesses(), '')
  })

  test('systemctl start returns once tslb is ready: it serves and holds the VIP', async () => {
    await writeConfig(config(['web1', 'web2']))
    const r = await lb1('systemctl', 'start', 'tslb')
    assert.equal(r.code, 0, r.out)
    const s = await show()
    assert.equal(s['ActiveState'], 'active')
    assert.equal(s['SubState'], 'running')
    assert.match(s['StatusText'] ?? '', /^serving generation 1; VRRP VI_1 \w+; 0 reload\(s\)$/)
    // READY=1 came after the control socket: it answers at once, and traffic flows.
    const st = await lb1('tslb', 'status')
    assert.equal(st.code, 0, st.out)
    assert.deepEqual([await get(lab.addr('lb1')), await get(lab.addr('lb1'))].sort(), ['web1', 'web2'])
    // systemd's "Started" is logged after the supervisor's own start line (Type=simple would not wait).
    const j = await journal()
    const started = j.lastIndexOf('"supervisor started"')
    assert.ok(started >= 0 && j.indexOf('Started tslb.service', started) > started, j)
    let vip = ''
    for (let i = 0; i < 80 && !vip.includes(`${lab.vips[0]}/24`); i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      vip = (await lb1('ip', '-4', 'addr', 'show', 'dev', 'eth0')).out
    }
    assert.match(vip, new RegExp(`inet ${lab.vips[0].replaceAll('.', '\\.')}/24`))
    assert.match(await get(lab.vips[0]), /^web[12]$/)
  })

  test('systemctl reload: returns once the new configuration serves', async () => {
    await writeConfig(config(['web3']))
    const r = await lb1('systemctl', 'reload', 'tslb')
    assert.equal(r.code, 0, r.out)
    assert.deepEqual([await get(lab.addr('lb1')), await get(lab.addr('lb1'))], ['web3', 'web3'])
    const s = await show()
    assert.equal(s['SubState'], 'running')
    assert.match(s['StatusText'] ?? '', /^serving generation 2(, 1 draining)?; VRRP VI_1 MASTER; 1 reload\(s\)$/)
  })

  test('a broken configuration makes systemctl reload fail; the running one keeps serving', async () => {
    await writeConfig(`${config(['web4'])}backend broken\n    balanc roundrobin\n`)
    const r = await lb1('systemctl', 'reload', 'tslb')
    assert.notEqual(r.code, 0)
    const s = await show()
    assert.equal(s['ActiveState'], 'active')
    assert.equal(s['SubState'], 'running')
    assert.equal(await get(lab.addr('lb1')), 'web3')
    assert.match(await journal(), /reload refused/)
  })

  test('journalctl -u tslb has the supervisor\'s and the workers\' lines', async () => {
    const j = await journal()
    for (const line of ['"supervisor started"', '"configuration reloaded"', '"worker serving"', 'www app/web3']) assert.ok(j.includes(line), `no ${line} in\n${j}`)
  })

  test('systemctl stop: clean (priority-0 advert, VIP released), inactive, nothing left', async () => {
    await writeConfig(config(['web3']))
    const r = await lb1('systemctl', 'stop', 'tslb')
    assert.equal(r.code, 0, r.out)
    const s = await show()
    assert.equal(s['ActiveState'], 'inactive')
    assert.equal(s['Result'], 'success')
    assert.equal(await tslbProcesses(), '')
    assert.doesNotMatch((await lb1('ip', '-4', 'addr', 'show', 'dev', 'eth0')).out, new RegExp(lab.vips[0].replaceAll('.', '\\.')))
    assert.match(await get(lab.addr('lb1')), /^curl exit/)
    assert.match(await journal(), /"stopped"/)
  })
})
