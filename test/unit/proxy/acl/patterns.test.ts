// Map and ACL files changeable at runtime: the store, the compiled converters and ACLs reading it,
// and the runtime API commands' answers (compared with what HAProxy 2.6.12 answered by hand).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../../src/config/parser.ts'
import type { Config, ConverterCall } from '../../../../src/config/model.ts'
import { compileChain } from '../../../../src/proxy/acl/converters.ts'
import { compileCondition } from '../../../../src/proxy/acl/matcher.ts'
import { PatternStore } from '../../../../src/proxy/acl/patterns.ts'
import { patternCommand } from '../../../../src/proxy/stats/runtime-api-maps.ts'

const FILES: Record<string, string> = {
  '/m/hosts.map': '# hosts\na.example be_a\nb.example be_b\n',
  '/m/paths.acl': '/blocked\n'
}

const CFG = `defaults
  mode http
frontend f
  bind 127.0.0.1:1
  http-request deny if { path -f /m/paths.acl }
  use_backend %[req.hdr(host),lower,map(/m/hosts.map,be_a)]
backend be_a
backend be_b
`

function load (text = CFG): { config: Config, store: PatternStore } {
  const { config, diagnostics } = parseConfig(text, 'h.cfg', { env: {}, readFile: f => {
    const text = FILES[f]
    if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
    return text
  } })
  assert.deepEqual(diagnostics.filter(d => d.severity === 'error'), [])
  return { config, store: PatternStore.fromConfig(config) }
}

function mapCall (value: unknown): ConverterCall[] {
  if (value === null || typeof value !== 'object') return []
  if (Array.isArray(value)) return value.flatMap(mapCall)
  const o = value as Record<string, unknown>
  const own = Array.isArray(o.converters) ? (o.converters as ConverterCall[]).filter(c => c.name === 'map') : []
  return [...own, ...Object.entries(o).filter(([k]) => k !== 'converters').flatMap(([, v]) => mapCall(v))]
}

const run = (store: PatternStore, line: string, payload?: string): string => {
  const [verb = '', what = '', ...args] = line.split(' ')
  return patternCommand(store, verb as 'show', what === 'map', args, payload)
}

test('show map / show acl: the list in HAProxy 2.6 form, files numbered in configuration order', () => {
  const { store } = load()
  assert.equal(run(store, 'show map'), '# id (file) description\n' +
    "1 (/m/hosts.map) pattern loaded from file '/m/hosts.map' used by map at file 'h.cfg' line 6. " +
    'curr_ver=0 next_ver=0 entry_cnt=2\n')
  assert.equal(run(store, 'show acl'), '# id (file) description\n' +
    "0 (/m/paths.acl) pattern loaded from file '/m/paths.acl' used by acl at file 'h.cfg' line 5. " +
    'curr_ver=0 next_ver=0 entry_cnt=1\n')
})

test('show map: a file read on several lines lists each use, as HAProxy 2.6', () => {
  const { store } = load(`${CFG}  http-request set-header X-B %[req.hdr(host),map_beg(/m/hosts.map)]\n`)
  assert.equal(run(store, 'show map'), '# id (file) description\n' +
    "1 (/m/hosts.map) pattern loaded from file '/m/hosts.map' used by map at file 'h.cfg' line 6, by map at file " +
    "'h.cfg' line 9. curr_ver=0 next_ver=0 entry_cnt=2\n")
  assert.equal(run(store, 'get map #1 a.example.org'),
    'type=str, case=sensitive, found=no\n' +
    'type=beg, case=sensitive, found=yes, idx=tree, key="a.example", value="be_a", type="str"\n')
})

test('show map FILE|#ID: one 0xPTR KEY VALUE line per entry, stable pointers', () => {
  const { store } = load()
  const shown = run(store, 'show map /m/hosts.map')
  assert.match(shown, /^0x[0-9a-f]+ a\.example be_a\n0x[0-9a-f]+ b\.example be_b\n$/)
  assert.equal(run(store, 'show map #1'), shown)
  assert.equal(run(store, 'show map #7'), 'Unknown map identifier. Please use #<id> or <file>.\n')
  assert.equal(run(store, 'add acl /m/hosts.map x'), 'This ACL is shared with a map containing samples. You must ' +
    "use the command 'add map' to add values.\n")
  assert.equal(run(store, 'show acl #9'), 'Unknown ACL identifier. Please use #<id> or <file>.\n')
  assert.match(run(store, 'show acl #0'), /^0x[0-9a-f]+ \/blocked\n$/)
})

test('a map converter sees add/set/del/clear without a reload; exact-match stays a Map lookup', () => {
  const { config, store } = load()
  const [call] = mapCall(config.proxies)
  assert.ok(call !== undefined)
  const conv = compileChain([call])
  assert.ok(conv !== undefined)
  assert.equal(conv('b.example', () => undefined), 'be_b')
  assert.equal(conv('c.example', () => undefined), 'be_a')
  assert.equal(run(store, 'add map /m/hosts.map c.example be_b'), '')
  assert.equal(conv('c.example', () => undefined), 'be_b')
  assert.equal(run(store, 'set map #1 c.example be_x'), '')
  assert.equal(conv('c.example', () => undefined), 'be_x')
  assert.equal(run(store, 'set map #1 nope be_x'), 'entry not found.\n')
  assert.equal(run(store, 'del map #1 c.example'), '')
  assert.equal(run(store, 'del map #1 c.example'), 'Key not found.\n')
  assert.equal(conv('c.example', () => undefined), 'be_a')
  assert.equal(run(store, 'clear map /m/hosts.map'), '')
  assert.equal(conv('b.example', () => undefined), 'be_a')
  assert.equal(run(store, 'show map #1'), '')
})

