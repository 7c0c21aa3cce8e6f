/**
 * Certificates at runtime and across reloads: `show/set/commit/abort ssl cert` on a unix stats socket (through
 * socat when it is installed) change what new handshakes get without a reload, and `tslb reload` with a changed
 * certificate file under a continuous handshake loop fails none. Certificates are made at test time.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls'
import { join } from 'node:path'
import { makeCertDir } from '../helpers/certs.ts'
import { startTslb, tslb, waitExit } from '../helpers/cli.ts'
import { freePort } from '../helpers/ports.ts'
import { unixExchange } from '../helpers/unix-socket.ts'

/** tls-runtime-nbthread.test.ts runs this file with `nbthread 2`: a commit must reach every proxy thread. */
const threads = process.env.TSLB_TEST_NBTHREAD === undefined ? '' : `  nbthread ${process.env.TSLB_TEST_NBTHREAD}\n`
const certs = makeCertDir('tslb-tlsrt-')
const admin = join(certs.dir, 'admin.sock')
const operator = join(certs.dir, 'oper.sock')
const ctl = join(certs.dir, 'ctl.sock')
const cfgFile = join(certs.dir, 'tslb.cfg')
const A = join(certs.dir, 'a.pem')
const B = join(certs.dir, 'b.pem')
/** The client certificate tslb presents to the `mtls` server (`server … ssl crt`). */
const C = join(certs.dir, 'client.pem')
/** A TLS server asking for a client certificate, answering with its serial number. */
let mtls: TlsServer | undefined
let port = 0
/** A strict-sni line serving a.pem too: a commit replaces it there as well. */
let strictPort = 0
/** A line first connected to after the commit: its terminator is made then, from the committed certificate. */
let latePort = 0
let app: HttpServer | undefined
let proxy: Awaited<ReturnType<typeof startTslb>> | undefined

const hasSocat = ((): boolean => {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/** One runtime API exchange: socat when installed (as users script it), else a plain unix socket client. */
async function cli (input: string, sock = admin): Promise<string> {
  if (hasSocat) {
    return await new Promise((resolve, reject) => {
      const child = execFile('socat', ['-', `UNIX-CONNECT:${sock}`], { timeout: 10_000 }, (err, stdout) => {
        if (err === null) resolve(stdout)
        else reject(new Error(`socat: ${err.message}`))
      })
      child.stdin?.end(input)
    })
  }
  return await unixExchange(sock, input)
}

/** What `echo -e "set ssl cert FILE <<\n$(cat PEM)\n"` sends. */
function setPayload (file: string, pem: string): string {
  return `set ssl cert ${file} <<\n${pem.trimEnd()}\n\n`
}

/** A TLS session (ticket) from a handshake and one request on it. */
async function ticket (): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'b.example.com', rejectUnauthorized: false })
    let session: Buffer | undefined
    s.on('session', (b: Buffer) => { session ??= b })
    s.on('data', () => {})
    s.on('end', () => { if (session === undefined) reject(new Error('no ticket')); else resolve(session) })
    s.on('error', reject)
    s.end('GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n')
  })
}

/** Whether a handshake offering `session` resumed it. */
async function resumes (session: Buffer): Promise<boolean> {
  return await new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'b.example.com', rejectUnauthorized: false, session },
      () => { resolve(s.isSessionReused()); s.destroy() })
    s.on('error', reject)
  })
}

/** The serial of the certificate a fresh handshake gets for `servername` (none: no SNI). */
async function served (servername?: string, to = port): Promise<string> {
  return await new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: '127.0.0.1', port: to, servername, rejectUnauthorized: false }, () => {
      resolve(sock.getPeerX509Certificate()?.serialNumber ?? '')
      sock.destroy()
    })
    sock.on('error', reject)
  })
}

/** The body of `GET path` through the https frontend. */
async function get (path: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'a.example.com', rejectUnauthorized: false })
    let out = ''
    s.on('data', (b: Buffer) => { out += b.toString() })
    s.on('end', () => { resolve(out.slice(out.indexOf('\r\n\r\n') + 4)) })
    s.on('error', reject)
    s.end(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)
  })
}

function serialOf (pemFile: string): string {
  return new X509Certificate(readFileSync(pemFile)).serialNumber
}

