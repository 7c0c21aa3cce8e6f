import { test } from 'node:test'
import assert from 'node:assert/strict'
import { shareSockets } from '../../../../src/proxy/threads/share.ts'
import { groupOf, memberKey } from '../../../../src/ipc/messages.ts'

test('memberKey and groupOf: the first socket keeps the listener key', () => {
  assert.equal(memberKey('127.0.0.1|80', 0), '127.0.0.1|80')
  assert.equal(memberKey('127.0.0.1|80', 2), '127.0.0.1|80#3')
  assert.deepEqual(groupOf('127.0.0.1|80#3'), { key: '127.0.0.1|80', index: 2 })
  assert.deepEqual(groupOf('fd@3'), { key: 'fd@3', index: 0 })
})

test('shareSockets: one socket of each group per thread; a larger group dealt round; a single one to thread 1', () => {
  assert.deepEqual(shareSockets(['a', 'a#2', 'fd@3'], 2), [['a', 'fd@3'], ['a#2']])
  assert.deepEqual(shareSockets(['a', 'a#2', 'a#3', 'a#4'], 2), [['a', 'a#3'], ['a#2', 'a#4']])
  assert.deepEqual(shareSockets(['a', 'a#2'], 1), [['a', 'a#2']])
  assert.deepEqual(shareSockets(['a'], 3), [['a'], [], []])
})