test('add map with a payload, set/del by #0xPTR', () => {
  const { store } = load()
  assert.equal(run(store, 'add map #1', 'x.example be_x\ny.example  be_y z\n'), '')
  const lines = run(store, 'show map #1').trim().split('\n')
  assert.equal(lines.length, 4)
  assert.match(lines[3] ?? '', / y\.example be_y z$/)
  const ptr = (lines[2] ?? '').split(' ')[0] ?? ''
  assert.equal(run(store, `set map #1 #${ptr} changed`), '')
  assert.match(run(store, 'show map #1'), /x\.example changed/)
  assert.equal(run(store, `del map #1 #${ptr}`), '')
  assert.doesNotMatch(run(store, 'show map #1'), /x\.example/)
})

test('get map / get acl: HAProxy 2.6 answer lines', () => {
  const { store } = load()
  assert.equal(run(store, 'get map /m/hosts.map a.example'),
    'type=str, case=sensitive, found=yes, idx=tree, key="a.example", value="be_a", type="str"\n')
  assert.equal(run(store, 'get map /m/hosts.map zz'), 'type=str, case=sensitive, found=no\n')
  assert.equal(run(store, 'get acl /m/paths.acl /blocked'),
    'type=str, case=sensitive, match=yes, idx=tree, pattern="/blocked"\n')
  assert.equal(run(store, 'get acl #0 /x'), 'type=str, case=sensitive, match=no\n')
})

test('an ACL -f file entry added at runtime makes the condition match; del and clear undo it', () => {
  const { config, store } = load()
  const fe = config.proxies.find(p => p.name === 'f')
  assert.ok(fe !== undefined)
  const deny = compileCondition(fe.httpRules[0]?.cond, fe.acls)
  const req = (url: string): boolean => deny({ src: '127.0.0.1', srcPort: 1, dst: '127.0.0.1', dstPort: 2, url })
  assert.equal(req('/blocked'), true)
  assert.equal(req('/admin'), false)
  assert.equal(run(store, 'add acl /m/paths.acl /admin'), '')
  assert.equal(req('/admin'), true)
  assert.equal(run(store, 'del acl #0 /admin'), '')
  assert.equal(req('/admin'), false)
  assert.equal(run(store, 'clear acl #0'), '')
  assert.equal(req('/blocked'), false)
})

test('usage and error messages as HAProxy 2.6 prints them', () => {
  const { store } = load()
  assert.equal(run(store, 'add map'), "'add map' expects three parameters (map identifier, key and value) or one " +
    'parameter (map identifier) and a payload\n')
  assert.equal(run(store, 'add map #1 k'), "'add map' expects three parameters (map identifier, key and value) or " +
    'one parameter (map identifier) and a payload\n')
  assert.equal(run(store, 'add map /nofile a b'), 'Unknown map identifier. Please use #<id> or <file>.\n')
  assert.equal(run(store, 'get map'), 'Missing map identifier and/or key.\n')
  assert.equal(run(store, 'get map #1'), 'Missing map identifier and/or key.\n')
  assert.equal(run(store, 'set map #1 a'), "'set map' expects three parameters: map identifier, key and value.\n")
  assert.equal(run(store, 'del map #1'), 'This command expects two parameters: map identifier and key.\n')
  assert.equal(run(store, 'del acl #0'), 'This command expects two parameters: ACL identifier and key.\n')
  assert.equal(run(store, 'add acl #0'), "'add acl' expects two parameters: ACL identifier and pattern.\n")
  assert.equal(run(store, 'clear map'), 'Missing map identifier.\n')
  assert.match(run(store, 'show map @1 #1'), /not supported/)
})

test('a pattern its readers cannot use is refused with HAProxy 2.6 words, and nothing is added', () => {
  FILES['/m/ips.acl'] = '10.0.0.0/8\n'
  FILES['/m/re.map'] = '^a.* x\n'
  const { store } = load(`${CFG}  http-request deny if { src -f /m/ips.acl }
  http-request set-header X-A %[req.hdr(host),map_reg(/m/re.map)]
`)
  assert.equal(run(store, 'add acl /m/ips.acl notanip'), "'notanip' is not a valid IPv4 or IPv6 address.\n")
  assert.equal(run(store, 'add acl /m/ips.acl 1.2.3.4/99'), "'1.2.3.4/99' is not a valid IPv4 or IPv6 address.\n")
  assert.equal(run(store, 'add acl /m/ips.acl', '192.0.2.0/24\nbad\n'), "'bad' is not a valid IPv4 or IPv6 address.\n")
  assert.match(run(store, 'show acl /m/ips.acl'), /^0x[0-9a-f]+ 10\.0\.0\.0\/8\n$/)
  assert.equal(run(store, 'get acl /m/ips.acl 10.1.1.1'),
    'type=ip, case=sensitive, match=yes, idx=tree, pattern="10.0.0.0/8"\n')
  assert.match(run(store, 'add map /m/re.map a(b x'), /^regex 'a\(b' is invalid \(error=.*\)\.\n$/)
  assert.equal(run(store, 'get map /m/re.map abc'),
    'type=reg, case=sensitive, found=yes, idx=list, key="^a.*", value="x", type="str"\n')
})
