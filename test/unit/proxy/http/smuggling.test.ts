/**
 * Replays the smuggling corpus through the codec the way the proxy uses it — head parser, then
 * the body framer on what follows — whole, and fed one byte at a time; plus a seeded mutation fuzz.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { ChunkedFramer, HttpParseError, LengthFramer, parseRequestHead, type BodyFramer, type RequestHead } from '../../../../src/proxy/http/codec.ts'
import { CORPUS_MAX_HEAD, SMUGGLING_CORPUS, VALID_TRICKY } from './smuggling-corpus.ts'
import { rng } from '../../../helpers/rng.ts'

type Outcome = { error: HttpParseError, stage: 'head' | 'body' } | { head: RequestHead, bodyConsumed: number, done: boolean }

/**
 * Head, then body, as the session does; `step` > 0 feeds the bytes in slices of that size, with
 * the resume hint (`searchFrom`) when `hint`.
 */
function replay (raw: string, step = 0, hint = false): Outcome {
  const bytes = Buffer.from(raw, 'latin1')
  const slices: Buffer[] = []
  if (step === 0) slices.push(bytes)
  else for (let i = 0; i < bytes.length; i += step) slices.push(bytes.subarray(i, i + step))
  let pending = Buffer.alloc(0)
  let head: RequestHead | null = null
  let framer: BodyFramer | undefined
  let consumed = 0
  let done = false
  for (const s of slices) {
    try {
      if (head === null) {
        const before = pending.length
        pending = Buffer.concat([pending, s])
        head = parseRequestHead(pending, CORPUS_MAX_HEAD, hint ? { searchFrom: before } : undefined)
        if (head === null) continue
        framer = head.chunked ? new ChunkedFramer() : head.contentLength > 0 ? new LengthFramer(head.contentLength) : undefined
        done = framer === undefined
        const rest = pending.subarray(head.headLength)
        if (framer !== undefined && rest.length > 0) {
          const r = framer.push(rest, 0)
          consumed += r.consumed
          done = r.done
        }
        continue
      }
      if (framer !== undefined && !done) {
        const r = framer.push(s, 0)
        consumed += r.consumed
        done = r.done
      }
    } catch (err) {
      if (!(err instanceof HttpParseError)) throw err
      return { error: err, stage: head === null ? 'head' : 'body' }
    }
  }
  if (head === null) throw new Error('head never completed')
  return { head, bodyConsumed: consumed, done }
}

describe('smuggling corpus', () => {
  test('has at least 40 cases, unique names, every status represented', () => {
    assert.ok(SMUGGLING_CORPUS.length >= 40, `${SMUGGLING_CORPUS.length} cases`)
    assert.equal(new Set(SMUGGLING_CORPUS.map(c => c.name)).size, SMUGGLING_CORPUS.length)
    for (const s of [400, 414, 431, 501, 505]) assert.ok(SMUGGLING_CORPUS.some(c => c.expect === s), `no case for ${s}`)
  })

  for (const c of SMUGGLING_CORPUS) {
    test(`refused: ${c.name}`, () => {
      const out = replay(c.raw)
      assert.ok('error' in out, 'accepted')
      assert.equal(out.error.status, c.expect)
      assert.equal(out.error.code, c.code)
      assert.equal(out.stage, c.stage)
    })
  }

  test('every case is refused with the same status when fed one byte at a time (with and without resume hint)', () => {
    for (const c of SMUGGLING_CORPUS) {
      for (const hint of [false, true]) {
        if (c.raw.length > 4096 && !hint) continue // the size-limit cases: quadratic without the hint
        const out = replay(c.raw, 1, hint)
        assert.ok('error' in out, `${c.name}: accepted byte by byte`)
        assert.equal(out.error.status, c.expect, c.name)
        assert.equal(out.stage, c.stage, c.name)
      }
    }
  })

  test('the size-limit cases are refused early, before the whole head arrives', () => {
    for (const c of SMUGGLING_CORPUS.filter(x => x.expect === 414 || x.expect === 431)) {
      const out = replay(c.raw, 1000)
      assert.ok('error' in out && out.error.status === c.expect, c.name)
    }
  })
})

