// HAProxy's help / "Unknown command" generator, fed with HAProxy 2.6's own command list (from its
// `help` output), must reproduce what HAProxy printed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { usageMessage, type UsageEntry } from '../../../../src/proxy/stats/cli-usage.ts'
import { fixture } from './helpers.ts'

/** HAProxy's commands: the leading words of each usage line are the keyword. */
function haproxyCommands (): UsageEntry[] {
  const entries: UsageEntry[] = []
  for (const line of fixture('help.txt').split('\n')) {
    if (!line.startsWith('  ')) continue
    const usage = line.slice(2)
    const words: string[] = []
    for (const w of usage.split(/\s+/)) {
      if (/^[[<(:]/.test(w) || (w.includes(':') && !/^[a-z-]+$/.test(w))) break
      words.push(w.replace(/:$/, ''))
    }
    const hidden = words[0] === 'help' || words[0] === 'prompt' || words[0] === 'quit'
    entries.push({ words, usage: hidden ? undefined : usage })
  }
  return entries
}

test('help, help WORD and an empty line: exactly HAProxy output', () => {
  const kws = haproxyCommands()
  assert.equal(usageMessage(kws, ['help']) + '\n', fixture('help.txt'))
  assert.equal(usageMessage(kws, ['help', 'show']) + '\n', fixture('help-show.txt'))
  assert.equal(usageMessage(kws, ['']) + '\n', fixture('unknown-empty.txt'))
})

test('an unknown word: the closest commands by fingerprint distance, as HAProxy', () => {
  const kws = haproxyCommands()
  assert.equal(usageMessage(kws, ['foo']) + '\n', fixture('unknown-foo.txt'))
})

test('ties at the cut-off are resolved by registration order (HAProxy registers by module)', () => {
  // HAProxy's answers for these pick among equally distant commands by its module init order,
  // which the help output does not reveal; the lines it chose are all candidates we rank equally.
  const kws = haproxyCommands()
  for (const [args, file] of [[['show', 'foo'], 'unknown-show-foo.txt'], [['set', 'wieght', 'be_app/s1', '1'], 'unknown-set-wieght.txt']] as const) {
    const ours = usageMessage(kws, args).split('\n')
    const ref = fixture(file).split('\n')
    assert.equal(ours[0], ref[0])
    assert.equal(ours.length + 1, ref.length)
    const common = ours.filter(l => ref.includes(l)).length
    assert.ok(common >= ours.length - 2, `${file}: ${common} common lines`)
  }
})
