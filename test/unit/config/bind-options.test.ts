import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import { BIND_OPTION_TREATMENT } from '../../../src/config/keywords/bind-options.ts'

function diagnostics (bindOptions: string): { errors: string[], warnings: string[] } {
  const r = parseConfig(`frontend f\n  mode tcp\n  timeout client 1s\n  bind 127.0.0.1:8080 ${bindOptions}\n  default_backend b\nbackend b\n  mode tcp\n  timeout connect 1s\n  timeout server 1s\n  server s 127.0.0.1:1\n`, 't.cfg', { env: {} })
  return {
    errors: r.diagnostics.filter(d => d.severity === 'error').map(d => d.message),
    warnings: r.diagnostics.filter(d => d.severity === 'warning').map(d => d.message)
  }
}

test('bind options tslb does not enforce are named by tslb check: errors where exposure depends on them, warnings otherwise', () => {
  assert.deepEqual(diagnostics('backlog 100'), { errors: [], warnings: [] })
  for (const [name, t] of Object.entries(BIND_OPTION_TREATMENT)) {
    if (t.kind === 'enforced') continue
    const d = diagnostics(['v4v6', 'v6only', 'transparent', 'defer-accept', 'tfo'].includes(name) ? name : `${name} ${name === 'maxconn' ? '10' : 'x'}`)
    if (t.kind === 'refused') assert.match(d.errors.join('\n'), new RegExp(`bind option '${name}' is not supported by tslb yet`), name)
    else assert.match(d.warnings.join('\n'), new RegExp(`bind option '${name}' `), name)
  }
  assert.match(diagnostics('interface eth1').errors.join('\n'), /would listen on every interface/)
  assert.match(diagnostics('maxconn 10').warnings.join('\n'), /bind option 'maxconn' is parsed but not enforced yet/)
  assert.match(diagnostics('mode 600').warnings.join('\n'), /applies to unix sockets only/)
})