describe('valid but tricky requests', () => {
  for (const c of VALID_TRICKY) {
    test(`accepted: ${c.name}`, () => {
      for (const [step, hint] of [[0, false], [1, false], [7, false], [1, true], [7, true]] as const) {
        const out = replay(c.raw, step, hint)
        if ('error' in out) assert.fail(`refused (step ${step}): ${out.error.code} ${out.error.message}`)
        for (const [k, v] of Object.entries(c.head)) assert.deepEqual((out.head as unknown as Record<string, unknown>)[k], v, `${k} (step ${step})`)
        assert.equal(out.head.headLength + c.bodyLength, Buffer.byteLength(c.raw, 'latin1'), 'bodyLength')
        assert.equal(out.bodyConsumed, c.bodyLength, `body bytes (step ${step})`)
        assert.equal(out.done, true, `body complete (step ${step})`)
      }
    })
  }
})

const NASTY = ['\r', '\n', '\r\n', ' ', '\t', ':', ',', ';', '\x00', '\x7f', '\xff', '"', '\\', '0', '-', '+', 'chunked', 'Transfer-Encoding: chunked\r\n',
  'Content-Length: 5\r\n', 'Host: x\r\n', '\r\n\r\n', 'HTTP/1.1', 'x', 'ff', '\x0b']

test('a wrong resume hint cannot make the parser skip the end of a head', () => {
  const two = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\nX-Smuggled: 1\r\n\r\n', 'latin1')
  assert.throws(() => parseRequestHead(two, CORPUS_MAX_HEAD, { searchFrom: 30 }), HttpParseError)
  assert.equal(parseRequestHead(two, CORPUS_MAX_HEAD, { searchFrom: 1000 }), null, 'a hint past the end is clamped: nothing new, incomplete')
})

describe('mutation fuzz', () => {
  test('mutated requests either parse consistently or throw HttpParseError — nothing else', () => {
    const seeds = [...SMUGGLING_CORPUS.filter(c => c.raw.length < 2000).map(c => c.raw), ...VALID_TRICKY.map(c => c.raw)]
    const r = rng(0x7151b)
    for (let n = 0; n < 20_000; n++) {
      let s = seeds[Math.floor(r() * seeds.length)] as string
      const ops = 1 + Math.floor(r() * 3)
      for (let k = 0; k < ops; k++) {
        const pos = Math.floor(r() * (s.length + 1))
        const op = r()
        if (op < 0.4) s = s.slice(0, pos) + (NASTY[Math.floor(r() * NASTY.length)] as string) + s.slice(pos)
        else if (op < 0.7) s = s.slice(0, pos) + s.slice(pos + 1 + Math.floor(r() * 3))
        else s = s.slice(0, pos) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(pos + 1)
      }
      const whole = replayOrIncomplete(s, 0)
      const split = replayOrIncomplete(s, 1 + Math.floor(r() * 5), r() < 0.5)
      // Splitting may reveal an error earlier (a partial head is checked as it arrives), never accept more.
      if (whole === 'incomplete' || split === 'incomplete') continue
      if ('error' in whole) {
        assert.ok('error' in split, `accepted when split but not whole: ${JSON.stringify(s)}`)
        continue
      }
      if ('error' in split) {
        assert.ok(split.stage === 'head' || split.stage === 'body', JSON.stringify(s))
        continue
      }
      assert.equal(split.head.headLength, whole.head.headLength, JSON.stringify(s))
      assert.deepEqual(split.head.headers, whole.head.headers, JSON.stringify(s))
      assert.equal(split.bodyConsumed, whole.bodyConsumed, JSON.stringify(s))
    }
  })
})

function replayOrIncomplete (raw: string, step: number, hint = false): Outcome | 'incomplete' {
  try {
    return replay(raw, step, hint)
  } catch (err) {
    if (err instanceof Error && err.message === 'head never completed') return 'incomplete'
    throw err
  }
}