/** A new certificate for `names` (re-issued: a new key and serial) as a PEM string; the files on disk are kept. */
function reissue (file: string, names: string[], opts: { client?: boolean } = {}): string {
  const saved = readFileSync(join(certs.dir, `${file}.pem`))
  const savedKey = readFileSync(join(certs.dir, `${file}.key`))
  const savedCrt = readFileSync(join(certs.dir, `${file}.crt`))
  const pem = readFileSync(certs.leaf(file, names, opts), 'utf8')
  writeFileSync(join(certs.dir, `${file}.pem`), saved)
  writeFileSync(join(certs.dir, `${file}.key`), savedKey)
  writeFileSync(join(certs.dir, `${file}.crt`), savedCrt)
  return pem
}

describe('TLS certificates at runtime', () => {
  before(async () => {
    certs.leaf('a', ['a.example.com'])
    certs.leaf('b', ['b.example.com'])
    certs.leaf('client', ['client'], { client: true })
    mtls = createTlsServer({ cert: readFileSync(join(certs.dir, 'b.crt')), key: readFileSync(join(certs.dir, 'b.key')),
      requestCert: true, rejectUnauthorized: false }, sock => {
      sock.once('data', () => {
        const body = `${sock.getPeerX509Certificate()?.serialNumber ?? 'none'}\n`
        sock.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
      })
      sock.on('error', () => {})
    })
    await new Promise<void>(resolve => { mtls?.listen(0, '127.0.0.1', resolve) })
    const mtlsPort = (mtls.address() as { port: number }).port
    app = createHttpServer((req, res) => { res.end(`app ${req.url ?? ''}\n`) })
    await new Promise<void>(resolve => { app?.listen(0, '127.0.0.1', resolve) })
    const appPort = (app.address() as { port: number }).port
    port = await freePort()
    strictPort = await freePort()
    latePort = await freePort()
    writeFileSync(cfgFile, `global
${threads}  stats socket ${admin} level admin
  stats socket ${operator} level operator
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend https
  bind 127.0.0.1:${port} ssl crt ${A} crt ${B}
  use_backend mtls if { path /mtls }
  default_backend app
backend mtls
  server s 127.0.0.1:${mtlsPort} ssl verify none crt ${C}
frontend strict
  bind 127.0.0.1:${strictPort} ssl crt ${A} strict-sni
  default_backend app
frontend late
  bind 127.0.0.1:${latePort} ssl crt ${A}
  default_backend app
backend app
  server s 127.0.0.1:${appPort}
`)
    proxy = await startTslb(['run', '-f', cfgFile, '-S', ctl, '-p', join(certs.dir, 'pid')], /supervisor started/)
    const until = Date.now() + 5000
    while (!existsSync(admin) && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 50))
  })

  after(async () => {
    if (proxy !== undefined) {
      proxy.child.kill('SIGTERM')
      await waitExit(proxy.child)
    }
    app?.close()
    mtls?.close()
    certs.remove()
  })

  test('show ssl cert lists the files and details one as HAProxy does', async () => {
    assert.equal(await cli('show ssl cert\n'), `# filename\n${A}\n${B}\n${C}\n\n`)
    const x = new X509Certificate(readFileSync(A))
    const details = await cli(`show ssl cert ${A}\n`)
    assert.equal(details, `Filename: ${A}\nStatus: Used\nSerial: ${x.serialNumber}\nnotBefore: ${x.validFrom}\n` +
      `notAfter: ${x.validTo}\nSubject Alternative Name: DNS:a.example.com\nAlgorithm: EC256\n` +
      `SHA1 FingerPrint: ${x.fingerprint.replaceAll(':', '')}\nSubject: /O=tslb/CN=a.example.com\n` +
      'Issuer: /CN=tslb test CA\nOCSP Response Key: \n\n')
    assert.equal(await cli('show ssl cert nope.pem\n'),
      "Can't display the certificate: Not found or the certificate is a bundle!\n\n")
    assert.match(await cli(`show ssl cert ${A}\n`, operator), /^Filename: /, 'operator level may look')
  })

  test('set opens a transaction, abort drops it, commit serves the new certificate to new handshakes only', async () => {
    const old = serialOf(A)
    assert.equal(await served('a.example.com'), old)
    assert.equal(await served(), old, 'a.pem is the default certificate')
    assert.equal(await served('a.example.com', strictPort), old)
    const next = reissue('a', ['a.example.com', 'new.example.com'])
    const nextSerial = new X509Certificate(next).serialNumber
    assert.equal(await cli(setPayload(A, next)), `Transaction created for certificate ${A}!\n\n`)
    assert.equal(await cli('show ssl cert\n'), `# transaction\n*${A}\n# filename\n${A}\n${B}\n${C}\n\n`)
    assert.match(await cli(`show ssl cert *${A}\n`), new RegExp(`^Filename: \\*${A}\nStatus: Unused\nSerial: ` +
      `${nextSerial}\n[^]*Subject Alternative Name: DNS:a.example.com, DNS:new.example.com\n`))
    assert.equal(await served('a.example.com'), old, 'not before the commit')
    assert.equal(await cli(`abort ssl cert ${A}\n`), `Transaction aborted for certificate '${A}'!\n\n`)
    assert.equal(await cli(`commit ssl cert ${A}\n`), `No ongoing transaction! !\nCan't commit ${A}!\n\n`)
    assert.equal(await served('a.example.com'), old, 'abort leaves the old one')

    // A connection made before the commit keeps its certificate and keeps working after it.
    const early = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'a.example.com', rejectUnauthorized: false },
        () => { resolve(s) })
      s.on('error', reject)
    })
    assert.equal(early.getPeerX509Certificate()?.serialNumber, old)
    assert.equal(await cli(setPayload(A, next)), `Transaction created for certificate ${A}!\n\n`)
    assert.equal(await cli(`commit ssl cert ${B}\n`), `The ongoing transaction is about '${A}' but you are trying ` +
      `to set '${B}'\nCan't commit ${B}!\n\n`)
    assert.equal(await cli(`commit ssl cert ${A}\n`, operator), 'Permission denied\n\n')
    assert.equal(await cli(`commit ssl cert ${A}\n`), `Committing ${A}...\nSuccess!\n\n`, 'one dot per bind line')
    // nbthread 2: the runtime API runs on thread 1, the commit reaches the other thread's lines too, a message later
    // (the kernel spreads the handshakes over both).
    await new Promise(resolve => setTimeout(resolve, 100))
    for (let i = 0; i < 16; i++) assert.equal(await served('a.example.com'), nextSerial, `handshake ${i + 1}`)
    assert.equal(await served('new.example.com'), nextSerial, 'the new certificate\'s names select it')
    assert.equal(await served(), nextSerial, 'the default certificate is replaced too')
    assert.equal(await served('b.example.com'), serialOf(B), 'the other certificate is untouched')
    assert.equal(await served('new.example.com', strictPort), nextSerial, 'strict-sni line: replaced too')
    assert.equal(await served('a.example.com', latePort), nextSerial, 'a line first used after the commit')
    await assert.rejects(served('other.example.com', strictPort), 'strict-sni still refuses names it has no ' +
      'certificate for')
    const reply = await new Promise<string>((resolve, reject) => {
      let out = ''
      early.on('data', (b: Buffer) => { out += b.toString() })
      early.on('end', () => { resolve(out) })
      early.on('error', reject)
      early.end('GET /early HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
    })
    assert.match(reply, /app \/early/, 'the connection made before the commit still works')
    assert.match(await cli(`show ssl cert ${A}\n`), new RegExp(`Status: Used\nSerial: ${nextSerial}\n`))
  })

  test('a server\'s client certificate (server … crt) is replaced for new connections to it', async () => {
    assert.equal(await get('/mtls'), `${serialOf(C)}\n`)
    const next = reissue('client', ['client'], { client: true })
    assert.equal(await cli(setPayload(C, next)), `Transaction created for certificate ${C}!\n\n`)
    assert.equal(await cli(`commit ssl cert ${C}\n`), `Committing ${C}.\nSuccess!\n\n`)
    assert.equal(await get('/mtls'), `${new X509Certificate(next).serialNumber}\n`)
  })

  test('a bad payload is refused with HAProxy\'s messages and changes nothing', async () => {
    const before = await served('b.example.com')
    assert.equal(await cli(setPayload(B, 'garbage')), `unable to load certificate from file '${B}'.\n` +
      `Can't load the payload\nCan't update ${B}!\n\n`)
    assert.equal(await cli('show ssl cert\n'), `# filename\n${A}\n${B}\n${C}\n\n`, 'no transaction')
    const other = readFileSync(A, 'utf8')
    assert.equal(await cli(setPayload(join(certs.dir, 'zz.pem'), other)), "Can't replace a certificate which is not " +
      `referenced by the configuration!\nCan't update ${join(certs.dir, 'zz.pem')}!\n\n`)
    // A certificate without its key: taken into the transaction, refused at commit.
    const crtOnly = readFileSync(join(certs.dir, 'a.crt'), 'utf8')
    assert.equal(await cli(setPayload(B, crtOnly)), `Transaction created for certificate ${B}!\n\n`)
    assert.equal(await cli(`commit ssl cert ${B}\n`), 'The transaction must contain at least a certificate and a ' +
      `private key!\nCan't commit ${B}!\n\n`)
    // A key that is not the certificate's.
    assert.equal(await cli(setPayload(`${B}.key`, readFileSync(join(certs.dir, 'b.key'), 'utf8'))),
      `Transaction updated for certificate ${B}!\n\n`)
    assert.equal(await cli(`commit ssl cert ${B}\n`), `inconsistencies between private key and certificate loaded ` +
      `'${B}'.\nCan't commit ${B}!\n\n`)
    assert.equal(await cli(`abort ssl cert ${B}\n`), `Transaction aborted for certificate '${B}'!\n\n`)
    assert.equal(await served('b.example.com'), before)
    assert.equal(await cli(`set ssl cert ${B}\n`), "'set ssl cert expects a filename and a certificate as a " +
      'payload\n\n')
  })

  test('new and del ssl cert: an unused store entry; add ssl crt-list is not supported', async () => {
    const n = join(certs.dir, 'n.pem')
    assert.equal(await cli(`new ssl cert ${n}\n`), `New empty certificate store '${n}'!\n\n`)
    assert.equal(await cli(`show ssl cert ${n}\n`), `Filename: ${n}\nStatus: Empty\nOCSP Response Key: \n\n`)
    assert.equal(await cli(setPayload(n, readFileSync(B, 'utf8'))), `Transaction created for certificate ${n}!\n\n`)
    assert.equal(await cli(`commit ssl cert ${n}\n`), `Committing ${n}\nSuccess!\n\n`)
    assert.match(await cli(`show ssl cert ${n}\n`), /^Filename: .*\nStatus: Unused\nSerial: /)
    assert.equal(await cli(`del ssl cert ${A}\n`), `Can't remove the certificate: certificate '${A}' in use, can't ` +
      'be deleted!\n\n\n')
    assert.equal(await cli(`del ssl cert ${n}\n`), `Certificate '${n}' deleted!\n\n`)
    assert.equal(await cli(`add ssl crt-list list ${n}\n`), "'add ssl crt-list' is not supported by tslb.\n\n")
  })

  test('reload with a changed certificate under a handshake loop: no handshake fails, then the new one is served',
    async () => {
      const reissued = reissue('b', ['b.example.com'])
      const expected = new X509Certificate(reissued).serialNumber
      let ok = 0
      const failures: string[] = []
      let stop = false
      const loop = async (): Promise<void> => {
        while (!stop) {
          try {
            await served('b.example.com')
            ok++
          } catch (err) {
            failures.push(err instanceof Error ? err.message : String(err))
          }
        }
      }
      const session = await ticket()
      assert.equal(await resumes(session), true, 'a ticket resumes before the reload')
      const clients = [loop(), loop(), loop(), loop()]
      await new Promise(resolve => setTimeout(resolve, 300))
      writeFileSync(B, reissued)
      const r = await tslb(['reload', '-S', ctl])
      assert.equal(r.code, 0, r.stdout + r.stderr)
      const until = Date.now() + 5000
      while (await served('b.example.com') !== expected && Date.now() < until) {
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      await new Promise(resolve => setTimeout(resolve, 300))
      stop = true
      await Promise.all(clients)
      assert.deepEqual(failures, [], `${failures.length} of ${ok + failures.length} handshakes failed`)
      assert.ok(ok > 20, `handshakes made: ${ok}`)
      assert.equal(await served('b.example.com'), expected)
      assert.equal(await resumes(session), true, 'a ticket from before the reload resumes after it')
      // The runtime commit of a.pem was not written to disk: the new worker serves the file again.
      assert.equal(await served('a.example.com'), serialOf(A))
    })
})
