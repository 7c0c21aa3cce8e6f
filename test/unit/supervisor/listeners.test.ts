import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ListenerRegistry, listenerSpecs } from '../../../src/supervisor/listeners.ts'
import { handleAddress } from '../../../src/net/listen-handle.ts'
import { parseConfig } from '../../../src/config/index.ts'

function specsOf (text: string): ReturnType<typeof listenerSpecs> {
  return listenerSpecs(parseConfig(text, 't.cfg').config)
}

test('listenerSpecs: a bind gets one socket per thread; fd@ and stats sockets one', () => {
  const specs = specsOf('global\n  nbthread 3\n  stats socket ipv4@127.0.0.1:9999 level admin\n' +
    'frontend f\n  bind 127.0.0.1:8080-8081\n  bind fd@4\n  default_backend b\nbackend b\n  server s 127.0.0.1:1\n')
  assert.deepEqual(specs.map(s => [s.key, s.sockets]), [['127.0.0.1|8080', 3], ['127.0.0.1|8081', 3], ['fd@4', 1],
    ['127.0.0.1|9999', 1]])
})

test('ListenerRegistry: a group only grows while its address stays in use; every member under its key', () => {
  const reg = new ListenerRegistry()
  try {
    const one = reg.acquire([{ key: 'k', host: '127.0.0.1', port: 0, family: 4, sockets: 1 }])
    const port = handleAddress(one.get('k') ?? assert.fail()).port
    const spec = { key: 'k', host: '127.0.0.1', port, family: 4 as const }
    const three = reg.acquire([{ ...spec, sockets: 3 }])
    assert.deepEqual([...three.keys()], ['k', 'k#2', 'k#3'])
    assert.equal(three.get('k'), one.get('k'))
    for (const h of three.values()) assert.equal(handleAddress(h).port, port)
    // Fewer threads: the generation still gets (and listens on) the whole group, nothing is closed.
    const again = reg.acquire([{ ...spec, sockets: 2 }])
    assert.deepEqual([...again.entries()], [...three.entries()])
    reg.release(new Set(['k']))
    assert.equal(reg.acquire([{ ...spec, sockets: 1 }]).size, 3)
    reg.release(new Set())
    assert.equal(reg.acquire([{ ...spec, sockets: 1 }]).size, 1)
  } finally {
    reg.closeAll()
  }
})

test('ListenerRegistry: a failed bind adds nothing to a group', () => {
  const reg = new ListenerRegistry()
  try {
    reg.acquire([{ key: 'k', host: '127.0.0.1', port: 0, family: 4, sockets: 1 }])
    assert.throws(() => reg.acquire([{ key: 'k', host: '127.0.0.1', port: 0, family: 4, sockets: 2 },
      { key: 'x', host: '192.0.2.1', port: 80, family: 4, sockets: 1 }]), { code: 'TSLB_ERR_BIND' })
    assert.equal(reg.acquire([{ key: 'k', host: '127.0.0.1', port: 0, family: 4, sockets: 1 }]).size, 1)
  } finally {
    reg.closeAll()
  }
})
