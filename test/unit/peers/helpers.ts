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

export { rng } from '../../helpers/rng.ts'
