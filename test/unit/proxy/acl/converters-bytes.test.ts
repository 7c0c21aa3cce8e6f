// Expected values are the ones HAProxy 2.6's reg-tests (converter/*.vtc, sample_fetches/*.vtc) check.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileChain } from '../../../../src/proxy/acl/converters.ts'
import { fetchSamples, type SampleSource } from '../../../../src/proxy/acl/sample.ts'
import { parseSampleChain, splitArgs } from '../../../../src/config/acl.ts'

function run (chain: string, input: string, vars: Record<string, string> = {}): string | undefined {
  const converters = parseSampleChain(`str(x),${chain}`, false).converters
  return compileChain(converters)?.(input, name => vars[name])
}

test('converter arguments: quotes hold commas, backslash escapes outside single quotes, other backslashes kept', () => {
  assert.deepEqual(splitArgs("',',txn.var,_suff_"), [',', 'txn.var', '_suff_'])
  assert.deepEqual(splitArgs('"a,b",\\,,c'), ['a,b', '\\', '', 'c'])
  assert.deepEqual(splitArgs("'a\\,b'"), ['a\\,b'])
  assert.deepEqual(splitArgs('\\.x'), ['\\.x'])
  assert.deepEqual(splitArgs('a\\ b'), ['a b'])
  assert.throws(() => parseSampleChain("str(x),add_item(',)", false), /unterminated quote/)
})

test('digests: sha1, sha2(bits), digest(alg), hmac(alg,key) with a literal or a variable key', () => {
  assert.equal(run('sha1,base64', '1'), 'NWoZK3kTsExUV00Ywo1G5jlUKKs=')
  assert.equal(run('sha2,hex,lower', '1'), '6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b')
  assert.equal(run('sha2(224),hex,lower', '2'), '58b2aaa0bfae7acc021b3260e941117b529b2e69de878fd7d45c61a9')
  assert.equal(run('digest(sha384),hex,lower', '1'), '47f05d367b0c32e438fb63e6cf4a5f35c2aa2f90dc7543f8a41a0f95ce8a40a3' +
    '13ab5cf36134a2068c4c969cb50db776')
  assert.equal(run('hmac(sha1,a2V5),hex,lower', '1'), 'e23feb105f9622241bf23db1638cd2b4208b1f53')
  const key = Buffer.from('my_super_secret_long_key').toString('base64')
  assert.equal(run('hmac(sha256,txn.key),hex,lower', '2', { 'txn.key': key }),
    'c073191a2ebf29f510444b92c187d62199d84b58f58dceeadb91994c170a9a16')
  assert.equal(run('hmac(sha256,txn.key)', '2'), undefined)
  assert.throws(() => run('sha2(100)', ''), /unsupported number of bits/)
  assert.throws(() => run('digest(nope)', ''), /unknown digest 'nope'/)
})

test('be2hex and be2dec: separators every N bytes, a partial last chunk dropped with truncate', () => {
  assert.equal(run('be2hex,lower', '0123456789'), '30313233343536373839')
  assert.equal(run('be2hex(:,1),lower', '0123456789'), '30:31:32:33:34:35:36:37:38:39')
  assert.equal(run('be2hex(--,3),lower', '0123456789'), '303132--333435--363738--39')
  assert.equal(run('be2hex(.,3,1),lower', '0123456789'), '303132.333435.363738')
  assert.equal(run('be2hex', ''), '')
  assert.equal(run('be2dec(:,1)', '0123456789'), '48:49:50:51:52:53:54:55:56:57')
  assert.equal(run('be2dec(-,3)', 'abcdefghijklmnopqrstuvwxyz'),
    '6382179-6579558-6776937-6974316-7171695-7369074-7566453-7763832-31098')
  assert.equal(run('be2dec(::,3,1)', '0123456789'), '3158322::3355701::3553080')
  assert.throws(() => run('be2dec(:,9)', ''), /chunk size must be 1 to 8/)
})

