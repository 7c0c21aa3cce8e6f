/**
 * `option ssl-hello-chk`: the SSLv3 CLIENT HELLO HAProxy sends, and how it judges the answer.
 *
 * The bytes follow `sslv3_client_hello` in HAProxy 2.6 src/tcpcheck.c
 * (proxy_parse_ssl_hello_chk_opt): a handshake record (SSLv3) holding a CLIENT HELLO with the
 * current Unix time, the 28-byte random "HAPROXYSSLCHK\nHAPROXYSSLCHK\n", no session ID, the 39
 * cipher suites 0x0001..0x001B and 0x002F..0x003A, and NULL compression. The expect rule HAProxy
 * pairs with it is `rbinary "^1[56]" min-recv 5 ok-status L6OK error-status L6RSP tout-status
 * L6TOUT`: the first byte of the answer must be 0x15 (alert) or 0x16 (handshake) — any TLS
 * speaker answers an SSLv3 hello with one or the other.
 * @module
 */
import { Buffer } from 'node:buffer'

const RANDOM = 'HAPROXYSSLCHK\nHAPROXYSSLCHK\n'

/** The CLIENT HELLO for Unix time `unixSeconds` (126 bytes). */
export function sslv3ClientHello (unixSeconds: number): Buffer {
  const ciphers: number[] = []
  for (let c = 0x01; c <= 0x1b; c++) ciphers.push(c)
  for (let c = 0x2f; c <= 0x3a; c++) ciphers.push(c)
  const buf = Buffer.alloc(126)
  let p = 0
  p = buf.writeUInt8(0x16, p) // ContentType: handshake
  p = buf.writeUInt16BE(0x0300, p) // ProtocolVersion: SSLv3
  p = buf.writeUInt16BE(0x0079, p) // record length: 121 bytes follow
  p = buf.writeUInt8(0x01, p) // HandshakeType: CLIENT HELLO
  p = buf.writeUIntBE(0x000075, p, 3) // handshake length: 117 bytes follow
  p = buf.writeUInt16BE(0x0300, p) // hello version: SSLv3
  p = buf.writeUInt32BE(unixSeconds >>> 0, p) // gmt_unix_time
  p += buf.write(RANDOM, p, 'latin1') // random: exactly 28 bytes
  p = buf.writeUInt8(0x00, p) // session ID length
  p = buf.writeUInt16BE(ciphers.length * 2, p) // cipher suites length: 78
  for (const c of ciphers) p = buf.writeUInt16BE(c, p)
  p = buf.writeUInt8(0x01, p) // compression methods length
  buf.writeUInt8(0x00, p) // NULL compression
  return buf
}

/** Bytes the expect rule waits for before judging (`min-recv 5`), unless the server closes first. */
export const SSL_HELLO_MIN_RECV = 5

/** The `rbinary "^1[56]"` match: the answer starts with a TLS alert or handshake record. */
export function isTlsRecordStart (data: Buffer): boolean {
  const first = data[0]
  return first === 0x15 || first === 0x16
}
