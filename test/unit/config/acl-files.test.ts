import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import { readPatterns } from '../../../src/config/acl-files.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'
import type { AclDefinition } from '../../../src/config/model.ts'

const FILES: Record<string, string> = {
  '/p.lst': '# comment\n/a\n\t /b\n\n/c\r\n',
  '/ips.lst': '10.0.0.0/8\n192.0.2.1\nnot-an-ip\n',
  '/re.lst': '^/ok$\n(\n',
  '/hosts.map': 'a.example be1\nb.example\tbe2\n'
}
const read = (f: string): string => {
  const t = FILES[f]
  if (t === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' })
  return t
}

function parse (lines: string): { acls: AclDefinition[], diagnostics: string[] } {
  const r = parseConfig(`frontend fe\n  mode http\n  bind :80\n${lines}`, 't.cfg', { env: {}, readFile: read })
  return { acls: r.config.proxies[0]?.acls ?? [], diagnostics: r.diagnostics.filter(d => d.line !== 1).map(formatDiagnostic) }
}

test('pattern files: one per line, leading blanks, empty lines and # comments skipped, CR dropped', () => {
  assert.deepEqual(readPatterns(FILES['/p.lst'] as string), ['/a', '/b', '/c'])
})

test('acl -f appends the file to the inline values (several files allowed); -M takes a map file\'s keys', () => {
  const { acls, diagnostics } = parse('  acl x path_beg -f /p.lst /inline\n  acl h hdr(host) -M -f /hosts.map\n' +
    '  http-request deny if x || h\n')
  assert.deepEqual(diagnostics, [])
  assert.deepEqual(acls[0]?.values, ['/inline', '/a', '/b', '/c'])
  assert.deepEqual(acls[1]?.values, ['a.example', 'b.example'])
})

test('an unreadable file, a bad address or a bad regex in a file is an error at the ACL line', () => {
  assert.deepEqual(parse('  acl x path -f /nope\n').diagnostics, ["t.cfg:4: ACL 'x': cannot read '/nope': ENOENT"])
  assert.deepEqual(parse('  acl x src -f /ips.lst\n').diagnostics, ["t.cfg:4: ACL 'x': 'not-an-ip' in '/ips.lst' is not an IP address or network"])
  assert.deepEqual(parse('  acl x path_reg -f /re.lst\n').diagnostics, ["t.cfg:4: ACL 'x': '(' in '/re.lst' is an invalid regular expression"])
})

test('anonymous ACLs read their files too', () => {
  const r = parseConfig('frontend fe\n  mode http\n  bind :80\n  http-request deny if { src -f /ips.lst }\n', 't.cfg', { env: {}, readFile: f => f === '/ips.lst' ? '10.0.0.0/8\n' : '' })
  assert.deepEqual(r.diagnostics.filter(d => d.line !== 1), [])
  const term = r.config.proxies[0]?.httpRules[0]?.cond?.terms[0]?.[0]
  assert.ok(term !== undefined && typeof term.acl !== 'string')
  assert.deepEqual(term.acl.values, ['10.0.0.0/8'])
})
