/**
 * Proxy and server names keep to HAProxy's character set (letters, digits, '-', '_', '.', ':'):
 * a name with ';', a quote or a space would break the `;csv` stats, Prometheus labels and log lines.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../../src/config/parser.ts'
import { formatDiagnostic } from '../../../src/util/errors.ts'

function errors (text: string): string[] {
  return parseConfig(text, 'names.cfg', { env: {} }).diagnostics.filter(d => d.severity === 'error')
    .map(formatDiagnostic)
}

const RULE = "(letters, digits, '_', '.', ':' and '-')"

test('a server name outside the character set is refused with FILE:LINE', () => {
  for (const bad of ['s;1', 'a/b', 'srv,2', 'é', 'x=y', 'a{b}']) {
    assert.deepEqual(errors(`backend be\n  server ${bad} 198.18.0.21:80\n`),
      [`names.cfg:2: 'server' expects a name ${RULE}, got '${bad}'`], bad)
  }
})

test('frontend, backend, listen and named defaults names outside the character set are refused', () => {
  for (const kind of ['frontend', 'backend', 'listen', 'defaults']) {
    const errs = errors(`${kind} a;b\n  timeout client 1s\n`)
    assert.ok(errs.includes(`names.cfg:1: '${kind}' expects a name ${RULE}, got 'a;b'`), `${kind}: ${errs.join('\n')}`)
  }
})

test('names made of letters, digits and -_.: are accepted', () => {
  const errs = errors(`defaults base-1
  mode http
  timeout connect 1s
  timeout client 1s
  timeout server 1s
frontend fe_1.a:b
  bind 198.18.0.1:80
  default_backend be-2
backend be-2
  server web_1.x:y-2 198.18.0.21:80
`)
  assert.deepEqual(errs, [])
})
