import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, parseConfig } from '../../../src/config/parser.ts'
import { ConfigError, formatDiagnostic } from '../../../src/util/errors.ts'
import type { Lookup } from '../../../src/config/resolve.ts'

const CFG = 'defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nlisten l\n  bind 127.0.0.1:8000\n  server a localhost:8080\n  server b web.example:80 check\n  server c 198.18.0.9:80\n'
const dir = mkdtempSync(join(tmpdir(), 'tslb-resolve-'))
const file = join(dir, 'r.cfg')
writeFileSync(file, CFG)

const table: Record<string, { address: string, family: number }[]> = {
  localhost: [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }],
  'web.example': [{ address: '2001:db8::5', family: 6 }]
}
const fake: Lookup = async name => {
  const r = table[name]
  return r === undefined ? await Promise.reject(new Error('ENOTFOUND')) : r
}

test('server host names are resolved once at load: IPv4 preferred, IPv6 when it is all there is', async () => {
  const { config } = await loadConfig(file, { env: {}, lookup: fake })
  const servers = config.proxies.find(p => p.name === 'l')?.servers ?? []
  assert.deepEqual(servers.map(s => [s.name, s.address.host, s.address.family, s.address.port]), [['a', '127.0.0.1', 4, 8080], ['b', '2001:db8::5', 6, 80], ['c', '198.18.0.9', 4, 80]])
})

test('a name that does not resolve is a configuration error naming the server and the line', async () => {
  writeFileSync(join(dir, 'bad.cfg'), CFG.replace('web.example', 'nowhere.invalid'))
  await assert.rejects(loadConfig(join(dir, 'bad.cfg'), { env: {}, lookup: fake }), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    assert.deepEqual(err.diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic), [`${join(dir, 'bad.cfg')}:9: server 'b': could not resolve address 'nowhere.invalid'`])
    return true
  })
})

test('the system resolver answers localhost (from /etc/hosts)', async () => {
  writeFileSync(join(dir, 'l.cfg'), CFG.replace('  server b web.example:80 check\n', ''))
  const { config } = await loadConfig(join(dir, 'l.cfg'), { env: {} })
  const a = config.proxies.find(p => p.name === 'l')?.servers.find(s => s.name === 'a')
  assert.ok(a?.address.host === '127.0.0.1' || a?.address.host === '::1', a?.address.host)
})

test('only servers take names: bind and an ipv4@-forced server address do not', () => {
  const errs = (t: string): string => parseConfig(t, 't.cfg', { env: {} }).diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic).join('\n')
  assert.match(errs('listen l\n  bind localhost:80\n  server a 127.0.0.1:1\n'), /'localhost' is not an IP address/)
  assert.match(errs('listen l\n  bind :80\n  server a ipv4@localhost:1\n'), /'localhost' is not an IP address/)
})

test('a server address that is neither an IP, a host name nor a unix socket says so', () => {
  const errs = (t: string): string => parseConfig(t, 't.cfg', { env: {} }).diagnostics.filter(d => d.severity === 'error').map(formatDiagnostic).join('\n')
  assert.equal(errs('listen l\n  bind :80\n  server a /tmp/x.sock\n'), '', 'a unix socket server (test/unit/proxy/unix-server.test.ts)')
  assert.match(errs('listen l\n  bind :80\n  server a bad_name!:80\n'), /'bad_name!' is neither an IP address nor a host name/)
})
