import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { convertKeepalived, parseKeepalived, quoteWord } from '../../../src/vrrp/convert.ts'
import { ConvertError } from '../../../src/vrrp/errors.ts'
import { parseConfig } from '../../../src/config/parser.ts'
import { tokenizeLine } from '../../../src/config/tokenizer.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'
import type { Config } from '../../../src/config/model.ts'

const dir = join(import.meta.dirname, '../../fixtures/seeds')
const seeds = readdirSync(dir).filter(f => f.endsWith('.keepalived.conf')).sort()

function load (text: string): Config {
  const { config, diagnostics } = parseConfig(text, 'converted.cfg', { env: {} })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic), [], text)
  return config
}

test('there are keepalived seeds to convert', () => {
  assert.ok(seeds.length >= 4)
})

for (const file of seeds) {
  test(`seed ${file} converts to sections that pass the config checks`, () => {
    const r = convertKeepalived(readFileSync(join(dir, file), 'utf8'), file)
    const config = load(r.text)
    assert.equal(config.vrrpInstances.length, 1)
    assert.equal(config.vrrpScripts.length, 1)
    const vi = config.vrrpInstances[0]
    assert.equal(vi?.name, 'VI_1')
    assert.equal(vi?.virtualRouterId, 51)
    assert.equal(vi?.interface, 'eth0')
    assert.equal(vi?.virtualAddresses[0]?.address, '198.18.0.100')
    assert.deepEqual(vi?.trackScripts, [{ name: 'chk_haproxy' }])
    const s = config.vrrpScripts[0]
    assert.deepEqual(s?.script, { kind: 'exec', command: 'killall -0 haproxy' })
    assert.equal(s?.interval, 2000)
    assert.equal(s?.weight, 2)
  })
}

