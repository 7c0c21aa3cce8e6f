import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'

function errors (text: string): string[] {
  return parseConfig(text, 't.cfg', { env: {} }).diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic)
}

const INSTANCE = 'vrrp_instance VI_1\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress 198.18.0.100/24\n'

test('keepalived blocks pasted in: one error per block opening, the section still parsed, a lone } after it not repeated', () => {
  assert.deepEqual(errors(`vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    198.18.0.100/24
  }
  priorty 100
}
`), [
    "t.cfg:1: 'vrrp_instance VI_1 {': keepalived's brace syntax; tslb sections have no braces: write 'vrrp_instance VI_1' with its keywords on the lines below (run 'tslb convert' on a keepalived.conf)",
    "t.cfg:1: vrrp_instance 'VI_1' has no 'virtual_ipaddress'",
    "t.cfg:5: 'virtual_ipaddress {': keepalived's block syntax; write one 'virtual_ipaddress ...' line per entry (run 'tslb convert' on a keepalived.conf)",
    "t.cfg:6: unknown keyword '198.18.0.100/24' in 'vrrp_instance' section (an address alone on a line is keepalived's virtual_ipaddress block: write 'virtual_ipaddress 198.18.0.100/24')",
    "t.cfg:8: unknown keyword 'priorty' in 'vrrp_instance' section (did you mean 'priority'?)"
  ])
  assert.deepEqual(errors(`${INSTANCE}}\n`), ["t.cfg:6: '}': keepalived's brace syntax; tslb sections have no braces (run 'tslb convert' on a keepalived.conf)"])
})

test("HAProxy's anonymous ACLs in braces are not taken for keepalived blocks", () => {
  assert.deepEqual(errors('frontend fe\n  bind 127.0.0.1:80\n  http-request set-header x y if { path_beg /admin }\n'), [])
})

test('misplacements get the keyword they meant: builtin without script, a keyword of another section, keepalived-only keywords', () => {
  assert.deepEqual(errors(`vrrp_script chk\n  script builtin proxy\n  builtin proxy\n${INSTANCE}  router_id LB1\n  bind :80\nbackend app\n  priority 100\nglobal\n  server s1 198.18.0.21:80\n`), [
    "t.cfg:3: unknown keyword 'builtin' in 'vrrp_script' section (did you mean 'script builtin proxy'?)",
    "t.cfg:9: unknown keyword 'router_id' in 'vrrp_instance' section (keepalived's global_defs router_id: tslb names the node with -L)",
    "t.cfg:10: unknown keyword 'bind' in 'vrrp_instance' section ('bind' belongs in a defaults/frontend/backend/listen or peers section)",
    "t.cfg:12: unknown keyword 'priority' in backend section ('priority' belongs in a vrrp_instance section)",
    "t.cfg:14: unknown keyword 'server' in 'global' section ('server' belongs in a defaults/frontend/backend/listen or peers section)"
  ])
})

test('every unknown keyword gets a hint: near one elsewhere, or where the list is', () => {
  assert.deepEqual(errors('global\n  virtual_routr_id 5\n  frobnicate 1\nbackend app\n  server s1 198.18.0.21:80\n'), [
    "t.cfg:2: unknown keyword 'virtual_routr_id' in 'global' section (did you mean 'virtual_router_id' in a vrrp_instance section?)",
    "t.cfg:3: unknown keyword 'frobnicate' in 'global' section (the global keywords are listed in docs/configuration.md and tslb.cfg(5))"
  ])
})

test("keepalived's global_defs block: the section's own error, nothing for its nested blocks and braces", () => {
  assert.deepEqual(errors(`global_defs {\n  notification_email {\n    ops@example.com\n  }\n  router_id LB1\n}\n${INSTANCE}`), [
    "t.cfg:1: 'global_defs' sections are not supported: keepalived's global_defs has no tslb equivalent: settings go in 'global' (run 'tslb convert' on the keepalived.conf)"
  ])
})
