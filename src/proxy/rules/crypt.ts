/**
 * Password checks for `userlist` users: `insecure-password`, and crypt(3) SHA-256 (`$5$`) and
 * SHA-512 (`$6$`) hashes (Drepper's SHA-crypt, what `mkpasswd -m sha-512` writes). Other hash
 * formats are refused at load (`config/enforcement-check.ts`).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { supportedPasswordHash as supportedHash } from '../../config/enforcement.ts'

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const ROUNDS_DEFAULT = 5000

function digest (alg: string, parts: readonly Buffer[]): Buffer {
  const h = createHash(alg)
  for (const p of parts) h.update(p)
  return h.digest()
}

/** `len` bytes of `block` repeated. */
function repeat (block: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len)
  for (let i = 0; i < len; i += block.length) block.copy(out, i, 0, Math.min(block.length, len - i))
  return out
}

function encode (b: Buffer, sha512: boolean): string {
  let out = ''
  const put = (w: number, n: number): void => {
    for (let i = 0; i < n; i++) { out += ALPHABET[w & 0x3f] as string; w >>= 6 }
  }
  const size = b.length
  const mod = sha512 ? 63 : 30
  const step = sha512 ? 22 : 21
  const third = sha512 ? 21 : 10
  for (let i = 0; i < (sha512 ? 21 : 10); i++) {
    const a = (i * step) % mod
    put(((b[a] as number) << 16) | ((b[(a + third) % mod] as number) << 8) | (b[(a + 2 * third) % mod] as number), 4)
  }
  if (sha512) put(b[size - 1] as number, 2)
  else put(((b[31] as number) << 8) | (b[30] as number), 3)
  return out
}

/** crypt(3) of `password` with the SHA-crypt `setting` (`$6$[rounds=N$]salt[$…]`). */
export function shaCrypt (password: string, setting: string): string {
  const m = /^\$([56])\$(?:rounds=(\d+)\$)?([^$]{0,16})/.exec(setting)
  if (m === null) throw new TypeError('not a SHA-crypt setting')
  const sha512 = m[1] === '6'
  const alg = sha512 ? 'sha512' : 'sha256'
  const rounds = m[2] === undefined ? ROUNDS_DEFAULT : Math.min(999_999_999, Math.max(1000, Number(m[2])))
  const salt = Buffer.from(m[3] as string, 'utf8')
  const p = Buffer.from(password, 'utf8')
  const b = digest(alg, [p, salt, p])
  const aParts: Buffer[] = [p, salt, repeat(b, p.length)]
  for (let n = p.length; n > 0; n >>= 1) aParts.push((n & 1) !== 0 ? b : p)
  let c = digest(alg, aParts)
  const pRepeated = repeat(digest(alg, Array<Buffer>(p.length).fill(p)), p.length)
  const sRepeated = repeat(digest(alg, Array<Buffer>(16 + (c[0] as number)).fill(salt)), salt.length)
  for (let i = 0; i < rounds; i++) {
    const parts: Buffer[] = [(i & 1) !== 0 ? pRepeated : c]
    if (i % 3 !== 0) parts.push(sRepeated)
    if (i % 7 !== 0) parts.push(pRepeated)
    parts.push((i & 1) !== 0 ? c : pRepeated)
    c = digest(alg, parts)
  }
  const roundsText = m[2] === undefined ? '' : `rounds=${rounds}$`
  return `$${m[1] as string}$${roundsText}${m[3] as string}$${encode(c, sha512)}`
}

/** Whether `password` is the user's: compared in constant time. */
export function checkPassword (password: string, stored: string, insecure: boolean): boolean {
  const computed = insecure ? password : supportedHash(stored) ? shaCrypt(password, stored) : undefined
  if (computed === undefined) return false
  const a = Buffer.from(computed)
  const b = Buffer.from(stored)
  return a.length === b.length && timingSafeEqual(a, b)
}
