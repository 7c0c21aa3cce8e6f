import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cpusOfThread, parseCpuMap } from '../../../src/config/cpu-map.ts'
import { parseConfig } from '../../../src/config/parser.ts'

test('cpu-map: a thread set bound to a CPU set; auto: pairs them in order; a later line wins', () => {
  const lines = [parseCpuMap(['1/all', '0-3']), parseCpuMap(['auto:1/1-2', '2', '3']), parseCpuMap(['1/4', '1'])]
  assert.deepEqual(cpusOfThread(lines, 1, 4), [2])
  assert.deepEqual(cpusOfThread(lines, 2, 4), [3])
  assert.deepEqual(cpusOfThread(lines, 3, 4), [0, 1, 2, 3])
  assert.deepEqual(cpusOfThread(lines, 4, 4), [1])
  assert.equal(cpusOfThread([parseCpuMap(['1/3', '0'])], 1, 2), undefined)
  assert.deepEqual(cpusOfThread([parseCpuMap(['1', '0', '1'])], 2, 2), [0, 1])
  assert.deepEqual(cpusOfThread([parseCpuMap(['all/odd', '1'])], 3, 4), [1])
})

test('cpu-map: what tslb cannot honour is refused', () => {
  assert.throws(() => parseCpuMap(['2/1', '0']), /does not include tslb's one process/)
  assert.throws(() => parseCpuMap(['auto:1/1-4', '0-1']), /4 thread\(s\), 2 CPU\(s\)/)
  assert.throws(() => parseCpuMap(['1/x', '0']), /invalid thread set 'x'/)
  assert.throws(() => parseCpuMap(['1/1']), /expects a thread set and a CPU set/)
  const r = parseConfig('global\n  nbthread 2\n  cpu-map auto:1/1-2 0-1\nbackend b\n  server s 127.0.0.1:1\n', 't.cfg',
    { env: {} })
  assert.deepEqual(r.diagnostics.filter(d => d.message.includes('cpu-map')), [])
  assert.deepEqual(r.config.global.cpuMap?.[0], { threads: [1, 2], cpus: [0, 1], auto: true })
})
