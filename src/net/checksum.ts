/**
 * The Internet checksum (RFC 1071) over one or more byte ranges, as if concatenated.
 */

/** One's-complement sum folded to 16 bits, complemented: the value to put in a checksum field. */
export function internetChecksum (...chunks: readonly Uint8Array[]): number {
  let sum = 0
  let odd = -1 // a byte left over from an odd-length chunk, waiting for its low half
  for (const c of chunks) {
    let i = 0
    if (odd >= 0 && c.length > 0) {
      sum += odd << 8 | (c[0] as number)
      odd = -1
      i = 1
    }
    for (; i + 1 < c.length; i += 2) sum += (c[i] as number) << 8 | (c[i + 1] as number)
    if (i < c.length) odd = c[i] as number
    // Keep the accumulator small (no precision loss for huge inputs).
    if (sum > 0xffffff) sum = (sum & 0xffff) + (sum >>> 16)
  }
  if (odd >= 0) sum += odd << 8
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}
