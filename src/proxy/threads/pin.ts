/**
 * `cpu-map`: pins the calling thread to its CPUs. A thread learns its kernel thread id from /proc/thread-self
 * (`PID/task/TID`) and `taskset -p` binds that id alone (the other threads of the process keep their masks).
 */
import { readlinkSync } from 'node:fs'
import { execa } from 'execa'
import type { Config } from '../../config/model.ts'
import { cpusOfThread } from '../../config/cpu-map.ts'

/** Pins this thread (1-based `tid` of `threads`) as the configuration's `cpu-map` says; resolves to what it did. */
export async function pinThread (config: Config, tid: number, threads: number): Promise<string | undefined> {
  const cpus = cpusOfThread(config.global.cpuMap ?? [], tid, threads)
  if (cpus === undefined) return undefined
  const self = readlinkSync('/proc/thread-self').split('/').at(-1) ?? ''
  await execa('taskset', ['-p', '-c', cpus.join(','), self])
  return `thread ${tid} (task ${self}) on CPU ${cpus.join(',')}`
}
