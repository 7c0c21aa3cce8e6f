import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileChain, compileConverter } from '../../../../src/proxy/acl/converters.ts'
import { CONVERTERS } from '../../../../src/config/enforcement.ts'
import { parseSampleChain } from '../../../../src/config/acl.ts'

const conv = (name: string, ...args: string[]) => compileConverter({ name, args })

test('every converter the registry calls enforced has an implementation', () => {
  for (const [name, e] of Object.entries(CONVERTERS)) {
    if (e.status !== 'enforced') continue
    const args = Array.from({ length: e.args[0] }, (_, i) => (e.ints ?? []).includes(i) ? '1' : name === 'regsub' ? 'x' : '/24')
    assert.doesNotThrow(() => compileConverter({ name, args }), name)
  }
})

test('case, length, bytes', () => {
  assert.equal(conv('lower')('HeLLo'), 'hello')
  assert.equal(conv('upper')('HeLLo'), 'HELLO')
  assert.equal(conv('length')('abc'), '3')
  assert.equal(conv('bytes', '1', '3')('HeLlo'), 'eLl')
  assert.equal(conv('bytes', '2')('HeLlo'), 'Llo')
  assert.equal(conv('bytes', '9')('abc'), undefined)
})

test('field and word: 1-based, negative from the end, a count; word skips empty fields', () => {
  assert.equal(conv('field', '2', ':')('a:b:c'), 'b')
  assert.equal(conv('field', '-1', ':')('a:b:c'), 'c')
  assert.equal(conv('field', '2', ':', '0')('a:b:c'), 'b:c')
  assert.equal(conv('field', '4', ':')('a:b:c'), undefined)
  assert.equal(conv('word', '2', '/')('//x//y/z'), 'y')
  // Several words: the text as it was between the first and the last one, empty fields included (HAProxy).
  assert.equal(conv('word', '2', '_', '0')('f1_f2_f3__f5'), 'f2_f3__f5')
  assert.equal(conv('word', '3', '_', '2')('f1_f2_f3__f5'), 'f3__f5')
  assert.equal(conv('word', '-2', '_', '3')('f1_f2_f3__f5'), 'f1_f2_f3')
  assert.equal(conv('word', '-3', '_', '0')('f1_f2_f3__f5'), 'f1_f2')
  assert.equal(conv('field', '2', '/')('//x//y/z'), '')
})

test('regsub with groups, i and g flags; json escapes', () => {
  assert.equal(conv('regsub', 'l+', 'L', 'g')('HeLlo World'), 'HeLLo WorLd')
  assert.equal(conv('regsub', '(a)(b)', '\\2\\1')('xaby'), 'xbay')
  assert.equal(conv('regsub', 'A', '-', 'i')('aA'), '-A')
  assert.equal(conv('json')('say "hi"\\\n'), 'say \\"hi\\"\\\\\\n')
})

test('base64, b64dec, hex, url_dec (with + as space when asked)', () => {
  assert.equal(conv('base64')('HeLlo World'), 'SGVMbG8gV29ybGQ=')
  assert.equal(conv('b64dec')('SGVMbG8='), 'HeLlo')
  assert.equal(conv('b64dec')('%%'), undefined)
  assert.equal(conv('hex')('Hi!'), '486921')
  assert.equal(conv('url_dec')('a%20b%2Fc+d'), 'a b/c+d')
  assert.equal(conv('url_dec', '1')('a+b'), 'a b')
  assert.equal(conv('url_dec')('%zz'), undefined)
})

