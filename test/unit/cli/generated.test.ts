import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { generatedFiles, rootPath } from '../../../src/cli/docs/generate.ts'
import { SECTION_KEYWORDS_BY_KIND } from '../../../src/config/hints.ts'
import { SECTION_KEYWORDS } from '../../../src/config/parser.ts'
import { COMMANDS } from '../../../src/cli/commands.ts'

const generated = generatedFiles()

test("the committed man pages and bash completion are what scripts/gen-docs makes now (run it after changing commands, keywords or docs/configuration.md)", () => {
  for (const [path, text] of Object.entries(generated)) {
    assert.equal(readFileSync(rootPath(path), 'utf8'), text, `${path} is out of date: run scripts/gen-docs`)
  }
})

test('every keyword the parser knows is documented in docs/configuration.md and indexed in tslb.cfg(5)', () => {
  const doc = readFileSync(rootPath('docs/configuration.md'), 'utf8')
  const man = generated['man/tslb.cfg.5'] ?? ''
  const keywords = [...SECTION_KEYWORDS, ...Object.values(SECTION_KEYWORDS_BY_KIND).flatMap(k => k.keywords)]
  for (const kw of keywords) {
    assert.ok(doc.includes(`\`${kw}\``) || doc.includes(`\`${kw} `), `'${kw}' is not in docs/configuration.md`)
    assert.ok(man.includes(kw.replace(/-/g, '\\-')), `'${kw}' is not in tslb.cfg(5)`)
  }
})

test('groff formats both man pages without a warning; tslb(1) documents every command and option', () => {
  for (const page of ['man/tslb.1', 'man/tslb.cfg.5']) {
    const out = execFileSync('groff', ['-man', '-ww', '-z', fileURLToPath(rootPath(page))], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    assert.equal(out, '')
  }
  const text = execFileSync('man', ['-l', fileURLToPath(rootPath('man/tslb.1'))], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '200' } })
  for (const c of COMMANDS) {
    assert.match(text, new RegExp(`\\n {3}${c.name}\\b`))
    for (const o of c.options) assert.ok(text.includes(`--${o.name}`), `tslb(1) lacks ${c.name} --${o.name}`)
  }
})

function complete (line: string): string[] {
  const script = `source ${fileURLToPath(rootPath('completion/tslb.bash'))}
read -ra COMP_WORDS <<< "$LINE"; [[ $LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _tslb; printf '%s\\n' "\${COMPREPLY[@]}"`
  return execFileSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, LINE: line } }).split('\n').filter(w => w !== '')
}

test('bash completion: commands, each command\'s options, reload strategies, files after -f', () => {
  assert.deepEqual(complete('tslb '), ['run', 'check', 'reload', 'status', 'convert', 'haproxy', 'help', '-h', '--help', '-v', '--version'])
  assert.deepEqual(complete('tslb ch'), ['check'])
  assert.deepEqual(complete('tslb check --'), ['--config', '--local-peer', '--json', '--quiet', '--help'])
  assert.deepEqual(complete('tslb reload --strategy '), ['handoff', 'syn-drop', 'tc-plug', 'iptables-flip'])
  assert.deepEqual(complete('tslb status -S /nonexistent-dir/'), [])
  assert.ok(complete(`tslb run -f ${fileURLToPath(rootPath('doc'))}`).includes(fileURLToPath(rootPath('docs'))))
})