test('seed 001 (lb1): authentication, VIP options, state and priority carried over; global_defs ignored with a comment', () => {
  const r = convertKeepalived(readFileSync(join(dir, '001-lb1-vrrp-chk-haproxy.keepalived.conf'), 'utf8'))
  assert.match(r.text, /^# global_defs \(line \d+\) ignored: notification_email, notification_email_from, smtp_server, smtp_connect_timeout, router_id/m)
  assert.match(r.text, /^ {4}authentication PASS 1111$/m)
  assert.match(r.text, /^ {4}virtual_ipaddress 198\.18\.0\.100\/24 brd 198\.18\.0\.255 dev eth0 label eth0:ha$/m)
  const vi = load(r.text).vrrpInstances[0]
  assert.equal(vi?.state, 'MASTER')
  assert.equal(vi?.priority, 100)
  assert.equal(vi?.advertInt, 1000)
  assert.deepEqual(vi?.authentication, { type: 'PASS', password: '1111' })
  assert.deepEqual({ ...vi?.virtualAddresses[0], loc: undefined }, { address: '198.18.0.100', prefixLength: 24, family: 4, dev: 'eth0', label: 'eth0:ha', broadcast: '198.18.0.255', scope: undefined, loc: undefined })
  assert.equal(r.warnings, 0)
})

test('seed 001 (lb2) is the BACKUP at priority 99', () => {
  const vi = load(convertKeepalived(readFileSync(join(dir, '001-lb2-vrrp-chk-haproxy.keepalived.conf'), 'utf8')).text).vrrpInstances[0]
  assert.equal(vi?.state, 'BACKUP')
  assert.equal(vi?.priority, 99)
})

const RICH = `
! a comment
global_defs {
   router_id X
   vrrp_version 3
   vrrp_garp_master_delay 2
   vrrp_strict
}
vrrp_script chk_web {
   script "/usr/local/bin/check web 'two words'"
   interval 1
   timeout 3
   weight -20 reverse
   rise 2
   fall 3
   user nobody nogroup
   init_fail
}
vrrp_script chk_proxy {
   script "pidof haproxy"
}
vrrp_sync_group G1 {
   group {
      VI_1
      VI_6
   }
}
vrrp_instance VI_1 {
   state BACKUP
   interface eth0
   virtual_router_id 7
   priority 120
   advert_int 0.5
   nopreempt
   unicast_src_ip 198.18.0.11
   unicast_peer {
      198.18.0.12
      198.18.0.13 min_ttl 200
   }
   authentication {
      auth_type PASS
      auth_pass secret
   }
   virtual_ipaddress {
      198.18.0.100/24 dev eth0 label eth0:vi1
      198.18.0.101 peer 198.18.0.1 no_track
   }
   virtual_ipaddress_excluded {
      198.18.0.150
   }
   track_script { chk_web weight 10 }
   track_interface {
      eth1 weight -30
      eth2
   }
   notify_master "/etc/keepalived/master.sh arg1" root
   notify /etc/keepalived/any.sh
   smtp_alert
   use_vmac
   mcast_src_ip 198.18.0.11
}
vrrp_instance VI_6 {
   interface eth0
   virtual_router_id 8
   version 2
   advert_int 1.5
   authentication {
      auth_type AH
      auth_pass x
   }
   virtual_ipaddress { 198.18.0.102/32 }
}
virtual_server 198.18.0.100 80 {
   delay_loop 6
   real_server 198.18.0.21 80 {
      weight 1
   }
}
include /etc/keepalived/other.conf
`

test('a richer keepalived.conf: globals applied, blocks flattened, unsupported options reported as warnings', () => {
  const r = convertKeepalived(RICH)
  const config = load(r.text)
  assert.equal(r.instances, 2)
  assert.equal(r.scripts, 2)
  const [vi1, vi6] = config.vrrpInstances
  assert.equal(vi1?.version, 3, 'vrrp_version from global_defs')
  assert.equal(vi1?.garpMasterDelay, 2000, 'vrrp_garp_master_delay from global_defs')
  assert.equal(vi1?.advertInt, 500, 'v3 keeps the fraction')
  assert.equal(vi1?.nopreempt, true)
  assert.equal(vi1?.unicastSrcIp, '198.18.0.11')
  assert.deepEqual(vi1?.unicastPeers, ['198.18.0.13', '198.18.0.12'])
  assert.deepEqual(vi1?.unicastPeerTtl, [{ address: '198.18.0.13', min: 200, max: 255 }], 'min_ttl carried')
  assert.equal(vi1?.checkUnicastSrc, true, 'a TTL range turns check_unicast_src on, as in keepalived')
  assert.equal(vi1?.authentication, undefined, 'v3: authentication dropped')
  assert.deepEqual(vi1?.virtualAddresses.map(v => `${v.address}/${v.prefixLength} ${v.label ?? ''}`), ['198.18.0.100/24 eth0:vi1', '198.18.0.101/32 '])
  assert.deepEqual(vi1?.trackScripts, [{ name: 'chk_web', weight: 10 }])
  assert.deepEqual(vi1?.trackInterfaces, [{ name: 'eth1', weight: -30 }, { name: 'eth2' }])
  assert.deepEqual(vi1?.notify.master, { command: '/etc/keepalived/master.sh arg1', user: 'root' }, 'the notify user carried')
  assert.deepEqual(vi1?.notify.any, { command: '/etc/keepalived/any.sh' })
  assert.equal(vi6?.version, 2, 'a per-instance version wins over vrrp_version')
  assert.equal(vi6?.advertInt, 2000, 'v2: rounded to whole seconds')
  assert.equal(vi6?.authentication, undefined, 'AH dropped')
  assert.deepEqual(vi6?.virtualAddresses.map(v => v.address), ['198.18.0.102'])
  const web = config.vrrpScripts.find(s => s.name === 'chk_web')
  assert.deepEqual(web?.script, { kind: 'exec', command: "/usr/local/bin/check web 'two words'" })
  assert.equal(web?.timeout, 3000)
  assert.equal(web?.weight, -20)
  assert.equal(web?.rise, 2)
  assert.equal(web?.fall, 3)
  assert.equal(web?.user, 'nobody')
  assert.equal(web?.group, 'nogroup')
  assert.deepEqual(config.vrrpSyncGroups.map(g => [g.name, g.members]), [['G1', ['VI_1', 'VI_6']]])
  for (const expected of [
    /vrrp_strict is not supported/,
    /'weight \.\.\. reverse' is not supported/,
    /'init_fail' has no equivalent/,
    /virtual_ipaddress 198\.18\.0\.101: 'peer 198\.18\.0\.1 no_track' not supported/,
    /'virtual_ipaddress_excluded' has no tslb equivalent/,
    /'smtp_alert' has no tslb equivalent/,
    /'use_vmac' has no tslb equivalent/,
    /'mcast_src_ip' has no tslb equivalent/,
    /authentication is ignored in VRRPv3/,
    /auth_type AH is not supported/,
    /VRRPv2 advert_int 1\.5 is rounded to 2 s/,
    /LVS virtual servers are not converted/,
    /'include \/etc\/keepalived\/other\.conf' not followed/
  ]) assert.match(r.text, expected)
  assert.ok(r.text.split('\n').filter(l => l.includes('# warning:')).every(l => /line \d+/.test(l)), 'every warning names its keepalived.conf line')
})

test('keepalived syntax: comments, one-line blocks, braces glued to words, errors with line numbers', () => {
  const s = parseKeepalived('a {b c}\n# x\nd "e f" ! g\n')
  assert.deepEqual(s.map(x => x.words.map(w => w.text)), [['a'], ['d', 'e f']])
  assert.deepEqual(s[0]?.block?.map(x => x.words.map(w => w.text)), [['b', 'c']])
  assert.throws(() => parseKeepalived('a {\n b\n'), (e: unknown) => e instanceof ConvertError && /line 1: '\{' is never closed/.test(e.message))
  assert.throws(() => parseKeepalived('a\n}\n'), (e: unknown) => e instanceof ConvertError && /line 2/.test(e.message))
  assert.throws(() => parseKeepalived('script "abc\n'), ConvertError)
})

test('quoteWord round-trips through the tslb tokenizer', () => {
  for (const w of ['plain', '198.18.0.1/24', 'two words', "it's", 'a "b" $HOME \\ c', "mix 'a' \"b\"", '']) {
    assert.deepEqual(tokenizeLine(`kw ${quoteWord(w)}`, {}).words, ['kw', w])
  }
})

test('check_unicast_src: per instance, and global_defs vrrp_check_unicast_src on every unicast instance', () => {
  const inst = (name: string, vrid: number, extra: string): string =>
    `vrrp_instance ${name} {\n interface eth0\n virtual_router_id ${vrid}\n version 3\n${extra} virtual_ipaddress {\n  198.18.0.${vrid}/24\n }\n}\n`
  const unicast = ' unicast_peer {\n  198.18.0.12\n }\n'
  let config = load(convertKeepalived(inst('A', 1, `${unicast} check_unicast_src\n`) + inst('B', 2, unicast)).text)
  assert.deepEqual(config.vrrpInstances.map(i => i.checkUnicastSrc), [true, false])
  const r = convertKeepalived(`global_defs {\n vrrp_check_unicast_src\n}\n${inst('A', 1, unicast)}${inst('B', 2, '')}`)
  config = load(r.text)
  assert.deepEqual(config.vrrpInstances.map(i => i.checkUnicastSrc), [true, false], 'multicast instances are left alone')
  assert.doesNotMatch(r.text, /ignored: .*vrrp_check_unicast_src/)
})

test("a '{' on the line after 'vrrp_instance NAME' (and after other block keywords) keeps the block", () => {
  const r = convertKeepalived('vrrp_script chk\n{\n  script "/bin/true"\n}\nvrrp_instance VI_1\n{\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress\n  {\n    198.18.0.100/24\n  }\n  track_script\n  {\n    chk\n  }\n}\n')
  assert.equal(r.instances, 1)
  assert.equal(r.warnings, 0, r.text)
  const config = load(r.text)
  assert.deepEqual(config.vrrpInstances[0]?.virtualAddresses.map(v => v.address), ['198.18.0.100'])
  assert.deepEqual(config.vrrpInstances[0]?.trackScripts, [{ name: 'chk' }])
  assert.deepEqual(config.vrrpScripts[0]?.script, { kind: 'exec', command: '/bin/true' })
})

test('vrrp_sync_group: members, the group notify scripts, its track_* blocks on every member', () => {
  const r = convertKeepalived(`vrrp_script chk {
  script "/bin/true"
}
vrrp_sync_group G {
  group {
    A
    B
  }
  track_script {
    chk
  }
  notify_master "/etc/keepalived/group-master.sh x"
  notify "/etc/keepalived/group.sh"
  smtp_alert
}
vrrp_instance A {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    198.18.0.100
  }
}
vrrp_instance B {
  interface eth0
  virtual_router_id 2
  virtual_ipaddress {
    198.18.0.101
  }
}
`)
  const c = load(r.text)
  const g = c.vrrpSyncGroups[0]
  assert.deepEqual(g?.members, ['A', 'B'])
  assert.deepEqual(g?.notify.master, { command: '/etc/keepalived/group-master.sh x' })
  assert.deepEqual(g?.notify.any, { command: '/etc/keepalived/group.sh' })
  assert.deepEqual(c.vrrpInstances.map(i => i.trackScripts), [[{ name: 'chk' }], [{ name: 'chk' }]])
  assert.match(r.text, /'smtp_alert' has no tslb equivalent/)
})

test('mixed IPv4/IPv6 VIPs: a multicast instance is split in two that move together; a unicast one keeps its family', () => {
  const inst = (extra: string): string => `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 150
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    198.18.0.100/24
    2001:db8::100/64
    198.18.0.101/24
  }
${extra}}
`
  const r = convertKeepalived(inst(''))
  const c = load(r.text)
  assert.deepEqual(c.vrrpInstances.map(i => [i.name, i.version, i.priority, i.virtualAddresses.map(v => v.address), i.authentication?.type]), [
    ['VI_1', 2, 150, ['198.18.0.100', '198.18.0.101'], 'PASS'],
    ['VI_1_v6', 3, 150, ['2001:db8::100'], undefined]
  ])
  assert.deepEqual(c.vrrpSyncGroups.map(g => [g.name, g.members]), [['VI_1_families', ['VI_1', 'VI_1_v6']]])
  assert.match(r.text, /split into VI_1 and VI_1_v6/)
  const u = convertKeepalived(inst('  unicast_peer {\n    198.18.0.12\n  }\n'))
  const cu = load(u.text)
  assert.deepEqual(cu.vrrpInstances.map(i => i.virtualAddresses.map(v => v.address)), [['198.18.0.100', '198.18.0.101']])
  assert.match(u.text, /the other family's VIPs are dropped/)
  const grouped = convertKeepalived(`${inst('')}vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 52\n  virtual_ipaddress {\n    198.18.0.102\n  }\n}\nvrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n}\n`)
  assert.deepEqual(load(grouped.text).vrrpSyncGroups.map(g => [g.name, g.members]), [['G', ['VI_1', 'VI_1_v6', 'VI_2']]], 'the split instance joins the existing group')
})

test('track_file and vrrp_track_process blocks and their use in instances; script_user and enable_script_security', () => {
  const r = convertKeepalived(`global_defs {
  script_user nobody nogroup
  enable_script_security
}
track_file prio {
  file "/run/tslb-prio"
  weight -2 reverse
  init_file 0
}
vrrp_track_process web {
  process "/usr/sbin/nginx" -g "daemon off;"
  param_match partial
  weight 20
  quorum 2
  delay 0.5
}
vrrp_instance A {
  interface eth0
  virtual_router_id 1
  track_file {
    prio weight 3 noreverse
  }
  track_process {
    web
  }
  notify_master /bin/true
  virtual_ipaddress {
    198.18.0.100
  }
}
`)
  const c = load(r.text)
  assert.deepEqual(c.global.scriptUser, { user: 'nobody', group: 'nogroup' })
  assert.equal(c.global.enableScriptSecurity, true)
  assert.deepEqual([c.vrrpTrackFiles[0]?.file, c.vrrpTrackFiles[0]?.weight, c.vrrpTrackFiles[0]?.reverse, c.vrrpTrackFiles[0]?.init], ['/run/tslb-prio', -2, true, { value: 0, overwrite: false }])
  const p = c.vrrpTrackProcesses[0]
  assert.deepEqual([p?.process, p?.params, p?.paramMatch, p?.weight, p?.quorum, p?.forkDelay], ['/usr/sbin/nginx', ['-g', 'daemon off;'], 'partial', 20, 2, 500])
  assert.deepEqual(c.vrrpInstances[0]?.trackFiles, [{ name: 'prio', weight: 3, reverse: false }])
  assert.deepEqual(c.vrrpInstances[0]?.trackProcesses, [{ name: 'web' }])
  assert.doesNotMatch(r.text, /has no tslb equivalent/)
})
