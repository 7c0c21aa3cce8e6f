import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkPassword, shaCrypt } from '../../../../src/proxy/rules/crypt.ts'
import { basicCredentials } from '../../../../src/proxy/rules/userlists.ts'
import { expandReferences, regexReplace } from '../../../../src/proxy/rules/format.ts'

// Made with `openssl passwd -6 -salt saltsalt 'Hello world!'` and `openssl passwd -5 -salt 'rounds=1200$abc' secret`.
const SHA512 = '$6$saltsalt$pn.eNCAqRIao3pxsOGdjVa9wVR7Rb/3WnbxOluoQKVZPzLuyetx3yF6VIZDfQnn/arrFVfrq3BqRb9gLqhI5z0'
const SHA256 = '$5$rounds=1200$abc$Q3kHwYakADWyEZC17fqyY424kvUniNt7oJc1b4TQU/2'

test('SHA-crypt ($5$, $6$, rounds=) gives what openssl passwd gives', () => {
  assert.equal(shaCrypt('Hello world!', SHA512), SHA512)
  assert.equal(shaCrypt('secret', SHA256), SHA256)
})

test('checkPassword: hashes, insecure-password, wrong passwords and unsupported formats refused', () => {
  assert.equal(checkPassword('Hello world!', SHA512, false), true)
  assert.equal(checkPassword('hello world!', SHA512, false), false)
  assert.equal(checkPassword('x', 'x', true), true)
  assert.equal(checkPassword('x', 'y', true), false)
  assert.equal(checkPassword('x', '$1$abc$xyz', false), false)
  assert.equal(checkPassword('x', 'x', false), false)
})

test('Basic credentials: decoded, a password may hold colons, anything else is none', () => {
  assert.deepEqual(basicCredentials(`Basic ${Buffer.from('u:p:q').toString('base64')}`), { user: 'u', password: 'p:q' })
  assert.equal(basicCredentials('Bearer abc'), undefined)
  assert.equal(basicCredentials(undefined), undefined)
  assert.equal(basicCredentials(`Basic ${Buffer.from('nocolon').toString('base64')}`), undefined)
})

test('replacement references \\0-\\9 and \\\\; the whole value is replaced only when the regex matches', () => {
  const m = /(a)(b)/.exec('xaby') as RegExpExecArray
  assert.equal(expandReferences('\\2\\1-\\0-\\\\-\\9', m), 'ba-ab-\\-')
  assert.equal(regexReplace('one-two', /(.*)-(.*)/, '\\2-\\1'), 'two-one')
  assert.equal(regexReplace('nothing', /x/, 'y'), undefined)
})
