import { test } from 'node:test'
import assert from 'node:assert/strict'
import { reloadStrategy, STRATEGY_NAMES } from '../../../src/reload/index.ts'
import { missingFeatures, PROBE_SCRIPT } from '../../../src/reload/tc.ts'

test('every strategy name resolves to the strategy of that name', () => {
  assert.deepEqual([...STRATEGY_NAMES], ['handoff', 'syn-drop', 'tc-plug', 'iptables-flip'])
  for (const name of STRATEGY_NAMES) assert.equal(reloadStrategy(name).name, name)
})

test('an unknown strategy is an error with a stable code that lists the known ones', () => {
  assert.throws(() => reloadStrategy('hot-swap'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TSLB_ERR_RELOAD_STRATEGY_UNKNOWN')
    assert.match(err.message, /unknown reload strategy 'hot-swap' \(one of: handoff, syn-drop, tc-plug, iptables-flip\)/)
    return true
  })
})

test('tc probe: the failed batch lines name the missing kernel features (this kernel\'s output)', () => {
  const stderr = 'Error: Specified qdisc kind is unknown.\nCommand failed -:1\nError: Invalid handle.\nCommand failed -:2\n' +
    'Error: Specified qdisc kind is unknown.\nCommand failed -:3\nError: Unknown filter kind.\nCommand failed -:5\n'
  assert.deepEqual(missingFeatures(stderr), ['the plug qdisc (sch_plug)', 'the prio qdisc (sch_prio)', 'the fw classifier (cls_fw)'])
  assert.deepEqual(missingFeatures(''), [])
  assert.equal(PROBE_SCRIPT.length, 5)
})
