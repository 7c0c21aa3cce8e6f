import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'
import { listenerIds } from '../../../src/config/listener-ids.ts'

const BASE = 'defaults\n  mode http\n  timeout client 5s\nfrontend fe\n'

function binds (lines: string): ReturnType<typeof parseConfig> {
  return parseConfig(BASE + lines, 't.cfg', { env: {} })
}

test('listener ids: one per address and port in order, explicit ids kept and skipped', () => {
  const r = binds('  bind 127.0.0.1:80,127.0.0.1:81\n  bind 127.0.0.1:90 id 3\n  bind 127.0.0.1:100-102\n')
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  assert.deepEqual(listenerIds(r.config.proxies.find(p => p.name === 'fe')?.binds ?? []), [[1, 2], [3], [4, 5, 6]])
  const s = binds('  bind 127.0.0.1:80\n  bind 127.0.0.1:90 id 1\n  bind 127.0.0.1:91 id 2\n  bind 127.0.0.1:92\n')
  assert.deepEqual(listenerIds(s.config.proxies.find(p => p.name === 'fe')?.binds ?? []), [[3], [1], [2], [4]])
})

test('bind id: positive, on a single socket, unique in its frontend', () => {
  const errors = (lines: string): string[] => binds(lines).diagnostics.filter(d => d.severity === 'error')
    .map(formatDiagnostic)
  assert.match(errors('  bind 127.0.0.1:80,127.0.0.1:81 id 4\n')[0] ?? '', /'id' can only be used with a single socket/)
  assert.match(errors('  bind 127.0.0.1:80-81 id 4\n')[0] ?? '', /'id' can only be used with a single socket/)
  assert.match(errors('  bind 127.0.0.1:80 id 4\n  bind 127.0.0.1:81 id 4\n')[0] ?? '', /4 is already used/)
  assert.equal(errors('  bind 127.0.0.1:80 id 0\n').length, 1)
})