test('url_enc and url_dec: + is a space in the query, or everywhere with in_form', () => {
  assert.equal(run('url_enc', 'foo=bar+42 42 '), 'foo%3Dbar%2B42%2042%20')
  assert.equal(run('url_enc(query)', 'a-b.c_d~e/'), 'a-b.c_d~e%2F')
  assert.throws(() => run('url_enc(path)', ''), /unexpected encode type/)
  assert.equal(run('url_dec', '/bla+%20?foo%3Dbar%2B42+42%20'), '/bla+ ?foo=bar+42 42 ')
  assert.equal(run('url_dec(1)', '/bla+%20?foo%3Dbar%2B42+42%20'), '/bla  ?foo=bar+42 42 ')
  assert.equal(run('url_dec', '%zz'), undefined)
})

test('ub64enc / ub64dec: base64url without padding', () => {
  assert.equal(run('ub64enc', 'fooba'), 'Zm9vYmE')
  assert.equal(run('ub64dec', 'Zm9vYg'), 'foob')
  assert.equal(run('ub64dec,hex,lower', 'FPucA9l_Etl-'), '14fb9c03d97f12d97e')
  assert.equal(run('ub64dec', 'a+b/'), undefined)
})

test('json escapes / and non-printable bytes; utf8 fails on a bad sequence, utf8s skips it', () => {
  assert.equal(run('json', 'foo 1/2'), 'foo 1\\/2')
  assert.equal(run('json', 'say "hi"\\\n'), 'say \\"hi\\"\\\\\\n')
  assert.equal(run('json', '\xe0'), '\\u00e0')
  assert.equal(run('json(utf8)', '\xe0'), undefined)
  assert.equal(run('json(utf8s)', '-\xe0-'), '--')
  assert.equal(run('json(utf8)', Buffer.from('é€', 'utf8').toString('latin1')), '\\u00e9\\u20ac')
  assert.throws(() => run('json(utf16)', ''), /unknown input type/)
})

test('iif and add_item', () => {
  assert.equal(run('iif(ok,ko)', '0'), 'ko')
  assert.equal(run('iif(ok,ko)', '2'), 'ok')
  const vars = { 'txn.var': 'var_content' }
  assert.equal(run("add_item(',',txn.var,_suff_)", '', vars), 'var_content_suff_')
  assert.equal(run("add_item(',',txn.var)", 'input_string', vars), 'input_string,var_content')
  assert.equal(run("add_item(',',,_suff_)", 'input_string'), 'input_string,_suff_')
  assert.equal(run("add_item(',',txn.var)", ''), '')
})

test('fetches: req.cook_val, req.cook_cnt() of every cookie, srv_name/srv_id, http_first_req, bin', () => {
  const cookies = ['cook1', '0', 'cook2', '123', 'cook3', '22', 'cook2', '7x']
  const s: SampleSource = {
    src: '198.18.0.1', srcPort: 1, dst: '198.18.0.2', dstPort: 80,
    cookieValues: name => cookies.filter((_, i) => i % 2 === 0 && (name === '' || cookies[i] === name))
      .map(n => cookies[cookies.indexOf(n) + 1] as string),
    server: { name: 'srv2', id: 2 }, firstRequest: false
  }
  assert.deepEqual(fetchSamples('req.cook_val', [], s), ['0'])
  assert.deepEqual(fetchSamples('req.cook_val', ['cook3'], s), ['22'])
  assert.deepEqual(fetchSamples('req.cook_val', ['none'], s), [])
  assert.deepEqual(fetchSamples('req.cook_cnt', [], s), ['4'])
  assert.deepEqual(fetchSamples('srv_name', [], s), ['srv2'])
  assert.deepEqual(fetchSamples('srv_id', [], s), ['2'])
  assert.deepEqual(fetchSamples('http_first_req', [], s), ['0'])
  assert.deepEqual(fetchSamples('bin', ['14fb'], s), ['\x14\xfb'])
  assert.deepEqual(fetchSamples('srv_name', [], { src: '', srcPort: 0, dst: '', dstPort: 0 }), [])
})
