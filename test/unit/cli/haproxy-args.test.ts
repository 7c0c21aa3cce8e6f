import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseHaproxyArgs } from '../../../src/cli/haproxy-args.ts'
import { compareVersions, evaluateCondition } from '../../../src/cli/haproxy-condition.ts'

test('VTest\'s command lines parse: -d / -W -S / -D -p, HAPROXY_ARGS debug flags ignored', () => {
  const d = parseHaproxyArgs(['-d', '-dM', '-f', 'cfg'])
  assert.equal(d.mode, 'run')
  assert.equal(d.debug, true)
  assert.deepEqual(d.files, ['cfg'])
  assert.deepEqual(d.ignored, ['-dM'])
  const w = parseHaproxyArgs(['-W', '-S', 'fd@5', '-m', '50', '-f', 'cfg', '-p', 'pid'])
  assert.equal(w.masterWorker, true)
  assert.equal(w.masterCli, 'fd@5')
  assert.equal(w.pidFile, 'pid')
  assert.deepEqual(w.ignored, ['-m 50'])
  assert.equal(parseHaproxyArgs(['-D', '-f', 'c', '-p', 'p']).daemon, true)
  assert.equal(parseHaproxyArgs(['-c', '-f', 'c']).mode, 'check')
  assert.equal(parseHaproxyArgs(['-cc', 'feature(LUA)']).condition, 'feature(LUA)')
  assert.equal(parseHaproxyArgs(['-vv']).mode, 'build-info')
  assert.deepEqual(parseHaproxyArgs(['-f', 'a', '--', 'b', 'c']).files, ['a', 'b', 'c'])
})

test('HAProxy\'s command line: an unknown option or a missing -f is a usage error', () => {
  assert.throws(() => parseHaproxyArgs(['-Z', '-f', 'c']), /unknown option '-Z'/)
  assert.throws(() => parseHaproxyArgs(['-d']), /no configuration file/)
  assert.throws(() => parseHaproxyArgs(['-f']), /'-f' expects a value/)
})

const ctx = { version: '2.6.0', features: new Set(['PROMEX']), env: { TESTVAR: '1' } }

test('-cc: the expressions of reg-tests/startup/check_condition.vtc', () => {
  const yes = ['version_atleast(2.4)', "streq(foo,'foo')", 'streq("foo bar",\'foo bar\')', 'defined(TESTVAR) && streq("1","1")', 'defined(TESTVAR) && streq("$TESTVAR","1")', 'streq("${TESTVAR}",1)', "streq('$TESTVAR','$TESTVAR')",
    'feature(OPENSSL) || !feature(OPENSSL)', '1&&!0&&!((streq(a,b)||!streq(a,a)&&1)||strneq(a,a))', '-1000 && 200', 'version_atleast(2.5-dev0)', 'version_before(2.7)']
  const no = ['version_atleast(1024)', 'streq(foo,bar)', '', '1 && !0 && !((streq(a,b) || !streq(a,a) && 1) || strneq(a,b))', 'feature(LUA)', 'defined(NOPE)']
  for (const e of yes) assert.equal(evaluateCondition(e, ctx), true, e)
  for (const e of no) assert.equal(evaluateCondition(e, ctx), false, e)
  for (const e of ['200rrr', '!(0))', 'streq(a,"a)', 'bogus(1)']) assert.throws(() => evaluateCondition(e, ctx), /./, e)
})

test('versions order as HAProxy orders them: dev < rc < release', () => {
  assert.ok(compareVersions('2.6-dev0', '2.6.0') < 0)
  assert.ok(compareVersions('2.6-rc1', '2.6-dev9') > 0)
  assert.ok(compareVersions('2.6.0', '2.5.14') > 0)
  assert.equal(compareVersions('2.6', '2.6.0'), 0)
})
