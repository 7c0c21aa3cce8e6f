import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { controlRequest, listenControlSocket } from '../../../src/supervisor/control-socket.ts'

async function opened (path: string): Promise<Socket> {
  return await new Promise((resolve, reject) => {
    const c = connect(path, () => { resolve(c) })
    c.on('error', reject)
  })
}

async function closedWithin (c: Socket, ms: number): Promise<boolean> {
  if (c.destroyed) return true
  return await new Promise(resolve => {
    const timer = setTimeout(() => { resolve(false) }, ms)
    c.once('close', () => { clearTimeout(timer); resolve(true) })
  })
}

test('control socket: a client that sends no request is closed after the idle timeout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-ctl-'))
  const path = join(dir, 'master.sock')
  const server = await listenControlSocket(path, () => Promise.resolve({ ok: true }), { idleTimeoutMs: 200 })
  try {
    const idle = await opened(path)
    idle.on('error', () => {})
    idle.write('{"cmd": "sta')
    assert.ok(await closedWithin(idle, 3000), 'an idle client is still connected')
    // A request that takes longer than the idle timeout to answer is not cut.
    const slow = await listenControlSocket(join(dir, 'slow.sock'), async () => {
      await new Promise(resolve => setTimeout(resolve, 500))
      return { ok: true, answer: 42 }
    }, { idleTimeoutMs: 200 })
    assert.equal((await controlRequest(join(dir, 'slow.sock'), { cmd: 'reload' })).answer, 42)
    await new Promise(resolve => { slow.close(resolve) })
  } finally {
    await new Promise(resolve => { server.close(resolve) })
    rmSync(dir, { recursive: true, force: true })
  }
})

test('control socket: connections beyond the cap are closed at once; the held ones do not grow memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-ctl-'))
  const path = join(dir, 'master.sock')
  const server = await listenControlSocket(path, () => Promise.resolve({ ok: true }), { maxConnections: 3 })
  const held: Socket[] = []
  try {
    for (let i = 0; i < 3; i++) held.push(await opened(path))
    for (const c of held) c.on('error', () => {})
    const extra = await opened(path)
    extra.on('error', () => {})
    assert.ok(await closedWithin(extra, 2000), 'a connection over the cap was kept')
    // An endless request line is refused once over 64 kB and not read further.
    const big = held[0] as Socket
    let answer = ''
    big.setEncoding('utf8')
    big.on('data', (d: string) => { answer += d })
    big.write('x'.repeat(200_000))
    assert.ok(await closedWithin(big, 2000))
    assert.match(answer, /request too large/)
    for (const c of held) c.destroy()
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal((await controlRequest(path, { cmd: 'status' })).ok, true)
  } finally {
    for (const c of held) c.destroy()
    await new Promise(resolve => { server.close(resolve) })
    rmSync(dir, { recursive: true, force: true })
  }
})
