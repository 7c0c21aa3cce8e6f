import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseAclDefinition, parseCondition } from '../../../../src/config/acl.ts'
import { compileAcl, compileCondition } from '../../../../src/proxy/acl/matcher.ts'
import type { SampleSource } from '../../../../src/proxy/acl/sample.ts'

const LOC = { file: 't.cfg', line: 1 }
const acl = (words: string) => compileAcl(parseAclDefinition('a', words.split(' '), LOC))
const req = (url: string, headers: Record<string, string> = {}): SampleSource => ({
  src: '192.0.2.1', srcPort: 1, dst: '127.0.0.1', dstPort: 80, method: 'GET', url, versionMinor: 1,
  headerValues: (n: string) => { const v = headers[n.toLowerCase()]; return v === undefined ? [] : [v] }
})

test('-m len takes integer operators and ranges, as HAProxy', () => {
  assert.equal(acl('hdr(x) -m len gt 5')(req('/', { x: '123456' })), true)
  assert.equal(acl('hdr(x) -m len gt 5')(req('/', { x: '12345' })), false)
  assert.equal(acl('hdr(x) -m len 2:3')(req('/', { x: 'abc' })), true)
  assert.equal(acl('hdr(x) -m len 4')(req('/', { x: 'abc' })), false)
})

test('-m dir splits on / and ?', () => {
  assert.equal(acl('url -m dir sub')(req('/a/sub?q=1')), true)
  assert.equal(acl('url -m dir q=1')(req('/a/sub?q=1')), true)
  assert.equal(acl('url -m dir su')(req('/a/sub')), false)
})

test('hdr() matches each comma-separated value; HTTP versions; a converter sets the default match', () => {
  assert.equal(acl('hdr(x) -m str b')(req('/', { x: 'a, b' })), true)
  assert.equal(acl('req.fhdr(x) -m str b')(req('/', { x: 'a, b' })), false)
  assert.equal(acl('src,ipmask(24) 192.0.2.0/24')(req('/')), true)
  assert.equal(acl('hdr(x),lower -m str abc')(req('/', { x: 'AbC' })), true)
})

test('a condition compiles only the ACLs it names (a proxy with one use_backend per ACL builds in linear time)', () => {
  const host = parseAclDefinition('host', ['hdr(host)', '-i', 'a.example'], LOC)
  // Not one the parser lets through: compiling it would throw, so it shows whether it is compiled.
  const other = { ...parseAclDefinition('other', ['path', '-m', 'reg', 'x'], LOC), values: ['('] }
  const when = compileCondition(parseCondition(['if', 'host'], LOC), [host, other])
  assert.equal(when(req('/', { host: 'A.example' })), true)
  assert.equal(when(req('/', { host: 'b.example' })), false)
  assert.throws(() => compileCondition(parseCondition(['if', 'other'], LOC), [host, other]), SyntaxError)
})

test('so_id (an integer) and so_name read the listening socket', () => {
  const s: SampleSource = { ...req('/'), listener: { id: 12, name: 'public' } }
  assert.equal(acl('so_id gt 9')(s), true)
  assert.equal(acl('so_id 12')(s), true)
  assert.equal(acl('so_name public')(s), true)
  assert.equal(acl('so_name -m beg pub')(s), true)
  assert.equal(acl('so_name -m found')({ ...req('/'), listener: { id: 1 } }), false)
  assert.equal(acl('so_id -m found')(req('/')), false)
})
