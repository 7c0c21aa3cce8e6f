/** How the supervisor forks a worker: its Node flags and malloc settings (the worker's memory, issue 15). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { workerExecArgv, workerMallocTunables } from '../../../src/supervisor/worker-process.ts'

test('workers run with 2 MiB semi-spaces; TSLB_WORKER_NODE_FLAGS adds flags after them', () => {
  assert.deepEqual(workerExecArgv({}), ['--disable-warning=ExperimentalWarning', '--max-semi-space-size=2'])
  assert.deepEqual(workerExecArgv({ TSLB_WORKER_NODE_FLAGS: ' --trace-gc  --max-semi-space-size=4 ' }),
    ['--disable-warning=ExperimentalWarning', '--max-semi-space-size=2', '--trace-gc', '--max-semi-space-size=4'])
})

test('glibc malloc: 2 arenas, after the user\'s own tunables, never overriding theirs', () => {
  assert.equal(workerMallocTunables({}), 'glibc.malloc.arena_max=2')
  assert.equal(workerMallocTunables({ GLIBC_TUNABLES: 'glibc.malloc.tcache_count=0' }),
    'glibc.malloc.tcache_count=0:glibc.malloc.arena_max=2')
  assert.equal(workerMallocTunables({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=8' }), 'glibc.malloc.arena_max=8')
})
