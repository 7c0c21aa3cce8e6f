/**
 * Throws thousands of mangled configurations at the parser: each must end in diagnostics,
 * never in an exception or a hang. Deterministic (seeded), so a failure replays.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseConfig } from '../../../src/config/parser.ts'
import { rng } from '../../helpers/rng.ts'

const dir = join(import.meta.dirname, '../../fixtures/seeds')
const corpus = readdirSync(dir).filter(f => f.endsWith('.cfg')).map(f => readFileSync(join(dir, f), 'utf8'))
const EXTRA = ['vrrp_instance V\n interface eth0\n virtual_router_id 9\n priority 100\n advert_int 1\n virtual_ipaddress 198.18.0.100/24\n track_script s\nvrrp_script s\n script "/bin/true"\n interval 1\n']

const NASTY = ['"', "'", '\\', '#', '{', '}', '!', '||', '$', '${', '${X', '\\x', ':', '-', '/', '(', ')', ',', '\t', '\r', '\0', 'ÿ', '💥',
  'if', 'unless', 'option', 'no', 'server', 'bind', 'acl', 'timeout', 'stick-table', 'listen', 'frontend', 'backend', 'defaults', 'global',
  'peers', 'peer', 'vrrp_instance', 'vrrp_script', 'virtual_ipaddress', '99999999999999999999', '-1', '0', '1.5', '::', '[::1]', '*:80',
  '198.18.0.1:0', '1e9', 'type', 'size', 'store', 'len', 'from', 'cookie', 'balance', 'hdr(', 'path_beg', '-m', '-f', '-i', 'use_backend']

function mutate (text: string, r: () => number): string {
  const lines = text.split('\n')
  const ops = 1 + Math.floor(r() * 6)
  for (let k = 0; k < ops; k++) {
    const i = Math.floor(r() * lines.length)
    const line = lines[i] ?? ''
    const op = Math.floor(r() * 8)
    const pos = Math.floor(r() * (line.length + 1))
    const token = NASTY[Math.floor(r() * NASTY.length)] as string
    if (op === 0) lines[i] = line.slice(0, pos) + token + line.slice(pos)
    else if (op === 1) lines[i] = line.slice(0, pos) + line.slice(pos + 1 + Math.floor(r() * 8))
    else if (op === 2) lines.splice(i, 1)
    else if (op === 3) lines.splice(i, 0, lines[Math.floor(r() * lines.length)] ?? '')
    else if (op === 4) lines[i] = line.split(/\s+/).sort(() => r() - 0.5).join(' ')
    else if (op === 5) lines[i] = line.replace(/\d+/g, () => String(Math.floor(r() * 1e6) - 1000))
    else if (op === 6) lines[i] = `${line} ${token}`
    else lines[i] = line.slice(0, pos) + String.fromCharCode(Math.floor(r() * 0x80)) + line.slice(pos)
  }
  return lines.join('\n')
}

test('mangled configurations end in diagnostics, never in a crash or a hang', () => {
  const sources = [...corpus, ...EXTRA]
  const r = rng(0x7515b)
  const iterations = 5000
  const started = Date.now()
  let rejected = 0
  for (let n = 0; n < iterations; n++) {
    const source = sources[n % sources.length] as string
    const text = mutate(source, r)
    let result
    try {
      result = parseConfig(text, 'fuzz.cfg', { env: { X: 'x' } })
    } catch (err) {
      assert.fail(`iteration ${n} threw ${String(err)}\n--- input ---\n${text}`)
    }
    for (const d of result.diagnostics) {
      assert.equal(typeof d.message, 'string')
      assert.ok(d.line >= 0 && d.line <= text.split('\n').length, `line ${d.line} out of range`)
    }
    if (result.diagnostics.some(d => d.severity === 'error')) rejected++
  }
  // The mutations must actually produce broken input, or this test checks nothing.
  assert.ok(rejected > iterations / 4, `only ${rejected} of ${iterations} mangled configs were rejected`)
  assert.ok(Date.now() - started < 60_000, 'the parser is pathologically slow on some input')
})

test('random bytes end in diagnostics', () => {
  const r = rng(42)
  for (let n = 0; n < 1000; n++) {
    const len = Math.floor(r() * 400)
    const text = Array.from({ length: len }, () => String.fromCharCode(Math.floor(r() * 256))).join('')
    assert.doesNotThrow(() => parseConfig(text, 'rand.cfg', { env: {} }))
  }
})
