/**
 * Without pool-max-conn the idle pool has no fixed limit (HAProxy's -1) but stays within the most connections the server
 * had in use at once lately: a burst keeps its connections for the next one; a client opening a connection per
 * request does not leave one idle server connection behind per request.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Socket } from 'node:net'
import { UpstreamPool } from '../../../../src/proxy/http/pool.ts'
import type { ServerState } from '../../../../src/proxy/server-state.ts'

function fakeServer (): ServerState & { activeConnections: number } {
  return { config: { name: 'web1', address: '127.0.0.1:1' }, activeConnections: 0 } as never
}

test('connections used one at a time, each released before the next: one idle connection is kept, not one each', () => {
  const pool = new UpstreamPool()
  const server = fakeServer()
  for (let i = 0; i < 100; i++) pool.release(server, new Socket())
  assert.equal(pool.idleCount(server), 1)
  pool.closeAll()
})

test('a burst of 100 connections in use at once: all 100 are kept for the next burst', () => {
  const pool = new UpstreamPool()
  const server = fakeServer()
  for (let inUse = 99; inUse >= 0; inUse--) {
    server.activeConnections = inUse // the slot of the connection being released is already given back
    pool.release(server, new Socket())
  }
  assert.equal(pool.idleCount(server), 100)
  pool.closeAll()
})

test('pool-max-conn still caps the pool whatever the use', () => {
  const pool = new UpstreamPool()
  const server = fakeServer()
  ;(server.config as { poolMaxConn?: number }).poolMaxConn = 10
  for (let inUse = 99; inUse >= 0; inUse--) {
    server.activeConnections = inUse
    pool.release(server, new Socket())
  }
  assert.equal(pool.idleCount(server), 10)
  pool.closeAll()
})
