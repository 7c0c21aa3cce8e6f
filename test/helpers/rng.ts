/** xorshift32, seeded: small, good enough to pick mutations, and a failing case replays. Values in [0, 1). */
export function rng (seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x1_0000_0000
  }
}
