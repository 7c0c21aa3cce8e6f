import assert from 'node:assert/strict'
import { MessageDecoder, isEncodable } from '../../../src/peers/decoder.ts'
import type { DecodedMessage, MessageDecoderOptions } from '../../../src/peers/decoder.ts'
import { encodeMessage } from '../../../src/peers/messages.ts'

/** Hex with spaces and "quoted ASCII", as the captures in the protocol notes are written. */
export function h (s: string): Buffer {
  const hex = s.replace(/"([^"]*)"/g, (_m, t: string) => Buffer.from(t, 'latin1').toString('hex')).replace(/\s+/g, '')
  assert.match(hex, /^([0-9a-f]{2})*$/i, `bad hex: ${s}`)
  return Buffer.from(hex, 'hex')
}

/** Decodes `stream` in one push with a fresh decoder (or the one given). */
export function decodeAll (stream: Uint8Array, opts: MessageDecoderOptions | MessageDecoder = {}): DecodedMessage[] {
  const d = opts instanceof MessageDecoder ? opts : new MessageDecoder(opts)
  return d.push(stream)
}

/** Re-encodes decoded messages one by one. */
export function encodeAll (msgs: readonly DecodedMessage[]): Buffer[] {
  return msgs.map(m => {
    assert.ok(isEncodable(m), `not encodable: ${m.kind}`)
    return encodeMessage(m)
  })
}

/** xorshift32, seedable: a failing fuzz case replays. */
export function rng (seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x1_0000_0000
  }
}
