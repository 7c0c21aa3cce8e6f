/** Logging never stops the process: a closed pipe or a full device loses lines, counted. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { Writable } from 'node:stream'
import { createLogger, droppedLogLines } from '../../../src/util/log.ts'

const LOG = new URL('../../../src/util/log.ts', import.meta.url).href
// Logs 200 lines over ~200 ms, then says on stderr how many were dropped and that it is still alive.
const CHILD = `import { createLogger, droppedLogLines } from '${LOG}'
const log = createLogger('t')
let n = 0
const timer = setInterval(() => {
  log.info({ n }, 'x'.repeat(500))
  if (++n === 200) { clearInterval(timer); process.stderr.write('alive dropped=' + droppedLogLines() + '\\n') }
}, 1)`

async function runChild (stdout: 'pipe-closed' | number): Promise<{ code: number | null, stderr: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    stdio: ['ignore', stdout === 'pipe-closed' ? 'pipe' : stdout, 'pipe'],
    env: { ...process.env, TSLB_LOG_FORMAT: 'json' } })
  // The reader goes away at once, as `tslb run | head -c 3000` does after its 3000 bytes.
  child.stdout?.destroy()
  let stderr = ''
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
  const code = await new Promise<number | null>(resolve => { child.once('exit', c => { resolve(c) }) })
  return { code, stderr }
}

test('a closed stdout (EPIPE) does not end the process; the lost lines are counted', async () => {
  const { code, stderr } = await runChild('pipe-closed')
  assert.equal(code, 0, stderr)
  const m = /alive dropped=(\d+)/.exec(stderr)
  assert.ok(m !== null, stderr)
  assert.ok(Number(m[1]) > 0)
})

test('a full stdout (/dev/full) does not end the process; the lost lines are counted', async () => {
  const fd = openSync('/dev/full', 'w')
  try {
    const { code, stderr } = await runChild(fd)
    assert.equal(code, 0, stderr)
    // Every line but the last (its failure is reported after the count is printed).
    assert.match(stderr, /alive dropped=(199|200)\n/)
  } finally {
    closeSync(fd)
  }
})

test('a destination that throws or fails loses lines without throwing', () => {
  const before = droppedLogLines()
  const throwing = new Writable({ write () { throw new Error('boom') } })
  throwing.on('error', () => {})
  const failing = new Writable({ write (_c, _e, cb) { cb(new Error('EIO')) } })
  for (const dest of [throwing, failing]) {
    const log = createLogger('t', dest)
    for (let i = 0; i < 5; i++) log.info('line')
  }
  assert.ok(droppedLogLines() > before)
})

test('a stdout nobody reads holds at most a few MiB of lines; the rest are dropped and counted', async () => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { createLogger, droppedLogLines } from '${LOG}'
const log = createLogger('t')
for (let i = 0; i < 40000; i++) log.info('x'.repeat(500))
process.stderr.write('pending=' + process.stdout.writableLength + ' dropped=' + droppedLogLines() + '\\n')
process.exit(0)`], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSLB_LOG_FORMAT: 'json' } })
  // The pipe stays open and unread.
  child.stdout?.pause()
  let stderr = ''
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
  const code = await new Promise<number | null>(resolve => { child.once('exit', c => { resolve(c) }) })
  child.stdout?.destroy()
  assert.equal(code, 0, stderr)
  const m = /pending=(\d+) dropped=(\d+)/.exec(stderr)
  assert.ok(m !== null, stderr)
  assert.ok(Number(m[1]) < 5 * 1024 * 1024, stderr)
  assert.ok(Number(m[2]) > 20000, stderr)
})
