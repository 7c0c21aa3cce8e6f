import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deleteTableScript, destinations, FLIP_TABLE, flipScript, plugMarkScript, SYN_DROP_TABLE, synDropScript } from '../../../src/reload/rules.ts'
import { listenerKey } from '../../../src/ipc/messages.ts'
import type { ListenerSpec } from '../../../src/supervisor/listeners.ts'

function spec (host: string, port: number, family: 0 | 4 | 6 = 0): ListenerSpec {
  return { key: listenerKey(host, port), host, port, family, sockets: 1 }
}

function ruleLines (script: string): string[] {
  return script.split('\n').map(l => l.trim()).filter(l => / (drop|dnat|mark set) /.test(l))
}

test('destinations: wildcard IPv4, dual-stack ::, and a specific address of either family', () => {
  assert.deepEqual(destinations(spec('', 80)), [{ family: 'ip', address: undefined, port: 80 }])
  assert.deepEqual(destinations(spec('::', 80, 6)), [{ family: 'ip', address: undefined, port: 80 }, { family: 'ip6', address: undefined, port: 80 }])
  assert.deepEqual(destinations(spec('198.18.0.11', 8080, 4)), [{ family: 'ip', address: '198.18.0.11', port: 8080 }])
  assert.deepEqual(destinations(spec('2001:db8::1', 443, 6)), [{ family: 'ip6', address: '2001:db8::1', port: 443 }])
})

test('syn-drop: one tagged drop rule per destination, SYN without ACK only, before conntrack', () => {
  const script = synDropScript([spec('', 80), spec('198.18.0.11', 8080, 4)])
  assert.deepEqual(ruleLines(script), [
    'fib daddr type local meta nfproto ipv4 tcp dport 80 tcp flags & (syn | ack) == syn drop comment "tslb syn-drop"',
    'ip daddr 198.18.0.11 tcp dport 8080 tcp flags & (syn | ack) == syn drop comment "tslb syn-drop"'
  ])
  assert.match(script, /type filter hook prerouting priority raw;/)
  assert.doesNotMatch(script, /hook output/, 'a SYN dropped on output fails connect() instead of being retransmitted')
})

test('syn-drop for tc-plug leaves loopback traffic to the plug', () => {
  const [rule] = ruleLines(synDropScript([spec('', 80)], { exceptLoopback: true }))
  assert.equal(rule, 'iifname != "lo" fib daddr type local meta nfproto ipv4 tcp dport 80 tcp flags & (syn | ack) == syn drop comment "tslb syn-drop"')
})

test('every script replaces its table in one transaction and names it as tslb\'s', () => {
  const script = synDropScript([spec('', 80)])
  const lines = script.split('\n')
  assert.deepEqual(lines.slice(0, 3), [`table inet ${SYN_DROP_TABLE}`, `delete table inet ${SYN_DROP_TABLE}`, `table inet ${SYN_DROP_TABLE} {`])
  assert.match(lines[3] ?? '', /^ {2}comment "tslb syn-drop: /)
  assert.equal(deleteTableScript(FLIP_TABLE), `table inet ${FLIP_TABLE}\ndelete table inet ${FLIP_TABLE}\n`)
})

test('iptables-flip: DNAT keeps the destination address and changes only the port, for remote and local clients', () => {
  // Wildcard rules match local destinations only: the worker's own connections to backends on port 80 must not be DNATed.
  const script = flipScript('B', [
    { spec: spec('', 80), slotPort: 40001 },
    { spec: spec('198.18.0.100', 443, 4), slotPort: 40002 },
    { spec: spec('2001:db8::1', 443, 6), slotPort: 40003 }
  ])
  const rules = [
    'fib daddr type local meta nfproto ipv4 tcp dport 80 tcp flags & (syn | ack) == syn dnat ip to ip daddr:40001 comment "tslb slot B"',
    'ip daddr 198.18.0.100 tcp dport 443 tcp flags & (syn | ack) == syn dnat ip to 198.18.0.100:40002 comment "tslb slot B"',
    'ip6 daddr 2001:db8::1 tcp dport 443 tcp flags & (syn | ack) == syn dnat ip6 to [2001:db8::1]:40003 comment "tslb slot B"'
  ]
  assert.deepEqual(ruleLines(script), [...rules, ...rules])
  assert.match(script, /chain prerouting \{\n\s+type nat hook prerouting priority dstnat;/)
  assert.match(script, /chain output \{\n\s+type nat hook output priority -100;/)
  assert.match(script, new RegExp(`^table inet ${FLIP_TABLE}\ndelete table inet ${FLIP_TABLE}\n`))
})

test('tc-plug marks SYNs on output, where lo\'s egress qdisc sees them', () => {
  const script = plugMarkScript([spec('', 80)])
  assert.deepEqual(ruleLines(script), ['fib daddr type local meta nfproto ipv4 tcp dport 80 tcp flags & (syn | ack) == syn meta mark set 0x7c5b comment "tslb tc-plug"'])
  assert.match(script, /type filter hook output priority mangle;/)
})
