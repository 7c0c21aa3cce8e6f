import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { AcceptGate, type GatedFrontend } from '../../../../src/proxy/accept-gate.ts'

/** A socket stand-in: a name, whether it was reset, whether an error listener guards it. */
interface FakeSocket { readonly name: string, reset: boolean, guarded: boolean, resetAndDestroy: () => void, on: (event: string) => void }

function socket (name: string): FakeSocket {
  const s: FakeSocket = {
    name,
    reset: false,
    guarded: false,
    resetAndDestroy: () => { s.reset = true },
    on: (event: string) => { if (event === 'error') s.guarded = true }
  }
  return s
}

/** A frontend whose connections are counted by the test: `close(name)` ends one. */
class FakeFrontend implements GatedFrontend {
  readonly maxconn: number
  readonly pendingLimit: number
  readonly inService: string[] = []
  private readonly world: World

  constructor (world: World, maxconn: number, pendingLimit = 100) {
    this.world = world
    this.maxconn = maxconn
    this.pendingLimit = pendingLimit
  }

  connections (): number {
    return this.inService.length
  }

  admit (s: Socket): void {
    const name = (s as unknown as FakeSocket).name
    this.inService.push(name)
    this.world.order.push(name)
  }

  offer (name: string): FakeSocket {
    const s = socket(name)
    this.world.gate.offer(this, s as unknown as Socket)
    return s
  }

  close (name: string): void {
    const i = this.inService.indexOf(name)
    assert.ok(i >= 0, `${name} is not in service`)
    this.inService.splice(i, 1)
    this.world.gate.serve()
  }
}

class World {
  readonly order: string[] = []
  readonly frontends: FakeFrontend[] = []
  readonly gate: AcceptGate

  constructor (globalMax?: number) {
    this.gate = new AcceptGate(globalMax, () => this.frontends.reduce((n, fe) => n + fe.connections(), 0))
  }

  frontend (maxconn: number, pendingLimit?: number): FakeFrontend {
    const fe = new FakeFrontend(this, maxconn, pendingLimit)
    this.frontends.push(fe)
    return fe
  }
}

test('frontend maxconn: over the limit a connection waits, and takes the first slot that frees up, in arrival order', () => {
  const w = new World()
  const fe = w.frontend(2)
  for (const n of ['a', 'b', 'c', 'd']) fe.offer(n)
  assert.deepEqual(fe.inService, ['a', 'b'])
  assert.equal(w.gate.waiting, 2)
  assert.equal(w.gate.waitingFor(fe), 2)
  fe.close('b')
  assert.deepEqual(fe.inService, ['a', 'c'])
  fe.offer('e')
  assert.deepEqual(fe.inService, ['a', 'c'], 'a newcomer does not overtake the waiting connection')
  fe.close('a')
  fe.close('c')
  assert.deepEqual(fe.inService, ['d', 'e'])
  assert.equal(w.gate.waiting, 0)
  assert.deepEqual(w.order, ['a', 'b', 'c', 'd', 'e'])
})

test('a waiting connection has an error listener (nothing else handles it until it is taken into service)', () => {
  const w = new World()
  const fe = w.frontend(1)
  const [a, b] = [fe.offer('a'), fe.offer('b')]
  assert.equal(a.guarded, false)
  assert.equal(b.guarded, true)
})

test('global maxconn counts every frontend; the oldest waiting connection that fits goes first', () => {
  const w = new World(3)
  const x = w.frontend(2)
  const y = w.frontend(10)
  x.offer('x1')
  x.offer('x2')
  y.offer('y1')
  x.offer('x3')
  y.offer('y2')
  assert.deepEqual([x.inService, y.inService], [['x1', 'x2'], ['y1']])
  assert.equal(w.gate.waiting, 2)
  // A slot of y frees up: x3 is older but x is at its own limit, so y2 takes it.
  y.close('y1')
  assert.deepEqual([x.inService, y.inService], [['x1', 'x2'], ['y2']])
  x.close('x1')
  assert.deepEqual(x.inService, ['x2', 'x3'])
  assert.equal(w.gate.waiting, 0)
})

test('global maxconn alone (frontends under their own limit)', () => {
  const w = new World(2)
  const x = w.frontend(100)
  const y = w.frontend(100)
  x.offer('x1')
  y.offer('y1')
  y.offer('y2')
  x.offer('x2')
  x.close('x1')
  assert.deepEqual(y.inService, ['y1', 'y2'], 'the oldest waiting connection, from another frontend')
  y.close('y1')
  assert.deepEqual(x.inService, ['x2'])
})

test('past its waiting room (the listener backlog) a connection is reset', () => {
  const w = new World()
  const fe = w.frontend(1, 2)
  const sockets = ['a', 'b', 'c', 'd'].map(n => fe.offer(n))
  assert.deepEqual(sockets.map(s => s.reset), [false, false, false, true])
  assert.equal(w.gate.overflowed, 1)
  assert.equal(w.gate.waiting, 2)
})
