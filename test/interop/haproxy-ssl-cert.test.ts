/**
 * The runtime API's certificate commands, differential against a real HAProxy 2.6 (/usr/sbin/haproxy): the same
 * configuration (only the ports and socket paths differ), the same certificate files (made at test time), the same
 * command sequence (`show/set/commit/abort/new/del ssl cert`, good and bad payloads); every answer must be the same
 * text, and after the commit both serve the new certificate.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { connect as tlsConnect } from 'node:tls'
import { join } from 'node:path'
import { makeCertDir } from '../helpers/certs.ts'
import { startTslb, waitExit } from '../helpers/cli.ts'
import { HAPROXY, haproxy26Skip } from '../helpers/haproxy.ts'
import { freePort } from '../helpers/ports.ts'
import { unixExchange, waitForPath } from '../helpers/unix-socket.ts'

const skip = haproxy26Skip()
const certs = makeCertDir('tslb-sslcert-')
const A = join(certs.dir, 'a.pem')
const B = join(certs.dir, 'b.pem')
const N = join(certs.dir, 'n.pem')
const port = { haproxy: 0, tslb: 0 }
const sock = { haproxy: join(certs.dir, 'haproxy.sock'), tslb: join(certs.dir, 'tslb.sock') }
let haproxy: ChildProcess | undefined
let proxy: Awaited<ReturnType<typeof startTslb>> | undefined

function config (who: 'haproxy' | 'tslb'): string {
  return `global
  stats socket ${sock[who]} level admin
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend https
  bind 127.0.0.1:${port[who]} ssl crt ${A} crt ${B}
  http-request return status 200
`
}

async function cli (who: 'haproxy' | 'tslb', input: string): Promise<string> {
  return await unixExchange(sock[who], input)
}

async function served (who: 'haproxy' | 'tslb', servername: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: port[who], servername, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()?.serialNumber ?? '')
      s.destroy()
    })
    s.on('error', reject)
  })
}

describe('ssl cert runtime commands against HAProxy 2.6', { skip }, () => {
  before(async () => {
    if (skip !== false) return
    certs.leaf('a', ['a.example.com'])
    certs.leaf('b', ['b.example.com', 'www.b.example.com'], { rsa: true })
    certs.leaf('next', ['a.example.com', 'next.example.com'])
    port.haproxy = await freePort()
    port.tslb = await freePort()
    writeFileSync(join(certs.dir, 'haproxy.cfg'), config('haproxy'))
    writeFileSync(join(certs.dir, 'tslb.cfg'), config('tslb'))
    haproxy = spawn(HAPROXY, ['-db', '-f', join(certs.dir, 'haproxy.cfg')], { stdio: 'ignore' })
    proxy = await startTslb(['run', '-f', join(certs.dir, 'tslb.cfg'), '-S', join(certs.dir, 'ctl.sock'), '-p',
      join(certs.dir, 'pid')], /supervisor started/)
    await waitForPath(sock.haproxy)
    await waitForPath(sock.tslb)
  })

  after(async () => {
    haproxy?.kill('SIGTERM')
    if (proxy !== undefined) {
      proxy.child.kill('SIGTERM')
      await waitExit(proxy.child)
    }
    certs.remove()
  })

  test('the same answers to the same command sequence, and the same certificate served after the commit',
    async () => {
      const pem = (f: string): string => readFileSync(join(certs.dir, f), 'utf8').trimEnd()
      const set = (file: string, payload: string): string => `set ssl cert ${file} <<\n${payload}\n\n`
      const steps = [
        'show ssl cert\n',
        `show ssl cert ${A}\n`,
        `show ssl cert ${B}\n`,
        'show ssl cert nope.pem\n',
        `show ssl cert *${A}\n`,
        set(A, pem('next.pem')),
        'show ssl cert\n',
        `show ssl cert *${A}\n`,
        set(A, pem('next.pem')),
        `commit ssl cert ${B}\n`,
        `abort ssl cert ${B}\n`,
        `commit ssl cert ${A}\n`,
        `commit ssl cert ${A}\n`,
        `abort ssl cert ${A}\n`,
        `show ssl cert ${A}\n`,
        set(B, 'garbage'),
        set(join(certs.dir, 'zz.pem'), pem('b.pem')),
        set(B, pem('a.key')),
        set(B, pem('a.crt')),
        `commit ssl cert ${B}\n`,
        set(`${B}.key`, pem('next.key')),
        `commit ssl cert ${B}\n`,
        `abort ssl cert ${B}\n`,
        `new ssl cert ${N}\n`,
        `new ssl cert ${A}\n`,
        `show ssl cert ${N}\n`,
        'show ssl cert\n',
        set(N, pem('b.pem')),
        `commit ssl cert ${N}\n`,
        `del ssl cert ${A}\n`,
        `del ssl cert ${N}\n`,
        `del ssl cert ${N}\n`,
        'set ssl cert\n', 'commit ssl cert\n', 'abort ssl cert\n', 'new ssl cert\n', 'del ssl cert\n'
      ]
      const answers: string[] = []
      for (const step of steps) {
        const expected = await cli('haproxy', step)
        answers.push(expected)
        assert.equal(await cli('tslb', step), expected, `answer to ${step.split('\n')[0] ?? ''}`)
      }
      if (process.env.DEBUG_SSLCERT !== undefined) console.log(JSON.stringify(answers, null, 1))
      // The sequence went where it was meant to (HAProxy's own answers).
      const all = answers.join('')
      assert.match(all, new RegExp(`Committing ${A}\\.\nSuccess!`))
      assert.match(all, /Can't load the payload/)
      assert.match(all, /The transaction must contain at least a certificate and a private key!/)
      assert.match(all, /inconsistencies between private key and certificate loaded/)
      assert.match(all, /Status: Empty/)
      const next = await served('haproxy', 'a.example.com')
      assert.equal(await served('tslb', 'a.example.com'), next)
      assert.equal(await served('tslb', 'next.example.com'), await served('haproxy', 'next.example.com'))
    })
})
