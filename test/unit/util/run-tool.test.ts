/** runTool: the nft/tc runner of the reload strategies (exit status, output, input, spawn failures; never a rejection). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runTool } from '../../../src/util/run-tool.ts'
import { COMMAND_ENV } from '../../../src/util/script-env.ts'

test('exit status, stdout and stderr are collected; the input reaches stdin', async () => {
  const r = await runTool('sh', ['-c', 'cat; echo oops >&2; exit 3'], { input: 'hello', env: COMMAND_ENV })
  assert.deepEqual({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }, { exitCode: 3, stdout: 'hello',
    stderr: 'oops\n' })
  assert.match(r.message ?? '', /failed with exit code 3/)
  const ok = await runTool('sh', ['-c', 'echo "$PATH"'], { env: COMMAND_ENV })
  assert.deepEqual({ exitCode: ok.exitCode, stdout: ok.stdout, message: ok.message },
    { exitCode: 0, stdout: `${COMMAND_ENV.PATH}\n`, message: undefined })
})

test('a command that cannot be started is a result without exit status, not a rejection', async () => {
  const r = await runTool('/nonexistent/tslb-tool', [], { env: COMMAND_ENV })
  assert.equal(r.exitCode, undefined)
  assert.match(r.message ?? '', /ENOENT/)
})
