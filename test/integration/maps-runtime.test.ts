/**
 * Maps and ACL files at runtime through a unix stats socket: `add map` changes a
 * `use_backend %[…,map(FILE,default)]` route and `add acl` makes a `deny if { path -f FILE }` deny, without a
 * reload; `del`/`clear` undo them. The files on disk are not written (as HAProxy).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTslb, waitExit } from '../helpers/cli.ts'
import { freePort } from '../helpers/ports.ts'
import { unixExchange } from '../helpers/unix-socket.ts'

/** maps-runtime-nbthread.test.ts runs this file with `nbthread 2`: a change must reach every proxy thread. */
const threads = process.env.TSLB_TEST_NBTHREAD === undefined ? '' : `  nbthread ${process.env.TSLB_TEST_NBTHREAD}\n`
const dir = mkdtempSync(join(tmpdir(), 'tslb-maps-'))
const admin = join(dir, 'admin.sock')
const user = join(dir, 'user.sock')
const hostsMap = join(dir, 'hosts.map')
const pathsAcl = join(dir, 'paths.acl')
const apps: HttpServer[] = []
let port = 0
let proxy: Awaited<ReturnType<typeof startTslb>> | undefined

async function cli (input: string, sock = admin): Promise<string> {
  return await unixExchange(sock, input)
}

/** One request (a new connection each time, so that with nbthread each thread gets some): status and body. */
async function get (host: string, path = '/'): Promise<string> {
  return await new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path, headers: { host, connection: 'close' }, agent: false }, res => {
      let body = ''
      res.on('data', (b: Buffer) => { body += b.toString() })
      res.on('end', () => { resolve(`${res.statusCode ?? 0} ${body}`) })
    })
    r.on('error', reject)
    r.end()
  })
}

async function many (host: string, path = '/', n = 8): Promise<Set<string>> {
  const out = new Set<string>()
  for (let i = 0; i < n; i++) out.add(await get(host, path))
  return out
}

async function app (name: string): Promise<number> {
  const s = createHttpServer((_req, res) => { res.end(name) })
  apps.push(s)
  await new Promise<void>(resolve => { s.listen(0, '127.0.0.1', resolve) })
  const a = s.address()
  return typeof a === 'object' && a !== null ? a.port : 0
}

describe(`maps and ACL files at runtime${threads === '' ? '' : ' (nbthread 2)'}`, () => {
  before(async () => {
    const a = await app('be_a')
    const b = await app('be_b')
    port = await freePort()
    writeFileSync(hostsMap, '# host to backend\nold.example be_b\n')
    writeFileSync(pathsAcl, '/blocked\n')
    const cfg = join(dir, 'tslb.cfg')
    writeFileSync(cfg, `global
  stats socket ${admin} level admin
  stats socket ${user} level user
${threads}defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend f
  bind 127.0.0.1:${port}
  http-request deny if { path -f ${pathsAcl} }
  use_backend %[req.hdr(host),lower,map(${hostsMap},be_a)]
backend be_a
  server a 127.0.0.1:${a}
backend be_b
  server b 127.0.0.1:${b}
`)
    proxy = await startTslb(['run', '-f', cfg, '-S', join(dir, 'ctl.sock'), '-p', join(dir, 'pid')],
      /supervisor started/)
    const until = Date.now() + 5000
    while (!existsSync(admin) && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 50))
  })

  after(async () => {
    if (proxy !== undefined) {
      proxy.child.kill('SIGTERM')
      await waitExit(proxy.child)
    }
    for (const s of apps) s.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('add map routes a new host at once; set map and del map change it back; the file is not written', async () => {
    assert.deepEqual(await many('old.example'), new Set(['200 be_b']))
    assert.deepEqual(await many('New.Example'), new Set(['200 be_a']))
    assert.equal(await cli(`add map ${hostsMap} new.example be_b\n`), '\n')
    assert.deepEqual(await many('New.Example'), new Set(['200 be_b']))
    assert.match(await cli(`show map ${hostsMap}\n`), /^0x[0-9a-f]+ old\.example be_b\n0x[0-9a-f]+ new\.example be_b\n\n$/)
    assert.equal(await cli(`get map ${hostsMap} new.example\n`),
      'type=str, case=sensitive, found=yes, idx=tree, key="new.example", value="be_b", type="str"\n\n')
    assert.equal(await cli(`set map ${hostsMap} new.example be_a\n`), '\n')
    assert.deepEqual(await many('new.example'), new Set(['200 be_a']))
    assert.equal(await cli(`del map ${hostsMap} old.example\n`), '\n')
    assert.deepEqual(await many('old.example'), new Set(['200 be_a']))
    assert.equal(readFileSync(hostsMap, 'utf8'), '# host to backend\nold.example be_b\n')
  })

  test('add acl makes the deny fire without a reload; del acl lifts it', async () => {
    assert.deepEqual(await many('x', '/admin'), new Set(['200 be_a']))
    assert.match(await cli('show acl\n'), new RegExp(`^# id \\(file\\) description\\n\\d+ \\(${pathsAcl}\\) pattern loaded`))
    assert.equal(await cli(`add acl ${pathsAcl} /admin\n`), '\n')
    for (const r of await many('x', '/admin')) assert.match(r, /^403 /)
    assert.equal(await cli(`del acl ${pathsAcl} /admin\n`), '\n')
    assert.deepEqual(await many('x', '/admin'), new Set(['200 be_a']))
    assert.equal(await cli(`clear acl ${pathsAcl}\n`), '\n')
    assert.deepEqual(await many('x', '/blocked'), new Set(['200 be_a']))
  })

  test('a user-level socket may look but not change', async () => {
    assert.equal(await cli(`add map ${hostsMap} z.example be_b\n`, user), 'Permission denied\n\n')
    assert.match(await cli(`show map ${hostsMap}\n`, user), /new\.example be_a/)
  })
})