test('ipmask on IPv4 (prefix or dotted mask), IPv4-mapped, IPv6 with a second mask', () => {
  assert.equal(conv('ipmask', '24')('192.0.2.77'), '192.0.2.0')
  assert.equal(conv('ipmask', '255.255.0.0')('192.0.2.77'), '192.0.0.0')
  assert.equal(conv('ipmask', '24')('::ffff:192.0.2.77'), '192.0.2.0')
  assert.equal(conv('ipmask', '24', '64')('2001:db8:1:2:3::4'), '2001:db8:1:2::')
  assert.equal(conv('ipmask', '24')('2001:db8::1'), undefined)
  // The IPv6 mask written as an address; an upper-case mapped prefix (reg-test converters_ipmask_…).
  assert.equal(conv('ipmask', '24', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fee0')('2001:db8::bad:c0f:ffff'),
    '2001:db8::bad:c0f:fee0')
  assert.equal(conv('ipmask', '32', '64')('::FFFF:192.168.1.101'), '192.168.1.101')
})

test('arithmetic and booleans over integers (a string casts by its leading digits)', () => {
  assert.equal(compileChain([{ name: 'add', args: ['5'] }, { name: 'mul', args: ['3'] }, { name: 'sub', args: ['1'] }])?.('7'), '35')
  assert.equal(conv('div', '3')('7'), '2')
  assert.equal(conv('div', '0')('7'), String(Number.MAX_SAFE_INTEGER))
  assert.equal(conv('mod', '3')('7'), '1')
  assert.equal(conv('mod', '0')('7'), '0')
  assert.equal(conv('bool')('7'), '1')
  assert.equal(conv('bool')('0'), '0')
  assert.equal(conv('not')('0'), '1')
  assert.equal(conv('add', '1')('12abc'), '13')
})

test('hashes as HAProxy computes them (values checked against HAProxy 2.6 by the interop test)', () => {
  assert.equal(conv('crc32')('HeLlo World'), '3370529781')
  assert.equal(conv('djb2')('a'), String(5381 * 33 + 97))
  assert.notEqual(conv('djb2', '1')('a'), conv('djb2')('a'))
  assert.equal(conv('sdbm')('abc'), '807794786')
  assert.match(conv('wt6')('abc') ?? '', /^\d+$/)
})

test('maps: exact, prefix, suffix, substring, regex, integer, most specific network; default or no sample', () => {
  const entries: [string, string][] = [['/a', 'A'], ['/a/b', 'AB'], ['x', 'X']]
  assert.equal(compileConverter({ name: 'map', args: ['f', 'none'], entries })('/a'), 'A')
  assert.equal(compileConverter({ name: 'map', args: ['f', 'none'], entries })('/z'), 'none')
  assert.equal(compileConverter({ name: 'map_str', args: ['f'], entries })('/z'), undefined)
  assert.equal(compileConverter({ name: 'map_beg', args: ['f'], entries })('/a/b/c'), 'A')
  assert.equal(compileConverter({ name: 'map_end', args: ['f'], entries })('yx'), 'X')
  assert.equal(compileConverter({ name: 'map_sub', args: ['f'], entries })('1/a/b2'), 'A')
  assert.equal(compileConverter({ name: 'map_reg', args: ['f'], entries: [['^/a/(b|c)$', 'R']] })('/a/c'), 'R')
  assert.equal(compileConverter({ name: 'map_int', args: ['f'], entries: [['10', 'ten']] })('10'), 'ten')
  const ip = compileConverter({ name: 'map_ip', args: ['f', 'other'], entries: [['10.0.0.0/8', 'big'], ['10.1.0.0/16', 'small'], ['2001:db8::/32', 'v6']] })
  assert.equal(ip('10.1.2.3'), 'small')
  assert.equal(ip('10.2.2.3'), 'big')
  assert.equal(ip('2001:db8::1'), 'v6')
  assert.equal(ip('192.0.2.1'), 'other')
})

test('sample chains parse at load: fetch arguments keep their commas; unknown converters and bad arguments are errors', () => {
  assert.deepEqual(parseSampleChain('hdr(x,1),lower,field(2,:)', false).converters, [{ name: 'lower', args: [] }, { name: 'field', args: ['2', ':'] }])
  assert.throws(() => parseSampleChain('src,nope', false), /unknown converter 'nope'/)
  assert.throws(() => parseSampleChain('src,add(x)', false), /argument 1 must be an integer/)
  assert.throws(() => parseSampleChain('src,ipmask', false), /expects 1 to 2 argument/)
})

test('concat appends to the sample; strcmp gives the first byte difference (else the length one); secure_memcmp a boolean', () => {
  const vars = (n: string): string | undefined => ({ 'txn.sep': '-', 'txn.user': 'HeLlo World' } as Record<string, string>)[n]
  assert.equal(conv('concat', '<', 'txn.sep', '>')('a:b', vars), 'a:b<->')
  assert.equal(conv('concat', '', 'txn.none')('a', vars), 'a')
  assert.equal(conv('strcmp', 'txn.user')('HeLlo World', vars), '0')
  assert.equal(conv('strcmp', 'txn.user')('Zzz', vars), '18')
  assert.equal(conv('strcmp', 'txn.user')('HeLlo', vars), '-6')
  assert.equal(conv('strcmp', 'txn.none')('x', vars), undefined)
  assert.equal(conv('secure_memcmp', 'txn.user')('HeLlo World', vars), '1')
  assert.equal(conv('secure_memcmp', 'txn.user')('HeLlo', vars), '0')
  assert.throws(() => parseSampleChain('src,strcmp(user)', false), /not a variable name/)
})

test('map_regm: the first matching regex, its value taking the groups (\\N)', () => {
  const m = compileConverter({ name: 'map_regm', args: ['f', 'dflt'], entries: [['^/api/v(\\d+)/(.*)$', 'api\\1:\\2'], ['.', 'any']] })
  assert.equal(m('/api/v2/users'), 'api2:users')
  assert.equal(m('/x'), 'any')
  assert.equal(m(''), 'dflt')
})

test('utime/ltime format epoch seconds as strftime does (utime in GMT, with an offset); unsupported directives refused', () => {
  assert.equal(conv('utime', '%Y-%m-%d %H:%M:%S %a %b %j %e %I%p %y %z %Z %s')('1700000000'),
    '2023-11-14 22:13:20 Tue Nov 318 14 10PM 23 +0000 GMT 1700000000')
  assert.equal(conv('utime', '%H:%M', '3600')('1700000000'), '23:13')
  assert.equal(conv('utime', '%Y')('x'), undefined)
  assert.throws(() => parseSampleChain('date,utime(%Q)', false), /'%Q' is not supported/)
})
